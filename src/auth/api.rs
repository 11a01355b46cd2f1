//! `/api/v1` twins of the account pages.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::model::{ApiToken, AuthUser, User};
use super::pages::{clear_session_cookie, signed_in_redirect};
use super::service::{self, AcceptInviteInput, ChangePasswordInput, NewSession, SetupInput};
use super::session::{Auth, CurrentUser, SiteAdmin};
use super::store;
use crate::db::ids::{AccountTokenId, ApiTokenId, UserId};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{Json, Path, PublicBase};

#[derive(Serialize)]
pub struct SessionJson {
    user: Option<AuthUser>,
    /// Send it back as `X-CSRF-Token` on every unsafe request made with the cookie.
    csrf_token: String,
}

/// Who is signed in, and the CSRF token for this browser.
pub async fn get_session(auth: Auth) -> Json<SessionJson> {
    Json(SessionJson {
        user: auth.user,
        csrf_token: auth.csrf_token,
    })
}

/// The session cookie plus its JSON body.
fn session_response(session: NewSession, state: &AppState, status: StatusCode) -> Response {
    let redirect = signed_in_redirect(&session, "/", &state.config);
    let mut response = (
        status,
        Json(SessionJson {
            user: Some(session.user),
            csrf_token: session.csrf_token,
        }),
    )
        .into_response();
    for cookie in redirect.headers().get_all(axum::http::header::SET_COOKIE) {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, cookie.clone());
    }
    response
}

#[derive(Deserialize)]
pub struct SetupRequest {
    email: String,
    display_name: String,
    password: String,
}

pub async fn setup(
    State(state): State<AppState>,
    Json(body): Json<SetupRequest>,
) -> Result<Response, AppError> {
    let input = SetupInput {
        email: &body.email,
        display_name: &body.display_name,
        password: &body.password,
        password_confirm: &body.password,
    };
    let session = service::setup(&state, input).await?;
    Ok(session_response(session, &state, StatusCode::CREATED))
}

#[derive(Deserialize)]
pub struct SignInRequest {
    email: String,
    password: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    auth: Auth,
    Json(body): Json<SignInRequest>,
) -> Result<Response, AppError> {
    let session = service::sign_in(&state, &body.email, &body.password, auth.client_ip).await?;
    Ok(session_response(session, &state, StatusCode::OK))
}

pub async fn sign_out(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    service::sign_out(&state, &auth).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    clear_session_cookie(&mut response, &state.config);
    Ok(response)
}

pub async fn get_me(user: CurrentUser) -> Json<AuthUser> {
    Json(user.user)
}

#[derive(Deserialize)]
pub struct ChangePasswordRequest {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<StatusCode, AppError> {
    let input = ChangePasswordInput {
        current_password: &body.current_password,
        new_password: &body.new_password,
        password_confirm: &body.new_password,
    };
    service::change_password(&state, &user.auth, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_tokens(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<ApiToken>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::list_api_tokens(&mut conn, user.id).await?))
}

#[derive(Deserialize)]
pub struct CreateTokenRequest {
    name: String,
}

#[derive(Serialize)]
pub struct CreatedTokenJson {
    #[serde(flatten)]
    token: ApiToken,
    /// Shown once; only its hash is kept.
    secret: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenJson>), AppError> {
    let (token, secret) = service::create_api_token(&state, &user, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenJson { token, secret }),
    ))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(token_id): Path<ApiTokenId>,
) -> Result<Json<ApiToken>, AppError> {
    Ok(Json(
        service::revoke_api_token(&state, &user, token_id).await?,
    ))
}

#[derive(Deserialize)]
pub struct AcceptInviteRequest {
    display_name: String,
    password: String,
}

pub async fn accept_invite(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Json(body): Json<AcceptInviteRequest>,
) -> Result<Response, AppError> {
    let input = AcceptInviteInput {
        display_name: &body.display_name,
        password: &body.password,
        password_confirm: &body.password,
    };
    let session = service::accept_invite(&state, &token, input).await?;
    Ok(session_response(session, &state, StatusCode::CREATED))
}

#[derive(Deserialize)]
pub struct ResetRequest {
    password: String,
}

pub async fn use_reset(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Json(body): Json<ResetRequest>,
) -> Result<StatusCode, AppError> {
    service::use_password_reset(&state, &token, &body.password, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Admin

pub async fn list_users(
    State(state): State<AppState>,
    _: SiteAdmin,
) -> Result<Json<Vec<User>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::list_users(&mut conn).await?))
}

#[derive(Deserialize)]
pub struct InviteRequest {
    email: String,
    #[serde(default)]
    admin: bool,
    /// A project the admin owns, which the invited person joins on accepting.
    #[serde(default)]
    project_id: Option<String>,
    /// Their role in it.
    #[serde(default)]
    role: Option<String>,
}

#[derive(Serialize)]
pub struct LinkJson {
    id: AccountTokenId,
    /// The link's secret part, as it appears at the end of `url`.
    token: String,
    url: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

impl From<service::Link> for LinkJson {
    fn from(link: service::Link) -> Self {
        Self {
            id: link.id,
            token: link.token,
            url: link.url,
            expires_at: link.expires_at,
        }
    }
}

#[derive(Serialize)]
pub struct InviteJson {
    #[serde(flatten)]
    link: LinkJson,
    email: String,
    admin: bool,
    project_id: Option<String>,
    role: Option<String>,
}

pub async fn create_invite(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    PublicBase(base): PublicBase,
    Json(body): Json<InviteRequest>,
) -> Result<(StatusCode, Json<InviteJson>), AppError> {
    let project_id = body.project_id.unwrap_or_default();
    let role = body.role.unwrap_or_default();
    let input = service::InviteInput {
        email: &body.email,
        grant_admin: body.admin,
        project_id: &project_id,
        role: &role,
    };
    let link = service::create_invite(&state, &admin, input, &base).await?;
    let named = !project_id.trim().is_empty();
    Ok((
        StatusCode::CREATED,
        Json(InviteJson {
            link: link.into(),
            email: body.email.trim().to_owned(),
            admin: body.admin,
            project_id: named.then(|| project_id.trim().to_owned()),
            role: named.then(|| role.trim().to_owned()),
        }),
    ))
}

/// Pending invitations, newest first.
pub async fn list_invites(
    State(state): State<AppState>,
    _: SiteAdmin,
) -> Result<Json<Vec<store::PendingInvite>>, AppError> {
    Ok(Json(service::pending_invites(&state).await?))
}

/// Withdraws a pending invitation: 204, or 404 when none is pending with that id.
pub async fn withdraw_invite(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    Path(invite_id): Path<AccountTokenId>,
) -> Result<StatusCode, AppError> {
    service::withdraw_invite(&state, &admin, invite_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn create_reset(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    PublicBase(base): PublicBase,
    Path(user_id): Path<UserId>,
) -> Result<(StatusCode, Json<LinkJson>), AppError> {
    let link = service::create_password_reset(&state, &admin, user_id, &base).await?;
    Ok((StatusCode::CREATED, Json(link.into())))
}

#[derive(Deserialize)]
pub struct UpdateUserRequest {
    disabled: bool,
}

pub async fn update_user(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    Path(user_id): Path<UserId>,
    Json(body): Json<UpdateUserRequest>,
) -> Result<Json<User>, AppError> {
    Ok(Json(
        service::set_user_disabled(&state, &admin, user_id, body.disabled).await?,
    ))
}
