-- Phase 2: the theme hierarchy. Theme nodes of any depth (theme, subcategory,
-- ...), ordered among their siblings; agreed codes are placed under at most one
-- node (the placement's primary key is the code). A code with no placement is
-- unplaced. Deleted nodes keep their row (deleted_at) so they can be restored.
create table theme_nodes (
    id uuid primary key,
    project_id uuid not null references projects (id),
    parent_id uuid,
    name text not null,
    definition text not null default '',
    memo text not null default '',
    color text not null,
    position integer not null default 0,
    example_coding_id uuid,
    created_by uuid not null references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    deleted_at timestamptz,
    -- What a delete took out (its codes and child nodes), for its restore.
    removed_contents jsonb,
    constraint theme_nodes_project_id_id_key unique (project_id, id),
    constraint theme_nodes_parent_same_project
        foreign key (project_id, parent_id) references theme_nodes (project_id, id),
    constraint theme_nodes_example_same_project
        foreign key (project_id, example_coding_id) references consensus_codings (project_id, id),
    constraint theme_nodes_name_not_blank check (length(trim(name)) > 0),
    constraint theme_nodes_not_own_parent check (parent_id is distinct from id)
);

create index theme_nodes_project_idx on theme_nodes (project_id, parent_id, position);

create table theme_placements (
    agreed_code_id uuid primary key,
    project_id uuid not null,
    node_id uuid not null,
    position integer not null default 0,
    placed_by uuid not null references users (id),
    placed_at timestamptz not null default now(),
    version integer not null default 1,
    constraint theme_placements_code_same_project
        foreign key (project_id, agreed_code_id) references agreed_codes (project_id, id),
    constraint theme_placements_node_same_project
        foreign key (project_id, node_id) references theme_nodes (project_id, id)
);

create index theme_placements_node_idx on theme_placements (node_id, position);

-- No node may sit under itself, however many writers move nodes at once: every
-- change of a parent takes the project's hierarchy lock, then walks up from
-- the new parent.
create or replace function theme_nodes_acyclic() returns trigger
language plpgsql as $$
begin
    if new.parent_id is null then
        return new;
    end if;
    perform pg_advisory_xact_lock(hashtextextended('theme_nodes:' || new.project_id::text, 0));
    if exists (
        with recursive up (id) as (
            select parent_id from theme_nodes where id = new.parent_id
            union
            select n.parent_id from theme_nodes n join up on n.id = up.id
             where up.id is not null
        )
        select 1 from up where id = new.id
    ) or new.parent_id = new.id then
        raise exception 'theme node % cannot move under its own descendant', new.id
            using errcode = 'check_violation', constraint = 'theme_nodes_acyclic';
    end if;
    return new;
end;
$$;

create trigger theme_nodes_acyclic
    before insert or update of parent_id on theme_nodes
    for each row execute function theme_nodes_acyclic();

alter type live_event_kind add value if not exists 'theme.changed';
