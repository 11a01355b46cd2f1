//! The consensus layer and the agreed (consensus) codebook: the lead edits the
//! layer directly, renames, merges and splits agreed codes; every consensus
//! coding follows, and every change is audited.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::store::{self, ConsensusCoding, NewConsensus};
use crate::codebook::model::AgreedCode;
use crate::coding::api::{TranscriptJson, UserJson};
use crate::coding::blinding::Viewer;
use crate::db::audit::{Action, Change};
use crate::db::ids::{AgreedCodeId, ConsensusCodingId, TranscriptId};
use crate::error::{AppError, FieldErrors};
use crate::layers::{self, Actions, Layer, Span, SpanChange};
use crate::projects::member::{Actor, Member};

#[derive(Debug, Serialize)]
pub struct LayerState {
    pub id: TranscriptId,
    pub state: &'static str,
    pub can_edit: bool,
}

/// The consensus layer in the shape of the coding page's data, so the same
/// page (static/js/coding.js) opens it; `api` points at the consensus routes.
#[derive(Debug, Serialize)]
pub struct LayerData {
    pub project_id: crate::db::ids::ProjectId,
    pub transcript_id: TranscriptId,
    pub user: UserJson,
    pub transcript: TranscriptJson,
    pub assignment: LayerState,
    pub codebook_mode: &'static str,
    pub codes: Vec<AgreedCode>,
    pub codings: Vec<ConsensusCoding>,
    pub events_url: String,
    pub api: String,
    pub layer: &'static str,
}

pub async fn layer_data(
    conn: &mut PgConnection,
    member: &Member,
    transcript_id: TranscriptId,
) -> Result<LayerData, AppError> {
    Viewer::load(&mut *conn, member)
        .await?
        .require_consensus(transcript_id)?;
    let t = crate::transcripts::store::get_transcript(&mut *conn, member.project_id, transcript_id)
        .await?;
    if t.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    let codes = crate::codebook::store::list_agreed(&mut *conn, member.project_id).await?;
    let codings = store::list_consensus(&mut *conn, member.project_id, Some(transcript_id)).await?;
    let editable = crate::codebook::service::can_edit(&member.actor());
    let project_api = format!("/api/v1/projects/{}", member.project_id);
    Ok(LayerData {
        project_id: member.project_id,
        transcript_id,
        user: UserJson {
            id: member.user.id,
            display_name: member.user.display_name.clone(),
        },
        transcript: TranscriptJson {
            lines: crate::coding::line_spans(&t.text),
            title: t.title,
            char_count: t.char_count,
            version: t.version,
            turns: t.turns.0,
            text: t.text,
        },
        assignment: LayerState {
            id: transcript_id,
            state: if editable { "in_progress" } else { "submitted" },
            can_edit: editable,
        },
        codebook_mode: "consensus",
        codes,
        codings,
        events_url: format!("{project_api}/events"),
        api: format!("{project_api}/consensus"),
        layer: "consensus",
    })
}

#[derive(Debug, Deserialize)]
pub struct NewCoding {
    pub id: ConsensusCodingId,
    pub code_id: AgreedCodeId,
    pub start: i64,
    pub end: i64,
    #[serde(default)]
    pub memo: String,
}

async fn text_length(
    conn: &mut PgConnection,
    actor: &Actor,
    transcript: TranscriptId,
) -> Result<i64, AppError> {
    let t = crate::transcripts::store::get_transcript(conn, actor.project_id, transcript).await?;
    if t.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    Ok(t.char_count as i64)
}

/// The consensus layer as the one write protocol (crate::layers) sees it:
/// leads write it, once they may read it, with codes of the agreed codebook.
pub struct ConsensusLayer<'a> {
    actor: &'a Actor,
}

impl<'a> ConsensusLayer<'a> {
    pub fn new(actor: &'a Actor) -> Self {
        Self { actor }
    }
}

impl Layer for ConsensusLayer<'_> {
    type Id = ConsensusCodingId;
    type Code = AgreedCodeId;
    type Coding = ConsensusCoding;

    const ACTIONS: Actions = Actions {
        created: Action::ConsensusCodingCreated,
        updated: Action::ConsensusCodingUpdated,
        deleted: Action::ConsensusCodingDeleted,
        restored: Action::ConsensusCodingRestored,
    };

    fn id(coding: &ConsensusCoding) -> ConsensusCodingId {
        coding.id
    }

    fn transcript(coding: &ConsensusCoding) -> TranscriptId {
        coding.transcript_id
    }

    fn version(coding: &ConsensusCoding) -> i32 {
        coding.version
    }

    fn span(coding: &ConsensusCoding) -> Span<AgreedCodeId> {
        Span {
            code: coding.agreed_code_id,
            start: coding.start,
            end: coding.end,
            memo: coding.memo.clone(),
        }
    }

    fn new_coding(
        &self,
        id: ConsensusCodingId,
        transcript: TranscriptId,
        span: Span<AgreedCodeId>,
    ) -> ConsensusCoding {
        ConsensusCoding {
            id,
            transcript_id: transcript,
            agreed_code_id: span.code,
            start: span.start,
            end: span.end,
            memo: span.memo,
            decision_id: None,
            created_by: self.actor.user_id,
            version: 1,
            deleted: false,
        }
    }

    fn with_span(coding: &ConsensusCoding, span: Span<AgreedCodeId>) -> ConsensusCoding {
        ConsensusCoding {
            agreed_code_id: span.code,
            start: span.start,
            end: span.end,
            memo: span.memo,
            ..coding.clone()
        }
    }

    fn require_writer(&self) -> Result<(), AppError> {
        crate::codebook::service::require_editor(self.actor)
    }

    async fn open(
        &self,
        conn: &mut PgConnection,
        transcript: TranscriptId,
        code: Option<AgreedCodeId>,
        errors: &mut FieldErrors,
    ) -> Result<i64, AppError> {
        let actor = self.actor;
        Viewer::of(conn, actor)
            .await?
            .require_consensus(transcript)?;
        let length = text_length(conn, actor, transcript).await?;
        if let Some(code) = code {
            match crate::codebook::service::live_code(conn, actor.project_id, code, "code_id").await
            {
                Ok(_) => {}
                Err(AppError::Invalid(found)) => {
                    for (field, messages) in found.0 {
                        for message in messages {
                            errors.add(&field, message);
                        }
                    }
                }
                Err(other) => return Err(other),
            }
        }
        Ok(length)
    }

    async fn insert(
        &self,
        conn: &mut PgConnection,
        coding: &ConsensusCoding,
    ) -> Result<bool, AppError> {
        let new = NewConsensus {
            id: coding.id,
            project: self.actor.project_id,
            transcript: coding.transcript_id,
            code: coding.agreed_code_id,
            start: coding.start,
            end: coding.end,
            memo: coding.memo.clone(),
            decision: None,
            created_by: coding.created_by,
        };
        Ok(store::insert_consensus(conn, &new).await?.is_some())
    }

    async fn find(
        &self,
        conn: &mut PgConnection,
        id: ConsensusCodingId,
    ) -> Result<Option<(ConsensusCoding, bool)>, AppError> {
        match store::get_consensus(conn, self.actor.project_id, id).await {
            Ok(coding) => {
                let deleted = coding.deleted;
                Ok(Some((coding, deleted)))
            }
            Err(AppError::NotFound) => Ok(None),
            Err(other) => Err(other),
        }
    }

    async fn update(
        &self,
        conn: &mut PgConnection,
        coding: &ConsensusCoding,
        version: i32,
    ) -> Result<Option<ConsensusCoding>, AppError> {
        store::update_consensus(conn, coding, version, false).await
    }

    async fn set_deleted(
        &self,
        conn: &mut PgConnection,
        coding: &ConsensusCoding,
        deleted: bool,
    ) -> Result<Option<ConsensusCoding>, AppError> {
        if coding.deleted == deleted {
            return Ok(None);
        }
        store::update_consensus(conn, coding, coding.version, deleted).await
    }

    fn change(&self, action: Action, coding: &ConsensusCoding) -> Change {
        Change::new(Some(self.actor.user_id), action)
            .project(self.actor.project_id)
            .entity(coding.id.0)
            .transcript(coding.transcript_id)
    }
}

/// The lead adds a span to the consensus layer directly (recorded). A retry
/// with the same id and body returns the same coding.
pub async fn create_coding(
    conn: &mut PgConnection,
    actor: &Actor,
    transcript: TranscriptId,
    body: NewCoding,
) -> Result<(ConsensusCoding, bool), AppError> {
    let made = layers::create(
        &mut *conn,
        &ConsensusLayer::new(actor),
        layers::NewCoding {
            id: body.id,
            transcript,
            code: body.code_id,
            start: body.start,
            end: body.end,
            memo: body.memo,
        },
    )
    .await?;
    Ok(made)
}

#[derive(Debug, Deserialize)]
pub struct CodingChange {
    pub code_id: Option<AgreedCodeId>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub memo: Option<String>,
    pub version: i32,
}

pub async fn update_coding(
    conn: &mut PgConnection,
    actor: &Actor,
    id: ConsensusCodingId,
    change: CodingChange,
) -> Result<ConsensusCoding, AppError> {
    let after = layers::update(
        &mut *conn,
        &ConsensusLayer::new(actor),
        id,
        SpanChange {
            code: change.code_id,
            start: change.start,
            end: change.end,
            memo: change.memo,
            version: change.version,
        },
    )
    .await?;
    Ok(after)
}

pub async fn set_coding_deleted(
    conn: &mut PgConnection,
    actor: &Actor,
    id: ConsensusCodingId,
    deleted: bool,
) -> Result<ConsensusCoding, AppError> {
    let coding = layers::set_deleted(&mut *conn, &ConsensusLayer::new(actor), id, deleted).await?;
    Ok(coding)
}
