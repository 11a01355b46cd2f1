//! Transcripts: import from files, the canonical text and its turns, the page.

mod api;
pub mod layers;
mod pages;
pub mod preview;
pub mod service;
pub mod store;
pub mod view;

use crate::web::routes::Routes;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// A batch form may carry several files, each up to the upload limit.
const FILES_PER_REQUEST: usize = 10;

pub fn routes(max_upload_bytes: usize) -> Routes {
    let uploads = Routes::new()
        .route(
            "/projects/{project_id}/transcripts/import",
            get(pages::show_import).post(pages::submit_import),
        )
        .route(
            "/api/v1/projects/{project_id}/transcripts",
            get(api::list_transcripts).post(api::import_transcripts),
        )
        .route(
            "/api/v1/projects/{project_id}/transcripts/preview",
            post(api::preview_transcripts),
        )
        .layer(DefaultBodyLimit::max(
            max_upload_bytes * FILES_PER_REQUEST + 64 * 1024,
        ));
    Routes::new()
        .route(
            "/projects/{project_id}/transcripts/{transcript_id}",
            get(pages::show_transcript),
        )
        .route(
            "/projects/{project_id}/transcripts/{transcript_id}/edit",
            get(pages::edit_transcript).post(pages::update_transcript),
        )
        .route(
            "/projects/{project_id}/transcripts/{transcript_id}/delete",
            post(pages::delete_transcript),
        )
        .route(
            "/projects/{project_id}/transcripts/{transcript_id}/restore",
            post(pages::restore_transcript),
        )
        .route(
            "/api/v1/projects/{project_id}/transcripts/{transcript_id}",
            get(api::get_transcript)
                .patch(api::update_transcript)
                .delete(api::delete_transcript),
        )
        .route(
            "/api/v1/projects/{project_id}/transcripts/{transcript_id}/restore",
            post(api::restore_transcript),
        )
        .merge(uploads)
}
