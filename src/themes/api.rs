//! `/api/v1` twins of the theme hierarchy page. Every change answers the
//! changed node (or placements); a stale version is 409 with the current state.

use axum::extract::State;

use crate::web::extract::Query;
use axum::http::StatusCode;
use serde::Deserialize;

use super::model::{Node, Placement};
use super::service::{
    self, CodeRef, Editor, Hierarchy, NewNodeInput, NodeEdit, NodeMove, QuoteList, Reader,
};
use super::trace::{self, CodingTrace, QuoteTrace};
use crate::db::ids::{AgreedCodeId, CodingId, ConsensusCodingId, ThemeNodeId, TranscriptId};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::extract::{Json, Path};

pub async fn get_hierarchy(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Hierarchy>, AppError> {
    let mut conn = state.db.acquire().await?;
    let reader = Reader::of(&mut conn, &member.actor()).await?;
    Ok(Json(service::hierarchy(&mut conn, reader).await?))
}

pub async fn create_node(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<NewNodeInput>,
) -> Result<(StatusCode, Json<Node>), AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let node = service::create_node(&mut tx, editor, body).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(node)))
}

pub async fn update_node(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ThemeNodeId)>,
    Json(body): Json<NodeEdit>,
) -> Result<Json<Node>, AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let node = service::update_node(&mut tx, editor, id, body).await?;
    tx.commit().await?;
    Ok(Json(node))
}

pub async fn move_node(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ThemeNodeId)>,
    Json(body): Json<NodeMove>,
) -> Result<Json<Node>, AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let node = service::move_node(&mut tx, editor, id, body).await?;
    tx.commit().await?;
    Ok(Json(node))
}

#[derive(Deserialize)]
pub struct Versioned {
    version: i32,
}

pub async fn delete_node(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ThemeNodeId)>,
    Query(query): Query<Versioned>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    service::delete_node(&mut tx, editor, id, query.version).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn restore_node(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ThemeNodeId)>,
) -> Result<Json<Node>, AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let node = service::restore_node(&mut tx, editor, id).await?;
    tx.commit().await?;
    Ok(Json(node))
}

#[derive(Deserialize)]
pub struct MergeRequest {
    version: i32,
    into: ThemeNodeId,
}

pub async fn merge_node(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ThemeNodeId)>,
    Json(body): Json<MergeRequest>,
) -> Result<Json<Node>, AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let node = service::merge_nodes(&mut tx, editor, id, body.version, body.into).await?;
    tx.commit().await?;
    Ok(Json(node))
}

#[derive(Deserialize)]
pub struct SplitRequest {
    version: i32,
    name: String,
    codes: Vec<AgreedCodeId>,
}

pub async fn split_node(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ThemeNodeId)>,
    Json(body): Json<SplitRequest>,
) -> Result<(StatusCode, Json<Node>), AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let node =
        service::split_node(&mut tx, editor, id, body.version, &body.name, &body.codes).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(node)))
}

#[derive(Deserialize)]
pub struct PlaceRequest {
    codes: Vec<CodeRef>,
    /// `null`: take the codes out of the hierarchy.
    node_id: Option<ThemeNodeId>,
    #[serde(default)]
    position: Option<usize>,
}

pub async fn place_codes(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<PlaceRequest>,
) -> Result<Json<Vec<Placement>>, AppError> {
    let mut tx = state.begin().await?;
    let editor = Editor::of(&mut tx, &member.actor()).await?;
    let placed =
        service::place_codes(&mut tx, editor, &body.codes, body.node_id, body.position).await?;
    tx.commit().await?;
    Ok(Json(placed))
}

/// `?node=` or `?code=` (neither: every agreed code), with `transcript`, `q`, `where` (repeatable:
/// `Role=Nurse`, `Experience>=10`) and `sort` (an attribute's name).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuoteParams {
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub transcript: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default, rename = "where")]
    pub filters: Vec<String>,
    #[serde(default)]
    pub sort: Option<String>,
}

fn id_param<T: std::str::FromStr>(
    value: &Option<String>,
    field: &str,
) -> Result<Option<T>, AppError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::field(field, "Not an id.")),
    }
}

impl QuoteParams {
    /// From a query string; `where` may repeat.
    pub fn parse(query: Option<&str>) -> Result<Self, AppError> {
        let mut params = Self::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if key.contains('\0') || value.contains('\0') {
                return Err(AppError::field(
                    &key,
                    "Text may not contain NUL characters.",
                ));
            }
            let value = value.into_owned();
            match key.as_ref() {
                "node" => params.node = Some(value),
                "code" => params.code = Some(value),
                "transcript" => params.transcript = Some(value),
                "q" => params.q = Some(value),
                "where" => params.filters.push(value),
                "sort" => params.sort = Some(value),
                _ => {}
            }
        }
        Ok(params)
    }

    pub fn query(&self) -> Result<service::QuoteQuery, AppError> {
        let mut filters = Vec::new();
        for (i, f) in self
            .filters
            .iter()
            .filter(|f| !f.trim().is_empty())
            .enumerate()
        {
            filters.push(service::AttrFilter::parse(f).ok_or_else(|| {
                AppError::field(
                    &format!("where[{i}]"),
                    "Write a filter as Name=value, Name>=number or Name<=number.",
                )
            })?);
        }
        let query = service::QuoteQuery {
            node: id_param(&self.node, "node")?,
            code: id_param(&self.code, "code")?,
            transcript: id_param::<TranscriptId>(&self.transcript, "transcript")?,
            search: self.q.clone().unwrap_or_default(),
            filters,
            sort_by: self
                .sort
                .clone()
                .filter(|s| !s.trim().is_empty() && s != "transcript"),
        };
        Ok(query)
    }
}

pub async fn quotes(
    State(state): State<AppState>,
    member: Member,
    uri: axum::http::Uri,
) -> Result<Json<QuoteList>, AppError> {
    let query = QuoteParams::parse(uri.query())?.query()?;
    let mut conn = state.db.acquire().await?;
    let reader = Reader::of(&mut conn, &member.actor()).await?;
    Ok(Json(service::quotes(&mut conn, reader, &query).await?))
}

pub async fn trace_quote(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, ConsensusCodingId)>,
) -> Result<Json<QuoteTrace>, AppError> {
    let mut conn = state.db.acquire().await?;
    let viewer = crate::coding::blinding::Viewer::load(&mut conn, &member).await?;
    let reader = Reader {
        project_id: member.project_id,
        proof: viewer.agreed_codebook()?,
    };
    Ok(Json(trace::quote(&mut conn, reader, &viewer, id).await?))
}

pub async fn trace_coding(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, CodingId)>,
) -> Result<Json<CodingTrace>, AppError> {
    let mut conn = state.db.acquire().await?;
    let viewer = crate::coding::blinding::Viewer::load(&mut conn, &member).await?;
    Ok(Json(trace::coding(&mut conn, &member, &viewer, id).await?))
}
