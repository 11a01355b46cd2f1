//! The quote bank of the write-up: the lead's selection of consensus quotes
//! to publish, by theme and code, ordered, lightly edited for publication
//! beside the coded text (never in it), attributed by a participant
//! attribute, and exported as CSV and DOCX.

mod api;
mod export;
pub mod model;
mod pages;
pub mod service;
pub mod store;

use axum::routing::{get, patch, post, put};
use sqlx::PgConnection;

pub use export::{csv_bytes, docx_bytes};

use crate::error::AppError;
use crate::projects::member::Actor;
use crate::themes::service::{Editor, Reader};
use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/projects/{project_id}/quote-bank", get(pages::show))
        .route(
            "/projects/{project_id}/quote-bank/quotes.csv",
            get(pages::download_csv),
        )
        .route(
            "/projects/{project_id}/quote-bank/quotes.docx",
            get(pages::download_docx),
        )
        .route(
            "/api/v1/projects/{project_id}/quote-bank",
            get(api::get_bank),
        )
        .route(
            "/api/v1/projects/{project_id}/quote-bank/quotes",
            post(api::select),
        )
        .route(
            "/api/v1/projects/{project_id}/quote-bank/quotes/{quote_id}",
            patch(api::edit).delete(api::unselect),
        )
        .route(
            "/api/v1/projects/{project_id}/quote-bank/quotes/{quote_id}/preview",
            post(api::preview),
        )
        .route(
            "/api/v1/projects/{project_id}/quote-bank/quotes/{quote_id}/refile",
            post(api::refile),
        )
        .route(
            "/api/v1/projects/{project_id}/quote-bank/order",
            put(api::reorder),
        )
        .route(
            "/api/v1/projects/{project_id}/quote-bank/attribute",
            put(api::choose_attribute),
        )
}

/// A member still coding a transcript is refused the quote bank outright
/// (403): quotes are the consensus layer.
fn closed(error: AppError) -> AppError {
    match error {
        AppError::State(_) => AppError::Forbidden,
        other => other,
    }
}

pub async fn reader(conn: &mut PgConnection, actor: &Actor) -> Result<Reader, AppError> {
    Reader::of(conn, actor).await.map_err(closed)
}

pub async fn editor(conn: &mut PgConnection, actor: &Actor) -> Result<Editor, AppError> {
    Editor::of(conn, actor).await.map_err(closed)
}

/// `concord export --format quotes-csv|quotes-docx`: the quote bank as the
/// project's owner sees it, written to `out`.
pub async fn run_cli(
    state: &crate::state::AppState,
    project: crate::db::ids::ProjectId,
    format: &str,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let (actor, owner) = crate::exports::service::owner_actor(state, project)
        .await
        .map_err(|_| anyhow::anyhow!("no project with an owner has the id {project}"))?;
    let extension = if format == "quotes-docx" {
        "docx"
    } else {
        "csv"
    };
    let name = pages::file_name(&actor.project.name, extension);
    let bank = pages::for_download(state, &actor, format, &name)
        .await
        .map_err(|e| anyhow::anyhow!("{format} as {owner}: {e}"))?;
    let bytes = if extension == "docx" {
        docx_bytes(&bank, &actor.project.name)
    } else {
        csv_bytes(&bank)
    }
    .map_err(|e| anyhow::anyhow!("{format}: {e}"))?;
    std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "Wrote {} ({} quotes, {} bytes)",
        out.display(),
        bank.current().count(),
        bytes.len()
    );
    Ok(())
}
