//! Comparing coders: aligning their codebooks onto agreed codes, and the
//! agreement reports with every discrepancy. Statistics come from the pure
//! `crate::agreement` module.

pub mod alignment;
mod api;
mod json;
mod pages;
pub mod report;
pub mod store;
mod view;

use crate::web::routes::Routes;
use axum::routing::{get, post, put};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/projects/{project_id}/alignment",
            get(pages::show_alignment),
        )
        .route(
            "/projects/{project_id}/alignment/agreed",
            post(pages::create_agreed),
        )
        .route(
            "/projects/{project_id}/alignment/map",
            post(pages::map_code),
        )
        .route(
            "/projects/{project_id}/alignment/unalign",
            post(pages::unalign_code),
        )
        .route(
            "/projects/{project_id}/agreement",
            get(pages::show_agreement),
        )
        .route(
            "/projects/{project_id}/agreement.csv",
            get(pages::download_csv),
        )
        .route(
            "/projects/{project_id}/agreement/transcripts/{transcript_id}",
            get(pages::show_transcript_agreement),
        )
        .route(
            "/api/v1/projects/{project_id}/alignment",
            get(api::get_alignment),
        )
        .route(
            "/api/v1/projects/{project_id}/agreed-codes",
            post(api::create_agreed),
        )
        .route(
            "/api/v1/projects/{project_id}/alignment/{code_id}",
            put(api::map_code).delete(api::unalign_code),
        )
        .route(
            "/api/v1/projects/{project_id}/agreement",
            get(api::get_agreement),
        )
}
