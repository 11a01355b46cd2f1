-- Reconciliation settings of a project: spans both coders agree on go to the
-- consensus layer by themselves; a rationale may be required for relabel and
-- reject decisions.
alter table projects
    add column auto_accept_agreements boolean not null default true,
    add column require_rationale boolean not null default false;

-- The lead's decisions on discrepancies. Append-only (invariant 5): a change of
-- mind is a new decision that supersedes the current one; `undo` leaves the
-- discrepancy open again. A discrepancy is named by `discrepancy_key`, a hash of
-- the coder codings it is made of, so it keeps its name while the layers stay
-- as they are; `discrepancy` keeps what it looked like when decided.
create table decisions (
    id uuid primary key,
    project_id uuid not null references projects (id),
    transcript_id uuid not null references transcripts (id),
    discrepancy_key text not null,
    kind text not null,
    auto boolean not null default false,
    agreed_code_id uuid references agreed_codes (id),
    rationale text not null default '',
    discrepancy jsonb not null,
    supersedes uuid references decisions (id),
    decided_by uuid not null references users (id),
    created_at timestamptz not null default now(),
    constraint decisions_kind_check check (kind in ('accept_a', 'accept_b', 'both', 'union', 'intersection', 'relabel', 'reject', 'undo')),
    constraint decisions_supersedes_key unique (supersedes)
);

-- One first decision per discrepancy; later ones each supersede exactly one.
create unique index decisions_first_key on decisions (transcript_id, discrepancy_key) where supersedes is null;
create index decisions_transcript_idx on decisions (transcript_id, created_at);

create function decisions_append_only() returns trigger
language plpgsql as $$
begin
    raise exception 'decisions are never changed: supersede them'
        using errcode = 'check_violation', constraint = 'decisions_append_only';
end;
$$;

create trigger decisions_append_only
    before update or delete on decisions
    for each row execute function decisions_append_only();
