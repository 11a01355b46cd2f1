//! Phase 1: independent coding. Codes, codings, the coding page and blinding.

pub mod api;
pub use api::line_spans;
pub mod blinding;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;

use crate::web::routes::Routes;
use axum::routing::{get, patch, post};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/projects/{project_id}/transcripts/{transcript_id}/code",
            get(pages::show_coding_page),
        )
        .route(
            "/projects/{project_id}/transcripts/{transcript_id}/submit",
            post(pages::submit_layer),
        )
        .route(
            "/api/v1/projects/{project_id}/transcripts/{transcript_id}/coding",
            get(api::get_coding_data),
        )
        .route(
            "/api/v1/projects/{project_id}/transcripts/{transcript_id}/codings",
            get(api::list_layer).post(api::create_coding),
        )
        .route(
            "/api/v1/projects/{project_id}/transcripts/{transcript_id}/submit",
            post(api::submit_layer),
        )
        .route(
            "/api/v1/projects/{project_id}/codes",
            get(api::list_codes).post(api::create_code),
        )
        .route(
            "/api/v1/projects/{project_id}/codes/{code_id}",
            patch(api::update_code).delete(api::delete_code),
        )
        .route(
            "/api/v1/projects/{project_id}/codes/{code_id}/restore",
            post(api::restore_code),
        )
        .route(
            "/api/v1/projects/{project_id}/codes/{code_id}/merge",
            post(api::merge_code),
        )
        .route(
            "/api/v1/projects/{project_id}/codings/{coding_id}",
            patch(api::update_coding).delete(api::delete_coding),
        )
        .route(
            "/api/v1/projects/{project_id}/codings/{coding_id}/restore",
            post(api::restore_coding),
        )
        .route(
            "/api/v1/projects/{project_id}/events",
            get(crate::live::stream_events),
        )
}
