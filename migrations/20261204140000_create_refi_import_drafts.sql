-- A REFI-QDA project between its preview and its confirmation: the file
-- itself, so that any app instance can store what the preview showed.
create table refi_import_drafts (
    id uuid primary key,
    created_by uuid not null references users (id),
    file_name text not null,
    bytes bytea not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null default now() + interval '1 day'
);

create index refi_import_drafts_created_by_idx on refi_import_drafts (created_by);

-- Transcripts read from a REFI-QDA project keep that origin.
alter table transcripts drop constraint transcripts_kind_check;
alter table transcripts add constraint transcripts_kind_check
    check (source_kind in ('txt', 'markdown', 'docx', 'vtt', 'srt', 'typed', 'qdpx'));
