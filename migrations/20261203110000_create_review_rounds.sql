-- Member checking: a review round is a frozen, numbered snapshot of the theme
-- hierarchy sent to chosen reviewers, who comment on its themes, codes and
-- quotes and sign it off. Comments point at the live node or code by id, so
-- they stay attached when it is renamed or moved.
create table review_rounds (
    id uuid primary key,
    project_id uuid not null references projects (id),
    number integer not null,
    message text not null default '',
    due_on date,
    snapshot jsonb not null,
    created_by uuid not null references users (id),
    created_at timestamptz not null default now(),
    closed_at timestamptz,
    constraint review_rounds_project_id_id_key unique (project_id, id),
    constraint review_rounds_number_key unique (project_id, number)
);

create table review_round_reviewers (
    round_id uuid not null,
    project_id uuid not null,
    user_id uuid not null references users (id),
    primary key (round_id, user_id),
    constraint review_round_reviewers_round_same_project
        foreign key (project_id, round_id) references review_rounds (project_id, id)
);

create table review_comments (
    id uuid primary key,
    project_id uuid not null,
    round_id uuid not null,
    author_id uuid not null references users (id),
    target_kind text not null,
    target_id uuid,
    body text not null,
    status text not null default 'open',
    reply text not null default '',
    replied_by uuid references users (id),
    replied_at timestamptz,
    created_at timestamptz not null default now(),
    version integer not null default 1,
    constraint review_comments_round_same_project
        foreign key (project_id, round_id) references review_rounds (project_id, id),
    constraint review_comments_target_kind_check check (target_kind in ('round', 'node', 'code', 'quote')),
    constraint review_comments_status_check check (status in ('open', 'addressed', 'dismissed')),
    constraint review_comments_body_not_blank check (length(trim(body)) > 0)
);

create index review_comments_round_idx on review_comments (round_id, created_at);

create table review_signoffs (
    round_id uuid not null,
    project_id uuid not null,
    user_id uuid not null references users (id),
    verdict text not null,
    note text not null default '',
    signed_at timestamptz not null default now(),
    primary key (round_id, user_id),
    constraint review_signoffs_round_same_project
        foreign key (project_id, round_id) references review_rounds (project_id, id),
    constraint review_signoffs_verdict_check check (verdict in ('confirmed', 'reservations'))
);

alter type live_event_kind add value if not exists 'review.changed';
