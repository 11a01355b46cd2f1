//! The agreed codebook: the one owner of agreed codes and of the alignments
//! of coder codes onto them. Alignment (`crate::compare::alignment`),
//! reconciliation (`crate::reconcile`) and the theme hierarchy
//! (`crate::themes`) change it through [`service`]; its page and API are the
//! consensus codebook.

mod api;
pub mod model;
mod pages;
pub mod service;
pub mod store;

use crate::web::routes::Routes;
use axum::routing::{get, patch, post};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/projects/{project_id}/consensus",
            get(pages::show_codebook),
        )
        .route(
            "/projects/{project_id}/consensus/codes/{code_id}",
            post(pages::update_code),
        )
        .route(
            "/projects/{project_id}/consensus/codes/{code_id}/merge",
            post(pages::merge_code),
        )
        .route(
            "/projects/{project_id}/consensus/codes/{code_id}/example",
            post(pages::use_example),
        )
        .route(
            "/projects/{project_id}/consensus/codes/{code_id}/unmerge",
            post(pages::undo_merge),
        )
        .route(
            "/projects/{project_id}/consensus/codes/{code_id}/split",
            post(pages::split_code),
        )
        .route(
            "/api/v1/projects/{project_id}/consensus/codebook",
            get(api::get_codebook),
        )
        .route(
            "/api/v1/projects/{project_id}/consensus/codes",
            post(api::create_code),
        )
        .route(
            "/api/v1/projects/{project_id}/consensus/codes/{code_id}",
            patch(api::update_code).delete(api::delete_code),
        )
        .route(
            "/api/v1/projects/{project_id}/consensus/codes/{code_id}/restore",
            post(api::restore_code),
        )
        .route(
            "/api/v1/projects/{project_id}/consensus/codes/{code_id}/merge",
            post(api::merge_code),
        )
        .route(
            "/api/v1/projects/{project_id}/consensus/codes/{code_id}/unmerge",
            post(api::undo_merge),
        )
        .route(
            "/api/v1/projects/{project_id}/consensus/codes/{code_id}/split",
            post(api::split_code),
        )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::messages::tests::sources;

    /// The agreed codebook has one owner: a write to its tables anywhere but
    /// its store would be a change without the service's audit row, event
    /// and filing.
    #[test]
    fn only_the_codebook_store_writes_agreed_codes_alignments_and_merges() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        assert!(files.len() > 50, "found the sources");
        let owner = src.join("codebook").join("store.rs");
        let this = src.join("codebook").join("mod.rs");
        let mut found = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).expect("a readable source");
            let text = text
                .to_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            for table in ["agreed_codes", "code_alignments", "agreed_code_merges"] {
                for verb in ["insert into", "update", "delete from"] {
                    let statement = format!("{verb} {table} ");
                    if text.contains(&statement) && *file != owner && *file != this {
                        found.push(format!("{}: {statement}", file.display()));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "written outside the codebook store: {found:#?}"
        );
        let owned = std::fs::read_to_string(&owner).expect("the codebook store");
        assert!(
            owned.contains("insert into agreed_codes ("),
            "the check reads SQL as written"
        );
    }
}
