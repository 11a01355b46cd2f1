-- The interview order the lead sets for saturation: import order, by a
-- participant variable (a date or a number), or by hand.
create table interview_orders (
    project_id uuid primary key references projects (id),
    mode text not null default 'import',
    variable_id uuid references variables (id),
    -- By hand: transcripts in this order; any not listed follow in import order.
    transcript_ids uuid[] not null default '{}',
    updated_by uuid references users (id),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    constraint interview_orders_mode_check check (mode in ('import', 'variable', 'manual')),
    constraint interview_orders_variable_check check ((mode = 'variable') = (variable_id is not null))
);
