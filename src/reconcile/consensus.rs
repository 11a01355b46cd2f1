//! The consensus layer and the agreed (consensus) codebook: the lead edits the
//! layer directly, renames, merges and splits agreed codes; every consensus
//! coding follows, and every change is audited.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::service::require_consensus_reader;
use super::store::{self, AgreedCode, ConsensusCoding, NewConsensus};
use crate::coding::api::{TranscriptJson, UserJson};
use crate::coding::blinding::Viewer;
use crate::coding::model::{self as coding_model};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{AgreedCodeId, ConsensusCodingId, TranscriptId};
use crate::error::{AppError, FieldErrors};
use crate::layers::{self, Actions, Layer, Span, SpanChange};
use crate::projects::member::Member;
use crate::projects::model::Role;
use crate::state::AppState;

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

fn json(value: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn can_edit(member: &Member) -> bool {
    member.require(&[Role::Lead]).is_ok() && member.project.archived_at.is_none()
}

pub async fn layer_data(
    state: &AppState,
    member: &Member,
    transcript_id: TranscriptId,
) -> Result<LayerData, AppError> {
    require_consensus_reader(state, member, transcript_id).await?;
    let mut conn = state.db.acquire().await?;
    let t = crate::transcripts::store::get_transcript(&mut conn, member.project_id, transcript_id)
        .await?;
    if t.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    let codes = store::list_agreed(&mut conn, member.project_id).await?;
    let codings = store::list_consensus(&mut conn, member.project_id, Some(transcript_id)).await?;
    let editable = can_edit(member);
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

async fn announce(
    tx: &mut PgConnection,
    member: &Member,
    action: Action,
    transcript: Option<TranscriptId>,
    entity: uuid::Uuid,
    (before, after): (Option<serde_json::Value>, serde_json::Value),
) -> Result<(), AppError> {
    audit::record(
        tx,
        Change::new(Some(member.user.id), action)
            .project(member.project_id)
            .entity(entity)
            .transcript(transcript)
            .before_value(before)
            .after_value(Some(after)),
    )
    .await
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

async fn live_code(
    conn: &mut PgConnection,
    member: &Member,
    id: AgreedCodeId,
) -> Result<AgreedCode, AppError> {
    match store::get_agreed(conn, member.project_id, id).await {
        Ok(code) if !code.deleted => Ok(code),
        Ok(_) | Err(AppError::NotFound) => Err(AppError::field(
            "code_id",
            "Choose a code of the agreed codebook.",
        )),
        Err(e) => Err(e),
    }
}

async fn text_length(
    conn: &mut PgConnection,
    member: &Member,
    transcript: TranscriptId,
) -> Result<i64, AppError> {
    let t = crate::transcripts::store::get_transcript(conn, member.project_id, transcript).await?;
    if t.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    Ok(t.char_count as i64)
}

/// The consensus layer as the one write protocol (crate::layers) sees it:
/// leads write it, once they may read it, with codes of the agreed codebook.
pub struct ConsensusLayer<'a> {
    member: &'a Member,
}

impl<'a> ConsensusLayer<'a> {
    pub fn new(member: &'a Member) -> Self {
        Self { member }
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
            created_by: self.member.user.id,
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
        self.member.require(&[Role::Lead])?;
        self.member.require_active()
    }

    async fn open(
        &self,
        conn: &mut PgConnection,
        transcript: TranscriptId,
        code: Option<AgreedCodeId>,
        errors: &mut FieldErrors,
    ) -> Result<i64, AppError> {
        let member = self.member;
        Viewer::load(conn, member)
            .await?
            .require_consensus(transcript)?;
        let length = text_length(conn, member, transcript).await?;
        if let Some(code) = code {
            match live_code(conn, member, code).await {
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
            project: self.member.project_id,
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
        match store::get_consensus(conn, self.member.project_id, id).await {
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
        Change::new(Some(self.member.user.id), action)
            .project(self.member.project_id)
            .entity(coding.id.0)
            .transcript(coding.transcript_id)
    }
}

/// The lead adds a span to the consensus layer directly (recorded). A retry
/// with the same id and body returns the same coding.
pub async fn create_coding(
    state: &AppState,
    member: &Member,
    transcript: TranscriptId,
    body: NewCoding,
) -> Result<(ConsensusCoding, bool), AppError> {
    let mut tx = state.begin().await?;
    let made = layers::create(
        &mut tx,
        &ConsensusLayer::new(member),
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
    tx.commit().await?;
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
    state: &AppState,
    member: &Member,
    id: ConsensusCodingId,
    change: CodingChange,
) -> Result<ConsensusCoding, AppError> {
    let mut tx = state.begin().await?;
    let after = layers::update(
        &mut tx,
        &ConsensusLayer::new(member),
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
    tx.commit().await?;
    Ok(after)
}

pub async fn set_coding_deleted(
    state: &AppState,
    member: &Member,
    id: ConsensusCodingId,
    deleted: bool,
) -> Result<ConsensusCoding, AppError> {
    let mut tx = state.begin().await?;
    let coding = layers::set_deleted(&mut tx, &ConsensusLayer::new(member), id, deleted).await?;
    tx.commit().await?;
    Ok(coding)
}

#[derive(Debug, Deserialize)]
pub struct NewCode {
    pub id: AgreedCodeId,
    pub name: String,
    pub color: Option<String>,
    #[serde(default)]
    pub definition: String,
}

/// A colour for a new agreed code: one no live agreed code uses, if any is left.
pub fn agreed_color(agreed: &[AgreedCode]) -> &'static str {
    coding_model::next_color(
        agreed
            .iter()
            .filter(|a| !a.deleted)
            .map(|a| a.color.as_str()),
    )
}

fn require_codebook_editor(member: &Member) -> Result<(), AppError> {
    member.require(&[Role::Lead])?;
    member.require_active()
}

/// A new agreed code, with the client's id (a retry returns the same code).
pub async fn create_code(
    state: &AppState,
    member: &Member,
    body: NewCode,
) -> Result<(AgreedCode, bool), AppError> {
    require_codebook_editor(member)?;
    let mut errors = FieldErrors::new();
    let name = coding_model::parse_code_name(&mut errors, &body.name);
    coding_model::check_long_text(&mut errors, "definition", &body.definition);
    let mut tx = state.begin().await?;
    let agreed = store::list_agreed(&mut tx, member.project_id).await?;
    let color = match &body.color {
        Some(c) => coding_model::parse_color(&mut errors, c),
        None => agreed_color(&agreed).to_owned(),
    };
    errors.into_result()?;
    let code = AgreedCode {
        id: body.id,
        name,
        definition: body.definition.trim().to_owned(),
        inclusion: String::new(),
        exclusion: String::new(),
        example: String::new(),
        color,
        example_coding_id: None,
        merged_into: None,
        version: 1,
        deleted: false,
        parent_id: None,
        owner_id: None,
    };
    let Some(created) =
        store::insert_agreed(&mut tx, member.project_id, &code, member.user.id).await?
    else {
        let existing = store::get_agreed(&mut tx, member.project_id, body.id)
            .await
            .map_err(|_| AppError::stale(&serde_json::json!({ "detail": "This id is taken." })))?;
        return if existing.name == code.name && !existing.deleted {
            Ok((existing, false))
        } else {
            Err(AppError::stale(&existing))
        };
    };
    announce(
        &mut tx,
        member,
        Action::AgreedCodeCreated,
        None,
        created.id.0,
        (None, json(&created)),
    )
    .await?;
    tx.commit().await?;
    Ok((created, true))
}

#[derive(Debug, Deserialize)]
pub struct CodeChange {
    pub name: Option<String>,
    pub definition: Option<String>,
    pub inclusion: Option<String>,
    pub exclusion: Option<String>,
    pub example: Option<String>,
    pub color: Option<String>,
    /// A consensus coding of this code to show as its typical example (null: none).
    #[serde(default, deserialize_with = "present")]
    pub example_coding_id: Option<Option<ConsensusCodingId>>,
    pub version: i32,
}

fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<ConsensusCodingId>>, D::Error> {
    Option::<ConsensusCodingId>::deserialize(d).map(Some)
}

/// Renames or redefines an agreed code (versioned: a stale write gets 409).
pub async fn update_code(
    state: &AppState,
    member: &Member,
    id: AgreedCodeId,
    change: CodeChange,
) -> Result<AgreedCode, AppError> {
    require_codebook_editor(member)?;
    let mut tx = state.begin().await?;
    let before = store::get_agreed(&mut tx, member.project_id, id).await?;
    if before.deleted {
        return Err(AppError::NotFound);
    }
    if before.version != change.version {
        return Err(AppError::stale(&before));
    }
    let mut after = before.clone();
    let mut errors = FieldErrors::new();
    if let Some(name) = &change.name {
        after.name = coding_model::parse_code_name(&mut errors, name);
    }
    for (field, value, slot) in [
        ("definition", &change.definition, &mut after.definition),
        ("inclusion", &change.inclusion, &mut after.inclusion),
        ("exclusion", &change.exclusion, &mut after.exclusion),
        ("example", &change.example, &mut after.example),
    ] {
        if let Some(value) = value {
            coding_model::check_long_text(&mut errors, field, value);
            *slot = value.trim().to_owned();
        }
    }
    if let Some(color) = &change.color {
        after.color = coding_model::parse_color(&mut errors, color);
    }
    errors.into_result()?;
    if let Some(example) = change.example_coding_id {
        if let Some(coding) = example {
            let c = store::get_consensus(&mut tx, member.project_id, coding)
                .await
                .map_err(|_| {
                    AppError::field(
                        "example_coding_id",
                        "Choose a consensus coding of this code.",
                    )
                })?;
            if c.deleted || c.agreed_code_id != id {
                return Err(AppError::field(
                    "example_coding_id",
                    "Choose a consensus coding of this code.",
                ));
            }
            let text = quote_of(&mut tx, &c).await?;
            after.example = text;
        }
        after.example_coding_id = example;
    }
    let after = store::update_agreed(&mut tx, &after, change.version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    announce(
        &mut tx,
        member,
        Action::AgreedCodeUpdated,
        None,
        id.0,
        (Some(json(&before)), json(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

async fn quote_of(conn: &mut PgConnection, c: &ConsensusCoding) -> Result<String, AppError> {
    Ok(sqlx::query_scalar!(
        "select substr(text, $2 + 1, $3) from transcripts where id = $1",
        c.transcript_id.0,
        c.start,
        c.end - c.start
    )
    .fetch_one(conn)
    .await?
    .unwrap_or_default())
}

/// Soft-deletes an agreed code nothing uses any more (no consensus coding, no
/// coder code aligned to it); restores one.
pub async fn set_code_deleted(
    state: &AppState,
    member: &Member,
    id: AgreedCodeId,
    deleted: bool,
) -> Result<AgreedCode, AppError> {
    require_codebook_editor(member)?;
    let mut tx = state.begin().await?;
    let before = store::get_agreed(&mut tx, member.project_id, id).await?;
    if before.deleted == deleted {
        return Ok(before);
    }
    if deleted {
        let used = sqlx::query_scalar!(
            r#"select (select count(*) from consensus_codings where agreed_code_id = $1 and deleted_at is null)
                    + (select count(*) from code_alignments where agreed_code_id = $1) as "n!""#,
            id.0
        )
        .fetch_one(&mut *tx)
        .await?;
        if used > 0 {
            return Err(AppError::State(
                "This agreed code is in use (consensus codings or aligned coder codes): merge it into another instead.".into(),
            ));
        }
    }
    let mut after = before.clone();
    after.deleted = deleted;
    if !deleted {
        after.merged_into = None;
    }
    let after = store::update_agreed(&mut tx, &after, before.version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    let action = if deleted {
        Action::AgreedCodeDeleted
    } else {
        Action::AgreedCodeRestored
    };
    announce(
        &mut tx,
        member,
        action,
        None,
        id.0,
        (Some(json(&before)), json(&after)),
    )
    .await?;
    refile(&mut tx, member).await?;
    tx.commit().await?;
    Ok(after)
}

/// Merges agreed code `id` into `into`: its consensus codings and the coder
/// codes aligned to it follow; it is kept, deleted, pointing at `into`.
pub async fn merge_code(
    state: &AppState,
    member: &Member,
    id: AgreedCodeId,
    into: AgreedCodeId,
) -> Result<(AgreedCode, u64), AppError> {
    require_codebook_editor(member)?;
    if id == into {
        return Err(AppError::field(
            "into",
            "Choose another code to merge into.",
        ));
    }
    let mut tx = state.begin().await?;
    let before = store::get_agreed(&mut tx, member.project_id, id).await?;
    if before.deleted {
        return Err(AppError::NotFound);
    }
    let target = live_code(&mut tx, member, into)
        .await
        .map_err(|_| AppError::field("into", "Choose a code of the agreed codebook."))?;
    let moved_ids = store::move_consensus(&mut tx, id, into, None).await?;
    let realigned_ids = store::move_alignments(&mut tx, id, into, None).await?;
    let theme =
        crate::themes::store::follow_code(&mut tx, member.project_id, id, into, member.user.id)
            .await?;
    let merge_id = uuid::Uuid::now_v7();
    sqlx::query!(
        r#"insert into agreed_code_merges
             (id, project_id, code_id, into_id, consensus_coding_ids, coder_code_ids, placed_target, merged_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        merge_id,
        member.project_id.0,
        id.0,
        into.0,
        &moved_ids,
        &realigned_ids,
        theme.is_some(),
        member.user.id.0
    )
    .execute(&mut *tx)
    .await?;
    let (moved, realigned) = (moved_ids.len() as u64, realigned_ids.len() as u64);
    let mut after = before.clone();
    after.deleted = true;
    after.merged_into = Some(into);
    after.example_coding_id = None;
    let after = store::update_agreed(&mut tx, &after, before.version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    announce(
        &mut tx,
        member,
        Action::AgreedCodeMerged,
        None,
        id.0,
        (Some(json(&before)), serde_json::json!({ "code": after, "into": target, "merge": merge_id, "consensus_codings_moved": moved, "coder_codes_realigned": realigned, "placed_under_theme": theme })),
    )
    .await?;
    refile(&mut tx, member).await?;
    tx.commit().await?;
    Ok((after, moved))
}

/// What a merge would do, for the lead to confirm.
#[derive(Debug, Serialize)]
pub struct MergePreview {
    pub code: AgreedCode,
    pub into: AgreedCode,
    pub consensus_codings: i64,
    pub coder_codes: i64,
}

pub async fn merge_preview(
    state: &AppState,
    member: &Member,
    id: AgreedCodeId,
    into: AgreedCodeId,
) -> Result<MergePreview, AppError> {
    require_codebook_editor(member)?;
    if id == into {
        return Err(AppError::field(
            "into",
            "Choose another code to merge into.",
        ));
    }
    let mut conn = state.db.acquire().await?;
    let code = live_code(&mut conn, member, id)
        .await
        .map_err(|_| AppError::NotFound)?;
    let into = live_code(&mut conn, member, into)
        .await
        .map_err(|_| AppError::field("into", "Choose a code of the agreed codebook."))?;
    let counts = sqlx::query!(
        r#"select (select count(*) from consensus_codings where agreed_code_id = $1 and deleted_at is null) as "codings!",
                  (select count(*) from code_alignments where agreed_code_id = $1) as "coder_codes!""#,
        id.0
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(MergePreview {
        code,
        into,
        consensus_codings: counts.codings,
        coder_codes: counts.coder_codes,
    })
}

/// A merge in force, for the list of merges that can be undone.
#[derive(Debug, Clone, Serialize)]
pub struct MergeInForce {
    pub code_id: AgreedCodeId,
    pub code: String,
    pub into_id: AgreedCodeId,
    pub into: String,
    pub consensus_codings: i32,
    pub merged_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub merged_at: time::OffsetDateTime,
}

pub async fn merges_in_force(
    conn: &mut PgConnection,
    project: crate::db::ids::ProjectId,
) -> Result<Vec<MergeInForce>, AppError> {
    Ok(sqlx::query_as!(
        MergeInForce,
        r#"select m.code_id as "code_id: AgreedCodeId", c.name as code,
                  m.into_id as "into_id: AgreedCodeId", t.name as into,
                  coalesce(cardinality(m.consensus_coding_ids), 0) as "consensus_codings!",
                  u.display_name as merged_by, m.merged_at
             from agreed_code_merges m
             join agreed_codes c on c.id = m.code_id
             join agreed_codes t on t.id = m.into_id
             join users u on u.id = m.merged_by
            where m.project_id = $1 and m.undone_at is null
            order by m.merged_at desc"#,
        project.0
    )
    .fetch_all(conn)
    .await?)
}

/// What undoing a merge put back.
#[derive(Debug, Serialize)]
pub struct Unmerged {
    pub code: AgreedCode,
    pub into: AgreedCodeId,
    /// Consensus codings moved back (those still under the other code).
    pub consensus_codings_moved_back: u64,
    /// Coder codes aligned onto it again (those still aligned to the other code).
    pub coder_codes_realigned: u64,
    /// Moved codings that were deleted or moved on since, so stay where they are.
    pub left_in_place: u64,
}

/// Undoes the merge of agreed code `id` that is in force: the code comes back
/// with the consensus codings and coder codes the merge moved (as far as they
/// are still under the code it went into), and the other code loses the theme
/// placement the merge gave it, if it still has it.
pub async fn undo_merge(
    state: &AppState,
    member: &Member,
    id: AgreedCodeId,
) -> Result<Unmerged, AppError> {
    require_codebook_editor(member)?;
    let mut tx = state.begin().await?;
    let before = store::get_agreed(&mut tx, member.project_id, id).await?;
    let merge = sqlx::query!(
        r#"select id, into_id, consensus_coding_ids, coder_code_ids, placed_target
             from agreed_code_merges
            where project_id = $1 and code_id = $2 and undone_at is null
            for update"#,
        member.project_id.0,
        id.0
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(merge) = merge.filter(|_| before.deleted && before.merged_into.is_some()) else {
        return Err(AppError::State(
            "This code is not merged into another: there is no merge to undo.".into(),
        ));
    };
    let into = AgreedCodeId(merge.into_id);
    let moved_back = store::move_consensus(&mut tx, into, id, Some(&merge.consensus_coding_ids))
        .await?
        .len() as u64;
    let realigned = store::move_alignments(&mut tx, into, id, Some(&merge.coder_code_ids))
        .await?
        .len() as u64;
    let mut unplaced = None;
    if merge.placed_target {
        unplaced = sqlx::query_scalar!(
            r#"delete from theme_placements t
                using theme_placements o
                where t.project_id = $1 and t.agreed_code_id = $2
                  and o.project_id = $1 and o.agreed_code_id = $3 and o.node_id = t.node_id
                returning t.node_id"#,
            member.project_id.0,
            into.0,
            id.0
        )
        .fetch_optional(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "update agreed_code_merges set undone_at = now(), undone_by = $2 where id = $1",
        merge.id,
        member.user.id.0
    )
    .execute(&mut *tx)
    .await?;
    let mut after = before.clone();
    after.deleted = false;
    after.merged_into = None;
    let after = store::update_agreed(&mut tx, &after, before.version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    let result = Unmerged {
        code: after,
        into,
        consensus_codings_moved_back: moved_back,
        coder_codes_realigned: realigned,
        left_in_place: merge.consensus_coding_ids.len() as u64 - moved_back,
    };
    announce(
        &mut tx,
        member,
        Action::AgreedCodeMergeUndone,
        None,
        id.0,
        (
            Some(json(&before)),
            serde_json::json!({ "result": &result, "merge": merge.id, "target_unplaced_from": unplaced }),
        ),
    )
    .await?;
    refile(&mut tx, member).await?;
    tx.commit().await?;
    Ok(result)
}

#[derive(Debug, Deserialize)]
pub struct SplitRequest {
    /// Id of the new code (the client's, so a retry is harmless).
    #[serde(default)]
    pub id: Option<AgreedCodeId>,
    pub name: String,
    #[serde(default)]
    pub definition: String,
    /// The consensus codings that move to the new code.
    #[serde(default)]
    pub codings: Vec<ConsensusCodingId>,
    /// Coder codes whose alignment moves to the new code.
    #[serde(default)]
    pub coder_codes: Vec<crate::db::ids::CodeId>,
}

#[derive(Debug, Serialize)]
pub struct SplitResult {
    pub code: AgreedCode,
    pub new_code: AgreedCode,
    pub moved: u64,
}

/// Splits agreed code `id`: a new code takes the chosen consensus codings
/// (and coder codes); the rest stay.
pub async fn split_code(
    state: &AppState,
    member: &Member,
    id: AgreedCodeId,
    request: SplitRequest,
) -> Result<SplitResult, AppError> {
    require_codebook_editor(member)?;
    let mut errors = FieldErrors::new();
    let name = coding_model::parse_code_name(&mut errors, &request.name);
    coding_model::check_long_text(&mut errors, "definition", &request.definition);
    if request.codings.is_empty() && request.coder_codes.is_empty() {
        errors.add(
            "codings",
            "Choose the consensus codings that go to the new code.",
        );
    }
    errors.into_result()?;
    let mut tx = state.begin().await?;
    let before = store::get_agreed(&mut tx, member.project_id, id).await?;
    if before.deleted {
        return Err(AppError::NotFound);
    }
    let live: HashMap<ConsensusCodingId, ()> =
        store::list_consensus(&mut tx, member.project_id, None)
            .await?
            .into_iter()
            .filter(|c| c.agreed_code_id == id)
            .map(|c| (c.id, ()))
            .collect();
    if let Some(stray) = request.codings.iter().find(|c| !live.contains_key(c)) {
        return Err(AppError::field(
            "codings",
            format!("Consensus coding {stray} is not a coding of this code."),
        ));
    }
    let aligned: Vec<uuid::Uuid> = sqlx::query_scalar!(
        "select code_id from code_alignments where agreed_code_id = $1",
        id.0
    )
    .fetch_all(&mut *tx)
    .await?;
    if let Some(stray) = request.coder_codes.iter().find(|c| !aligned.contains(&c.0)) {
        return Err(AppError::field(
            "coder_codes",
            format!("Coder code {stray} is not aligned to this code."),
        ));
    }
    let agreed = store::list_agreed(&mut tx, member.project_id).await?;
    let new_code = AgreedCode {
        id: request.id.unwrap_or_default(),
        name,
        definition: request.definition.trim().to_owned(),
        inclusion: String::new(),
        exclusion: String::new(),
        example: String::new(),
        color: agreed_color(&agreed).to_owned(),
        example_coding_id: None,
        merged_into: None,
        version: 1,
        deleted: false,
        parent_id: None,
        owner_id: None,
    };
    let new_code = store::insert_agreed(&mut tx, member.project_id, &new_code, member.user.id)
        .await?
        .ok_or_else(|| AppError::stale(&serde_json::json!({ "detail": "This id is taken." })))?;
    let ids: Vec<uuid::Uuid> = request.codings.iter().map(|c| c.0).collect();
    let moved = store::move_consensus(&mut tx, id, new_code.id, Some(&ids))
        .await?
        .len() as u64;
    let coder_ids: Vec<uuid::Uuid> = request.coder_codes.iter().map(|c| c.0).collect();
    if !coder_ids.is_empty() {
        store::move_alignments(&mut tx, id, new_code.id, Some(&coder_ids)).await?;
    }
    let theme = crate::themes::store::follow_code(
        &mut tx,
        member.project_id,
        id,
        new_code.id,
        member.user.id,
    )
    .await?;
    let mut code = before.clone();
    if code
        .example_coding_id
        .is_some_and(|e| request.codings.contains(&e))
    {
        code.example_coding_id = None;
    }
    let code = store::update_agreed(&mut tx, &code, before.version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    announce(
        &mut tx,
        member,
        Action::AgreedCodeSplit,
        None,
        id.0,
        (Some(json(&before)), serde_json::json!({ "code": code, "new_code": new_code, "consensus_codings_moved": request.codings, "coder_codes_moved": request.coder_codes, "placed_under_theme": theme })),
    )
    .await?;
    refile(&mut tx, member).await?;
    tx.commit().await?;
    Ok(SplitResult {
        code,
        new_code,
        moved,
    })
}

/// One agreed code as the consensus codebook page shows it.
#[derive(Debug, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub code: AgreedCode,
    pub codings: i64,
    pub transcripts: i64,
    pub participants: i64,
    /// Coder codes aligned onto it: (coder name, code name).
    pub coder_codes: Vec<CoderCode>,
    /// Its consensus codings with their quotes, for the example and split choices.
    pub quotes: Vec<Quote>,
    /// The quote Concord suggests as its typical example (see [`suggest_example`]).
    pub suggested_example: Option<ConsensusCodingId>,
}

/// The typical example Concord suggests among a code's quotes: the one whose
/// length (in characters) is closest to the median length of them all, so
/// neither a two-word fragment nor a whole answer; the first in transcript
/// order on a tie.
pub fn suggest_example(quotes: &[Quote]) -> Option<ConsensusCodingId> {
    let lengths: Vec<usize> = quotes
        .iter()
        .map(|q| q.text.trim().chars().count())
        .collect();
    let mut sorted = lengths.clone();
    sorted.sort_unstable();
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    // Twice the median, to stay in whole numbers.
    let median2 = if n % 2 == 1 {
        2 * sorted[n / 2]
    } else {
        sorted[n / 2 - 1] + sorted[n / 2]
    };
    lengths
        .iter()
        .enumerate()
        .min_by_key(|(i, len)| ((2 * **len).abs_diff(median2), *i))
        .map(|(i, _)| quotes[i].coding_id)
}

#[derive(Debug, Serialize)]
pub struct CoderCode {
    pub id: crate::db::ids::CodeId,
    pub coder: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct Quote {
    pub coding_id: ConsensusCodingId,
    pub transcript_id: TranscriptId,
    pub transcript: String,
    pub participant: Option<String>,
    pub text: String,
}

/// The consensus codebook: every agreed code with its counts, the coder codes
/// mapped onto it, and its quotes. Leads and reviewers, and coders who are not
/// coding anything any more.
pub async fn codebook(state: &AppState, member: &Member) -> Result<Vec<Entry>, AppError> {
    let mut conn = state.db.acquire().await?;
    let viewer = crate::coding::blinding::Viewer::load(&mut conn, member).await?;
    if viewer.is_blind_anywhere() {
        return Err(AppError::State(
            "You are still coding a transcript of this project: submit it before opening the consensus codebook.".into(),
        ));
    }
    let codes = store::list_agreed(&mut conn, member.project_id).await?;
    let counts: HashMap<AgreedCodeId, store::CodeCounts> =
        store::consensus_counts(&mut conn, member.project_id)
            .await?
            .into_iter()
            .map(|c| (c.agreed_code_id, c))
            .collect();
    let aligned = sqlx::query!(
        r#"select a.agreed_code_id as "agreed: AgreedCodeId", c.id as "id: crate::db::ids::CodeId", c.name,
                  coalesce(u.display_name, 'shared') as "coder!"
             from code_alignments a
             join codes c on c.id = a.code_id
             left join users u on u.id = c.owner_id
            where a.project_id = $1 and c.deleted_at is null
            order by lower(u.display_name), lower(c.name)"#,
        member.project_id.0
    )
    .fetch_all(&mut *conn)
    .await?;
    let quotes = sqlx::query!(
        r#"select c.id as "id: ConsensusCodingId", c.agreed_code_id as "agreed: AgreedCodeId",
                  t.id as "transcript_id: TranscriptId", t.title, p.label as "participant?",
                  substr(t.text, c.start_offset + 1, c.end_offset - c.start_offset) as "text!"
             from consensus_codings c
             join transcripts t on t.id = c.transcript_id
             left join participants p on p.id = t.participant_id
            where c.project_id = $1 and c.deleted_at is null and t.deleted_at is null
            order by lower(t.title), c.start_offset"#,
        member.project_id.0
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(codes
        .into_iter()
        .map(|code| {
            let n = counts.get(&code.id);
            Entry {
                codings: n.map(|n| n.codings).unwrap_or(0),
                transcripts: n.map(|n| n.transcripts).unwrap_or(0),
                participants: n.map(|n| n.participants).unwrap_or(0),
                coder_codes: aligned
                    .iter()
                    .filter(|a| a.agreed == code.id)
                    .map(|a| CoderCode {
                        id: a.id,
                        coder: a.coder.clone(),
                        name: a.name.clone(),
                    })
                    .collect(),
                quotes: quotes
                    .iter()
                    .filter(|q| q.agreed == code.id)
                    .map(|q| Quote {
                        coding_id: q.id,
                        transcript_id: q.transcript_id,
                        transcript: q.title.clone(),
                        participant: q.participant.clone(),
                        text: q.text.clone(),
                    })
                    .collect(),
                suggested_example: None,
                code,
            }
        })
        .map(|mut e| {
            e.suggested_example = suggest_example(&e.quotes);
            e
        })
        .collect())
}

/// Merging, splitting, deleting and restoring agreed codes make and unmake
/// agreements: what the project accepts on its own is filed with them.
async fn refile(tx: &mut PgConnection, member: &Member) -> Result<(), AppError> {
    super::service::file_automatic(
        tx,
        crate::compare::report::Of::member(member),
        member.user.id,
        super::service::Refile::All,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(text: &str) -> Quote {
        Quote {
            coding_id: ConsensusCodingId::new(),
            transcript_id: TranscriptId::new(),
            transcript: "T".into(),
            participant: None,
            text: text.into(),
        }
    }

    #[test]
    fn the_suggested_example_is_the_quote_nearest_the_median_length() {
        assert_eq!(suggest_example(&[]), None);
        let one = [quote("Only this.")];
        assert_eq!(suggest_example(&one), Some(one[0].coding_id));
        // Lengths 3, 19, 22 and 200: the median is 20.5, and 19 and 22 are as
        // near to it: the first of them wins.
        let quotes = [
            quote("Yes"),
            quote("I worry about costs"),
            quote("The pump alarms often."),
            quote(&"a".repeat(200)),
        ];
        assert_eq!(suggest_example(&quotes), Some(quotes[1].coding_id));
        let odd = [
            quote("short"),
            quote(&"b".repeat(40)),
            quote(&"c".repeat(41)),
            quote(&"d".repeat(90)),
            quote("x"),
        ];
        // Lengths 5, 40, 41, 90, 1: median 40.
        assert_eq!(suggest_example(&odd), Some(odd[1].coding_id));
    }
}
