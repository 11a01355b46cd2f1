-- What each merge of agreed codes moved, so that it can be undone exactly:
-- the consensus codings and coder-code alignments that went from `code_id`
-- into `into_id`, and whether the merge placed `into_id` in the theme
-- hierarchy. At most one merge of a code is in force (not undone) at a time.
create table agreed_code_merges (
    id uuid primary key,
    project_id uuid not null references projects (id) on delete cascade,
    code_id uuid not null,
    into_id uuid not null,
    consensus_coding_ids uuid[] not null,
    coder_code_ids uuid[] not null,
    placed_target boolean not null,
    merged_by uuid not null references users (id),
    merged_at timestamptz not null default now(),
    undone_by uuid references users (id),
    undone_at timestamptz,
    constraint agreed_code_merges_code_same_project
        foreign key (project_id, code_id) references agreed_codes (project_id, id),
    constraint agreed_code_merges_into_same_project
        foreign key (project_id, into_id) references agreed_codes (project_id, id),
    constraint agreed_code_merges_undone_together
        check ((undone_by is null) = (undone_at is null))
);

create unique index agreed_code_merges_in_force
    on agreed_code_merges (code_id) where undone_at is null;
create index agreed_code_merges_project on agreed_code_merges (project_id, merged_at);
