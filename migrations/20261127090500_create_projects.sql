create table projects (
    id uuid primary key,
    name text not null,
    description text not null default '',
    archived_at timestamptz,
    created_by uuid not null references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    constraint projects_name_not_blank check (length(trim(name)) > 0)
);
