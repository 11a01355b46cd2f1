//! HTML handlers: the reconciliation overview and page, the consensus layer
//! (opened in the coding page) and the consensus codebook.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};

use super::consensus::{self, Entry};
use super::paused::{self, Paused};
use super::service::{self, Progress};
use super::store::Settings;
use crate::coding::pages::{CodingPage, PageInfo, script_safe_json};
use crate::db::ids::{AgreedCodeId, ConsensusCodingId, TranscriptId};
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

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
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
    let data = consensus::layer_data(&state, &member, transcript_id).await?;
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

#[derive(Template)]
#[template(path = "reconcile/codebook.html")]
pub struct CodebookPage {
    layout: Layout,
    member: Member,
    entries: Vec<Entry>,
    can_edit: bool,
    /// Transcripts whose consensus layer holds codings, by title.
    layers: Vec<(TranscriptId, String)>,
    /// "Discussed in the debriefing of …" per agreed code, for the team.
    discussed: std::collections::HashMap<uuid::Uuid, String>,
    /// Merges that can be undone, newest first.
    merges: Vec<consensus::MergeInForce>,
    /// The code just merged (after a merge), for the undo notice.
    just_merged: Option<consensus::MergeInForce>,
}

impl CodebookPage {
    fn discussed_of(&self, id: &AgreedCodeId) -> &str {
        self.discussed.get(&id.0).map_or("", String::as_str)
    }

    fn others(&self, id: &AgreedCodeId) -> Vec<&Entry> {
        self.entries.iter().filter(|e| e.code.id != *id).collect()
    }
}

#[derive(serde::Deserialize, Default)]
pub struct CodebookQuery {
    #[serde(default)]
    merged: Option<String>,
}

pub async fn show_codebook(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    axum::extract::Query(query): axum::extract::Query<CodebookQuery>,
) -> Result<Html<String>, AppError> {
    // Coders read it once they code nothing any more (checked inside).
    let entries = consensus::codebook(&state, &member).await?;
    let can_edit = member.require(&[Role::Lead]).is_ok() && member.project.archived_at.is_none();
    let mut layers: Vec<(TranscriptId, String)> = entries
        .iter()
        .flat_map(|e| e.quotes.iter())
        .map(|q| (q.transcript_id, q.transcript.clone()))
        .collect();
    layers.sort_by(|a, b| {
        a.1.to_lowercase()
            .cmp(&b.1.to_lowercase())
            .then(a.0.cmp(&b.0))
    });
    layers.dedup();
    let discussed = {
        let mut conn = state.db.acquire().await?;
        match crate::debriefings::service::team_reader(&mut conn, &member).await {
            Ok(reader) => crate::debriefings::service::discussed(&mut conn, reader)
                .await?
                .codes
                .into_iter()
                .map(|(k, v)| (k, crate::debriefings::service::DiscussedIn::sentence(&v)))
                .collect(),
            Err(_) => Default::default(),
        }
    };
    let merges = if can_edit {
        let mut conn = state.db.acquire().await?;
        consensus::merges_in_force(&mut conn, member.project_id).await?
    } else {
        Vec::new()
    };
    let just_merged = query
        .merged
        .and_then(|id| merges.iter().find(|m| m.code_id.to_string() == id).cloned());
    Ok(Html(
        CodebookPage {
            layout,
            member,
            entries,
            can_edit,
            discussed,
            layers,
            merges,
            just_merged,
        }
        .render()?,
    ))
}

fn back(member: &Member, code: AgreedCodeId) -> Redirect {
    Redirect::to(&format!(
        "/projects/{}/consensus#code-{code}",
        member.project_id
    ))
}

fn version(fields: &[(String, String)]) -> Result<i32, AppError> {
    field(fields, "version")
        .parse()
        .map_err(|_| AppError::bad_request("The form lacks the code's version."))
}

pub async fn update_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, code)): Path<(String, AgreedCodeId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let example = match field(&fields, "example_coding_id") {
        "" => None,
        id => Some(Some(id.parse::<ConsensusCodingId>().map_err(|_| {
            AppError::field("example_coding_id", "Choose a consensus coding.")
        })?)),
    };
    consensus::update_code(
        &state,
        &member,
        code,
        consensus::CodeChange {
            name: Some(field(&fields, "name").to_owned()),
            definition: Some(field(&fields, "definition").to_owned()),
            inclusion: Some(field(&fields, "inclusion").to_owned()),
            exclusion: Some(field(&fields, "exclusion").to_owned()),
            example: None,
            color: None,
            example_coding_id: example,
            version: version(&fields)?,
        },
    )
    .await?;
    Ok(back(&member, code))
}

/// Takes a consensus coding as the code's typical example (the suggested one,
/// from the codebook table), changing nothing else.
pub async fn use_example(
    State(state): State<AppState>,
    member: Member,
    Path((_, code)): Path<(String, AgreedCodeId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let example = field(&fields, "example_coding_id")
        .parse::<ConsensusCodingId>()
        .map_err(|_| AppError::field("example_coding_id", "Choose a consensus coding."))?;
    consensus::update_code(
        &state,
        &member,
        code,
        consensus::CodeChange {
            name: None,
            definition: None,
            inclusion: None,
            exclusion: None,
            example: None,
            color: None,
            example_coding_id: Some(Some(example)),
            version: version(&fields)?,
        },
    )
    .await?;
    Ok(back(&member, code))
}

#[derive(Template)]
#[template(path = "reconcile/merge_confirm.html")]
pub struct MergeConfirmPage {
    layout: Layout,
    member: Member,
    preview: consensus::MergePreview,
}

/// Merging asks first: the form names the target, this page says what the
/// merge moves and that it can be undone, and only its button merges.
pub async fn merge_code(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, code)): Path<(String, AgreedCodeId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let into: AgreedCodeId = field(&fields, "into")
        .parse()
        .map_err(|_| AppError::field("into", "Choose the code to merge into."))?;
    if field(&fields, "confirm") != "yes" {
        let preview = consensus::merge_preview(&state, &member, code, into).await?;
        return Ok(Html(
            MergeConfirmPage {
                layout,
                member,
                preview,
            }
            .render()?,
        )
        .into_response());
    }
    consensus::merge_code(&state, &member, code, into).await?;
    Ok(Redirect::to(&format!(
        "/projects/{}/consensus?merged={code}#code-{into}",
        member.project_id
    ))
    .into_response())
}

pub async fn undo_merge(
    State(state): State<AppState>,
    member: Member,
    Path((_, code)): Path<(String, AgreedCodeId)>,
) -> Result<Redirect, AppError> {
    consensus::undo_merge(&state, &member, code).await?;
    Ok(back(&member, code))
}

pub async fn split_code(
    State(state): State<AppState>,
    member: Member,
    Path((_, code)): Path<(String, AgreedCodeId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let codings = fields
        .iter()
        .filter(|(k, _)| k == "codings")
        .map(|(_, v)| {
            v.parse::<ConsensusCodingId>()
                .map_err(|_| AppError::field("codings", "Choose consensus codings."))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let result = consensus::split_code(
        &state,
        &member,
        code,
        consensus::SplitRequest {
            id: None,
            name: field(&fields, "name").to_owned(),
            definition: field(&fields, "definition").to_owned(),
            codings,
            coder_codes: Vec::new(),
        },
    )
    .await?;
    Ok(back(&member, result.new_code.id))
}
