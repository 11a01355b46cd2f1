-- Participants (cases), known only by a pseudonymous label such as "P01".
create table participants (
    id uuid primary key,
    project_id uuid not null references projects (id),
    label text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    deleted_at timestamptz,
    constraint participants_label_not_blank check (length(trim(label)) > 0)
);

create unique index participants_project_label_key on participants (project_id, lower(label)) where deleted_at is null;
