//! Account flows shared by the pages and their JSON twins. Each runs one
//! transaction holding the change and its audit row.

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use super::model::{self, ApiToken, AuthUser, User};
use super::password::{hash_password, verify_password};
use super::secrets::{hash_token, random_token};
use super::session::{Auth, Credential, session_expiry};
use super::store::{self, NewAccountToken};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{AccountTokenId, ApiTokenId, ProjectId, UserId};
use crate::error::{AppError, FieldErrors};
use crate::projects::model::Role;
use crate::state::AppState;

/// A session just made: the raw token goes into the cookie and nowhere else.
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub user: AuthUser,
}

const INVITE: &str = "invite";
const PASSWORD_RESET: &str = "password_reset";

async fn create_session(
    conn: &mut sqlx::PgConnection,
    state: &AppState,
    user: AuthUser,
) -> Result<NewSession, AppError> {
    let token = random_token();
    let csrf_token = random_token();
    store::insert_session(
        conn,
        &hash_token(&token),
        user.id,
        &csrf_token,
        session_expiry(&state.config),
    )
    .await?;
    Ok(NewSession {
        token,
        csrf_token,
        user,
    })
}

pub struct SetupInput<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub password_confirm: &'a str,
}

/// Creates the first site admin; refused once any account exists.
pub async fn setup(state: &AppState, input: SetupInput<'_>) -> Result<NewSession, AppError> {
    let mut errors = FieldErrors::new();
    let email = model::parse_email(&mut errors, "email", input.email);
    let display_name = model::parse_display_name(&mut errors, "display_name", input.display_name);
    model::parse_new_password(
        &mut errors,
        "password",
        input.password,
        Some(input.password_confirm),
    );
    errors.into_result()?;
    let hash = hash_password(input.password.to_owned()).await?;

    let mut tx = state.begin().await?;
    // Two setup forms sent at once must not both create an admin.
    sqlx::query!("lock table users in exclusive mode")
        .execute(&mut *tx)
        .await?;
    if store::count_users(&mut tx).await? > 0 {
        return Err(AppError::State(
            "Concord is set up already; please sign in.".into(),
        ));
    }
    let user = store::insert_user(&mut tx, &email, &display_name, &hash, true).await?;
    audit::record(
        &mut tx,
        Change::new(Some(user.id), Action::SetupCompleted)
            .entity(user.id.0)
            .after(&user),
    )
    .await?;
    let session = create_session(&mut tx, state, auth_user(&user)).await?;
    tx.commit().await?;
    Ok(session)
}

fn auth_user(user: &User) -> AuthUser {
    AuthUser {
        id: user.id,
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        is_admin: user.is_admin,
    }
}

fn throttle_keys(email: &str, ip: IpAddr) -> [String; 2] {
    [
        format!("account:{}", email.trim().to_lowercase()),
        format!("address:{ip}"),
    ]
}

/// An attempt let through the throttle. It was counted as a failure before
/// its password was checked; [`Attempt::succeeded`] takes that back.
struct Attempt {
    failure_ids: Vec<i64>,
}

impl Attempt {
    async fn succeeded(self, conn: &mut sqlx::PgConnection) -> Result<(), AppError> {
        store::delete_failures(conn, &self.failure_ids).await
    }
}

/// Checks both throttles and counts this attempt, in one step: each key is
/// locked while it is counted and the attempt recorded, so parallel guesses
/// queue here and no more of them than the limit reach the password check.
async fn begin_attempt(state: &AppState, email: &str, ip: IpAddr) -> Result<Attempt, AppError> {
    let config = &state.config;
    let [account, address] = throttle_keys(email, ip);
    let mut tx = state.db.begin().await?;
    // Always the account's key first, then the address's: no two attempts
    // can each hold a lock the other waits for.
    for (key, max) in [
        (&account, config.login_max_failures_account),
        (&address, config.login_max_failures_address),
    ] {
        store::lock_throttle_key(&mut tx, key).await?;
        let (count, oldest) =
            store::count_recent_failures(&mut tx, key, config.login_window_minutes).await?;
        if count >= max {
            let until = oldest.unwrap_or_else(OffsetDateTime::now_utc)
                + Duration::minutes(config.login_window_minutes);
            let retry_after_secs =
                (until - OffsetDateTime::now_utc()).whole_seconds().max(1) as u64;
            return Err(AppError::Throttled { retry_after_secs });
        }
    }
    let mut failure_ids = Vec::with_capacity(2);
    for key in [&account, &address] {
        failure_ids.push(store::insert_failure(&mut tx, key).await?);
    }
    tx.commit().await?;
    let mut conn = state.db.acquire().await?;
    store::delete_old_failures(&mut conn, config.login_window_minutes * 2).await?;
    Ok(Attempt { failure_ids })
}

pub fn wrong_credentials() -> AppError {
    // One message whether or not the account exists or is disabled.
    AppError::BadRequest {
        status: axum::http::StatusCode::UNAUTHORIZED,
        detail: "The email address or password is wrong.".into(),
    }
}

pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
    ip: IpAddr,
) -> Result<NewSession, AppError> {
    let attempt = begin_attempt(state, email, ip).await?;
    let mut conn = state.db.acquire().await?;
    let found = store::find_user_by_email(&mut conn, email.trim()).await?;
    drop(conn);
    let hash = found.as_ref().map(|f| f.password_hash.clone());
    let verified = verify_password(password.to_owned(), hash).await?;
    let Some(found) = found.filter(|f| verified && !f.disabled) else {
        return Err(wrong_credentials());
    };

    let mut tx = state.begin().await?;
    let [account_key, _] = throttle_keys(email, ip);
    attempt.succeeded(&mut tx).await?;
    store::clear_failures(&mut tx, &account_key).await?;
    store::delete_expired_sessions(&mut tx).await?;
    audit::record(
        &mut tx,
        Change::new(Some(found.user.id), Action::SignedIn).entity(found.user.id.0),
    )
    .await?;
    let session = create_session(&mut tx, state, found.user).await?;
    tx.commit().await?;
    Ok(session)
}

pub async fn sign_out(state: &AppState, auth: &Auth) -> Result<(), AppError> {
    let Credential::Session { token_hash } = &auth.credential else {
        return Ok(());
    };
    let mut tx = state.begin().await?;
    store::delete_session(&mut tx, token_hash).await?;
    if let Some(user) = &auth.user {
        audit::record(
            &mut tx,
            Change::new(Some(user.id), Action::SignedOut).entity(user.id.0),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub struct ChangePasswordInput<'a> {
    pub current_password: &'a str,
    pub new_password: &'a str,
    pub password_confirm: &'a str,
}

/// Changes the caller's password and ends their other sessions.
pub async fn change_password(
    state: &AppState,
    auth: &Auth,
    input: ChangePasswordInput<'_>,
) -> Result<(), AppError> {
    let user = auth.user.as_ref().ok_or(AppError::Unauthenticated)?;
    let mut errors = FieldErrors::new();
    model::parse_new_password(
        &mut errors,
        "new_password",
        input.new_password,
        Some(input.password_confirm),
    );
    errors.into_result()?;
    let attempt = begin_attempt(state, &user.email, auth.client_ip).await?;
    let mut conn = state.db.acquire().await?;
    let current_hash = store::get_password_hash(&mut conn, user.id).await?;
    drop(conn);
    if !verify_password(input.current_password.to_owned(), Some(current_hash)).await? {
        return Err(AppError::field(
            "current_password",
            "This is not your current password.",
        ));
    }
    let hash = hash_password(input.new_password.to_owned()).await?;
    let mut tx = state.db.begin().await?;
    attempt.succeeded(&mut tx).await?;
    store::update_password(&mut tx, user.id, &hash).await?;
    let keep = match &auth.credential {
        Credential::Session { token_hash } => Some(token_hash.as_slice()),
        _ => None,
    };
    store::delete_user_sessions(&mut tx, user.id, keep).await?;
    audit::record(
        &mut tx,
        Change::new(Some(user.id), Action::PasswordChanged).entity(user.id.0),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A single-use link, shown to the admin who made it. The token is the
/// link's last segment, also given alone for scripts. Links start with the
/// base the caller gives (`web::extract::PublicBase` in a request).
pub struct Link {
    pub id: AccountTokenId,
    pub token: String,
    pub url: String,
    pub expires_at: OffsetDateTime,
}

/// What an admin asks for: an account for `email`, optionally a site admin,
/// optionally a member of a project they own, with a role there.
pub struct InviteInput<'a> {
    pub email: &'a str,
    pub grant_admin: bool,
    /// A project id as sent; empty for none.
    pub project_id: &'a str,
    /// A role as sent; read only with a project.
    pub role: &'a str,
}

/// The project an invitation names: one the admin owns and that is not
/// archived, with a real role.
async fn invited_project(
    conn: &mut sqlx::PgConnection,
    admin: &AuthUser,
    errors: &mut FieldErrors,
    input: &InviteInput<'_>,
) -> Result<Option<(ProjectId, Role)>, AppError> {
    let project = input.project_id.trim();
    if project.is_empty() {
        return Ok(None);
    }
    let owned = store::list_owned_projects(conn, admin.id).await?;
    let project = match project.parse::<ProjectId>() {
        Ok(id) if owned.iter().any(|(p, _)| *p == id) => Some(id),
        _ => {
            errors.add("project_id", "Choose one of your own projects, or none.");
            None
        }
    };
    let role = Role::parse(input.role.trim());
    if role.is_none() {
        errors.add(
            "role",
            "Choose the role they get: owner, lead, coder or reviewer.",
        );
    }
    Ok(project.zip(role))
}

pub async fn create_invite(
    state: &AppState,
    admin: &AuthUser,
    input: InviteInput<'_>,
    base_url: &str,
) -> Result<Link, AppError> {
    let mut errors = FieldErrors::new();
    let email = model::parse_email(&mut errors, "email", input.email);
    let mut tx = state.begin().await?;
    let project = invited_project(&mut tx, admin, &mut errors, &input).await?;
    errors.into_result()?;
    if store::find_user_by_email(&mut tx, &email).await?.is_some() {
        return Err(AppError::field("email", crate::messages::EMAIL_TAKEN));
    }
    let token = random_token();
    let expires_at = OffsetDateTime::now_utc() + Duration::hours(state.config.invite_hours);
    let id = store::insert_account_token(
        &mut tx,
        NewAccountToken {
            token_hash: &hash_token(&token),
            kind: INVITE,
            email: Some(&email),
            user_id: None,
            grant_admin: input.grant_admin,
            project,
            created_by: admin.id,
            expires_at,
        },
    )
    .await?;
    let mut change = Change::new(Some(admin.id), Action::InviteCreated)
        .entity(id.0)
        .after(&serde_json::json!({
            "email": email,
            "admin": input.grant_admin,
            "project_id": project.map(|(p, _)| p),
            "role": project.map(|(_, r)| r),
        }));
    if let Some((project_id, _)) = project {
        change = change.project(project_id);
    }
    audit::record(&mut tx, change).await?;
    tx.commit().await?;
    Ok(Link {
        id,
        url: format!("{base_url}/invite/{token}"),
        token,
        expires_at,
    })
}

/// Invitations not yet used, withdrawn or expired, newest first.
pub async fn pending_invites(state: &AppState) -> Result<Vec<store::PendingInvite>, AppError> {
    let mut conn = state.db.acquire().await?;
    store::list_pending_invites(&mut conn).await
}

/// Withdraws a pending invitation: its link stops working. `NotFound` when
/// there is no pending invitation with that id.
pub async fn withdraw_invite(
    state: &AppState,
    admin: &AuthUser,
    id: AccountTokenId,
) -> Result<(), AppError> {
    let mut tx = state.begin().await?;
    let withdrawn = store::withdraw_invite(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut change = Change::new(Some(admin.id), Action::InviteWithdrawn)
        .entity(id.0)
        .before(&withdrawn);
    if let Some(project_id) = withdrawn.project_id {
        change = change.project(project_id);
    }
    audit::record(&mut tx, change).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn create_password_reset(
    state: &AppState,
    admin: &AuthUser,
    user_id: UserId,
    base_url: &str,
) -> Result<Link, AppError> {
    let mut tx = state.begin().await?;
    let user = store::get_user(&mut tx, user_id).await?;
    store::revoke_open_resets(&mut tx, user.id).await?;
    let token = random_token();
    let expires_at = OffsetDateTime::now_utc() + Duration::hours(state.config.invite_hours);
    let id = store::insert_account_token(
        &mut tx,
        NewAccountToken {
            token_hash: &hash_token(&token),
            kind: PASSWORD_RESET,
            email: None,
            user_id: Some(user.id),
            grant_admin: false,
            project: None,
            created_by: admin.id,
            expires_at,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        Change::new(Some(admin.id), Action::PasswordResetCreated)
            .entity(user.id.0)
            .after(&serde_json::json!({ "reset_id": id })),
    )
    .await?;
    tx.commit().await?;
    Ok(Link {
        id,
        url: format!("{base_url}/reset/{token}"),
        token,
        expires_at,
    })
}

fn link_gone() -> AppError {
    AppError::Gone("This link is not valid: it was used already, withdrawn, or has expired. Ask an admin for a new one.".into())
}

/// The open link of that kind, locked for this transaction.
async fn open_account_token(
    conn: &mut sqlx::PgConnection,
    token: &str,
    kind: &str,
) -> Result<store::AccountToken, AppError> {
    let found = store::find_account_token_for_update(conn, &hash_token(token)).await?;
    found
        .filter(|t| {
            t.kind == kind
                && t.used_at.is_none()
                && t.revoked_at.is_none()
                && t.expires_at > OffsetDateTime::now_utc()
        })
        .ok_or_else(link_gone)
}

/// What an open invitation is for, to show on its page.
pub struct InviteInfo {
    pub email: String,
    /// The project it adds its person to, by name, and their role there.
    pub project: Option<(String, Role)>,
}

pub async fn invite_info(state: &AppState, token: &str) -> Result<InviteInfo, AppError> {
    let mut tx = state.begin().await?;
    let invite = open_account_token(&mut tx, token, INVITE).await?;
    let project = match (
        invite.project_id,
        invite.role.as_deref().and_then(Role::parse),
    ) {
        (Some(id), Some(role)) => store::project_name(&mut tx, id).await?.map(|n| (n, role)),
        _ => None,
    };
    tx.rollback().await?;
    Ok(InviteInfo {
        email: invite.email.ok_or_else(link_gone)?,
        project,
    })
}

pub async fn check_reset(state: &AppState, token: &str) -> Result<(), AppError> {
    let mut tx = state.begin().await?;
    open_account_token(&mut tx, token, PASSWORD_RESET).await?;
    tx.rollback().await?;
    Ok(())
}

pub struct AcceptInviteInput<'a> {
    pub display_name: &'a str,
    pub password: &'a str,
    pub password_confirm: &'a str,
}

pub async fn accept_invite(
    state: &AppState,
    token: &str,
    input: AcceptInviteInput<'_>,
) -> Result<NewSession, AppError> {
    let mut errors = FieldErrors::new();
    let display_name = model::parse_display_name(&mut errors, "display_name", input.display_name);
    model::parse_new_password(
        &mut errors,
        "password",
        input.password,
        Some(input.password_confirm),
    );
    errors.into_result()?;
    let hash = hash_password(input.password.to_owned()).await?;
    let mut tx = state.begin().await?;
    let invite = open_account_token(&mut tx, token, INVITE).await?;
    let email = invite.email.clone().ok_or_else(link_gone)?;
    let user =
        store::insert_user(&mut tx, &email, &display_name, &hash, invite.grant_admin).await?;
    store::mark_account_token_used(&mut tx, invite.id).await?;
    audit::record(
        &mut tx,
        Change::new(Some(user.id), Action::InviteAccepted)
            .entity(user.id.0)
            .after(&user),
    )
    .await?;
    if let (Some(project_id), Some(role)) = (
        invite.project_id,
        invite.role.as_deref().and_then(Role::parse),
    ) {
        crate::projects::service::add_invited_member(&mut tx, project_id, user.id, role).await?;
    }
    let session = create_session(&mut tx, state, auth_user(&user)).await?;
    tx.commit().await?;
    Ok(session)
}

/// Sets a new password from a reset link and ends every session of that user.
pub async fn use_password_reset(
    state: &AppState,
    token: &str,
    password: &str,
    password_confirm: &str,
) -> Result<(), AppError> {
    let mut errors = FieldErrors::new();
    model::parse_new_password(&mut errors, "password", password, Some(password_confirm));
    errors.into_result()?;
    let hash = hash_password(password.to_owned()).await?;
    let mut tx = state.begin().await?;
    let reset = open_account_token(&mut tx, token, PASSWORD_RESET).await?;
    let user_id = reset.user_id.ok_or_else(link_gone)?;
    store::update_password(&mut tx, user_id, &hash).await?;
    store::mark_account_token_used(&mut tx, reset.id).await?;
    store::delete_user_sessions(&mut tx, user_id, None).await?;
    audit::record(
        &mut tx,
        Change::new(Some(user_id), Action::PasswordReset).entity(user_id.0),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_user_disabled(
    state: &AppState,
    admin: &AuthUser,
    user_id: UserId,
    disabled: bool,
) -> Result<User, AppError> {
    if disabled && admin.id == user_id {
        return Err(AppError::State(
            "You cannot disable your own account.".into(),
        ));
    }
    let mut tx = state.begin().await?;
    let before = store::get_user(&mut tx, user_id).await?;
    let after = store::set_disabled(&mut tx, user_id, disabled).await?;
    if disabled {
        store::delete_user_sessions(&mut tx, user_id, None).await?;
        // Open event streams of this account end (src/live/sse.rs).
        crate::live::announce_user_disabled(&mut tx, user_id).await?;
    }
    let action = if disabled {
        Action::UserDisabled
    } else {
        Action::UserEnabled
    };
    audit::record(
        &mut tx,
        Change::new(Some(admin.id), action)
            .entity(user_id.0)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The token's text is returned once, here, and never stored.
pub async fn create_api_token(
    state: &AppState,
    user: &AuthUser,
    name: &str,
) -> Result<(ApiToken, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::field(
            "name",
            "Name the token (at most 100 characters).",
        ));
    }
    let token = format!("cnc_{}", random_token());
    let prefix: String = token.chars().take(10).collect();
    let mut tx = state.begin().await?;
    let created =
        store::insert_api_token(&mut tx, user.id, name, &hash_token(&token), &prefix).await?;
    audit::record(
        &mut tx,
        Change::new(Some(user.id), Action::ApiTokenCreated)
            .entity(created.id.0)
            .after(&created),
    )
    .await?;
    tx.commit().await?;
    Ok((created, token))
}

pub async fn revoke_api_token(
    state: &AppState,
    user: &AuthUser,
    id: ApiTokenId,
) -> Result<ApiToken, AppError> {
    let mut tx = state.begin().await?;
    let before = store::get_api_token(&mut tx, user.id, id).await?;
    let after = store::revoke_api_token(&mut tx, user.id, id).await?;
    audit::record(
        &mut tx,
        Change::new(Some(user.id), Action::ApiTokenRevoked)
            .entity(id.0)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
