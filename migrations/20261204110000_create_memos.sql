-- Memos: analytic memos on the project, an agreed code or a theme node, and
-- each member's reflexive journal (kind 'journal', no target).
create table memos (
    id uuid primary key,
    project_id uuid not null references projects (id),
    kind text not null,
    agreed_code_id uuid,
    node_id uuid,
    author_id uuid not null references users (id),
    written_on date not null default current_date,
    title text not null default '',
    body text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    deleted_at timestamptz,
    constraint memos_kind_check check (kind in ('project', 'code', 'node', 'journal')),
    constraint memos_code_target check ((kind = 'code') = (agreed_code_id is not null)),
    constraint memos_node_target check ((kind = 'node') = (node_id is not null)),
    constraint memos_body_not_blank check (length(trim(body)) > 0),
    constraint memos_code_same_project
        foreign key (project_id, agreed_code_id) references agreed_codes (project_id, id),
    constraint memos_node_same_project
        foreign key (project_id, node_id) references theme_nodes (project_id, id)
);

create index memos_project_idx on memos (project_id, kind, written_on desc);
