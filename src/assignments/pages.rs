//! Form handlers for assignments; the lists are on the project dashboard.

use axum::extract::State;
use axum::response::Redirect;

use super::service;
use crate::db::ids::{AssignmentId, TranscriptId, UserId};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::extract::{Form, Path};

fn dashboard(member: &Member) -> Redirect {
    Redirect::to(&format!("/projects/{}#assignments", member.project_id))
}

/// Checkboxes `transcript_ids` and `user_ids`, each possibly repeated.
pub async fn assign(
    State(state): State<AppState>,
    member: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let ids = |name: &str| -> Result<Vec<uuid::Uuid>, AppError> {
        fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| {
                v.parse()
                    .map_err(|_| AppError::field(name, "Not a valid id."))
            })
            .collect()
    };
    let transcripts: Vec<TranscriptId> = ids("transcript_ids")?
        .into_iter()
        .map(TranscriptId)
        .collect();
    let users: Vec<UserId> = ids("user_ids")?.into_iter().map(UserId).collect();
    let mut tx = state.begin().await?;
    service::assign(&mut tx, &member.actor(), &transcripts, &users).await?;
    tx.commit().await?;
    Ok(dashboard(&member))
}

pub async fn reopen(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AssignmentId)>,
) -> Result<Redirect, AppError> {
    let mut tx = state.begin().await?;
    service::reopen(&mut tx, &member.actor(), id).await?;
    tx.commit().await?;
    Ok(dashboard(&member))
}

pub async fn remove(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, AssignmentId)>,
) -> Result<Redirect, AppError> {
    let mut tx = state.begin().await?;
    service::remove(&mut tx, &member.actor(), id).await?;
    tx.commit().await?;
    Ok(dashboard(&member))
}

pub async fn set_codebook_mode(
    State(state): State<AppState>,
    member: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let mode = fields
        .iter()
        .find(|(k, _)| k == "codebook_mode")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let mut tx = state.begin().await?;
    service::set_codebook_mode(&mut tx, &member.actor(), mode).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/projects/{}/settings",
        member.project_id
    )))
}
