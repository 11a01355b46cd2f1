//! HTML handler: the search page.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::service::{self, Results, SearchParams};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::Query;

#[derive(Template)]
#[template(path = "search/page.html")]
pub struct SearchPage {
    layout: Layout,
    member: Member,
    q: String,
    results: Option<Results>,
    error: Option<String>,
    max_hits: usize,
}

pub async fn search(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Query(params): Query<SearchParams>,
) -> Result<Html<String>, AppError> {
    let q = params.q.clone().unwrap_or_default();
    let (results, error) = if q.trim().is_empty() {
        (None, None)
    } else {
        match service::check(&params) {
            Ok(query) => {
                let mut conn = state.db.acquire().await?;
                (
                    Some(service::search(&mut conn, &member.actor(), &query).await?),
                    None,
                )
            }
            Err(AppError::Invalid(errors)) => (None, errors.get("q").map(str::to_owned)),
            Err(e) => return Err(e),
        }
    };
    Ok(Html(
        SearchPage {
            layout,
            member,
            q,
            results,
            error,
            max_hits: service::MAX_HITS,
        }
        .render()?,
    ))
}
