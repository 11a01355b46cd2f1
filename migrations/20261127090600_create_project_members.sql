create table project_members (
    project_id uuid not null references projects (id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    role text not null,
    created_at timestamptz not null default now(),
    version integer not null default 1,
    constraint project_members_pkey primary key (project_id, user_id),
    constraint project_members_role_check check (role in ('owner', 'lead', 'coder', 'reviewer'))
);

create index project_members_user_id_idx on project_members (user_id);
