-- Codes. With independent codebooks each code belongs to the coder who made it
-- (owner_id); codes of a shared codebook have no owner.
create table codes (
    id uuid primary key,
    project_id uuid not null references projects (id),
    owner_id uuid references users (id),
    name text not null,
    definition text not null default '',
    inclusion text not null default '',
    exclusion text not null default '',
    example text not null default '',
    color text not null,
    parent_id uuid references codes (id),
    merged_into uuid references codes (id),
    created_by uuid not null references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    deleted_at timestamptz,
    constraint codes_name_not_blank check (length(trim(name)) > 0),
    constraint codes_color_check check (color ~ '^#[0-9a-f]{6}$'),
    constraint codes_parent_not_self check (parent_id is distinct from id)
);

create unique index codes_codebook_name_key
    on codes (project_id, coalesce(owner_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(name))
    where deleted_at is null;
create index codes_project_idx on codes (project_id);
