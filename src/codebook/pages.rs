//! HTML handlers of the consensus codebook: the page, and its forms to
//! rename, redefine, choose an example, merge (after a confirmation page),
//! undo a merge and split.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::model::{CodeChange, Entry, MergeInForce, MergePreview, SplitRequest};
use super::service;
use crate::db::ids::{AgreedCodeId, ConsensusCodingId, TranscriptId};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::{Form, Path, field};

#[derive(Template)]
#[template(path = "codebook/index.html")]
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
    merges: Vec<MergeInForce>,
    /// The code just merged (after a merge), for the undo notice.
    just_merged: Option<MergeInForce>,
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
    let actor = member.actor();
    let mut conn = state.db.acquire().await?;
    // Coders read it once they code nothing any more (checked inside).
    let entries = service::codebook(&mut conn, &actor).await?;
    let can_edit = service::can_edit(&actor);
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
        match crate::debriefings::service::team_reader(&mut conn, &member.actor()).await {
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
        service::merges_in_force(&mut conn, &actor).await?
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

async fn update(
    state: &AppState,
    member: &Member,
    code: AgreedCodeId,
    change: CodeChange,
) -> Result<(), AppError> {
    let mut tx = state.begin().await?;
    service::update(&mut tx, &member.actor(), code, change).await?;
    tx.commit().await?;
    Ok(())
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
            AppError::field(
                "example_coding_id",
                crate::messages::CHOOSE_CONSENSUS_CODING,
            )
        })?)),
    };
    update(
        &state,
        &member,
        code,
        CodeChange {
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
        .map_err(|_| {
            AppError::field(
                "example_coding_id",
                crate::messages::CHOOSE_CONSENSUS_CODING,
            )
        })?;
    update(
        &state,
        &member,
        code,
        CodeChange {
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
#[template(path = "codebook/merge_confirm.html")]
pub struct MergeConfirmPage {
    layout: Layout,
    member: Member,
    preview: MergePreview,
}

/// Merging asks first: the form names the target, this page says what the
/// merge moves and that it can be undone, and only its button merges.
pub async fn merge_code(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Path((_, code)): Path<(String, AgreedCodeId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let into: AgreedCodeId = field(&fields, "into")
        .parse()
        .map_err(|_| AppError::field("into", "Choose the code to merge into."))?;
    if field(&fields, "confirm") != "yes" {
        let mut conn = state.db.acquire().await?;
        let preview = service::merge_preview(&mut conn, &member.actor(), code, into).await?;
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
    let mut tx = state.begin().await?;
    service::merge(&mut tx, &member.actor(), code, into).await?;
    tx.commit().await?;
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
    let mut tx = state.begin().await?;
    service::undo_merge(&mut tx, &member.actor(), code).await?;
    tx.commit().await?;
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
    let mut tx = state.begin().await?;
    let result = service::split(
        &mut tx,
        &member.actor(),
        code,
        SplitRequest {
            id: None,
            name: field(&fields, "name").to_owned(),
            definition: field(&fields, "definition").to_owned(),
            codings,
            coder_codes: Vec::new(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(back(&member, result.new_code.id))
}
