-- Single-use links shown to an admin: invitations and password resets.
create table account_tokens (
    id uuid primary key,
    token_hash bytea not null,
    kind text not null,
    email text,
    user_id uuid references users (id) on delete cascade,
    grant_admin boolean not null default false,
    created_by uuid not null references users (id),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    revoked_at timestamptz,
    constraint account_tokens_token_hash_key unique (token_hash),
    constraint account_tokens_kind_check check (kind in ('invite', 'password_reset')),
    constraint account_tokens_target_check check (
        (kind = 'invite' and email is not null and user_id is null)
        or (kind = 'password_reset' and user_id is not null)
    )
);
