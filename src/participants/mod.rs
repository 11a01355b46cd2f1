//! Participants (cases) with attribute values, and the import of participant tables.

mod api;
pub mod model;
mod pages;
pub mod service;
pub mod store;

use crate::web::routes::Routes;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post};

pub fn routes(max_upload_bytes: usize) -> Routes {
    let uploads = Routes::new()
        .route(
            "/projects/{project_id}/participants/import",
            post(pages::upload_table),
        )
        .route(
            "/api/v1/projects/{project_id}/participant-imports",
            post(api::upload_table),
        )
        .layer(DefaultBodyLimit::max(max_upload_bytes + 64 * 1024));
    Routes::new()
        .route(
            "/projects/{project_id}/participants",
            get(pages::list_participants).post(pages::create_participant),
        )
        .route(
            "/projects/{project_id}/participants/{participant_id}",
            get(pages::edit_participant).post(pages::update_participant),
        )
        .route(
            "/projects/{project_id}/variables",
            post(pages::create_variable),
        )
        .route(
            "/projects/{project_id}/participants/import/{draft_id}",
            get(pages::show_import).post(pages::submit_import),
        )
        .route(
            "/api/v1/projects/{project_id}/participants",
            get(api::list_participants).post(api::create_participant),
        )
        .route(
            "/api/v1/projects/{project_id}/participants/{participant_id}",
            patch(api::update_participant),
        )
        .route(
            "/api/v1/projects/{project_id}/variables",
            get(api::list_variables).post(api::create_variable),
        )
        .route(
            "/api/v1/projects/{project_id}/participant-imports/{draft_id}",
            post(api::submit_import),
        )
        .merge(uploads)
}
