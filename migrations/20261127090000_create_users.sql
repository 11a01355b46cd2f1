-- Accounts of the whole site. Email is compared case-insensitively.
create table users (
    id uuid primary key,
    email text not null,
    display_name text not null,
    password_hash text not null,
    is_admin boolean not null default false,
    disabled_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version integer not null default 1,
    constraint users_email_not_blank check (length(trim(email)) > 0),
    constraint users_display_name_not_blank check (length(trim(display_name)) > 0)
);

create unique index users_email_key on users (lower(email));
