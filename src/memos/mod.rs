//! Memos: analytic memos on the project, an agreed code or a theme node, and
//! each member's reflexive journal.

mod api;
mod pages;
pub mod service;
pub mod store;

use axum::routing::{get, post};

use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/projects/{project_id}/memos",
            get(pages::list).post(pages::create),
        )
        .route(
            "/projects/{project_id}/memos/{memo_id}",
            post(pages::update),
        )
        .route(
            "/projects/{project_id}/memos/{memo_id}/delete",
            post(pages::delete),
        )
        .route(
            "/api/v1/projects/{project_id}/memos",
            get(api::list).post(api::create),
        )
        .route(
            "/api/v1/projects/{project_id}/memos/{memo_id}",
            get(api::show).patch(api::update).delete(api::delete),
        )
}
