//! Member checking: review rounds of the theme hierarchy for the project's
//! reviewers, their comments and sign-offs, and what changed since.

mod api;
mod pages;
pub mod service;
pub mod store;

use axum::routing::{get, patch, post};

use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/projects/{project_id}/review",
            get(pages::list).post(pages::publish),
        )
        .route("/projects/{project_id}/review/{round_id}", get(pages::show))
        .route(
            "/projects/{project_id}/review/{round_id}/comments",
            post(pages::comment),
        )
        .route(
            "/projects/{project_id}/review/{round_id}/comments/{comment_id}",
            post(pages::answer),
        )
        .route(
            "/projects/{project_id}/review/{round_id}/signoff",
            post(pages::sign_off),
        )
        .route(
            "/projects/{project_id}/review/{round_id}/close",
            post(pages::close),
        )
        .route(
            "/api/v1/projects/{project_id}/review-rounds",
            get(api::list).post(api::publish),
        )
        .route(
            "/api/v1/projects/{project_id}/review-rounds/{round_id}",
            get(api::show),
        )
        .route(
            "/api/v1/projects/{project_id}/review-rounds/{round_id}/comments",
            post(api::comment),
        )
        .route(
            "/api/v1/projects/{project_id}/review-rounds/{round_id}/comments/{comment_id}",
            patch(api::answer),
        )
        .route(
            "/api/v1/projects/{project_id}/review-rounds/{round_id}/signoff",
            post(api::sign_off),
        )
        .route(
            "/api/v1/projects/{project_id}/review-rounds/{round_id}/close",
            post(api::close),
        )
}
