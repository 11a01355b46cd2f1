//! Phase 2: the theme hierarchy the agreed codes are grouped into, its counts
//! over the consensus layers, the quote lists of constant comparison, and
//! traceability from a theme down to each coder's span and back.

pub mod api;
pub mod model;
mod pages;
pub mod service;
pub mod store;
pub mod trace;

use axum::routing::{get, patch, post};

use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/projects/{project_id}/themes", get(pages::show))
        .route("/projects/{project_id}/themes/quotes", get(pages::quotes))
        .route(
            "/projects/{project_id}/themes/trace/{coding_id}",
            get(pages::trace),
        )
        .route(
            "/projects/{project_id}/themes/trace/codings/{coding_id}",
            get(pages::trace_up),
        )
        .route(
            "/api/v1/projects/{project_id}/themes",
            get(api::get_hierarchy),
        )
        .route(
            "/api/v1/projects/{project_id}/themes/nodes",
            post(api::create_node),
        )
        .route(
            "/api/v1/projects/{project_id}/themes/nodes/{node_id}",
            patch(api::update_node).delete(api::delete_node),
        )
        .route(
            "/api/v1/projects/{project_id}/themes/nodes/{node_id}/move",
            post(api::move_node),
        )
        .route(
            "/api/v1/projects/{project_id}/themes/nodes/{node_id}/merge",
            post(api::merge_node),
        )
        .route(
            "/api/v1/projects/{project_id}/themes/nodes/{node_id}/split",
            post(api::split_node),
        )
        .route(
            "/api/v1/projects/{project_id}/themes/nodes/{node_id}/restore",
            post(api::restore_node),
        )
        .route(
            "/api/v1/projects/{project_id}/themes/placements",
            post(api::place_codes),
        )
        .route(
            "/api/v1/projects/{project_id}/themes/quotes",
            get(api::quotes),
        )
        .route(
            "/api/v1/projects/{project_id}/themes/trace/consensus/{coding_id}",
            get(api::trace_quote),
        )
        .route(
            "/api/v1/projects/{project_id}/themes/trace/codings/{coding_id}",
            get(api::trace_coding),
        )
}
