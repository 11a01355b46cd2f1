//! Assignments: who codes which transcript, and how far they are.

mod api;
pub mod model;
mod pages;
pub mod service;
pub mod store;

use crate::web::routes::Routes;
use axum::routing::{delete, get, post};

pub fn routes() -> Routes {
    Routes::new()
        .route("/projects/{project_id}/assignments", post(pages::assign))
        .route(
            "/projects/{project_id}/assignments/{assignment_id}/reopen",
            post(pages::reopen),
        )
        .route(
            "/projects/{project_id}/assignments/{assignment_id}/remove",
            post(pages::remove),
        )
        .route(
            "/projects/{project_id}/codebook-mode",
            post(pages::set_codebook_mode),
        )
        .route(
            "/api/v1/projects/{project_id}/assignments",
            get(api::list_assignments).post(api::assign),
        )
        .route(
            "/api/v1/projects/{project_id}/assignments/{assignment_id}",
            delete(api::remove),
        )
        .route(
            "/api/v1/projects/{project_id}/assignments/{assignment_id}/reopen",
            post(api::reopen),
        )
        .route(
            "/api/v1/projects/{project_id}/codebook-mode",
            axum::routing::put(api::set_codebook_mode),
        )
}
