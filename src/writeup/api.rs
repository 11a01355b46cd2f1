//! `/api/v1` twins of the saturation and tables pages.

use axum::extract::State;

use super::service::{self, Saturation, SaturationParams, Tables, TablesParams};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::themes::service::Reader;
use crate::web::extract::{Json, Query};

pub async fn saturation(
    State(state): State<AppState>,
    member: Member,
    Query(params): Query<SaturationParams>,
) -> Result<Json<Saturation>, AppError> {
    let query = params.check()?;
    let mut conn = state.db.acquire().await?;
    let reader = Reader::of(&mut conn, &member.actor()).await?;
    let data = service::load(&mut conn, reader).await?;
    Ok(Json(service::saturation(&data, &query)?))
}

pub async fn tables(
    State(state): State<AppState>,
    member: Member,
    Query(params): Query<TablesParams>,
) -> Result<Json<Tables>, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = Reader::of(&mut conn, &member.actor()).await?;
    Ok(Json(service::tables(&mut conn, reader, &params).await?))
}
