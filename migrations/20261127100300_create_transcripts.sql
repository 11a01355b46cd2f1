-- Transcripts: canonical text (UTF-8, NFC, \n line endings) with its SHA-256,
-- and the speaker turns found on import, as code-point offsets (DESIGN.md 1, 2).
create table transcripts (
    id uuid primary key,
    project_id uuid not null references projects (id),
    participant_id uuid references participants (id),
    title text not null,
    file_name text not null,
    source_kind text not null,
    encoding text,
    text text not null,
    sha256 text not null,
    char_count integer not null,
    word_count integer not null,
    turns jsonb not null default '[]',
    warnings jsonb not null default '[]',
    created_by uuid references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    deleted_at timestamptz,
    constraint transcripts_title_not_blank check (length(trim(title)) > 0),
    constraint transcripts_char_count_check check (char_count = char_length(text)),
    constraint transcripts_kind_check check (source_kind in ('txt', 'markdown', 'docx', 'vtt', 'srt', 'typed'))
);

create index transcripts_project_idx on transcripts (project_id, created_at) where deleted_at is null;
create index transcripts_project_sha_idx on transcripts (project_id, sha256);
