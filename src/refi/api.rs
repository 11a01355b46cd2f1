//! The export routes: `/projects/{id}/exports/codebook.qdc` (for the project
//! page's link, errors as pages) and its `/api/v1` twin (errors as problem+json).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{export, write};
use crate::coding::blinding::Viewer;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::projects::model::Role;
use crate::state::AppState;

#[tracing::instrument(skip_all, fields(project_id = %member.project_id))]
pub(super) async fn export_codebook(
    State(state): State<AppState>,
    member: Member,
) -> Result<Response, AppError> {
    member.require(&[Role::Lead])?;
    let mut conn = state.db.acquire().await?;
    let proof = Viewer::load(&mut conn, &member).await?.agreed_codebook()?;
    let codes = export::agreed_codebook(&mut conn, member.project_id, proof).await?;
    drop(conn);
    if codes.is_empty() {
        return Err(AppError::State(
            "The agreed codebook has no codes yet, and a REFI-QDA codebook needs at least one: agree on codes while reconciling, then export.".into(),
        ));
    }
    let xml = write::codebook(&codes, &export::origin());
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/xml; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}-codebook.qdc\"",
                    file_stem(&member.project.name)
                ),
            ),
        ],
        xml,
    )
        .into_response())
}

/// A project name as a file name: letters, digits, `-` and `_`, the rest `-`.
pub(crate) fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_matches('-');
    if stem.is_empty() {
        "project".into()
    } else {
        stem.chars().take(80).collect()
    }
}

#[derive(Debug, serde::Deserialize, Default)]
pub(super) struct QdpxQuery {
    #[serde(default)]
    coders: Option<String>,
}

#[tracing::instrument(skip_all, fields(project_id = %member.project_id))]
pub(super) async fn export_project(
    State(state): State<AppState>,
    member: Member,
    crate::web::extract::Query(query): crate::web::extract::Query<QdpxQuery>,
) -> Result<Response, AppError> {
    member.require(&[Role::Lead])?;
    let mut conn = state.db.acquire().await?;
    let proof = Viewer::load(&mut conn, &member).await?.agreed_codebook()?;
    let cursor = std::io::Cursor::new(Vec::new());
    let options = export::QdpxOptions {
        coder_layers: matches!(query.coders.as_deref(), Some("1" | "true" | "on")),
    };
    let bytes = export::write_qdpx(
        &mut conn,
        &member.project,
        member.user.id,
        proof,
        options,
        cursor,
    )
    .await?
    .into_inner();
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}.qdpx\"",
                    file_stem(&member.project.name)
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
