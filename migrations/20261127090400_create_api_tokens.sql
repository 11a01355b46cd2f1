-- Personal API tokens, sent as `Authorization: Bearer`. Only the SHA-256 is stored.
create table api_tokens (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    name text not null,
    token_hash bytea not null,
    prefix text not null,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    constraint api_tokens_token_hash_key unique (token_hash),
    constraint api_tokens_name_not_blank check (length(trim(name)) > 0)
);

create index api_tokens_user_id_idx on api_tokens (user_id);
