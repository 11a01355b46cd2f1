-- Which agreed code each coder's own code stands for. Several codes may map
-- onto one agreed code (a merge); a code maps onto at most one.
create table code_alignments (
    code_id uuid primary key references codes (id),
    project_id uuid not null references projects (id),
    agreed_code_id uuid not null references agreed_codes (id),
    created_by uuid not null references users (id),
    updated_at timestamptz not null default now(),
    version integer not null default 1
);

create index code_alignments_agreed_idx on code_alignments (agreed_code_id);
