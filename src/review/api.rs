//! `/api/v1` twins of the review pages.

use axum::extract::State;
use axum::http::StatusCode;

use super::service::{self, Answer, NewComment, NewRound, RoundView, SignOff};
use super::store::{Comment, Round};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::themes::service::Editor;
use crate::web::extract::{Json, Path};

pub async fn list(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Vec<Round>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(service::rounds(&mut conn, &member.actor()).await?))
}

pub async fn publish(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<NewRound>,
) -> Result<(StatusCode, Json<Round>), AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let round = service::publish(&mut tx, editor, body).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(round)))
}

pub async fn show(
    State(state): State<AppState>,
    member: Member,
    Path((_, round)): Path<(String, uuid::Uuid)>,
) -> Result<Json<RoundView>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        service::view(&mut conn, &member.actor(), round).await?,
    ))
}

pub async fn comment(
    State(state): State<AppState>,
    member: Member,
    Path((_, round)): Path<(String, uuid::Uuid)>,
    Json(body): Json<NewComment>,
) -> Result<(StatusCode, Json<Comment>), AppError> {
    let mut tx = state.begin().await?;
    let comment = service::comment(&mut tx, &member.actor(), round, body).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

pub async fn answer(
    State(state): State<AppState>,
    member: Member,
    Path((_, round, comment)): Path<(String, uuid::Uuid, uuid::Uuid)>,
    Json(body): Json<Answer>,
) -> Result<Json<Comment>, AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let comment = service::answer(&mut tx, editor, round, comment, body).await?;
    tx.commit().await?;
    Ok(Json(comment))
}

pub async fn sign_off(
    State(state): State<AppState>,
    member: Member,
    Path((_, round)): Path<(String, uuid::Uuid)>,
    Json(body): Json<SignOff>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    service::sign_off(&mut tx, &member.actor(), round, body).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn close(
    State(state): State<AppState>,
    member: Member,
    Path((_, round)): Path<(String, uuid::Uuid)>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    service::close(&mut tx, editor, round).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
