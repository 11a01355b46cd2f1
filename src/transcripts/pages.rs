//! HTML handlers: import, the transcript page, editing, delete and restore.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::layers::{self, LayerOption, LegendCode};
use super::service::{self, FileOutcome, ParticipantChoice, TranscriptEdit};
use super::store::{self, Transcript};
use super::view::{self, CodedLine};
use crate::coding::blinding::Viewer;
use crate::db::ids::{ParticipantId, TranscriptId};
use crate::error::{AppError, FieldErrors};
use crate::import::{Encoding, EncodingChoice};
use crate::participants::model::{Participant, Variable};
use crate::participants::store as participants;
use crate::projects::member::Member;
use crate::projects::model::Role;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::{Form, Path, Query};
use crate::web::upload::read_upload;

#[derive(Template)]
#[template(path = "transcripts/import.html")]
pub struct TranscriptImportPage {
    layout: Layout,
    member: Member,
    participants: Vec<Participant>,
    outcomes: Vec<FileOutcome>,
    max_mb: usize,
    errors: FieldErrors,
    encodings: Vec<EncodingChoice>,
}

async fn import_page(
    state: &AppState,
    member: Member,
    layout: Layout,
    outcomes: Vec<FileOutcome>,
    errors: FieldErrors,
) -> Result<TranscriptImportPage, AppError> {
    let mut conn = state.db.acquire().await?;
    let participants = participants::list_participants(&mut conn, member.project_id).await?;
    Ok(TranscriptImportPage {
        layout,
        member,
        participants,
        outcomes,
        max_mb: state.config.max_upload_bytes / (1024 * 1024),
        errors,
        encodings: Encoding::choices(),
    })
}

pub async fn show_import(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    service::require_manager(&member.actor())?;
    Ok(Html(
        import_page(&state, member, layout, Vec::new(), FieldErrors::new())
            .await?
            .render()?,
    ))
}

/// Imports every file of the form; one bad file does not stop the others.
pub async fn submit_import(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    multipart: Multipart,
) -> Result<Response, AppError> {
    service::require_manager(&member.actor())?;
    let upload = read_upload(multipart, state.config.max_upload_bytes).await?;
    let choice = ParticipantChoice::parse(upload.field("participant_id"));
    let encoding = service::parse_encoding(upload.field("encoding"));
    let (choice, encoding) = match (choice, encoding) {
        (Ok(c), Ok(e)) => (c, e),
        (Err(AppError::Invalid(errors)), _) | (_, Err(AppError::Invalid(errors))) => {
            let page = import_page(&state, member, layout, Vec::new(), errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    if upload.files.is_empty() {
        let page = import_page(
            &state,
            member,
            layout,
            Vec::new(),
            FieldErrors(
                std::iter::once((
                    "files".to_owned(),
                    vec!["Choose one or more files.".to_owned()],
                ))
                .collect(),
            ),
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let outcomes = service::import_upload(
        &state.db,
        &member.actor(),
        state.config.max_upload_bytes,
        &upload,
        choice,
        encoding,
    )
    .await;
    let status = if outcomes.iter().all(FileOutcome::is_ok) {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = import_page(&state, member, layout, outcomes, FieldErrors::new()).await?;
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Template)]
#[template(path = "transcripts/show.html")]
pub struct TranscriptShowPage {
    layout: Layout,
    member: Member,
    transcript: Transcript,
    lines: Vec<CodedLine>,
    attributes: Vec<(String, String)>,
    comments: Vec<CommentView>,
    can_manage: bool,
    layers: Vec<LayerOption>,
    legend: Vec<LegendCode>,
    shown: String,
    /// Assigned to code this transcript: the coding page is theirs.
    assigned: bool,
}

impl TranscriptShowPage {
    /// A code of the shown layer, by its index in the legend.
    fn code(&self, index: &usize) -> &LegendCode {
        &self.legend[*index]
    }
}

#[derive(Debug, Deserialize)]
pub struct LayerQuery {
    layer: Option<String>,
}

/// A Word comment as the transcript page lists it.
pub struct CommentView {
    line: Option<usize>,
    quote: String,
    text: String,
    author: Option<String>,
}

#[tracing::instrument(skip_all, fields(%transcript_id))]
pub async fn show_transcript(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
    Query(query): Query<LayerQuery>,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let transcript = store::get_transcript(&mut conn, member.project_id, transcript_id).await?;
    if transcript.deleted_at.is_some() && member.require(&[Role::Lead]).is_err() {
        return Err(AppError::NotFound);
    }
    let attributes = match transcript.participant_id {
        Some(pid) => {
            let participant =
                participants::get_participant(&mut conn, member.project_id, pid).await?;
            let variables: Vec<Variable> =
                participants::list_variables(&mut conn, member.project_id).await?;
            variables
                .iter()
                .map(|v| (v.name.clone(), participant.value(&v.id).to_owned()))
                .collect()
        }
        None => Vec::new(),
    };
    let lines = view::lines(&transcript.text, &transcript.turns);
    let comments = transcript
        .metadata
        .comments
        .iter()
        .map(|c| CommentView {
            line: c
                .span
                .and_then(|s| lines.iter().rposition(|l| l.start <= s.start))
                .map(|i| i + 1),
            quote: c
                .span
                .map(|s| {
                    transcript
                        .text
                        .chars()
                        .skip(s.start)
                        .take(s.end.saturating_sub(s.start))
                        .collect()
                })
                .unwrap_or_default(),
            text: c.text.clone(),
            author: c.author.clone(),
        })
        .collect();
    let can_manage = member.require(&[Role::Lead]).is_ok() && member.project.archived_at.is_none();
    let viewer = Viewer::load(&mut conn, &member).await?;
    let overlay = layers::overlay(
        &mut conn,
        &viewer,
        member.project_id,
        transcript_id,
        query.layer.as_deref(),
    )
    .await?;
    let assigned = overlay
        .options
        .iter()
        .any(|o| o.key == member.user.id.to_string());
    let lines = view::overlay(lines, &overlay.spans);
    Ok(Html(
        TranscriptShowPage {
            layout,
            member,
            transcript,
            lines,
            attributes,
            comments,
            can_manage,
            layers: overlay.options,
            legend: overlay.legend,
            shown: overlay.shown,
            assigned,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "transcripts/edit.html")]
pub struct TranscriptEditPage {
    layout: Layout,
    member: Member,
    transcript: Transcript,
    participants: Vec<Participant>,
    title: String,
    text: String,
    participant_id: Option<ParticipantId>,
    errors: FieldErrors,
    conflict: bool,
    /// Coded: the text is shown read-only, and the form sends none.
    frozen: bool,
}

pub async fn edit_transcript(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<Html<String>, AppError> {
    service::require_manager(&member.actor())?;
    let mut conn = state.db.acquire().await?;
    let transcript = store::get_transcript(&mut conn, member.project_id, transcript_id).await?;
    if transcript.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    let participants = participants::list_participants(&mut conn, member.project_id).await?;
    let frozen = store::text_is_frozen(&mut conn, member.project_id, transcript_id).await?;
    let page = TranscriptEditPage {
        layout,
        member,
        title: transcript.title.clone(),
        text: transcript.text.clone(),
        participant_id: transcript.participant_id,
        transcript,
        participants,
        errors: FieldErrors::new(),
        conflict: false,
        frozen,
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
pub struct EditTranscriptForm {
    title: String,
    #[serde(default)]
    participant_id: String,
    /// Absent when the text is frozen.
    #[serde(default)]
    text: Option<String>,
    version: i32,
}

pub async fn update_transcript(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
    Form(form): Form<EditTranscriptForm>,
) -> Result<Response, AppError> {
    let participant_id = match ParticipantChoice::parse(Some(&form.participant_id))? {
        ParticipantChoice::Given(id) => Some(id),
        _ => None,
    };
    // Browsers send CRLF from text areas; the service canonicalises.
    let edit = TranscriptEdit {
        title: &form.title,
        participant_id,
        text: form.text.as_deref(),
        version: form.version,
    };
    let mut tx = state.begin().await?;
    let result = service::update_transcript(&mut tx, &member.actor(), transcript_id, edit).await;
    let (errors, conflict) = match tx.commit_if_ok(result).await {
        Ok(_) => {
            return Ok(Redirect::to(&format!(
                "/projects/{}/transcripts/{transcript_id}",
                member.project_id
            ))
            .into_response());
        }
        Err(AppError::Invalid(errors)) => (errors, false),
        Err(AppError::Conflict(_)) => (FieldErrors::new(), true),
        Err(other) => return Err(other),
    };
    let mut conn = state.db.acquire().await?;
    let transcript = store::get_transcript(&mut conn, member.project_id, transcript_id).await?;
    let participants = participants::list_participants(&mut conn, member.project_id).await?;
    let frozen = store::text_is_frozen(&mut conn, member.project_id, transcript_id).await?;
    let status = if conflict {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = TranscriptEditPage {
        layout,
        member,
        participants,
        title: form.title,
        text: form.text.unwrap_or_else(|| transcript.text.clone()),
        participant_id,
        errors,
        conflict,
        frozen,
        transcript,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn delete_transcript(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<Redirect, AppError> {
    let mut tx = state.begin().await?;
    service::set_deleted(&mut tx, &member.actor(), transcript_id, true).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/projects/{}", member.project_id)))
}

pub async fn restore_transcript(
    State(state): State<AppState>,
    member: Member,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<Redirect, AppError> {
    let mut tx = state.begin().await?;
    service::set_deleted(&mut tx, &member.actor(), transcript_id, false).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/projects/{}/transcripts/{transcript_id}",
        member.project_id
    )))
}
