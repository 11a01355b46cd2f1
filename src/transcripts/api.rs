//! `/api/v1` twins of the transcript pages.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::preview::{self, FilePreview};
use super::service::{self, FileImport, FileOutcome, ParticipantChoice, TranscriptEdit};
use super::store::{self, Transcript, TranscriptSummary};
use crate::db::ids::{ParticipantId, TranscriptId};
use crate::error::AppError;
use crate::import::Span;
use crate::projects::member::Member;
use crate::projects::model::Role;
use crate::state::AppState;
use crate::web::extract::{Json, Path};
use crate::web::upload::read_upload;

pub async fn list_transcripts(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Vec<TranscriptSummary>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        store::list_transcripts(&mut conn, member.project_id, false).await?,
    ))
}

#[derive(Serialize)]
pub struct ImportJson {
    imported: usize,
    failed: usize,
    files: Vec<FileOutcome>,
}

/// Multipart: one or more `files`, optional `participant_id` (`auto`, `none`
/// or an id), `encoding` (`auto` or a name such as `windows-1255`) and
/// `not_speaker` fields. 201 when every file was imported, 207 when some
/// were, 422 when none was.
pub async fn import_transcripts(
    State(state): State<AppState>,
    member: Member,
    multipart: Multipart,
) -> Result<(StatusCode, Json<ImportJson>), AppError> {
    service::require_manager(&member.actor())?;
    let upload = read_upload(multipart, state.config.max_upload_bytes).await?;
    let choice = ParticipantChoice::parse(upload.field("participant_id"))?;
    let encoding = service::parse_encoding(upload.field("encoding"))?;
    if upload.files.is_empty() {
        return Err(AppError::field("files", crate::messages::SEND_FILES));
    }
    let files = service::import_upload(
        &state.db,
        &member.actor(),
        state.config.max_upload_bytes,
        &upload,
        choice,
        encoding,
    )
    .await;
    let imported = files.iter().filter(|f| f.is_ok()).count();
    let failed = files.len() - imported;
    let status = match (imported, failed) {
        (_, 0) => StatusCode::CREATED,
        (0, _) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::MULTI_STATUS,
    };
    Ok((
        status,
        Json(ImportJson {
            imported,
            failed,
            files,
        }),
    ))
}

#[derive(Serialize)]
pub struct PreviewJson {
    files: Vec<FilePreview>,
}

/// Multipart, as for an import, plus any number of `not_speaker` fields
/// (names found as speakers that are not): what each file would import
/// as. Stores nothing.
pub async fn preview_transcripts(
    State(state): State<AppState>,
    member: Member,
    multipart: Multipart,
) -> Result<Json<PreviewJson>, AppError> {
    service::require_manager(&member.actor())?;
    let upload = read_upload(multipart, state.config.max_upload_bytes).await?;
    let participant = ParticipantChoice::parse(upload.field("participant_id"))?;
    let encoding = service::parse_encoding(upload.field("encoding"))?;
    let not_speakers = service::not_speakers(&upload);
    if upload.files.is_empty() {
        return Err(AppError::field("files", crate::messages::SEND_FILES));
    }
    let mut files = Vec::with_capacity(upload.files.len());
    for file in &upload.files {
        let import = FileImport {
            file_name: &file.file_name,
            bytes: file.bytes.as_deref(),
            participant,
            encoding,
            not_speakers: &not_speakers,
        };
        files.push(
            preview::preview_file(
                &state.db,
                member.project_id,
                &import,
                state.config.max_upload_bytes,
            )
            .await,
        );
    }
    Ok(Json(PreviewJson { files }))
}

#[derive(Serialize)]
pub struct TranscriptJson {
    #[serde(flatten)]
    transcript: Transcript,
    /// Every line as code-point offsets, `lines[i]` being line `i + 1`.
    lines: Vec<Span>,
}

pub async fn get_transcript(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<Json<TranscriptJson>, AppError> {
    let mut conn = state.db.acquire().await?;
    let transcript = store::get_transcript(&mut conn, member.project_id, transcript_id).await?;
    if transcript.deleted_at.is_some() && member.require(&[Role::Lead]).is_err() {
        return Err(AppError::NotFound);
    }
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in transcript.text.split('\n') {
        let end = offset + line.chars().count();
        lines.push(Span { start: offset, end });
        offset = end + 1;
    }
    Ok(Json(TranscriptJson { transcript, lines }))
}

#[derive(Deserialize)]
pub struct UpdateTranscriptRequest {
    title: Option<String>,
    /// Absent keeps the participant; null unlinks it.
    #[serde(default, with = "double_option")]
    participant_id: Option<Option<ParticipantId>>,
    text: Option<String>,
    version: i32,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

pub async fn update_transcript(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
    Json(body): Json<UpdateTranscriptRequest>,
) -> Result<Json<Transcript>, AppError> {
    let mut conn = state.db.acquire().await?;
    let current = store::get_transcript(&mut conn, member.project_id, transcript_id).await?;
    drop(conn);
    let title = body.title.unwrap_or_else(|| current.title.clone());
    let participant_id = body.participant_id.unwrap_or(current.participant_id);
    let edit = TranscriptEdit {
        title: &title,
        participant_id,
        text: body.text.as_deref(),
        version: body.version,
    };
    let mut tx = state.begin().await?;
    let updated = service::update_transcript(&mut tx, &member.actor(), transcript_id, edit).await?;
    tx.commit().await?;
    Ok(Json(updated))
}

pub async fn delete_transcript(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    service::set_deleted(&mut tx, &member.actor(), transcript_id, true).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn restore_transcript(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    service::set_deleted(&mut tx, &member.actor(), transcript_id, false).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
