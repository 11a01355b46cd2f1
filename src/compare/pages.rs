//! HTML handlers: the alignment page and the agreement reports.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::alignment::{self, AlignmentView};
use super::report::{self, ProjectReport};
use super::store::CoderCode;
use super::view::{self, Chart, Compared, Header, PairView, Row};
use crate::db::ids::{AgreedCodeId, CodeId, TranscriptId};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::{Form, Path, Query, field};

#[derive(Template)]
#[template(path = "compare/alignment.html")]
pub struct AlignmentPage {
    layout: Layout,
    member: Member,
    view: AlignmentView,
    /// Each coder's codes, by coder name.
    columns: Vec<(String, Vec<CoderCode>)>,
    names: HashMap<CodeId, String>,
}

impl AlignmentPage {
    fn name(&self, id: &CodeId) -> &str {
        self.names.get(id).map(String::as_str).unwrap_or("?")
    }

    fn agreed_name(&self, id: &Option<AgreedCodeId>) -> String {
        id.and_then(|id| self.view.agreed_codes.iter().find(|a| a.id == id))
            .map(|a| a.name.clone())
            .unwrap_or_default()
    }
}

pub async fn show_alignment(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    let view = {
        let mut conn = state.db.acquire().await?;
        alignment::view(&mut conn, &member.actor()).await?
    };
    let mut columns: Vec<(String, Vec<CoderCode>)> = Vec::new();
    for code in &view.codes {
        let owner = code.owner_name.clone().unwrap_or_else(|| "Shared".into());
        match columns.iter_mut().find(|(name, _)| *name == owner) {
            Some((_, list)) => list.push(code.clone()),
            None => columns.push((owner, vec![code.clone()])),
        }
    }
    let names = view
        .codes
        .iter()
        .map(|c| {
            (
                c.id,
                format!("{} ({})", c.name, c.owner_name.clone().unwrap_or_default()),
            )
        })
        .collect();
    Ok(Html(
        AlignmentPage {
            layout,
            member,
            view,
            columns,
            names,
        }
        .render()?,
    ))
}

fn parse_code(value: &str, name: &str) -> Result<CodeId, AppError> {
    value
        .parse()
        .map_err(|_| AppError::field(name, "Not a valid code id."))
}

/// Back to the alignment page, at the row acted on (`code-…`) or the suggestions.
fn back(member: &Member, anchor: &str) -> Redirect {
    Redirect::to(&format!(
        "/projects/{}/alignment#{anchor}",
        member.project_id
    ))
}

/// A new agreed code from the ticked `code_ids` (an accepted pair, or one code kept as is).
pub async fn create_agreed(
    State(state): State<AppState>,
    member: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let codes = fields
        .iter()
        .filter(|(k, _)| k == "code_ids")
        .map(|(_, v)| parse_code(v, "code_ids"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut tx = state.begin().await?;
    alignment::create_agreed(
        &mut tx,
        &member.actor(),
        &codes,
        field(&fields, "name"),
        field(&fields, "definition"),
    )
    .await?;
    tx.commit().await?;
    let anchor = match codes.as_slice() {
        [one] => format!("code-{one}"),
        _ => "suggestions".to_owned(),
    };
    Ok(back(&member, &anchor))
}

pub async fn map_code(
    State(state): State<AppState>,
    member: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let code = parse_code(field(&fields, "code_id"), "code_id")?;
    // No agreed code is chosen for the lead: the select starts on "Choose…".
    let agreed: AgreedCodeId = field(&fields, "agreed_code_id").parse().map_err(|_| {
        AppError::field(
            "agreed_code_id",
            "Choose the agreed code to map this code onto.",
        )
    })?;
    let mut tx = state.begin().await?;
    alignment::map_onto(&mut tx, &member.actor(), code, agreed).await?;
    tx.commit().await?;
    Ok(back(&member, &format!("code-{code}")))
}

pub async fn unalign_code(
    State(state): State<AppState>,
    member: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let code = parse_code(field(&fields, "code_id"), "code_id")?;
    let mut tx = state.begin().await?;
    alignment::unalign(&mut tx, &member.actor(), code).await?;
    tx.commit().await?;
    Ok(back(&member, &format!("code-{code}")))
}

#[derive(Deserialize)]
pub struct LevelQuery {
    level: Option<String>,
}

const LEVELS: [(&str, &str); 5] = [
    ("line", "Line"),
    ("sentence", "Sentence"),
    ("paragraph", "Paragraph"),
    ("turn", "Speaker turn"),
    ("character", "Character"),
];

#[derive(Template)]
#[template(path = "compare/agreement.html")]
pub struct AgreementPage {
    layout: Layout,
    member: Member,
    report: ProjectReport,
    level: &'static str,
    levels: [(&'static str, &'static str); 5],
    headers: Vec<Header>,
    rows: Vec<Row>,
    chart: Chart,
    /// The coders compared, as the heading names them.
    compared: Vec<Compared>,
    /// Shown at the top when the level has too few units for its figures.
    warning: Option<String>,
    /// Set on a transcript's page.
    transcript: Option<(TranscriptId, String)>,
    discrepancies: Vec<PairView>,
    /// Macro means, each with the number of codes it averages.
    means: Vec<String>,
}

pub async fn show_agreement(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Query(query): Query<LevelQuery>,
) -> Result<Html<String>, AppError> {
    let level = report::parse_level(query.level.as_deref())?;
    let report = report::build(&state, &member.actor(), level, None).await?;
    let page = AgreementPage {
        layout,
        headers: view::headers(&report),
        rows: view::rows(&report, None),
        means: view::macro_means(&report, None),
        chart: view::chart(&report, None),
        compared: view::compared(&report),
        warning: view::warning(&report, None),
        level: report::level_name(level),
        levels: LEVELS,
        transcript: None,
        discrepancies: Vec::new(),
        member,
        report,
    };
    Ok(Html(page.render()?))
}

pub async fn show_transcript_agreement(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
    Query(query): Query<LevelQuery>,
) -> Result<Html<String>, AppError> {
    let level = report::parse_level(query.level.as_deref())?;
    let report = report::build(&state, &member.actor(), level, Some(transcript_id)).await?;
    let Some(info) = report.included.first() else {
        let why = report
            .excluded
            .first()
            .map(|e| e.reason)
            .unwrap_or("it cannot be compared");
        return Err(AppError::State(format!(
            "This transcript is not in the report: {why}."
        )));
    };
    let transcript = Some((info.id, info.title.clone()));
    let page = AgreementPage {
        layout,
        headers: view::headers(&report),
        rows: view::rows(&report, Some(0)),
        means: view::macro_means(&report, Some(0)),
        chart: view::chart(&report, Some(0)),
        compared: view::compared(&report),
        warning: view::warning(&report, Some(0)),
        discrepancies: view::discrepancies(&report, 0),
        level: report::level_name(level),
        levels: LEVELS,
        transcript,
        member,
        report,
    };
    Ok(Html(page.render()?))
}

pub async fn download_csv(
    State(state): State<AppState>,
    member: Member,
    Query(query): Query<LevelQuery>,
) -> Result<Response, AppError> {
    let level = report::parse_level(query.level.as_deref())?;
    let report = report::build(&state, &member.actor(), level, None).await?;
    let csv = report::to_csv(&report)?;
    let name = format!(
        "attachment; filename=\"agreement-{}.csv\"",
        report::level_name(level)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        csv,
    )
        .into_response())
}
