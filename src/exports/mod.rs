//! Exports for the end of a study: coded segments, the codebook, the
//! decision ledger, the agreement report and the audit log, as CSV or XLSX,
//! streamed as they are written. The Exports page lists them with what the
//! member may make; `concord export` makes them from the command line.

pub mod agreement;
pub mod cli;
pub mod codebook;
pub mod ledger;
pub mod model;
pub mod own_codebook;
mod pages;
mod segments;
pub mod service;
mod sink;
mod store;

use axum::routing::get;

use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/projects/{project_id}/exports", get(pages::show_exports))
        .route(
            "/projects/{project_id}/exports/codebook.html",
            get(pages::show_codebook_html),
        )
        .route(
            "/projects/{project_id}/exports/segments.csv",
            get(pages::segments_csv),
        )
        .route(
            "/projects/{project_id}/exports/segments.xlsx",
            get(pages::segments_xlsx),
        )
        .route(
            "/projects/{project_id}/exports/codebook.csv",
            get(pages::codebook_csv),
        )
        .route(
            "/projects/{project_id}/exports/codebook.docx",
            get(pages::codebook_docx),
        )
        .route(
            "/projects/{project_id}/exports/codebook.xlsx",
            get(pages::codebook_xlsx),
        )
        .route(
            "/projects/{project_id}/exports/ledger.csv",
            get(pages::ledger_csv),
        )
        .route(
            "/projects/{project_id}/exports/ledger.docx",
            get(pages::ledger_docx),
        )
        .route(
            "/projects/{project_id}/exports/agreement.xlsx",
            get(pages::agreement_xlsx),
        )
        .route(
            "/projects/{project_id}/exports/agreement.docx",
            get(pages::agreement_docx),
        )
        .route(
            "/projects/{project_id}/exports/audit.csv",
            get(pages::audit_csv),
        )
        .route(
            "/projects/{project_id}/exports/own-codebook.csv",
            get(pages::own_codebook_csv),
        )
        .route(
            "/projects/{project_id}/exports/own-codebook.xlsx",
            get(pages::own_codebook_xlsx),
        )
        .route(
            "/projects/{project_id}/exports/own-codebook.docx",
            get(pages::own_codebook_docx),
        )
        .route(
            "/api/v1/projects/{project_id}/exports",
            get(pages::list_exports),
        )
}
