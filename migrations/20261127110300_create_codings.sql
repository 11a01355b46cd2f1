-- One code applied by one coder to [start_offset, end_offset) of a transcript,
-- in Unicode code points of its canonical text (DESIGN.md invariant 2).
create table codings (
    id uuid primary key,
    project_id uuid not null references projects (id),
    transcript_id uuid not null references transcripts (id),
    coder_id uuid not null references users (id),
    code_id uuid not null references codes (id),
    start_offset integer not null,
    end_offset integer not null,
    memo text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    deleted_at timestamptz,
    constraint codings_offsets_check check (start_offset >= 0 and start_offset < end_offset)
);

create index codings_layer_idx on codings (transcript_id, coder_id);
create index codings_code_idx on codings (code_id);

-- Invariant 1: once a coding points into a transcript, its text never changes.
create function transcripts_text_frozen() returns trigger
language plpgsql as $$
begin
    if new.text is distinct from old.text
       and exists (select 1 from codings where transcript_id = old.id) then
        raise exception 'the text of transcript % is coded and cannot change', old.id
            using errcode = 'check_violation', constraint = 'transcripts_text_frozen';
    end if;
    return new;
end;
$$;

create trigger transcripts_text_frozen
    before update of text on transcripts
    for each row execute function transcripts_text_frozen();
