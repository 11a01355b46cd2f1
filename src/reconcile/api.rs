//! `/api/v1` for reconciliation, the consensus layer and the consensus codebook.

use axum::extract::State;
use axum::http::StatusCode;

use super::consensus::{self, LayerData};
use super::service::{self, CommentRequest, DecideRequest, Progress, Reconciliation};
use super::store::{Comment, ConsensusCoding, Decision, Settings};
use crate::db::ids::{ConsensusCodingId, TranscriptId};
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

pub async fn get_reconciliation(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript)): Path<(String, TranscriptId)>,
) -> Result<Json<Reconciliation>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        service::load(&mut conn, &member.actor(), transcript).await?,
    ))
}

pub async fn decide(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript)): Path<(String, TranscriptId)>,
    Json(body): Json<DecideRequest>,
) -> Result<(StatusCode, Json<Decision>), AppError> {
    let mut tx = state.begin().await?;
    let decision = service::decide(&mut tx, &member.actor(), transcript, body).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(decision)))
}

pub async fn comment(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript)): Path<(String, TranscriptId)>,
    Json(body): Json<CommentRequest>,
) -> Result<(StatusCode, Json<Comment>), AppError> {
    let mut tx = state.begin().await?;
    let comment = service::comment(&mut tx, &member.actor(), transcript, body).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

pub async fn get_progress(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Progress>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(service::progress(&mut conn, &member.actor()).await?))
}

pub async fn put_settings(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<Settings>,
) -> Result<Json<Settings>, AppError> {
    let mut tx = state.begin().await?;
    let settings = service::update_settings(&mut tx, &member.actor(), body).await?;
    tx.commit().await?;
    Ok(Json(settings))
}

pub async fn get_layer(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript)): Path<(String, TranscriptId)>,
) -> Result<Json<LayerData>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        consensus::layer_data(&mut conn, &member, transcript).await?,
    ))
}

pub async fn list_layer(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript)): Path<(String, TranscriptId)>,
) -> Result<Json<Vec<ConsensusCoding>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        consensus::layer_data(&mut conn, &member, transcript)
            .await?
            .codings,
    ))
}

pub async fn create_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript)): Path<(String, TranscriptId)>,
    Json(body): Json<consensus::NewCoding>,
) -> Result<(StatusCode, Json<ConsensusCoding>), AppError> {
    let mut tx = state.begin().await?;
    let (coding, new) =
        consensus::create_coding(&mut tx, &member.actor(), transcript, body).await?;
    tx.commit().await?;
    Ok((created_or_ok(new), Json(coding)))
}

pub async fn update_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ConsensusCodingId)>,
    Json(body): Json<consensus::CodingChange>,
) -> Result<Json<ConsensusCoding>, AppError> {
    let mut tx = state.begin().await?;
    let done = consensus::update_coding(&mut tx, &member.actor(), id, body).await?;
    tx.commit().await?;
    Ok(Json(done))
}

pub async fn delete_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ConsensusCodingId)>,
) -> Result<Json<ConsensusCoding>, AppError> {
    let mut tx = state.begin().await?;
    let done = consensus::set_coding_deleted(&mut tx, &member.actor(), id, true).await?;
    tx.commit().await?;
    Ok(Json(done))
}

pub async fn restore_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ConsensusCodingId)>,
) -> Result<Json<ConsensusCoding>, AppError> {
    let mut tx = state.begin().await?;
    let done = consensus::set_coding_deleted(&mut tx, &member.actor(), id, false).await?;
    tx.commit().await?;
    Ok(Json(done))
}
