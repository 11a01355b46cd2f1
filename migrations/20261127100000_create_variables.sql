-- Attributes of participants (cases), defined per project: REFI-QDA's variables.
create table variables (
    id uuid primary key,
    project_id uuid not null references projects (id),
    name text not null,
    kind text not null,
    allowed_values text[] not null default '{}',
    position integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    deleted_at timestamptz,
    constraint variables_kind_check check (kind in ('text', 'number', 'category')),
    constraint variables_name_not_blank check (length(trim(name)) > 0)
);

create unique index variables_project_name_key on variables (project_id, lower(name)) where deleted_at is null;
