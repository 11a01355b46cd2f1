//! `/api/v1` for assignments and the project's codebook mode.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::service::{self, AssignmentProgress};
use super::store::Assignment;
use crate::db::ids::{AssignmentId, TranscriptId, UserId};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::extract::{Json, Path};

pub async fn list_assignments(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Vec<AssignmentProgress>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        service::list_with_progress(&mut conn, &member.actor()).await?,
    ))
}

#[derive(Deserialize)]
pub struct AssignRequest {
    transcript_ids: Vec<TranscriptId>,
    user_ids: Vec<UserId>,
}

#[derive(Serialize)]
pub struct AssignedJson {
    created: usize,
}

pub async fn assign(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<AssignRequest>,
) -> Result<(StatusCode, Json<AssignedJson>), AppError> {
    let mut tx = state.begin().await?;
    let created = service::assign(
        &mut tx,
        &member.actor(),
        &body.transcript_ids,
        &body.user_ids,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(AssignedJson { created })))
}

pub async fn reopen(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AssignmentId)>,
) -> Result<Json<Assignment>, AppError> {
    let mut tx = state.begin().await?;
    let reopened = service::reopen(&mut tx, &member.actor(), id).await?;
    tx.commit().await?;
    Ok(Json(reopened))
}

pub async fn remove(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AssignmentId)>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    service::remove(&mut tx, &member.actor(), id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct CodebookModeRequest {
    codebook_mode: String,
}

pub async fn set_codebook_mode(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<CodebookModeRequest>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    service::set_codebook_mode(&mut tx, &member.actor(), &body.codebook_mode).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
