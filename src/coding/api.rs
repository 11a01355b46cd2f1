//! `/api/v1` for codes and codings. Offsets are Unicode code points.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::model::{Code, Coding};
use super::service::{self, CodeChange, CodingChange, NewCode, NewCoding};
use super::store;
use crate::assignments::service as assignments;
use crate::assignments::store::Assignment;
use crate::db::ids::{CodeId, CodingId, TranscriptId, UserId};
use crate::error::AppError;
use crate::import::{Span, Turn};
use crate::projects::member::Member;
use crate::state::AppState;
use crate::transcripts::store as transcripts;
use crate::web::extract::{Json, Path};

#[derive(Debug, Serialize)]
pub struct UserJson {
    pub id: UserId,
    pub display_name: String,
}

#[derive(Debug, Serialize)]
pub struct TranscriptJson {
    pub title: String,
    pub text: String,
    pub char_count: i32,
    pub version: i32,
    pub lines: Vec<Span>,
    pub turns: Vec<Turn>,
}

#[derive(Debug, Serialize)]
pub struct AssignmentJson {
    pub id: crate::db::ids::AssignmentId,
    pub state: crate::assignments::model::AssignmentState,
    pub can_edit: bool,
}

/// Everything the coding page needs: the text, the caller's own layer and
/// codebook (never another coder's: invariant 3).
#[derive(Debug, Serialize)]
pub struct CodingData {
    pub project_id: crate::db::ids::ProjectId,
    pub transcript_id: TranscriptId,
    pub user: UserJson,
    pub transcript: TranscriptJson,
    pub assignment: AssignmentJson,
    pub codebook_mode: String,
    pub codes: Vec<Code>,
    pub codings: Vec<Coding>,
    /// The page's own copy of `codings`, packed (see [`PackedCodings`]); the
    /// API leaves it out and sends `codings` in full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packed_codings: Option<PackedCodings>,
    pub events_url: String,
    pub api: String,
}

/// A layer's codings as the coding page embeds them: what every coding of one
/// layer shares (transcript, coder) said once, each code id once, and each
/// coding as `[id, code index, start, end, version]`, plus its memo when it has
/// one. About 55 bytes a coding instead of 250; static/js/coding/packed.js
/// unpacks it.
#[derive(Debug, Serialize, PartialEq)]
pub struct PackedCodings {
    pub code_ids: Vec<CodeId>,
    pub rows: Vec<PackedCoding>,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(untagged)]
pub enum PackedCoding {
    Bare(CodingId, usize, i32, i32, i32),
    WithMemo(CodingId, usize, i32, i32, i32, String),
}

impl PackedCodings {
    pub fn pack(codings: Vec<Coding>) -> Self {
        let mut code_ids = Vec::new();
        let mut index = std::collections::HashMap::new();
        let rows = codings
            .into_iter()
            .map(|c| {
                let code = *index.entry(c.code_id).or_insert_with(|| {
                    code_ids.push(c.code_id);
                    code_ids.len() - 1
                });
                if c.memo.is_empty() {
                    PackedCoding::Bare(c.id, code, c.start, c.end, c.version)
                } else {
                    PackedCoding::WithMemo(c.id, code, c.start, c.end, c.version, c.memo)
                }
            })
            .collect();
        Self { code_ids, rows }
    }
}

pub fn line_spans(text: &str) -> Vec<Span> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in text.split('\n') {
        let end = offset + line.chars().count();
        lines.push(Span { start: offset, end });
        offset = end + 1;
    }
    lines
}

pub async fn coding_data(
    state: &AppState,
    member: &Member,
    transcript_id: TranscriptId,
) -> Result<CodingData, AppError> {
    let mut conn = state.db.acquire().await?;
    let transcript =
        transcripts::get_transcript(&mut conn, member.project_id, transcript_id).await?;
    if transcript.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    let assignment: Assignment = crate::assignments::store::find_for(
        &mut conn,
        member.project_id,
        transcript_id,
        member.user.id,
    )
    .await?
    .ok_or_else(|| AppError::BadRequest {
        status: StatusCode::FORBIDDEN,
        detail: crate::messages::NOT_ASSIGNED.into(),
    })?;
    let codes = store::list_codes(
        &mut conn,
        member.project_id,
        service::codebook_owner(&member.actor()),
    )
    .await?;
    let codings =
        store::list_layer(&mut conn, member.project_id, transcript_id, member.user.id).await?;
    let can_edit = !assignment.state.is_submitted() && member.project.archived_at.is_none();
    let api = format!("/api/v1/projects/{}", member.project_id);
    Ok(CodingData {
        project_id: member.project_id,
        transcript_id,
        user: UserJson {
            id: member.user.id,
            display_name: member.user.display_name.clone(),
        },
        transcript: TranscriptJson {
            lines: line_spans(&transcript.text),
            title: transcript.title,
            char_count: transcript.char_count,
            version: transcript.version,
            turns: transcript.turns.0,
            text: transcript.text,
        },
        assignment: AssignmentJson {
            id: assignment.id,
            state: assignment.state,
            can_edit,
        },
        codebook_mode: member.project.codebook_mode.as_str().to_owned(),
        codes,
        codings,
        packed_codings: None,
        events_url: format!("{api}/events"),
        api,
    })
}

pub async fn get_coding_data(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<Json<CodingData>, AppError> {
    Ok(Json(coding_data(&state, &member, transcript_id).await?))
}

pub async fn list_codes(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Vec<Code>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        store::list_codes(
            &mut conn,
            member.project_id,
            service::codebook_owner(&member.actor()),
        )
        .await?,
    ))
}

fn created_or_ok(new: bool) -> StatusCode {
    if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

pub async fn create_code(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<NewCode>,
) -> Result<(StatusCode, Json<Code>), AppError> {
    let mut tx = state.begin().await?;
    let (code, new) = service::create_code(&mut tx, &member.actor(), body).await?;
    tx.commit().await?;
    Ok((created_or_ok(new), Json(code)))
}

pub async fn update_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, code_id)): Path<(String, CodeId)>,
    Json(body): Json<CodeChange>,
) -> Result<Json<Code>, AppError> {
    let mut tx = state.begin().await?;
    let done = service::update_code(&mut tx, &member.actor(), code_id, body).await?;
    tx.commit().await?;
    Ok(Json(done))
}

#[derive(Deserialize)]
pub struct MergeRequest {
    into: CodeId,
}

#[derive(Serialize)]
pub struct MergeJson {
    code: Code,
    moved: i64,
}

pub async fn merge_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, code_id)): Path<(String, CodeId)>,
    Json(body): Json<MergeRequest>,
) -> Result<Json<MergeJson>, AppError> {
    let mut tx = state.begin().await?;
    let (code, moved) = service::merge_code(&mut tx, &member.actor(), code_id, body.into).await?;
    tx.commit().await?;
    Ok(Json(MergeJson { code, moved }))
}

pub async fn delete_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, code_id)): Path<(String, CodeId)>,
) -> Result<Json<Code>, AppError> {
    let mut tx = state.begin().await?;
    let done = service::set_code_deleted(&mut tx, &member.actor(), code_id, true).await?;
    tx.commit().await?;
    Ok(Json(done))
}

pub async fn restore_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, code_id)): Path<(String, CodeId)>,
) -> Result<Json<Code>, AppError> {
    let mut tx = state.begin().await?;
    let done = service::set_code_deleted(&mut tx, &member.actor(), code_id, false).await?;
    tx.commit().await?;
    Ok(Json(done))
}

pub async fn list_layer(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<Json<Vec<Coding>>, AppError> {
    Ok(Json(
        coding_data(&state, &member, transcript_id).await?.codings,
    ))
}

pub async fn create_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
    Json(body): Json<NewCoding>,
) -> Result<(StatusCode, Json<Coding>), AppError> {
    let mut tx = state.begin().await?;
    let (coding, new) =
        service::create_coding(&mut tx, &member.actor(), transcript_id, body).await?;
    tx.commit().await?;
    Ok((created_or_ok(new), Json(coding)))
}

pub async fn update_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, coding_id)): Path<(String, CodingId)>,
    Json(body): Json<CodingChange>,
) -> Result<Json<Coding>, AppError> {
    let mut tx = state.begin().await?;
    let done = service::update_coding(&mut tx, &member.actor(), coding_id, body).await?;
    tx.commit().await?;
    Ok(Json(done))
}

pub async fn delete_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, coding_id)): Path<(String, CodingId)>,
) -> Result<Json<Coding>, AppError> {
    let mut tx = state.begin().await?;
    let done = service::set_coding_deleted(&mut tx, &member.actor(), coding_id, true).await?;
    tx.commit().await?;
    Ok(Json(done))
}

pub async fn restore_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, coding_id)): Path<(String, CodingId)>,
) -> Result<Json<Coding>, AppError> {
    let mut tx = state.begin().await?;
    let done = service::set_coding_deleted(&mut tx, &member.actor(), coding_id, false).await?;
    tx.commit().await?;
    Ok(Json(done))
}

pub async fn submit_layer(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<Json<Assignment>, AppError> {
    let mut tx = state.begin().await?;
    let submitted = assignments::submit(&mut tx, &member.actor(), transcript_id).await?;
    tx.commit().await?;
    Ok(Json(submitted))
}
