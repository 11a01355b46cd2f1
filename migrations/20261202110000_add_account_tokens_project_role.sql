-- An invitation may name a project and the role the invited person gets in
-- it when they accept.
alter table account_tokens
    add column project_id uuid references projects (id),
    add column role text,
    add constraint account_tokens_role_check
        check (role is null or role in ('owner', 'lead', 'coder', 'reviewer')),
    add constraint account_tokens_project_role_check
        check ((project_id is null) = (role is null) and (project_id is null or kind = 'invite'));
