//! `/api/v1` twin of the search page.

use axum::extract::State;

use super::service::{self, Results, SearchParams};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::extract::{Json, Query};

pub async fn search(
    State(state): State<AppState>,
    member: Member,
    Query(params): Query<SearchParams>,
) -> Result<Json<Results>, AppError> {
    let query = service::check(&params)?;
    let mut conn = state.db.acquire().await?;
    Ok(Json(
        service::search(&mut conn, &member.actor(), &query).await?,
    ))
}
