//! HTML handlers: the participants table, variables and the table import.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::model::{Participant, Variable, VariableKind};
use super::service::{self, ColumnChoice, ImportChoices, ImportPreview};
use super::store;
use crate::db::ids::{ImportDraftId, ParticipantId, VariableId};
use crate::error::{AppError, FieldErrors};
use crate::projects::member::Member;
use crate::projects::model::Role;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::{Form, Path, field};
use crate::web::upload::read_upload;

#[derive(Template)]
#[template(path = "participants/list.html")]
pub struct ParticipantListPage {
    layout: Layout,
    member: Member,
    variables: Vec<Variable>,
    participants: Vec<Participant>,
    kinds: [VariableKind; 3],
    errors: FieldErrors,
    can_manage: bool,
}

async fn list_page(
    state: &AppState,
    member: Member,
    layout: Layout,
    errors: FieldErrors,
) -> Result<ParticipantListPage, AppError> {
    let mut conn = state.db.acquire().await?;
    let variables = store::list_variables(&mut conn, member.project_id).await?;
    let participants = store::list_participants(&mut conn, member.project_id).await?;
    let can_manage = member.require(&[Role::Lead]).is_ok() && member.project.archived_at.is_none();
    Ok(ParticipantListPage {
        layout,
        member,
        variables,
        participants,
        kinds: VariableKind::ALL,
        errors,
        can_manage,
    })
}

pub async fn list_participants(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    Ok(Html(
        list_page(&state, member, layout, FieldErrors::new())
            .await?
            .render()?,
    ))
}

/// `value_<variable id>` fields of a participant form.
fn values_from_form(fields: &[(String, String)]) -> Vec<(VariableId, String)> {
    fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("value_")?.parse().ok()?, v.clone())))
        .collect()
}

async fn redisplay(
    state: &AppState,
    member: Member,
    layout: Layout,
    error: AppError,
) -> Result<Response, AppError> {
    match error {
        AppError::Invalid(errors) => {
            let page = list_page(state, member, layout, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        other => Err(other),
    }
}

pub async fn create_participant(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let values = values_from_form(&fields);
    let mut tx = state.begin().await?;
    let result =
        service::create_participant(&mut tx, &member.actor(), field(&fields, "label"), &values)
            .await;
    match tx.commit_if_ok(result).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/projects/{}/participants", member.project_id)).into_response(),
        ),
        Err(error) => redisplay(&state, member, layout, error).await,
    }
}

pub async fn create_variable(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let mut tx = state.begin().await?;
    let result = service::create_variable(
        &mut tx,
        &member.actor(),
        field(&fields, "name"),
        field(&fields, "kind"),
        field(&fields, "allowed_values"),
    )
    .await;
    let result = tx.commit_if_ok(result).await;
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/projects/{}/participants", member.project_id)).into_response(),
        ),
        Err(error) => redisplay(&state, member, layout, error).await,
    }
}

#[derive(Template)]
#[template(path = "participants/edit.html")]
pub struct ParticipantEditPage {
    layout: Layout,
    member: Member,
    participant: Participant,
    variables: Vec<Variable>,
    errors: FieldErrors,
    conflict: bool,
}

pub async fn edit_participant(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, participant_id)): Path<(String, ParticipantId)>,
) -> Result<Html<String>, AppError> {
    member.require(&[Role::Lead])?;
    let mut conn = state.db.acquire().await?;
    let participant = store::get_participant(&mut conn, member.project_id, participant_id).await?;
    let variables = store::list_variables(&mut conn, member.project_id).await?;
    let page = ParticipantEditPage {
        layout,
        member,
        participant,
        variables,
        errors: FieldErrors::new(),
        conflict: false,
    };
    Ok(Html(page.render()?))
}

pub async fn update_participant(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, participant_id)): Path<(String, ParticipantId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let version: i32 = field(&fields, "version")
        .parse()
        .map_err(|_| AppError::field("version", "missing version"))?;
    let values = values_from_form(&fields);
    let mut tx = state.begin().await?;
    let result = service::update_participant(
        &mut tx,
        &member.actor(),
        participant_id,
        field(&fields, "label"),
        &values,
        version,
    )
    .await;
    let result = tx.commit_if_ok(result).await;
    let (errors, conflict) = match result {
        Ok(_) => {
            return Ok(
                Redirect::to(&format!("/projects/{}/participants", member.project_id))
                    .into_response(),
            );
        }
        Err(AppError::Invalid(errors)) => (errors, false),
        Err(AppError::Conflict(_)) => (FieldErrors::new(), true),
        Err(other) => return Err(other),
    };
    let mut conn = state.db.acquire().await?;
    let mut participant =
        store::get_participant(&mut conn, member.project_id, participant_id).await?;
    let variables = store::list_variables(&mut conn, member.project_id).await?;
    if !conflict {
        // Keep what was typed, so the user can correct it.
        participant.label = field(&fields, "label").to_owned();
        for (variable_id, value) in values {
            participant.values.insert(variable_id, value);
        }
    }
    let status = if conflict {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ParticipantEditPage {
        layout,
        member,
        participant,
        variables,
        errors,
        conflict,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn upload_table(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let upload = read_upload(multipart, state.config.max_upload_bytes).await?;
    let result = match upload.files.first() {
        None => Err(AppError::field("file", "Choose a .csv or .xlsx file.")),
        Some(file) => match &file.bytes {
            None => Err(AppError::field(
                "file",
                format!(
                    "{}: the file is larger than {} MB.",
                    file.file_name,
                    state.config.max_upload_bytes / (1024 * 1024)
                ),
            )),
            Some(bytes) => {
                let mut tx = state.begin().await?;
                let made =
                    service::create_import_draft(&mut tx, &member.actor(), &file.file_name, bytes)
                        .await;
                tx.commit_if_ok(made).await
            }
        },
    };
    match result {
        Ok(draft) => Ok(Redirect::to(&format!(
            "/projects/{}/participants/import/{draft}",
            member.project_id
        ))
        .into_response()),
        Err(error) => redisplay(&state, member, layout, error).await,
    }
}

#[derive(Template)]
#[template(path = "participants/import.html")]
pub struct ImportPreviewPage {
    layout: Layout,
    member: Member,
    preview: ImportPreview,
    kinds: [VariableKind; 3],
    confirm_error: bool,
}

pub async fn show_import(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, draft_id)): Path<(String, ImportDraftId)>,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let preview = service::preview_import(&mut conn, &member.actor(), draft_id, None).await?;
    let page = ImportPreviewPage {
        layout,
        member,
        preview,
        kinds: VariableKind::ALL,
        confirm_error: false,
    };
    Ok(Html(page.render()?))
}

/// The mapping form: `label_column`, then per column i `column_i`, `variable_i`
/// (empty: leave out), `kind_i`, `allowed_i`.
fn choices_from_form(fields: &[(String, String)]) -> ImportChoices {
    let mut columns = Vec::new();
    for i in 0.. {
        let Some((_, column)) = fields.iter().find(|(k, _)| *k == format!("column_{i}")) else {
            break;
        };
        columns.push(ColumnChoice {
            column: column.clone(),
            variable: field(fields, &format!("variable_{i}")).trim().to_owned(),
            kind: VariableKind::parse(field(fields, &format!("kind_{i}")))
                .unwrap_or(VariableKind::Text),
            allowed_values: super::model::parse_allowed_values(field(
                fields,
                &format!("allowed_{i}"),
            )),
        });
    }
    ImportChoices {
        label_column: field(fields, "label_column").to_owned(),
        columns,
    }
}

pub async fn submit_import(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, draft_id)): Path<(String, ImportDraftId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let choices = choices_from_form(&fields);
    let mut conn = state.db.acquire().await?;
    let preview =
        service::preview_import(&mut conn, &member.actor(), draft_id, Some(choices.clone()))
            .await?;
    let wants_import = field(&fields, "action") == "import";
    let confirmed = !preview.name_like_labels.is_empty() && field(&fields, "pseudonyms") == "yes"
        || preview.name_like_labels.is_empty();
    if wants_import && preview.errors.is_empty() && confirmed {
        let mut tx = state.begin().await?;
        service::commit_import(&mut tx, &member.actor(), draft_id, choices).await?;
        tx.commit().await?;
        return Ok(
            Redirect::to(&format!("/projects/{}/participants", member.project_id)).into_response(),
        );
    }
    let status = if wants_import {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ImportPreviewPage {
        layout,
        member,
        preview,
        kinds: VariableKind::ALL,
        confirm_error: wants_import && !confirmed,
    };
    Ok((status, Html(page.render()?)).into_response())
}
