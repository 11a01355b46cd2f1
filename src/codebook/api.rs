//! `/api/v1` for the consensus codebook: list, create, rename or redefine,
//! delete and restore, merge and undo, split.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::model::{AgreedCode, CodeChange, Entry, NewCode, SplitRequest, SplitResult, Unmerged};
use super::service;
use crate::db::ids::AgreedCodeId;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::extract::{Json, Path};

fn created_or_ok(new: bool) -> StatusCode {
    if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

pub async fn get_codebook(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Vec<Entry>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(service::codebook(&mut conn, &member.actor()).await?))
}

pub async fn create_code(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<NewCode>,
) -> Result<(StatusCode, Json<AgreedCode>), AppError> {
    let mut tx = state.begin().await?;
    let (code, new) = service::create(&mut tx, &member.actor(), body).await?;
    tx.commit().await?;
    Ok((created_or_ok(new), Json(code)))
}

pub async fn update_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
    Json(body): Json<CodeChange>,
) -> Result<Json<AgreedCode>, AppError> {
    let mut tx = state.begin().await?;
    let code = service::update(&mut tx, &member.actor(), id, body).await?;
    tx.commit().await?;
    Ok(Json(code))
}

async fn set_deleted(
    state: &AppState,
    member: &Member,
    id: AgreedCodeId,
    deleted: bool,
) -> Result<Json<AgreedCode>, AppError> {
    let mut tx = state.begin().await?;
    let code = service::set_deleted(&mut tx, &member.actor(), id, deleted).await?;
    tx.commit().await?;
    Ok(Json(code))
}

pub async fn delete_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
) -> Result<Json<AgreedCode>, AppError> {
    set_deleted(&state, &member, id, true).await
}

pub async fn restore_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
) -> Result<Json<AgreedCode>, AppError> {
    set_deleted(&state, &member, id, false).await
}

#[derive(Deserialize)]
pub struct MergeRequest {
    into: AgreedCodeId,
}

#[derive(Serialize)]
pub struct MergeJson {
    code: AgreedCode,
    moved: u64,
}

pub async fn merge_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
    Json(body): Json<MergeRequest>,
) -> Result<Json<MergeJson>, AppError> {
    let mut tx = state.begin().await?;
    let (code, moved) = service::merge(&mut tx, &member.actor(), id, body.into).await?;
    tx.commit().await?;
    Ok(Json(MergeJson { code, moved }))
}

pub async fn undo_merge(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
) -> Result<Json<Unmerged>, AppError> {
    let mut tx = state.begin().await?;
    let unmerged = service::undo_merge(&mut tx, &member.actor(), id).await?;
    tx.commit().await?;
    Ok(Json(unmerged))
}

pub async fn split_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
    Json(body): Json<SplitRequest>,
) -> Result<(StatusCode, Json<SplitResult>), AppError> {
    let mut tx = state.begin().await?;
    let split = service::split(&mut tx, &member.actor(), id, body).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(split)))
}
