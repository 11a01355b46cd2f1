//! `/api/v1/projects` twins of the project pages.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::member::Member;
use super::model::{MemberRow, Project, ProjectSummary, Role};
use super::service;
use super::store;
use crate::auth::session::CurrentUser;
use crate::db::ids::UserId;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{Json, Path};

pub async fn list_projects(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<ProjectSummary>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        store::list_projects_for_user(&mut conn, user.id).await?,
    ))
}

#[derive(Deserialize)]
pub struct CreateProjectRequest {
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create_project(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<CreateProjectRequest>,
) -> Result<(StatusCode, Json<Project>), AppError> {
    let mut tx = state.begin().await?;
    let project = service::create_project(&mut tx, &user, &body.name, &body.description).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(project)))
}

#[derive(Serialize)]
pub struct ProjectJson {
    #[serde(flatten)]
    project: Project,
    role: Role,
}

pub async fn get_project(member: Member) -> Json<ProjectJson> {
    Json(ProjectJson {
        project: member.project,
        role: member.role,
    })
}

#[derive(Deserialize)]
pub struct UpdateProjectRequest {
    name: Option<String>,
    description: Option<String>,
    version: i32,
}

pub async fn update_project(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<UpdateProjectRequest>,
) -> Result<Json<Project>, AppError> {
    let name = body.name.unwrap_or_else(|| member.project.name.clone());
    let description = body
        .description
        .unwrap_or_else(|| member.project.description.clone());
    let mut tx = state.begin().await?;
    let project =
        service::update_project(&mut tx, &member.actor(), &name, &description, body.version)
            .await?;
    tx.commit().await?;
    Ok(Json(project))
}

pub async fn archive_project(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Project>, AppError> {
    set_archived(&state, &member, true).await
}

pub async fn unarchive_project(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Project>, AppError> {
    set_archived(&state, &member, false).await
}

async fn set_archived(
    state: &AppState,
    member: &Member,
    archived: bool,
) -> Result<Json<Project>, AppError> {
    let mut tx = state.begin().await?;
    let project = service::set_archived(&mut tx, &member.actor(), archived).await?;
    tx.commit().await?;
    Ok(Json(project))
}

pub async fn list_members(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Vec<MemberRow>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        store::list_members(&mut conn, member.project_id).await?,
    ))
}

#[derive(Deserialize)]
pub struct AddMemberRequest {
    email: String,
    role: String,
}

pub async fn add_member(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<AddMemberRequest>,
) -> Result<(StatusCode, Json<MemberRow>), AppError> {
    let mut tx = state.begin().await?;
    let added = service::add_member(&mut tx, &member.actor(), &body.email, &body.role).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(added)))
}

#[derive(Deserialize)]
pub struct UpdateMemberRequest {
    role: String,
    version: i32,
}

pub async fn update_member(
    State(state): State<AppState>,
    member: Member,
    Path((_, user_id)): Path<(String, UserId)>,
    Json(body): Json<UpdateMemberRequest>,
) -> Result<Json<MemberRow>, AppError> {
    let mut tx = state.begin().await?;
    let changed =
        service::change_member_role(&mut tx, &member.actor(), user_id, &body.role, body.version)
            .await?;
    tx.commit().await?;
    Ok(Json(changed))
}

pub async fn remove_member(
    State(state): State<AppState>,
    member: Member,
    Path((_, user_id)): Path<(String, UserId)>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    service::remove_member(&mut tx, &member.actor(), user_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
