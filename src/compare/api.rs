//! `/api/v1` twins of the alignment and agreement pages.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::alignment::{self, AlignmentView};
use super::json::AgreementJson;
use super::report;
use crate::codebook::model::AgreedCode;
use crate::db::ids::{AgreedCodeId, CodeId, TranscriptId};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::extract::{Json, Path, Query};

pub async fn get_alignment(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<AlignmentView>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(alignment::view(&mut conn, &member.actor()).await?))
}

#[derive(Deserialize)]
pub struct AgreedCodeRequest {
    name: String,
    #[serde(default)]
    definition: String,
    code_ids: Vec<CodeId>,
}

pub async fn create_agreed(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<AgreedCodeRequest>,
) -> Result<(StatusCode, Json<AgreedCode>), AppError> {
    let mut tx = state.begin().await?;
    let agreed = alignment::create_agreed(
        &mut tx,
        &member.actor(),
        &body.code_ids,
        &body.name,
        &body.definition,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(agreed)))
}

#[derive(Deserialize)]
pub struct MapRequest {
    agreed_code_id: AgreedCodeId,
}

pub async fn map_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, code_id)): Path<(String, CodeId)>,
    Json(body): Json<MapRequest>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    alignment::map_onto(&mut tx, &member.actor(), code_id, body.agreed_code_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unalign_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, code_id)): Path<(String, CodeId)>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    alignment::unalign(&mut tx, &member.actor(), code_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ReportQuery {
    level: Option<String>,
    transcript_id: Option<TranscriptId>,
}

pub async fn get_agreement(
    State(state): State<AppState>,
    member: Member,
    Query(query): Query<ReportQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let level = report::parse_level(query.level.as_deref())?;
    let report = report::build(&state, &member.actor(), level, query.transcript_id).await?;
    let json = serde_json::to_value(AgreementJson::new(&report))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Json(json))
}
