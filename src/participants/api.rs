//! `/api/v1` twins of the participant pages. Values are keyed by variable name.

use std::collections::BTreeMap;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::model::{Participant, Variable};
use super::service::{self, ImportChoices, ImportPreview};
use super::store;
use crate::db::ids::{ImportDraftId, ParticipantId, VariableId};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::extract::{Json, Path};
use crate::web::upload::read_upload;

#[derive(Serialize)]
pub struct ParticipantJson {
    id: ParticipantId,
    label: String,
    version: i32,
    values: BTreeMap<String, String>,
}

fn to_json(participant: Participant, variables: &[Variable]) -> ParticipantJson {
    let values = variables
        .iter()
        .filter_map(|v| Some((v.name.clone(), participant.values.get(&v.id)?.clone())))
        .collect();
    ParticipantJson {
        id: participant.id,
        label: participant.label,
        version: participant.version,
        values,
    }
}

#[derive(Serialize)]
pub struct ParticipantsJson {
    variables: Vec<Variable>,
    participants: Vec<ParticipantJson>,
}

pub async fn list_participants(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<ParticipantsJson>, AppError> {
    let mut conn = state.db.acquire().await?;
    let variables = store::list_variables(&mut conn, member.project_id).await?;
    let participants = store::list_participants(&mut conn, member.project_id).await?;
    let participants = participants
        .into_iter()
        .map(|p| to_json(p, &variables))
        .collect();
    Ok(Json(ParticipantsJson {
        variables,
        participants,
    }))
}

/// Values by variable name; an unknown name is an error on that field.
async fn values_by_id(
    state: &AppState,
    member: &Member,
    values: &BTreeMap<String, String>,
) -> Result<(Vec<Variable>, Vec<(VariableId, String)>), AppError> {
    let mut conn = state.db.acquire().await?;
    let variables = store::list_variables(&mut conn, member.project_id).await?;
    let mut errors = crate::error::FieldErrors::new();
    let mut out = Vec::new();
    for (name, value) in values {
        match variables
            .iter()
            .find(|v| v.name.to_lowercase() == name.to_lowercase())
        {
            Some(variable) => out.push((variable.id, value.clone())),
            None => errors.add(
                &format!("values.{name}"),
                "The project has no variable of this name.",
            ),
        }
    }
    errors.into_result()?;
    Ok((variables, out))
}

#[derive(Deserialize)]
pub struct ParticipantRequest {
    label: String,
    #[serde(default)]
    values: BTreeMap<String, String>,
}

pub async fn create_participant(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<ParticipantRequest>,
) -> Result<(StatusCode, Json<ParticipantJson>), AppError> {
    let (variables, values) = values_by_id(&state, &member, &body.values).await?;
    let mut tx = state.begin().await?;
    let participant =
        service::create_participant(&mut tx, &member.actor(), &body.label, &values).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(to_json(participant, &variables))))
}

#[derive(Deserialize)]
pub struct UpdateParticipantRequest {
    label: String,
    #[serde(default)]
    values: BTreeMap<String, String>,
    version: i32,
}

pub async fn update_participant(
    State(state): State<AppState>,
    member: Member,
    Path((_, participant_id)): Path<(String, ParticipantId)>,
    Json(body): Json<UpdateParticipantRequest>,
) -> Result<Json<ParticipantJson>, AppError> {
    let (variables, values) = values_by_id(&state, &member, &body.values).await?;
    let mut tx = state.begin().await?;
    let participant = service::update_participant(
        &mut tx,
        &member.actor(),
        participant_id,
        &body.label,
        &values,
        body.version,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(to_json(participant, &variables)))
}

pub async fn list_variables(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Vec<Variable>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        store::list_variables(&mut conn, member.project_id).await?,
    ))
}

#[derive(Deserialize)]
pub struct VariableRequest {
    name: String,
    kind: String,
    #[serde(default)]
    allowed_values: Vec<String>,
}

pub async fn create_variable(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<VariableRequest>,
) -> Result<(StatusCode, Json<Variable>), AppError> {
    let allowed = body.allowed_values.join("\n");
    let mut tx = state.begin().await?;
    let variable =
        service::create_variable(&mut tx, &member.actor(), &body.name, &body.kind, &allowed)
            .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(variable)))
}

#[derive(Serialize)]
pub struct DraftJson {
    draft_id: ImportDraftId,
    #[serde(flatten)]
    preview: ImportPreview,
}

/// Step 1: upload the table (multipart field `file`); the answer is a preview
/// with the proposed mapping and every row error.
pub async fn upload_table(
    State(state): State<AppState>,
    member: Member,
    multipart: Multipart,
) -> Result<(StatusCode, Json<DraftJson>), AppError> {
    let upload = read_upload(multipart, state.config.max_upload_bytes).await?;
    let file = upload
        .files
        .first()
        .ok_or_else(|| AppError::field("file", "Send the table as the multipart field `file`."))?;
    let bytes = file.bytes.as_ref().ok_or_else(|| {
        AppError::PayloadTooLarge(format!(
            "{}: the file is larger than {} bytes.",
            file.file_name, state.config.max_upload_bytes
        ))
    })?;
    let mut tx = state.begin().await?;
    let draft_id =
        service::create_import_draft(&mut tx, &member.actor(), &file.file_name, bytes).await?;
    tx.commit().await?;
    let mut conn = state.db.acquire().await?;
    let preview = service::preview_import(&mut conn, &member.actor(), draft_id, None).await?;
    Ok((StatusCode::CREATED, Json(DraftJson { draft_id, preview })))
}

#[derive(Deserialize)]
pub struct ImportRequest {
    choices: Option<ImportChoices>,
    #[serde(default)]
    commit: bool,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum ImportAnswer {
    Preview(Box<DraftJson>),
    Imported { imported: usize },
}

/// Step 2: check a mapping (`commit: false`) or import with it (`commit: true`).
pub async fn submit_import(
    State(state): State<AppState>,
    member: Member,
    Path((_, draft_id)): Path<(String, ImportDraftId)>,
    Json(body): Json<ImportRequest>,
) -> Result<Json<ImportAnswer>, AppError> {
    let mut conn = state.db.acquire().await?;
    let preview =
        service::preview_import(&mut conn, &member.actor(), draft_id, body.choices).await?;
    if !body.commit {
        return Ok(Json(ImportAnswer::Preview(Box::new(DraftJson {
            draft_id,
            preview,
        }))));
    }
    let mut tx = state.begin().await?;
    let imported =
        service::commit_import(&mut tx, &member.actor(), draft_id, preview.choices).await?;
    tx.commit().await?;
    Ok(Json(ImportAnswer::Imported { imported }))
}
