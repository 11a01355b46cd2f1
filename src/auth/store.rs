//! Every SQL query of accounts, sessions and tokens.

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::model::{ApiToken, AuthUser, User};
use crate::db::ids::{AccountTokenId, ApiTokenId, ProjectId, UserId};
use crate::error::AppError;
use crate::projects::model::{CodebookMode, Project, Role};

pub struct UserWithHash {
    pub user: AuthUser,
    pub password_hash: String,
    pub disabled: bool,
}

pub async fn count_users(conn: &mut PgConnection) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar!(r#"select count(*) as "count!" from users"#)
            .fetch_one(conn)
            .await?,
    )
}

pub async fn find_user_by_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<UserWithHash>, AppError> {
    let row = sqlx::query!(
        r#"select id as "id: UserId", email, display_name, is_admin, password_hash,
                  disabled_at is not null as "disabled!"
             from users
            where lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| UserWithHash {
        user: AuthUser {
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            is_admin: r.is_admin,
        },
        password_hash: r.password_hash,
        disabled: r.disabled,
    }))
}

pub async fn get_password_hash(conn: &mut PgConnection, id: UserId) -> Result<String, AppError> {
    sqlx::query_scalar!(
        "select password_hash from users where id = $1",
        id as UserId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

pub async fn get_user(conn: &mut PgConnection, id: UserId) -> Result<User, AppError> {
    sqlx::query_as!(
        User,
        r#"select id as "id: UserId", email, display_name, is_admin, disabled_at, created_at
             from users
            where id = $1"#,
        id as UserId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

pub async fn list_users(conn: &mut PgConnection) -> Result<Vec<User>, AppError> {
    Ok(sqlx::query_as!(
        User,
        r#"select id as "id: UserId", email, display_name, is_admin, disabled_at, created_at
             from users
            order by lower(display_name), lower(email)"#
    )
    .fetch_all(conn)
    .await?)
}

pub async fn insert_user(
    conn: &mut PgConnection,
    email: &str,
    display_name: &str,
    password_hash: &str,
    is_admin: bool,
) -> Result<User, AppError> {
    let id = UserId::new();
    let result = sqlx::query_as!(
        User,
        r#"insert into users (id, email, display_name, password_hash, is_admin)
           values ($1, $2, $3, $4, $5)
           returning id as "id: UserId", email, display_name, is_admin, disabled_at, created_at"#,
        id as UserId,
        email,
        display_name,
        password_hash,
        is_admin
    )
    .fetch_one(conn)
    .await;
    // A taken email is refused by `users_email_key` (error::CONSTRAINTS).
    Ok(result?)
}

pub async fn update_password(
    conn: &mut PgConnection,
    id: UserId,
    password_hash: &str,
) -> Result<(), AppError> {
    sqlx::query!(
        // A changed password is never shown on the sign-in page.
        "update users set password_hash = $2, demo_password = null, updated_at = now(), version = version + 1
          where id = $1",
        id as UserId,
        password_hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An enabled account made by `concord demo` whose password is still the
/// demo one, for the sign-in page.
pub struct DemoAccountRow {
    pub display_name: String,
    pub email: String,
    pub password: String,
    pub is_admin: bool,
    /// Its roles in projects, as stored (`owner`, `lead`, ...).
    pub roles: Vec<String>,
}

pub async fn list_demo_accounts(conn: &mut PgConnection) -> Result<Vec<DemoAccountRow>, AppError> {
    Ok(sqlx::query_as!(
        DemoAccountRow,
        r#"select u.display_name, u.email, u.demo_password as "password!", u.is_admin,
                  array(select distinct m.role from project_members m where m.user_id = u.id) as "roles!"
             from users u
            where u.demo_password is not null and u.disabled_at is null
            order by u.created_at, lower(u.email)"#
    )
    .fetch_all(conn)
    .await?)
}

pub async fn set_disabled(
    conn: &mut PgConnection,
    id: UserId,
    disabled: bool,
) -> Result<User, AppError> {
    sqlx::query_as!(
        User,
        r#"update users
              set disabled_at = case when $2 then coalesce(disabled_at, now()) else null end,
                  updated_at = now(),
                  version = version + 1
            where id = $1
        returning id as "id: UserId", email, display_name, is_admin, disabled_at, created_at"#,
        id as UserId,
        disabled
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

// Sessions

pub struct SessionRow {
    pub user: AuthUser,
    pub csrf_token: String,
    pub last_seen_at: OffsetDateTime,
    pub membership: Option<PreloadedMembership>,
}

/// The signed-in user's membership of the project a request's path names, read
/// with the session; `found` is None when they are not a member.
#[derive(Debug, Clone)]
pub struct PreloadedMembership {
    pub project_id: ProjectId,
    pub found: Option<(Project, Role)>,
}

pub async fn insert_session(
    conn: &mut PgConnection,
    token_hash: &[u8],
    user_id: UserId,
    csrf_token: &str,
    expires_at: OffsetDateTime,
) -> Result<(), AppError> {
    sqlx::query!(
        "insert into sessions (token_hash, user_id, csrf_token, expires_at) values ($1, $2, $3, $4)",
        token_hash,
        user_id as UserId,
        csrf_token,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The session's user and, when `project` is given, their membership of it
/// (None inside: not a member), read in the same statement: a request to a
/// project's page or API needs both, and each statement is a round trip.
pub async fn find_session(
    conn: &mut PgConnection,
    token_hash: &[u8],
    project: Option<ProjectId>,
) -> Result<Option<SessionRow>, AppError> {
    let row = sqlx::query!(
        r#"select u.id as "id: UserId", u.email, u.display_name, u.is_admin, s.csrf_token, s.last_seen_at,
                  p.id as "project_id?: ProjectId", p.name as "project_name?",
                  p.description as "project_description?", p.archived_at as "project_archived_at?",
                  p.created_at as "project_created_at?", p.version as "project_version?",
                  p.codebook_mode as "codebook_mode?: CodebookMode", m.role as "role?"
             from sessions s
             join users u on u.id = s.user_id
             left join project_members m on m.project_id = $2 and m.user_id = u.id
             left join projects p on p.id = m.project_id
            where s.token_hash = $1
              and s.expires_at > now()
              and u.disabled_at is null"#,
        token_hash,
        project.map(|p| p.0)
    )
    .fetch_optional(conn)
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let membership = match project {
        None => None,
        Some(asked) => {
            let found = match (
                r.project_id,
                r.project_name,
                r.project_description,
                r.project_created_at,
                r.project_version,
                r.codebook_mode,
                r.role,
            ) {
                (
                    Some(id),
                    Some(name),
                    Some(description),
                    Some(created_at),
                    Some(version),
                    Some(codebook_mode),
                    Some(role),
                ) => Some((
                    Project {
                        id,
                        name,
                        description,
                        archived_at: r.project_archived_at,
                        created_at,
                        version,
                        codebook_mode,
                    },
                    Role::parse(&role).ok_or_else(|| {
                        AppError::Internal(anyhow::anyhow!("unknown role {role:?} in the database"))
                    })?,
                )),
                _ => None,
            };
            Some(PreloadedMembership {
                project_id: asked,
                found,
            })
        }
    };
    Ok(Some(SessionRow {
        user: AuthUser {
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            is_admin: r.is_admin,
        },
        csrf_token: r.csrf_token,
        last_seen_at: r.last_seen_at,
        membership,
    }))
}

pub async fn touch_session(
    conn: &mut PgConnection,
    token_hash: &[u8],
    expires_at: OffsetDateTime,
) -> Result<(), AppError> {
    sqlx::query!(
        "update sessions set last_seen_at = now(), expires_at = $2 where token_hash = $1",
        token_hash,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_session(conn: &mut PgConnection, token_hash: &[u8]) -> Result<(), AppError> {
    sqlx::query!("delete from sessions where token_hash = $1", token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every session of a user but `keep` (the one making the request, if any).
pub async fn delete_user_sessions(
    conn: &mut PgConnection,
    user_id: UserId,
    keep: Option<&[u8]>,
) -> Result<(), AppError> {
    sqlx::query!(
        "delete from sessions where user_id = $1 and ($2::bytea is null or token_hash <> $2)",
        user_id as UserId,
        keep
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_expired_sessions(conn: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query!("delete from sessions where expires_at < now()")
        .execute(conn)
        .await?;
    Ok(())
}

// Login throttling

pub async fn count_recent_failures(
    conn: &mut PgConnection,
    key: &str,
    window_minutes: i64,
) -> Result<(i64, Option<OffsetDateTime>), AppError> {
    let row = sqlx::query!(
        r#"select count(*) as "count!", min(failed_at) as oldest
             from login_failures
            where throttle_key = $1
              and failed_at > now() - make_interval(mins => $2::int)"#,
        key,
        window_minutes as i32
    )
    .fetch_one(conn)
    .await?;
    Ok((row.count, row.oldest))
}

/// Until the transaction ends, other attempts on `key` wait here, so that
/// counting an attempt's key and recording it are one step.
pub async fn lock_throttle_key(conn: &mut PgConnection, key: &str) -> Result<(), AppError> {
    // The first key of the pair marks the lock as a throttle's (0x6c6f67 is "log").
    sqlx::query!(
        r#"select 1 as "locked!" from pg_advisory_xact_lock(7106407, hashtext($1))"#,
        key
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// Records a failure; its id lets an attempt that turns out right take it back.
pub async fn insert_failure(conn: &mut PgConnection, key: &str) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        "insert into login_failures (throttle_key) values ($1) returning id",
        key
    )
    .fetch_one(conn)
    .await?)
}

pub async fn delete_failures(conn: &mut PgConnection, ids: &[i64]) -> Result<(), AppError> {
    sqlx::query!("delete from login_failures where id = any($1)", ids)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn clear_failures(conn: &mut PgConnection, key: &str) -> Result<(), AppError> {
    sqlx::query!("delete from login_failures where throttle_key = $1", key)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_old_failures(
    conn: &mut PgConnection,
    window_minutes: i64,
) -> Result<(), AppError> {
    sqlx::query!(
        "delete from login_failures where failed_at < now() - make_interval(mins => $1::int)",
        window_minutes as i32
    )
    .execute(conn)
    .await?;
    Ok(())
}

// Invitations and password resets

pub struct AccountToken {
    pub id: AccountTokenId,
    pub kind: String,
    pub email: Option<String>,
    pub user_id: Option<UserId>,
    pub grant_admin: bool,
    /// The project an invitation adds its person to, with their role there.
    pub project_id: Option<ProjectId>,
    pub role: Option<String>,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

pub struct NewAccountToken<'a> {
    pub token_hash: &'a [u8],
    pub kind: &'a str,
    pub email: Option<&'a str>,
    pub user_id: Option<UserId>,
    pub grant_admin: bool,
    pub project: Option<(ProjectId, Role)>,
    pub created_by: UserId,
    pub expires_at: OffsetDateTime,
}

pub async fn insert_account_token(
    conn: &mut PgConnection,
    new: NewAccountToken<'_>,
) -> Result<AccountTokenId, AppError> {
    let id = AccountTokenId::new();
    sqlx::query!(
        r#"insert into account_tokens (id, token_hash, kind, email, user_id, grant_admin, created_by, expires_at,
                                       project_id, role)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
        id as AccountTokenId,
        new.token_hash,
        new.kind,
        new.email,
        new.user_id as Option<UserId>,
        new.grant_admin,
        new.created_by as UserId,
        new.expires_at,
        new.project.map(|(p, _)| p) as Option<ProjectId>,
        new.project.map(|(_, r)| r.as_str()),
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// An invitation not yet used, withdrawn or expired, as the admin sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PendingInvite {
    pub id: AccountTokenId,
    pub email: String,
    pub admin: bool,
    pub project_id: Option<ProjectId>,
    pub project_name: Option<String>,
    pub role: Option<String>,
    pub created_by_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Newest first.
pub async fn list_pending_invites(conn: &mut PgConnection) -> Result<Vec<PendingInvite>, AppError> {
    Ok(sqlx::query_as!(
        PendingInvite,
        r#"select t.id as "id: AccountTokenId", t.email as "email!", t.grant_admin as admin,
                  t.project_id as "project_id: ProjectId", p.name as "project_name?", t.role,
                  u.display_name as created_by_name, t.created_at, t.expires_at
             from account_tokens t
             join users u on u.id = t.created_by
             left join projects p on p.id = t.project_id
            where t.kind = 'invite' and t.used_at is null and t.revoked_at is null and t.expires_at > now()
            order by t.created_at desc, t.id desc"#
    )
    .fetch_all(conn)
    .await?)
}

/// Withdraws a pending invitation; `None` when there is none with that id.
pub async fn withdraw_invite(
    conn: &mut PgConnection,
    id: AccountTokenId,
) -> Result<Option<PendingInvite>, AppError> {
    Ok(sqlx::query_as!(
        PendingInvite,
        r#"with withdrawn as (
               update account_tokens
                  set revoked_at = now()
                where id = $1 and kind = 'invite' and used_at is null and revoked_at is null
                  and expires_at > now()
            returning id, email, grant_admin, project_id, role, created_by, created_at, expires_at
           )
           select w.id as "id: AccountTokenId", w.email as "email!", w.grant_admin as admin,
                  w.project_id as "project_id: ProjectId", p.name as "project_name?", w.role,
                  u.display_name as created_by_name, w.created_at, w.expires_at
             from withdrawn w
             join users u on u.id = w.created_by
             left join projects p on p.id = w.project_id"#,
        id as AccountTokenId
    )
    .fetch_optional(conn)
    .await?)
}

/// The projects a user owns (active ones), for naming one in an invitation.
pub async fn list_owned_projects(
    conn: &mut PgConnection,
    user_id: UserId,
) -> Result<Vec<(ProjectId, String)>, AppError> {
    let rows = sqlx::query!(
        r#"select p.id as "id: ProjectId", p.name
             from projects p
             join project_members m on m.project_id = p.id
            where m.user_id = $1 and m.role = 'owner' and p.archived_at is null
            order by lower(p.name), p.id"#,
        user_id as UserId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

pub async fn project_name(
    conn: &mut PgConnection,
    id: ProjectId,
) -> Result<Option<String>, AppError> {
    Ok(
        sqlx::query_scalar!("select name from projects where id = $1", id as ProjectId)
            .fetch_optional(conn)
            .await?,
    )
}

/// Locks the row, so two uses of one link cannot both succeed.
pub async fn find_account_token_for_update(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<AccountToken>, AppError> {
    Ok(sqlx::query_as!(
        AccountToken,
        r#"select id as "id: AccountTokenId", kind, email, user_id as "user_id: UserId", grant_admin,
                  project_id as "project_id: ProjectId", role, expires_at, used_at, revoked_at
             from account_tokens
            where token_hash = $1
              for update"#,
        token_hash
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn mark_account_token_used(
    conn: &mut PgConnection,
    id: AccountTokenId,
) -> Result<(), AppError> {
    sqlx::query!(
        "update account_tokens set used_at = now() where id = $1",
        id as AccountTokenId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A new reset link replaces older unused ones for the same user.
pub async fn revoke_open_resets(conn: &mut PgConnection, user_id: UserId) -> Result<(), AppError> {
    sqlx::query!(
        "update account_tokens set revoked_at = now()
          where user_id = $1 and kind = 'password_reset' and used_at is null and revoked_at is null",
        user_id as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

// API tokens

pub async fn insert_api_token(
    conn: &mut PgConnection,
    user_id: UserId,
    name: &str,
    token_hash: &[u8],
    prefix: &str,
) -> Result<ApiToken, AppError> {
    let id = ApiTokenId::new();
    Ok(sqlx::query_as!(
        ApiToken,
        r#"insert into api_tokens (id, user_id, name, token_hash, prefix)
           values ($1, $2, $3, $4, $5)
           returning id as "id: ApiTokenId", name, prefix, created_at, last_used_at, revoked_at"#,
        id as ApiTokenId,
        user_id as UserId,
        name,
        token_hash,
        prefix
    )
    .fetch_one(conn)
    .await?)
}

pub async fn list_api_tokens(
    conn: &mut PgConnection,
    user_id: UserId,
) -> Result<Vec<ApiToken>, AppError> {
    Ok(sqlx::query_as!(
        ApiToken,
        r#"select id as "id: ApiTokenId", name, prefix, created_at, last_used_at, revoked_at
             from api_tokens
            where user_id = $1
            order by created_at desc"#,
        user_id as UserId
    )
    .fetch_all(conn)
    .await?)
}

pub async fn get_api_token(
    conn: &mut PgConnection,
    user_id: UserId,
    id: ApiTokenId,
) -> Result<ApiToken, AppError> {
    sqlx::query_as!(
        ApiToken,
        r#"select id as "id: ApiTokenId", name, prefix, created_at, last_used_at, revoked_at
             from api_tokens
            where user_id = $1 and id = $2"#,
        user_id as UserId,
        id as ApiTokenId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

pub async fn revoke_api_token(
    conn: &mut PgConnection,
    user_id: UserId,
    id: ApiTokenId,
) -> Result<ApiToken, AppError> {
    sqlx::query_as!(
        ApiToken,
        r#"update api_tokens
              set revoked_at = coalesce(revoked_at, now())
            where user_id = $1 and id = $2
        returning id as "id: ApiTokenId", name, prefix, created_at, last_used_at, revoked_at"#,
        user_id as UserId,
        id as ApiTokenId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

pub async fn find_user_by_api_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<(ApiTokenId, AuthUser)>, AppError> {
    let Some(r) = sqlx::query!(
        r#"select t.id as "token_id: ApiTokenId", u.id as "id: UserId", u.email, u.display_name, u.is_admin
             from api_tokens t
             join users u on u.id = t.user_id
            where t.token_hash = $1
              and t.revoked_at is null
              and u.disabled_at is null"#,
        token_hash
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    // At most one write a minute per token, not one per request.
    sqlx::query!(
        "update api_tokens set last_used_at = now()
          where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')",
        r.token_id as ApiTokenId
    )
    .execute(conn)
    .await?;
    Ok(Some((
        r.token_id,
        AuthUser {
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            is_admin: r.is_admin,
        },
    )))
}
