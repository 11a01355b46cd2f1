-- A member asked to code a transcript: assigned -> in_progress -> submitted.
create table assignments (
    id uuid primary key,
    project_id uuid not null references projects (id),
    transcript_id uuid not null references transcripts (id),
    user_id uuid not null references users (id),
    state text not null default 'assigned',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    submitted_at timestamptz,
    version integer not null default 1,
    constraint assignments_transcript_user_key unique (transcript_id, user_id),
    constraint assignments_state_check check (state in ('assigned', 'in_progress', 'submitted'))
);

create index assignments_project_idx on assignments (project_id);
create index assignments_user_idx on assignments (user_id);
