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
use super::session::{CurrentUser, SiteAdmin};
use super::store;
use crate::db::ids::{AccountTokenId, ProjectId, UserId};
use crate::error::{AppError, FieldErrors};
use crate::projects::model::Role;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::{Form, Path, PublicBase};

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct AdminUsersPage {
    layout: Layout,
    users: Vec<User>,
    errors: FieldErrors,
    email: String,
    link: Option<ShownLink>,
    pending: Vec<store::PendingInvite>,
    /// The admin's own projects, which an invitation may name.
    projects: Vec<(ProjectId, String)>,
    roles: [Role; 4],
    /// The form's choices, kept when it is shown again with errors.
    project_id: String,
    role: String,
}

pub struct ShownLink {
    pub what: String,
    pub url: String,
    pub expires_at: OffsetDateTime,
}

async fn users_page(
    state: &AppState,
    admin: &CurrentUser,
    layout: Layout,
) -> Result<AdminUsersPage, AppError> {
    let mut conn = state.db.acquire().await?;
    let users = store::list_users(&mut conn).await?;
    let pending = store::list_pending_invites(&mut conn).await?;
    let projects = store::list_owned_projects(&mut conn, admin.id).await?;
    Ok(AdminUsersPage {
        layout,
        users,
        errors: FieldErrors::new(),
        email: String::new(),
        link: None,
        pending,
        projects,
        roles: Role::ALL,
        project_id: String::new(),
        role: Role::Coder.as_str().to_owned(),
    })
}

pub async fn list_users(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    layout: Layout,
) -> Result<Response, AppError> {
    Ok(Html(users_page(&state, &admin, layout).await?.render()?).into_response())
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    #[serde(default)]
    admin: Option<String>,
    #[serde(default)]
    project_id: String,
    #[serde(default)]
    role: String,
}

pub async fn create_invite(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    PublicBase(base): PublicBase,
    layout: Layout,
    Form(form): Form<InviteForm>,
) -> Result<Response, AppError> {
    let input = service::InviteInput {
        email: &form.email,
        grant_admin: form.admin.is_some(),
        project_id: &form.project_id,
        role: &form.role,
    };
    let result = service::create_invite(&state, &admin, input, &base).await;
    let mut page = users_page(&state, &admin, layout).await?;
    match result {
        Ok(link) => {
            let project = page
                .projects
                .iter()
                .find(|(id, _)| id.to_string() == form.project_id.trim())
                .map(|(_, name)| name.clone());
            let what = match (project, Role::parse(form.role.trim())) {
                (Some(project), Some(role)) => format!(
                    "Invitation for {} to join {project} as {}",
                    form.email.trim(),
                    role.label().to_lowercase()
                ),
                _ => format!("Invitation for {}", form.email.trim()),
            };
            page.link = Some(ShownLink {
                what,
                url: link.url,
                expires_at: link.expires_at,
            });
            Ok(Html(page.render()?).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            page.errors = errors;
            page.email = form.email;
            page.project_id = form.project_id;
            page.role = form.role;
            render_with_status(StatusCode::UNPROCESSABLE_ENTITY, page)
        }
        Err(other) => Err(other),
    }
}

pub async fn create_reset(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    PublicBase(base): PublicBase,
    layout: Layout,
    Path(user_id): Path<UserId>,
) -> Result<Response, AppError> {
    let link = service::create_password_reset(&state, &admin, user_id, &base).await?;
    let mut page = users_page(&state, &admin, layout).await?;
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

pub async fn withdraw_invite(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    Path(invite_id): Path<AccountTokenId>,
) -> Result<Redirect, AppError> {
    service::withdraw_invite(&state, &admin, invite_id).await?;
    Ok(Redirect::to("/admin/users"))
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
