//! Projects: the studies, their members and roles.

mod api;
pub mod member;
pub mod model;
mod pages;
pub mod service;
pub mod store;

use crate::web::routes::Routes;
use axum::routing::{get, post};

pub fn routes() -> Routes {
    Routes::new()
        .route("/", get(pages::home))
        .route("/projects", post(pages::create_project))
        .route("/projects/{project_id}", get(pages::show_project))
        .route(
            "/projects/{project_id}/settings",
            get(pages::show_settings).post(pages::update_project),
        )
        .route(
            "/projects/{project_id}/archive",
            post(pages::archive_project),
        )
        .route(
            "/projects/{project_id}/unarchive",
            post(pages::unarchive_project),
        )
        .route("/projects/{project_id}/members", post(pages::add_member))
        .route(
            "/projects/{project_id}/members/{user_id}/role",
            post(pages::change_member_role),
        )
        .route(
            "/projects/{project_id}/members/{user_id}/remove",
            post(pages::remove_member),
        )
        .route(
            "/api/v1/projects",
            get(api::list_projects).post(api::create_project),
        )
        .route(
            "/api/v1/projects/{project_id}",
            get(api::get_project).patch(api::update_project),
        )
        .route(
            "/api/v1/projects/{project_id}/archive",
            post(api::archive_project),
        )
        .route(
            "/api/v1/projects/{project_id}/unarchive",
            post(api::unarchive_project),
        )
        .route(
            "/api/v1/projects/{project_id}/members",
            get(api::list_members).post(api::add_member),
        )
        .route(
            "/api/v1/projects/{project_id}/members/{user_id}",
            axum::routing::patch(api::update_member).delete(api::remove_member),
        )
}
