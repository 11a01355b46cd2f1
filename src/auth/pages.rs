//! HTML handlers: setup, sign-in and out, the account page, invitation and reset links.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::model::{ApiToken, MIN_PASSWORD_CHARS};
use super::service::{self, AcceptInviteInput, ChangePasswordInput, NewSession, SetupInput};
use super::session::{Auth, CurrentUser, SESSION_COOKIE, cookie};
use super::store;
use crate::config::Config;
use crate::db::ids::ApiTokenId;
use crate::error::{AppError, FieldErrors};
use crate::projects::model::Role;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::{Form, Path, Query};
use crate::web::paths;

/// Renders `page` with `status`; used to show a form again with its errors.
pub fn render_with_status(status: StatusCode, page: impl Template) -> Result<Response, AppError> {
    Ok((status, Html(page.render()?)).into_response())
}

/// The form again with its messages (422), or the error as it is.
fn form_errors(error: AppError) -> Result<FieldErrors, AppError> {
    match error {
        AppError::Invalid(errors) => Ok(errors),
        other => Err(other),
    }
}

pub fn signed_in_redirect(session: &NewSession, to: &str, config: &Config) -> Response {
    let mut response = Redirect::to(to).into_response();
    let max_age = config.session_hours * 3600;
    if let Ok(value) = HeaderValue::from_str(&cookie(
        SESSION_COOKIE,
        &session.token,
        Some(max_age),
        config,
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub fn clear_session_cookie(response: &mut Response, config: &Config) {
    if let Ok(value) = HeaderValue::from_str(&cookie(SESSION_COOKIE, "", Some(0), config)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

// Setup

#[derive(Template)]
#[template(path = "auth/setup.html")]
pub struct SetupPage {
    pub layout: Layout,
    pub email: String,
    pub display_name: String,
    pub errors: FieldErrors,
    pub min_password: usize,
}

impl SetupPage {
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            email: String::new(),
            display_name: String::new(),
            errors: FieldErrors::new(),
            min_password: MIN_PASSWORD_CHARS,
        }
    }
}

#[derive(Deserialize)]
pub struct SetupForm {
    email: String,
    display_name: String,
    password: String,
    password_confirm: String,
}

pub async fn show_setup(
    State(state): State<AppState>,
    layout: Layout,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    if store::count_users(&mut conn).await? > 0 {
        return Ok(Redirect::to("/login").into_response());
    }
    Ok(Html(SetupPage::new(layout).render()?).into_response())
}

#[tracing::instrument(skip_all)]
pub async fn submit_setup(
    State(state): State<AppState>,
    layout: Layout,
    Form(form): Form<SetupForm>,
) -> Result<Response, AppError> {
    let input = SetupInput {
        email: &form.email,
        display_name: &form.display_name,
        password: &form.password,
        password_confirm: &form.password_confirm,
    };
    match service::setup(&state, input).await {
        Ok(session) => Ok(signed_in_redirect(&session, "/", &state.config)),
        Err(error) => {
            let errors = form_errors(error)?;
            let page = SetupPage {
                email: form.email,
                display_name: form.display_name,
                errors,
                ..SetupPage::new(layout)
            };
            render_with_status(StatusCode::UNPROCESSABLE_ENTITY, page)
        }
    }
}

/// Loads the demo study on an install without accounts, then asks to sign in
/// (the sign-in page lists the demo accounts).
#[tracing::instrument(skip_all)]
pub async fn submit_setup_demo(State(state): State<AppState>) -> Result<Response, AppError> {
    crate::demo::create_on_empty_install(&state).await?;
    Ok(Redirect::to("/login").into_response())
}

// Sign in and out

#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    message: Option<String>,
    demo_accounts: Vec<DemoAccount>,
}

/// A demo account listed on the sign-in page, with its password.
pub struct DemoAccount {
    display_name: String,
    hint: String,
    email: String,
    password: String,
}

/// Demo accounts still on their demo password, site admins first, then by
/// their highest project role.
async fn demo_accounts(state: &AppState) -> Result<Vec<DemoAccount>, AppError> {
    let mut conn = state.db.acquire().await?;
    let rows = store::list_demo_accounts(&mut conn).await?;
    let mut accounts: Vec<(usize, DemoAccount)> = rows
        .into_iter()
        .map(|row| {
            let mut roles: Vec<Role> = row.roles.iter().filter_map(|r| Role::parse(r)).collect();
            roles.sort_by_key(|r| Role::ALL.iter().position(|a| a == r));
            let mut hint: Vec<&str> = Vec::new();
            if row.is_admin {
                hint.push("Site admin");
            }
            hint.extend(roles.iter().map(|r| r.label()));
            let rank = if row.is_admin {
                0
            } else {
                1 + roles
                    .first()
                    .and_then(|r| Role::ALL.iter().position(|a| a == r))
                    .unwrap_or(Role::ALL.len())
            };
            (
                rank,
                DemoAccount {
                    display_name: row.display_name,
                    hint: hint.join(", "),
                    email: row.email,
                    password: row.password,
                },
            )
        })
        .collect();
    accounts.sort_by_key(|(rank, _)| *rank);
    Ok(accounts.into_iter().map(|(_, a)| a).collect())
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn show_login(
    State(state): State<AppState>,
    layout: Layout,
    Query(query): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    if store::count_users(&mut conn).await? == 0 {
        return Ok(Redirect::to("/setup").into_response());
    }
    if layout.user.is_some() {
        return Ok(Redirect::to(&paths::safe_next(query.next.as_deref())).into_response());
    }
    drop(conn);
    let page = LoginPage {
        layout,
        email: String::new(),
        next: paths::safe_next(query.next.as_deref()),
        message: None,
        demo_accounts: demo_accounts(&state).await?,
    };
    Ok(Html(page.render()?).into_response())
}

#[tracing::instrument(skip_all)]
pub async fn submit_login(
    State(state): State<AppState>,
    layout: Layout,
    auth: Auth,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let next = paths::safe_next(form.next.as_deref());
    match service::sign_in(&state, &form.email, &form.password, auth.client_ip).await {
        Ok(session) => Ok(signed_in_redirect(&session, &next, &state.config)),
        Err(error @ (AppError::BadRequest { .. } | AppError::Throttled { .. })) => {
            let status = error.status();
            let message = match &error {
                AppError::Throttled { retry_after_secs } => {
                    crate::messages::throttled(*retry_after_secs)
                }
                other => other.to_string(),
            };
            let page = LoginPage {
                layout,
                email: form.email,
                next,
                message: Some(message),
                demo_accounts: demo_accounts(&state).await?,
            };
            let mut response = render_with_status(status, page)?;
            if let AppError::Throttled { retry_after_secs } = error {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            Ok(response)
        }
        Err(other) => Err(other),
    }
}

pub async fn submit_logout(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, AppError> {
    service::sign_out(&state, &auth).await?;
    let mut response = Redirect::to("/login").into_response();
    clear_session_cookie(&mut response, &state.config);
    Ok(response)
}

// The account page

#[derive(Template)]
#[template(path = "account/show.html")]
pub struct AccountPage {
    layout: Layout,
    tokens: Vec<ApiToken>,
    errors: FieldErrors,
    notice: Option<String>,
    new_token: Option<String>,
    min_password: usize,
}

async fn account_page(
    state: &AppState,
    user: &CurrentUser,
    layout: Layout,
) -> Result<AccountPage, AppError> {
    let mut conn = state.db.acquire().await?;
    let tokens = store::list_api_tokens(&mut conn, user.id).await?;
    Ok(AccountPage {
        layout,
        tokens,
        errors: FieldErrors::new(),
        notice: None,
        new_token: None,
        min_password: MIN_PASSWORD_CHARS,
    })
}

pub async fn show_account(
    State(state): State<AppState>,
    user: CurrentUser,
    layout: Layout,
) -> Result<Response, AppError> {
    Ok(Html(account_page(&state, &user, layout).await?.render()?).into_response())
}

#[derive(Deserialize)]
pub struct ChangePasswordForm {
    current_password: String,
    new_password: String,
    password_confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    layout: Layout,
    Form(form): Form<ChangePasswordForm>,
) -> Result<Response, AppError> {
    let input = ChangePasswordInput {
        current_password: &form.current_password,
        new_password: &form.new_password,
        password_confirm: &form.password_confirm,
    };
    let result = service::change_password(&state, &user.auth, input).await;
    let mut page = account_page(&state, &user, layout).await?;
    match result {
        Ok(()) => {
            page.notice =
                Some("Your password was changed. Your other sessions were signed out.".into());
            Ok(Html(page.render()?).into_response())
        }
        Err(error) => {
            page.errors = form_errors(error)?;
            render_with_status(StatusCode::UNPROCESSABLE_ENTITY, page)
        }
    }
}

#[derive(Deserialize)]
pub struct CreateTokenForm {
    name: String,
}

pub async fn create_api_token(
    State(state): State<AppState>,
    user: CurrentUser,
    layout: Layout,
    Form(form): Form<CreateTokenForm>,
) -> Result<Response, AppError> {
    let result = service::create_api_token(&state, &user, &form.name).await;
    let mut page = account_page(&state, &user, layout).await?;
    match result {
        Ok((_, token)) => {
            page.new_token = Some(token);
            Ok(Html(page.render()?).into_response())
        }
        Err(error) => {
            page.errors = form_errors(error)?;
            render_with_status(StatusCode::UNPROCESSABLE_ENTITY, page)
        }
    }
}

pub async fn revoke_api_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(token_id): Path<ApiTokenId>,
) -> Result<Redirect, AppError> {
    service::revoke_api_token(&state, &user, token_id).await?;
    Ok(Redirect::to("/account"))
}

// Invitation and reset links

#[derive(Template)]
#[template(path = "auth/invite.html")]
pub struct InvitePage {
    layout: Layout,
    email: String,
    project: Option<(String, Role)>,
    display_name: String,
    errors: FieldErrors,
    min_password: usize,
}

#[derive(Deserialize)]
pub struct AcceptInviteForm {
    display_name: String,
    password: String,
    password_confirm: String,
}

pub async fn show_invite(
    State(state): State<AppState>,
    layout: Layout,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let invite = service::invite_info(&state, &token).await?;
    let page = InvitePage {
        layout,
        email: invite.email,
        project: invite.project,
        display_name: String::new(),
        errors: FieldErrors::new(),
        min_password: MIN_PASSWORD_CHARS,
    };
    Ok(Html(page.render()?).into_response())
}

#[tracing::instrument(skip_all)]
pub async fn accept_invite(
    State(state): State<AppState>,
    layout: Layout,
    Path(token): Path<String>,
    Form(form): Form<AcceptInviteForm>,
) -> Result<Response, AppError> {
    let input = AcceptInviteInput {
        display_name: &form.display_name,
        password: &form.password,
        password_confirm: &form.password_confirm,
    };
    match service::accept_invite(&state, &token, input).await {
        Ok(session) => Ok(signed_in_redirect(&session, "/", &state.config)),
        Err(error) => {
            let errors = form_errors(error)?;
            let invite = service::invite_info(&state, &token).await?;
            let page = InvitePage {
                layout,
                email: invite.email,
                project: invite.project,
                display_name: form.display_name,
                errors,
                min_password: MIN_PASSWORD_CHARS,
            };
            render_with_status(StatusCode::UNPROCESSABLE_ENTITY, page)
        }
    }
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
pub struct ResetPage {
    layout: Layout,
    errors: FieldErrors,
    min_password: usize,
}

#[derive(Deserialize)]
pub struct ResetForm {
    password: String,
    password_confirm: String,
}

pub async fn show_reset(
    State(state): State<AppState>,
    layout: Layout,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    service::check_reset(&state, &token).await?;
    let page = ResetPage {
        layout,
        errors: FieldErrors::new(),
        min_password: MIN_PASSWORD_CHARS,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn use_reset(
    State(state): State<AppState>,
    layout: Layout,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> Result<Response, AppError> {
    match service::use_password_reset(&state, &token, &form.password, &form.password_confirm).await
    {
        Ok(()) => Ok(Redirect::to("/login").into_response()),
        Err(error) => {
            let errors = form_errors(error)?;
            render_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                ResetPage {
                    layout,
                    errors,
                    min_password: MIN_PASSWORD_CHARS,
                },
            )
        }
    }
}
