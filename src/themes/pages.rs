//! HTML handlers: the hierarchy page, the quote list of constant comparison
//! and the trace of one quote.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::api::QuoteParams;
use super::service::{self, Editor, QuoteList, Reader};
use super::trace::{self, CodingTrace, QuoteTrace};
use crate::coding::blinding::Viewer;
use crate::db::ids::{CodingId, ConsensusCodingId};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::Path;

#[derive(Template)]
#[template(path = "themes/page.html")]
pub struct ThemesPage {
    layout: Layout,
    member: Member,
    /// Why the hierarchy is closed to this member, if it is.
    closed: Option<String>,
    can_edit: bool,
}

pub async fn show(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let (closed, can_edit) = match Reader::of(&mut conn, &member.actor()).await {
        Ok(_) => (None, Editor::of(&mut conn, &member.actor()).await.is_ok()),
        Err(AppError::State(why)) => (Some(why), false),
        Err(e) => return Err(e),
    };
    Ok(Html(
        ThemesPage {
            layout,
            member,
            closed,
            can_edit,
        }
        .render()?,
    ))
}

/// One column of quotes: its filters as given and what they found.
pub struct Column {
    pub title: String,
    pub params: QuoteParams,
    pub list: QuoteList,
}

#[derive(Template)]
#[template(path = "themes/quotes.html")]
pub struct QuotesPage {
    layout: Layout,
    member: Member,
    hierarchy: service::Hierarchy,
    columns: Vec<Column>,
    variables: Vec<String>,
    can_edit: bool,
}

impl QuotesPage {
    /// A parameter of the first column, for refilling the form.
    fn first(&self, name: &str) -> String {
        let Some(col) = self.columns.first() else {
            return String::new();
        };
        let p = &col.params;
        match name {
            "node" => p.node.clone(),
            "q" => p.q.clone(),
            "where" => p.filters.first().cloned(),
            "sort" => p.sort.clone(),
            _ => None,
        }
        .unwrap_or_default()
    }

    fn indent(&self, depth: &usize) -> String {
        "\u{2003}".repeat(*depth)
    }
}

/// The quote list: `?node=` (or `code=`), filters as in the API, and, for a
/// side-by-side comparison, a second column from `vs_node` / `vs_where`.
pub async fn quotes(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    uri: axum::http::Uri,
) -> Result<Html<String>, AppError> {
    let raw = uri.query().unwrap_or("");
    let first = QuoteParams::parse(Some(raw))?;
    let mut second = QuoteParams::default();
    let mut compare = false;
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        let value = value.into_owned();
        match key.as_ref() {
            "vs_node" if !value.is_empty() => {
                second.node = Some(value);
                compare = true;
            }
            "vs_where" if !value.is_empty() => {
                second.filters.push(value);
                compare = true;
            }
            _ => {}
        }
    }
    let mut conn = state.db.acquire().await?;
    let reader = Reader::of(&mut conn, &member.actor()).await?;
    let can_edit = Editor::of(&mut conn, &member.actor()).await.is_ok();
    let hierarchy = service::hierarchy(&mut conn, reader).await?;
    let mut columns = Vec::new();
    let mut specs = vec![first.clone()];
    if compare {
        if second.node.is_none() {
            second.node = first.node.clone();
            second.code = first.code.clone();
        }
        if second.filters.is_empty() && second.node == first.node {
            second.filters = first.filters.clone();
        }
        second.q = first.q.clone();
        second.sort = first.sort.clone();
        specs.push(second);
    }
    let has_target = first.node.is_some() || first.code.is_some();
    if has_target {
        for params in specs {
            let query = params.query()?;
            let list = service::quotes(&mut conn, reader, &query).await?;
            let target = params
                .node
                .clone()
                .or(params.code.clone())
                .unwrap_or_default();
            let mut title = String::new();
            title.push_str(
                &hierarchy
                    .nodes
                    .iter()
                    .find(|n| n.node.id.to_string() == target)
                    .map(|n| n.node.name.clone())
                    .or_else(|| {
                        hierarchy
                            .codes
                            .iter()
                            .find(|c| c.id.to_string() == target)
                            .map(|c| c.name.clone())
                    })
                    .unwrap_or_default(),
            );
            for f in &query.filters {
                title.push_str(&format!(" · {f}"));
            }
            columns.push(Column {
                title,
                params,
                list,
            });
        }
    }
    let variables = crate::participants::store::list_variables(&mut conn, member.project_id)
        .await?
        .into_iter()
        .map(|v| v.name)
        .collect();
    Ok(Html(
        QuotesPage {
            layout,
            member,
            hierarchy,
            columns,
            variables,
            can_edit,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "themes/trace.html")]
pub struct TracePage {
    layout: Layout,
    member: Member,
    trace: QuoteTrace,
}

pub async fn trace(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, id)): Path<(String, ConsensusCodingId)>,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let viewer = Viewer::load(&mut conn, &member).await?;
    let reader = Reader {
        project_id: member.project_id,
        proof: viewer.agreed_codebook()?,
    };
    let trace = trace::quote(&mut conn, reader, &viewer, id).await?;
    Ok(Html(
        TracePage {
            layout,
            member,
            trace,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "themes/trace_up.html")]
pub struct TraceUpPage {
    layout: Layout,
    member: Member,
    /// Why it is closed to this member, if it is.
    closed: Option<String>,
    trace: Option<CodingTrace>,
}

/// From a coder's coding up to the agreed code and theme it ended in.
pub async fn trace_up(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, id)): Path<(String, CodingId)>,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let viewer = Viewer::load(&mut conn, &member).await?;
    let (closed, trace) = match trace::coding(&mut conn, &member, &viewer, id).await {
        Ok(t) => (None, Some(t)),
        Err(AppError::State(why)) => (Some(why), None),
        Err(e) => return Err(e),
    };
    Ok(Html(
        TraceUpPage {
            layout,
            member,
            closed,
            trace,
        }
        .render()?,
    ))
}
