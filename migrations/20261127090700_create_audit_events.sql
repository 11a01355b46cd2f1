-- The record of every change (DESIGN.md invariant 5). Rows are only ever added.
create table audit_events (
    id bigint generated always as identity primary key,
    project_id uuid references projects (id),
    actor_id uuid references users (id),
    action text not null,
    entity_type text not null,
    entity_id uuid,
    before jsonb,
    after jsonb,
    request_id text,
    created_at timestamptz not null default now()
);

create index audit_events_project_idx on audit_events (project_id, id desc);

create function audit_events_append_only() returns trigger
language plpgsql as $$
begin
    raise exception 'audit_events is append-only';
end;
$$;

create trigger audit_events_no_update
    before update or delete on audit_events
    for each statement execute function audit_events_append_only();
