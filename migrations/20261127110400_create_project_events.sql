-- Live events, written with their change and announced by NOTIFY; kept for a
-- while so a browser that reconnects can catch up from its Last-Event-ID.
create table project_events (
    id bigint generated always as identity primary key,
    project_id uuid not null references projects (id),
    kind text not null,
    transcript_id uuid,
    coder_id uuid,
    entity_id uuid,
    created_at timestamptz not null default now()
);

create index project_events_project_idx on project_events (project_id, id);
