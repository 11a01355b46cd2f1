//! `/api/v1` for reconciliation, the consensus layer and the consensus codebook.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::consensus::{self, LayerData};
use super::service::{self, CommentRequest, DecideRequest, Progress, Reconciliation};
use super::store::AgreedCode as AgreedCodeJson;
use super::store::{Comment, ConsensusCoding, Decision, Settings};
use crate::db::ids::{AgreedCodeId, ConsensusCodingId, TranscriptId};
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
    Ok(Json(
        consensus::layer_data(&state, &member, transcript).await?,
    ))
}

pub async fn list_layer(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript)): Path<(String, TranscriptId)>,
) -> Result<Json<Vec<ConsensusCoding>>, AppError> {
    Ok(Json(
        consensus::layer_data(&state, &member, transcript)
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
    let (coding, new) = consensus::create_coding(&state, &member, transcript, body).await?;
    Ok((created_or_ok(new), Json(coding)))
}

pub async fn update_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ConsensusCodingId)>,
    Json(body): Json<consensus::CodingChange>,
) -> Result<Json<ConsensusCoding>, AppError> {
    Ok(Json(
        consensus::update_coding(&state, &member, id, body).await?,
    ))
}

pub async fn delete_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ConsensusCodingId)>,
) -> Result<Json<ConsensusCoding>, AppError> {
    Ok(Json(
        consensus::set_coding_deleted(&state, &member, id, true).await?,
    ))
}

pub async fn restore_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ConsensusCodingId)>,
) -> Result<Json<ConsensusCoding>, AppError> {
    Ok(Json(
        consensus::set_coding_deleted(&state, &member, id, false).await?,
    ))
}

pub async fn get_codebook(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Vec<consensus::Entry>>, AppError> {
    Ok(Json(consensus::codebook(&state, &member).await?))
}

pub async fn create_code(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<consensus::NewCode>,
) -> Result<(StatusCode, Json<AgreedCodeJson>), AppError> {
    let (code, new) = consensus::create_code(&state, &member, body).await?;
    Ok((created_or_ok(new), Json(code)))
}

pub async fn update_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
    Json(body): Json<consensus::CodeChange>,
) -> Result<Json<AgreedCodeJson>, AppError> {
    Ok(Json(
        consensus::update_code(&state, &member, id, body).await?,
    ))
}

pub async fn delete_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
) -> Result<Json<AgreedCodeJson>, AppError> {
    Ok(Json(
        consensus::set_code_deleted(&state, &member, id, true).await?,
    ))
}

pub async fn restore_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
) -> Result<Json<AgreedCodeJson>, AppError> {
    Ok(Json(
        consensus::set_code_deleted(&state, &member, id, false).await?,
    ))
}

#[derive(Deserialize)]
pub struct MergeRequest {
    into: AgreedCodeId,
}

#[derive(Serialize)]
pub struct MergeJson {
    code: AgreedCodeJson,
    moved: u64,
}

pub async fn merge_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
    Json(body): Json<MergeRequest>,
) -> Result<Json<MergeJson>, AppError> {
    let (code, moved) = consensus::merge_code(&state, &member, id, body.into).await?;
    Ok(Json(MergeJson { code, moved }))
}

pub async fn undo_merge(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
) -> Result<Json<consensus::Unmerged>, AppError> {
    Ok(Json(consensus::undo_merge(&state, &member, id).await?))
}

pub async fn split_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AgreedCodeId)>,
    Json(body): Json<consensus::SplitRequest>,
) -> Result<(StatusCode, Json<consensus::SplitResult>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(consensus::split_code(&state, &member, id, body).await?),
    ))
}
