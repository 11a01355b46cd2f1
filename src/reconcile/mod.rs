//! Reconciliation: the lead resolves each discrepancy between two coders'
//! layers with a decision (append-only, with its reason), which builds the
//! consensus layer. Its codes are the agreed codebook's (`crate::codebook`).

mod api;
pub mod consensus;
pub mod model;
mod pages;
pub mod paused;
pub mod service;
pub mod store;

use crate::web::routes::Routes;
use axum::routing::{get, patch, post};

pub fn routes() -> Routes {
    Routes::new()
        .route("/projects/{project_id}/reconcile", get(pages::show_index))
        .route(
            "/projects/{project_id}/reconcile/settings",
            post(pages::update_settings),
        )
        .route(
            "/projects/{project_id}/transcripts/{transcript_id}/reconcile",
            get(pages::show_reconciliation),
        )
        .route(
            "/projects/{project_id}/transcripts/{transcript_id}/consensus",
            get(pages::show_layer),
        )
        .route(
            "/api/v1/projects/{project_id}/reconciliation",
            get(api::get_progress),
        )
        .route(
            "/api/v1/projects/{project_id}/reconciliation/settings",
            axum::routing::put(api::put_settings),
        )
        .route(
            "/api/v1/projects/{project_id}/transcripts/{transcript_id}/reconciliation",
            get(api::get_reconciliation),
        )
        .route(
            "/api/v1/projects/{project_id}/transcripts/{transcript_id}/decisions",
            post(api::decide),
        )
        .route(
            "/api/v1/projects/{project_id}/transcripts/{transcript_id}/comments",
            post(api::comment),
        )
        .route(
            "/api/v1/projects/{project_id}/consensus/transcripts/{transcript_id}/coding",
            get(api::get_layer),
        )
        .route(
            "/api/v1/projects/{project_id}/consensus/transcripts/{transcript_id}/codings",
            get(api::list_layer).post(api::create_coding),
        )
        .route(
            "/api/v1/projects/{project_id}/consensus/codings/{coding_id}",
            patch(api::update_coding).delete(api::delete_coding),
        )
        .route(
            "/api/v1/projects/{project_id}/consensus/codings/{coding_id}/restore",
            post(api::restore_coding),
        )
}
