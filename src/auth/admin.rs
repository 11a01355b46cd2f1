//! Site admin pages: accounts, invitations, password resets.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;

use super::model::User;
use super::pages::render_with_status;
use super::service;
use super::session::SiteAdmin;
use super::store;
use crate::db::ids::UserId;
use crate::error::{AppError, FieldErrors};
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::{Form, Path};

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct AdminUsersPage {
    layout: Layout,
    users: Vec<User>,
    errors: FieldErrors,
    email: String,
    link: Option<ShownLink>,
}

pub struct ShownLink {
    pub what: String,
    pub url: String,
    pub expires_at: OffsetDateTime,
}

async fn users_page(state: &AppState, layout: Layout) -> Result<AdminUsersPage, AppError> {
    let mut conn = state.db.acquire().await?;
    let users = store::list_users(&mut conn).await?;
    Ok(AdminUsersPage {
        layout,
        users,
        errors: FieldErrors::new(),
        email: String::new(),
        link: None,
    })
}

pub async fn list_users(
    State(state): State<AppState>,
    _: SiteAdmin,
    layout: Layout,
) -> Result<Response, AppError> {
    Ok(Html(users_page(&state, layout).await?.render()?).into_response())
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    #[serde(default)]
    admin: Option<String>,
}

pub async fn create_invite(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    layout: Layout,
    Form(form): Form<InviteForm>,
) -> Result<Response, AppError> {
    let result = service::create_invite(&state, &admin, &form.email, form.admin.is_some()).await;
    let mut page = users_page(&state, layout).await?;
    match result {
        Ok(link) => {
            page.link = Some(ShownLink {
                what: format!("Invitation for {}", form.email.trim()),
                url: link.url,
                expires_at: link.expires_at,
            });
            Ok(Html(page.render()?).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            page.errors = errors;
            page.email = form.email;
            render_with_status(StatusCode::UNPROCESSABLE_ENTITY, page)
        }
        Err(other) => Err(other),
    }
}

pub async fn create_reset(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    layout: Layout,
    Path(user_id): Path<UserId>,
) -> Result<Response, AppError> {
    let link = service::create_password_reset(&state, &admin, user_id).await?;
    let mut page = users_page(&state, layout).await?;
    let who = page
        .users
        .iter()
        .find(|u| u.id == user_id)
        .map(|u| u.email.clone())
        .unwrap_or_default();
    page.link = Some(ShownLink {
        what: format!("Password reset for {who}"),
        url: link.url,
        expires_at: link.expires_at,
    });
    Ok(Html(page.render()?).into_response())
}

pub async fn disable_user(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    Path(user_id): Path<UserId>,
) -> Result<Redirect, AppError> {
    service::set_user_disabled(&state, &admin, user_id, true).await?;
    Ok(Redirect::to("/admin/users"))
}

pub async fn enable_user(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    Path(user_id): Path<UserId>,
) -> Result<Redirect, AppError> {
    service::set_user_disabled(&state, &admin, user_id, false).await?;
    Ok(Redirect::to("/admin/users"))
}
