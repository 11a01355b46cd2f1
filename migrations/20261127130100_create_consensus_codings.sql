-- The consensus layer of a transcript: agreed codes on spans, made by decisions
-- (decision_id) or by the lead directly (no decision). When a decision is
-- superseded, the codings it made are soft-deleted.
create table consensus_codings (
    id uuid primary key,
    project_id uuid not null references projects (id),
    transcript_id uuid not null references transcripts (id),
    agreed_code_id uuid not null references agreed_codes (id),
    start_offset integer not null,
    end_offset integer not null,
    memo text not null default '',
    decision_id uuid references decisions (id),
    created_by uuid not null references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    deleted_at timestamptz,
    constraint consensus_codings_offsets_check check (start_offset >= 0 and start_offset < end_offset)
);

create index consensus_codings_transcript_idx on consensus_codings (transcript_id) where deleted_at is null;
create index consensus_codings_code_idx on consensus_codings (agreed_code_id);
create index consensus_codings_decision_idx on consensus_codings (decision_id);

-- Agreed codes merged into another keep pointing at it; a typical example is a
-- consensus coding picked by the lead.
alter table agreed_codes
    add column merged_into uuid references agreed_codes (id),
    add column example_coding_id uuid references consensus_codings (id);

-- Invariant 1 covers the consensus layer too.
create or replace function transcripts_text_frozen() returns trigger
language plpgsql as $$
begin
    if new.text is distinct from old.text
       and (exists (select 1 from codings where transcript_id = old.id)
            or exists (select 1 from consensus_codings where transcript_id = old.id)) then
        raise exception 'the text of transcript % is coded and cannot change', old.id
            using errcode = 'check_violation', constraint = 'transcripts_text_frozen';
    end if;
    return new;
end;
$$;

-- Discussion of a discrepancy during the reconciliation meeting.
create table discrepancy_comments (
    id uuid primary key,
    project_id uuid not null references projects (id),
    transcript_id uuid not null references transcripts (id),
    discrepancy_key text not null,
    author_id uuid not null references users (id),
    body text not null,
    created_at timestamptz not null default now(),
    constraint discrepancy_comments_body_not_blank check (length(trim(body)) > 0)
);

create index discrepancy_comments_transcript_idx on discrepancy_comments (transcript_id, created_at);

-- Demo accounts made by `concord demo`; the sign-in page lists them.
alter table users add column demo_password text;
