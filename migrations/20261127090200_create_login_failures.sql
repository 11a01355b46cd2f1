-- Failed sign-ins, keyed by account and by address, for throttling.
create table login_failures (
    id bigint generated always as identity primary key,
    throttle_key text not null,
    failed_at timestamptz not null default now()
);

create index login_failures_key_idx on login_failures (throttle_key, failed_at);
