//! HTML handlers: the reconciliation overview and page, the consensus layer
//! (opened in the coding page) and the consensus codebook.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};

use super::consensus;
use super::paused::{self, Paused};
use super::service::{self, Progress};
use super::store::Settings;
use crate::coding::pages::{CodingPage, PageInfo, script_safe_json};
use crate::db::ids::TranscriptId;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::projects::model::Role;
use crate::state::AppState;
use crate::transcripts::view;
use crate::web::Layout;
use crate::web::extract::{Form, Path};

#[derive(Template)]
#[template(path = "reconcile/index.html")]
pub struct IndexPage {
    layout: Layout,
    member: Member,
    progress: Progress,
    settings: Settings,
    is_lead: bool,
}

impl IndexPage {
    /// A transcript waiting for a coder to submit (again) has a read-only page.
    fn has_paused_page(&self, reason: &str) -> bool {
        // The reason as `compare::report` gives it.
        self.is_lead && reason == "not every coder has submitted"
    }
}

pub async fn show_index(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let progress = service::progress(&mut conn, &member.actor()).await?;
    let settings = super::store::settings(&mut conn, member.project_id).await?;
    drop(conn);
    let is_lead = member.require(&[Role::Lead]).is_ok();
    Ok(Html(
        IndexPage {
            layout,
            member,
            progress,
            settings,
            is_lead,
        }
        .render()?,
    ))
}

fn checked(fields: &[(String, String)], name: &str) -> bool {
    fields.iter().any(|(k, v)| k == name && v == "on")
}

pub async fn update_settings(
    State(state): State<AppState>,
    member: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let mut tx = state.begin().await?;
    service::update_settings(
        &mut tx,
        &member.actor(),
        Settings {
            auto_accept_agreements: checked(&fields, "auto_accept_agreements"),
            require_rationale: checked(&fields, "require_rationale"),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/projects/{}/reconcile",
        member.project_id
    )))
}

#[derive(Template)]
#[template(path = "reconcile/page.html")]
pub struct ReconcilePage {
    layout: Layout,
    member: Member,
    title: String,
    transcript_id: TranscriptId,
    coder_a: String,
    coder_b: String,
    /// Three or more coders: every pair is listed, each with its own A and B.
    pairs: bool,
    data_json: String,
    lines: Vec<view::LineView>,
    can_decide: bool,
}

/// The reconciliation page while a coder's layer is reopened (or not submitted
/// yet): read-only, saying why, with the decisions made so far.
#[derive(Template)]
#[template(path = "reconcile/paused.html")]
pub struct ReconcilePausedPage {
    layout: Layout,
    member: Member,
    transcript_id: TranscriptId,
    paused: Paused,
    lines: Vec<view::LineView>,
}

pub async fn show_reconciliation(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<Html<String>, AppError> {
    if let Some(paused) = paused::find(&state, &member, transcript_id).await? {
        let lines = view::lines(&paused.text, &paused.turns);
        return Ok(Html(
            ReconcilePausedPage {
                layout,
                member,
                transcript_id,
                paused,
                lines,
            }
            .render()?,
        ));
    }
    let data = {
        let mut conn = state.db.acquire().await?;
        service::load(&mut conn, &member.actor(), transcript_id).await?
    };
    let lines = view::lines(&data.text, &data.turns);
    let name = |i: usize| {
        data.coders
            .get(i)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    Ok(Html(
        ReconcilePage {
            coder_a: name(0),
            coder_b: name(1),
            pairs: data.coders.len() > 2,
            title: data.title.clone(),
            transcript_id,
            data_json: script_safe_json(&data)?,
            can_decide: data.can_decide,
            lines,
            layout,
            member,
        }
        .render()?,
    ))
}

/// The consensus layer, opened in the coding page: the lead edits it there.
pub async fn show_layer(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, transcript_id)): Path<(String, TranscriptId)>,
) -> Result<Html<String>, AppError> {
    let mut conn = state.db.acquire().await?;
    let data = consensus::layer_data(&mut conn, &member, transcript_id).await?;
    drop(conn);
    let lines = view::lines(&data.transcript.text, &data.transcript.turns);
    let page = PageInfo {
        heading: "Consensus layer of",
        title: data.transcript.title.clone(),
        layer_label: "Consensus layer",
        state: data.assignment.state.to_owned(),
        can_edit: data.assignment.can_edit,
        transcript_id,
        codes_title: "Agreed codes",
        consensus: true,
    };
    Ok(Html(
        CodingPage {
            data_json: script_safe_json(&data)?,
            layout,
            member,
            page,
            lines,
        }
        .render()?,
    ))
}
