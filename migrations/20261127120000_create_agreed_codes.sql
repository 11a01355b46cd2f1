-- The agreed codebook: the codes coders' own codes are aligned onto, and that
-- reconciliation and the theme hierarchy build on.
create table agreed_codes (
    id uuid primary key,
    project_id uuid not null references projects (id),
    name text not null,
    definition text not null default '',
    inclusion text not null default '',
    exclusion text not null default '',
    example text not null default '',
    color text not null,
    created_by uuid not null references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    deleted_at timestamptz,
    constraint agreed_codes_name_not_blank check (length(trim(name)) > 0)
);

create unique index agreed_codes_project_name_key on agreed_codes (project_id, lower(name)) where deleted_at is null;
