//! Peer debriefing: dated session records (attendees, notes, decisions) linked
//! to the theme nodes and agreed codes they changed.

mod api;
mod pages;
pub mod service;
pub mod store;

use axum::routing::get;

use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/projects/{project_id}/debriefings",
            get(pages::list).post(pages::create),
        )
        .route(
            "/projects/{project_id}/debriefings/{debriefing_id}",
            get(pages::show).post(pages::update),
        )
        .route(
            "/api/v1/projects/{project_id}/debriefings",
            get(api::list).post(api::create),
        )
        .route(
            "/api/v1/projects/{project_id}/debriefings/discussed",
            get(api::discussed),
        )
        .route(
            "/api/v1/projects/{project_id}/debriefings/{debriefing_id}",
            get(api::show).patch(api::update),
        )
}
