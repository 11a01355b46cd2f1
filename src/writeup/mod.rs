//! The write-up's figures over the consensus layers and the theme hierarchy:
//! saturation (computed by the pure `crate::saturation`) and the tables of
//! counts, each with a JSON twin and the tables with CSV and XLSX downloads.

mod api;
pub mod export;
pub mod order;
mod order_pages;
mod pages;
pub mod service;
pub mod tables;

use axum::routing::get;

use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/projects/{project_id}/saturation", get(pages::saturation))
        .route(
            "/projects/{project_id}/saturation/order",
            get(order_pages::show).post(order_pages::set),
        )
        .route(
            "/api/v1/projects/{project_id}/interview-order",
            get(order_pages::get_json).put(order_pages::put_json),
        )
        .route("/projects/{project_id}/tables", get(pages::tables))
        .route(
            "/projects/{project_id}/tables/download",
            get(pages::download_table),
        )
        .route(
            "/api/v1/projects/{project_id}/saturation",
            get(api::saturation),
        )
        .route("/api/v1/projects/{project_id}/tables", get(api::tables))
}
