-- Peer debriefing: a dated session record (attendees, notes, decisions) that
-- links to the theme nodes and agreed codes it changed.
create table debriefings (
    id uuid primary key,
    project_id uuid not null references projects (id),
    held_on date not null,
    title text not null default '',
    notes text not null default '',
    decisions text not null default '',
    -- Attendees who are not members of the project, by name.
    guests text[] not null default '{}',
    created_by uuid not null references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    constraint debriefings_project_id_id_key unique (project_id, id)
);

create index debriefings_project_idx on debriefings (project_id, held_on desc);

create table debriefing_attendees (
    debriefing_id uuid not null,
    project_id uuid not null,
    user_id uuid not null references users (id),
    primary key (debriefing_id, user_id),
    constraint debriefing_attendees_same_project
        foreign key (project_id, debriefing_id) references debriefings (project_id, id) on delete cascade
);

create table debriefing_links (
    debriefing_id uuid not null,
    project_id uuid not null,
    node_id uuid,
    agreed_code_id uuid,
    constraint debriefing_links_same_project
        foreign key (project_id, debriefing_id) references debriefings (project_id, id) on delete cascade,
    constraint debriefing_links_node_same_project
        foreign key (project_id, node_id) references theme_nodes (project_id, id),
    constraint debriefing_links_code_same_project
        foreign key (project_id, agreed_code_id) references agreed_codes (project_id, id),
    constraint debriefing_links_one_target check ((node_id is null) <> (agreed_code_id is null))
);

create unique index debriefing_links_node_key on debriefing_links (debriefing_id, node_id) where node_id is not null;
create unique index debriefing_links_code_key on debriefing_links (debriefing_id, agreed_code_id) where agreed_code_id is not null;
create index debriefing_links_targets_idx on debriefing_links (project_id, node_id, agreed_code_id);
