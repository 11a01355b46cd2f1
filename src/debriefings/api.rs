//! `/api/v1` twins of the debriefing pages.

use axum::extract::State;
use axum::http::StatusCode;

use super::service::{self, NewDebriefing};
use super::store::Debriefing;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::themes::service::Editor;
use crate::web::extract::{Json, Path};

pub async fn list(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Vec<Debriefing>>, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = service::team_reader(&mut conn, &member.actor()).await?;
    Ok(Json(service::list(&mut conn, reader).await?))
}

pub async fn create(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<NewDebriefing>,
) -> Result<(StatusCode, Json<Debriefing>), AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let made = service::create(&mut tx, editor, body).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(made)))
}

pub async fn show(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, uuid::Uuid)>,
) -> Result<Json<Debriefing>, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = service::team_reader(&mut conn, &member.actor()).await?;
    Ok(Json(service::get(&mut conn, reader.project_id, id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, uuid::Uuid)>,
    Json(body): Json<NewDebriefing>,
) -> Result<Json<Debriefing>, AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let changed = service::update(&mut tx, editor, id, body).await?;
    tx.commit().await?;
    Ok(Json(changed))
}

/// For each node and code that a session changed: "Discussed in the
/// debriefing of 12 March 2026" (the themes page shows it).
#[derive(Debug, serde::Serialize)]
pub struct DiscussedJson {
    pub nodes: std::collections::HashMap<uuid::Uuid, String>,
    pub codes: std::collections::HashMap<uuid::Uuid, String>,
}

pub async fn discussed(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<DiscussedJson>, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = service::team_reader(&mut conn, &member.actor()).await?;
    let d = service::discussed(&mut conn, reader).await?;
    let words = |m: std::collections::HashMap<uuid::Uuid, Vec<(uuid::Uuid, String)>>| {
        m.into_iter()
            .map(|(k, v)| (k, service::DiscussedIn::sentence(&v)))
            .collect()
    };
    Ok(Json(DiscussedJson {
        nodes: words(d.nodes),
        codes: words(d.codes),
    }))
}
