//! `/api/v1` of the quote bank. Every change answers what it changed; a
//! stale version is 409 with the current state.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::service::{
    self, AttributeChoice, AttributeInput, EditInput, Group, Preview, QuoteBank, ReorderInput,
    SelectInput, SelectedQuote,
};
use crate::db::ids::QuoteSelectionId;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::extract::{Json, Path, Query};

pub async fn get_bank(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<QuoteBank>, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = super::reader(&mut conn, &member.actor()).await?;
    Ok(Json(service::bank(&mut conn, reader).await?))
}

pub async fn select(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<SelectInput>,
) -> Result<(StatusCode, Json<SelectedQuote>), AppError> {
    let mut tx = state.begin().await?;
    let editor = super::editor(&mut tx, &member.actor()).await?;
    let (quote, new) = service::select(&mut tx, editor, body).await?;
    tx.commit().await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(quote)))
}

pub async fn edit(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, QuoteSelectionId)>,
    Json(body): Json<EditInput>,
) -> Result<Json<SelectedQuote>, AppError> {
    let mut tx = state.begin().await?;
    let editor = super::editor(&mut tx, &member.actor()).await?;
    let quote = service::edit(&mut tx, editor, id, body).await?;
    tx.commit().await?;
    Ok(Json(quote))
}

#[derive(Deserialize)]
pub struct Versioned {
    version: i32,
}

pub async fn unselect(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, QuoteSelectionId)>,
    Query(query): Query<Versioned>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    let editor = super::editor(&mut tx, &member.actor()).await?;
    service::unselect(&mut tx, editor, id, query.version).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn refile(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, QuoteSelectionId)>,
    Json(body): Json<Versioned>,
) -> Result<Json<SelectedQuote>, AppError> {
    let mut tx = state.begin().await?;
    let editor = super::editor(&mut tx, &member.actor()).await?;
    let quote = service::refile(&mut tx, editor, id, body.version).await?;
    tx.commit().await?;
    Ok(Json(quote))
}

pub async fn reorder(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<ReorderInput>,
) -> Result<Json<Group>, AppError> {
    let mut tx = state.begin().await?;
    let editor = super::editor(&mut tx, &member.actor()).await?;
    let group = service::reorder(&mut tx, editor, body).await?;
    tx.commit().await?;
    Ok(Json(group))
}

pub async fn choose_attribute(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<AttributeInput>,
) -> Result<Json<AttributeChoice>, AppError> {
    let mut tx = state.begin().await?;
    let editor = super::editor(&mut tx, &member.actor()).await?;
    let choice = service::choose_attribute(&mut tx, editor, body).await?;
    tx.commit().await?;
    Ok(Json(choice))
}

#[derive(Deserialize)]
pub struct PreviewRequest {
    #[serde(default)]
    publication_text: Option<String>,
}

/// The edit as it would be published, or why it would be refused. Changes
/// nothing; leads only, like the edit itself.
pub async fn preview(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, QuoteSelectionId)>,
    Json(body): Json<PreviewRequest>,
) -> Result<Json<Preview>, AppError> {
    let mut conn = state.db.acquire().await?;
    let editor = super::editor(&mut conn, &member.actor()).await?;
    Ok(Json(
        service::preview(
            &mut conn,
            editor.reader,
            id,
            body.publication_text.as_deref(),
        )
        .await?,
    ))
}
