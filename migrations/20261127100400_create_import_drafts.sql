-- A participant table between upload and confirmation: the preview step reads
-- it from here, so any app instance can serve the next request.
create table import_drafts (
    id uuid primary key,
    project_id uuid not null references projects (id),
    created_by uuid not null references users (id),
    file_name text not null,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null default now() + interval '1 day'
);

create index import_drafts_project_idx on import_drafts (project_id);
