//! Search across every transcript of a project, with the codes at each hit
//! that the searcher may see, and across the memos they may read.
//!
//! Matching is a case-insensitive substring match (PostgreSQL `ILIKE`, served
//! by a trigram index): any language, word parts included ("chemo" finds
//! "chemotherapy"), and the hit's exact place is known for the snippet and
//! the codes around it.

mod api;
pub mod matching;
mod pages;
pub mod service;
pub mod store;

use axum::routing::get;

use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/projects/{project_id}/search", get(pages::search))
        .route("/api/v1/projects/{project_id}/search", get(api::search))
}
