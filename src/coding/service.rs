//! Coding changes, shared by pages and API: each one transaction with its
//! audit row and live event. Blinding and layer ownership are checked here.

use serde::Deserialize;
use sqlx::PgConnection;

use super::model::{self, Code, Coding};
use super::store;
use crate::assignments::store::{self as assignments, Assignment};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{CodeId, CodingId, TranscriptId, UserId};
use crate::error::{AppError, FieldErrors};
use crate::layers::{self, Actions, Layer, Span, SpanChange};
use crate::projects::member::Actor;
use crate::projects::model::Role;

/// Whose codebook the caller codes with: their own, or the shared one (None).
pub fn codebook_owner(actor: &Actor) -> Option<UserId> {
    if !actor.project.codebook_mode.is_shared() {
        Some(actor.user_id)
    } else {
        None
    }
}

fn require_coder(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Lead, Role::Coder])?;
    actor.require_active()
}

fn not_assigned() -> AppError {
    AppError::BadRequest {
        status: axum::http::StatusCode::FORBIDDEN,
        detail: crate::messages::NOT_ASSIGNED.into(),
    }
}

fn submitted() -> AppError {
    AppError::BadRequest {
        status: axum::http::StatusCode::FORBIDDEN,
        detail: "You have submitted this transcript: your coding is read-only unless the lead reopens it.".into(),
    }
}

/// A code the caller may apply or edit: live, and in their codebook.
async fn usable_code(
    conn: &mut PgConnection,
    actor: &Actor,
    id: CodeId,
    field: &str,
) -> Result<Code, AppError> {
    match store::find_code(conn, actor.project_id, id).await? {
        Some(row) if !row.deleted && row.code.owner_id == codebook_owner(actor) => Ok(row.code),
        _ => Err(AppError::field(field, crate::messages::NOT_YOUR_CODE)),
    }
}

/// A change by `actor` to one of their own things in this project.
fn by_member(actor: &Actor, action: Action, entity: uuid::Uuid) -> Change {
    Change::new(Some(actor.user_id), action)
        .project(actor.project_id)
        .entity(entity)
}

fn json(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// The first coding starts the work.
async fn mark_in_progress(
    conn: &mut PgConnection,
    actor: &Actor,
    assignment: &Assignment,
) -> Result<(), AppError> {
    if !assignment.state.is_assigned() {
        return Ok(());
    }
    let after = assignments::set_state(
        conn,
        actor.project_id,
        assignment.id,
        crate::assignments::model::AssignmentState::InProgress,
    )
    .await?;
    audit::record(
        conn,
        by_member(actor, Action::AssignmentStarted, assignment.id.0)
            .transcript(Some(assignment.transcript_id))
            .subject(Some(actor.user_id))
            .before_value(Some(json(assignment)))
            .after_value(Some(json(&after))),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct NewCoding {
    pub id: CodingId,
    pub code_id: CodeId,
    pub start: i64,
    pub end: i64,
    #[serde(default)]
    pub memo: String,
}

/// The caller's own layer, as the one write protocol (crate::layers) sees it:
/// they write it while assigned and not yet submitted, with codes of their
/// codebook.
pub struct CoderLayer<'a> {
    actor: &'a Actor,
    /// The assignment `open` found, for `created` to start.
    assignment: std::sync::Mutex<Option<Assignment>>,
}

impl<'a> CoderLayer<'a> {
    pub fn new(actor: &'a Actor) -> Self {
        Self {
            actor,
            assignment: std::sync::Mutex::new(None),
        }
    }
}

impl Layer for CoderLayer<'_> {
    type Id = CodingId;
    type Code = CodeId;
    type Coding = Coding;

    const ACTIONS: Actions = Actions {
        created: Action::CodingCreated,
        updated: Action::CodingUpdated,
        deleted: Action::CodingDeleted,
        restored: Action::CodingRestored,
    };

    fn id(coding: &Coding) -> CodingId {
        coding.id
    }

    fn transcript(coding: &Coding) -> TranscriptId {
        coding.transcript_id
    }

    fn version(coding: &Coding) -> i32 {
        coding.version
    }

    fn span(coding: &Coding) -> Span<CodeId> {
        Span {
            code: coding.code_id,
            start: coding.start,
            end: coding.end,
            memo: coding.memo.clone(),
        }
    }

    fn new_coding(&self, id: CodingId, transcript: TranscriptId, span: Span<CodeId>) -> Coding {
        Coding {
            id,
            transcript_id: transcript,
            coder_id: self.actor.user_id,
            code_id: span.code,
            start: span.start,
            end: span.end,
            memo: span.memo,
            version: 1,
        }
    }

    fn with_span(coding: &Coding, span: Span<CodeId>) -> Coding {
        Coding {
            code_id: span.code,
            start: span.start,
            end: span.end,
            memo: span.memo,
            ..coding.clone()
        }
    }

    fn require_writer(&self) -> Result<(), AppError> {
        require_coder(self.actor)
    }

    async fn open(
        &self,
        conn: &mut PgConnection,
        transcript: TranscriptId,
        code: Option<CodeId>,
        errors: &mut FieldErrors,
    ) -> Result<i64, AppError> {
        let actor = self.actor;
        // One query for every check: this is the hottest write path.
        let context = store::layer_context(
            conn,
            actor.project_id,
            transcript,
            actor.user_id,
            code.unwrap_or(CodeId(uuid::Uuid::nil())),
        )
        .await?
        .ok_or(AppError::NotFound)?;
        let assignment = context.assignment.ok_or_else(not_assigned)?;
        if assignment.state.is_submitted() {
            return Err(submitted());
        }
        if code.is_some() && (!context.code_live || context.code_owner != codebook_owner(actor)) {
            errors.add("code_id", crate::messages::NOT_YOUR_CODE);
        }
        if let Ok(mut slot) = self.assignment.lock() {
            *slot = Some(assignment);
        }
        Ok(i64::from(context.char_count))
    }

    async fn insert(&self, conn: &mut PgConnection, coding: &Coding) -> Result<bool, AppError> {
        store::insert_coding(conn, self.actor.project_id, coding).await
    }

    async fn find(
        &self,
        conn: &mut PgConnection,
        id: CodingId,
    ) -> Result<Option<(Coding, bool)>, AppError> {
        Ok(store::find_coding_any(conn, id)
            .await?
            .filter(|r| {
                r.project_id == self.actor.project_id && r.coding.coder_id == self.actor.user_id
            })
            .map(|r| (r.coding, r.deleted)))
    }

    async fn update(
        &self,
        conn: &mut PgConnection,
        coding: &Coding,
        version: i32,
    ) -> Result<Option<Coding>, AppError> {
        Ok(
            store::update_coding(conn, self.actor.project_id, coding, version)
                .await?
                .map(|version| Coding {
                    version,
                    ..coding.clone()
                }),
        )
    }

    async fn set_deleted(
        &self,
        conn: &mut PgConnection,
        coding: &Coding,
        deleted: bool,
    ) -> Result<Option<Coding>, AppError> {
        Ok(
            store::set_coding_deleted(conn, self.actor.project_id, coding.id, deleted)
                .await?
                .map(|version| Coding {
                    version,
                    ..coding.clone()
                }),
        )
    }

    fn change(&self, action: Action, coding: &Coding) -> Change {
        by_member(self.actor, action, coding.id.0)
            .transcript(coding.transcript_id)
            .subject(self.actor.user_id)
    }

    async fn created(
        &self,
        conn: &mut PgConnection,
        _transcript: TranscriptId,
    ) -> Result<(), AppError> {
        let assignment = self.assignment.lock().ok().and_then(|mut a| a.take());
        match assignment {
            Some(assignment) => mark_in_progress(conn, self.actor, &assignment).await,
            None => Ok(()),
        }
    }
}

/// Creates a coding with the client's id. Returns it and whether it is new: a
/// retry of the same create gives the same record and changes nothing.
pub async fn create_coding(
    conn: &mut PgConnection,
    actor: &Actor,
    transcript_id: TranscriptId,
    new: NewCoding,
) -> Result<(Coding, bool), AppError> {
    let made = layers::create(
        &mut *conn,
        &CoderLayer::new(actor),
        layers::NewCoding {
            id: new.id,
            transcript: transcript_id,
            code: new.code_id,
            start: new.start,
            end: new.end,
            memo: new.memo,
        },
    )
    .await?;
    Ok(made)
}

#[derive(Debug, Deserialize)]
pub struct CodingChange {
    pub code_id: Option<CodeId>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub memo: Option<String>,
    pub version: i32,
}

pub async fn update_coding(
    conn: &mut PgConnection,
    actor: &Actor,
    id: CodingId,
    change: CodingChange,
) -> Result<Coding, AppError> {
    let after = layers::update(
        &mut *conn,
        &CoderLayer::new(actor),
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

/// Soft delete, or its undo.
pub async fn set_coding_deleted(
    conn: &mut PgConnection,
    actor: &Actor,
    id: CodingId,
    deleted: bool,
) -> Result<Coding, AppError> {
    let coding = layers::set_deleted(&mut *conn, &CoderLayer::new(actor), id, deleted).await?;
    Ok(coding)
}

#[derive(Debug, Deserialize)]
pub struct NewCode {
    pub id: CodeId,
    pub name: String,
    pub color: Option<String>,
    #[serde(default)]
    pub definition: String,
}

/// Creates a code in the caller's codebook with the client's id; a retry
/// returns the same record.
pub async fn create_code(
    conn: &mut PgConnection,
    actor: &Actor,
    new: NewCode,
) -> Result<(Code, bool), AppError> {
    require_coder(actor)?;
    let owner = codebook_owner(actor);
    let mut errors = FieldErrors::new();
    let name = model::parse_code_name(&mut errors, &new.name);
    model::check_long_text(&mut errors, "definition", &new.definition);
    let color = new
        .color
        .as_deref()
        .map(|c| model::parse_color(&mut errors, c));
    errors.into_result()?;
    let color = match color {
        Some(color) => color,
        None => {
            let used = store::code_colors(&mut *conn, actor.project_id, owner).await?;
            model::next_color(used.iter().map(String::as_str)).to_owned()
        }
    };
    let code = Code {
        id: new.id,
        owner_id: owner,
        name,
        definition: new.definition.trim().to_owned(),
        inclusion: String::new(),
        exclusion: String::new(),
        example: String::new(),
        color,
        parent_id: None,
        version: 1,
    };
    if !store::insert_code(&mut *conn, actor.project_id, &code, actor.user_id).await? {
        return match store::find_code(&mut *conn, actor.project_id, code.id).await? {
            Some(row)
                if !row.deleted && row.code.owner_id == owner && row.code.name == code.name =>
            {
                Ok((row.code, false))
            }
            _ => Err(AppError::State(
                "This id belongs to another code; create it with a new id.".into(),
            )),
        };
    }
    audit::record(
        &mut *conn,
        by_member(actor, Action::CodeCreated, code.id.0)
            .subject(owner)
            .after_value(Some(json(&code))),
    )
    .await?;
    Ok((code, true))
}

#[derive(Debug, Deserialize)]
pub struct CodeChange {
    pub name: Option<String>,
    pub definition: Option<String>,
    pub inclusion: Option<String>,
    pub exclusion: Option<String>,
    pub example: Option<String>,
    pub color: Option<String>,
    /// Absent keeps the parent; null makes it a top-level code.
    #[serde(default, deserialize_with = "present")]
    pub parent_id: Option<Option<CodeId>>,
    pub version: i32,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<CodeId>>, D::Error> {
    Option::<CodeId>::deserialize(d).map(Some)
}

pub async fn update_code(
    conn: &mut PgConnection,
    actor: &Actor,
    id: CodeId,
    change: CodeChange,
) -> Result<Code, AppError> {
    require_coder(actor)?;
    let before = usable_code(&mut *conn, actor, id, "id")
        .await
        .map_err(|_| AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let name = change
        .name
        .as_deref()
        .map(|n| model::parse_code_name(&mut errors, n));
    let color = change
        .color
        .as_deref()
        .map(|c| model::parse_color(&mut errors, c));
    for (field, text) in [
        ("definition", &change.definition),
        ("inclusion", &change.inclusion),
        ("exclusion", &change.exclusion),
        ("example", &change.example),
    ] {
        if let Some(text) = text {
            model::check_long_text(&mut errors, field, text);
        }
    }
    errors.into_result()?;
    let parent_id = change.parent_id.unwrap_or(before.parent_id);
    if let Some(parent) = parent_id {
        usable_code(&mut *conn, actor, parent, "parent_id").await?;
        // Walk up from the new parent: meeting this code would make a cycle.
        let mut cursor = Some(parent);
        let mut steps = 0;
        while let Some(current) = cursor {
            if current == id || steps > 1000 {
                return Err(AppError::field(
                    "parent_id",
                    "A code cannot sit under itself or its own subcodes.",
                ));
            }
            cursor = store::find_code(&mut *conn, actor.project_id, current)
                .await?
                .and_then(|r| r.code.parent_id);
            steps += 1;
        }
    }
    let mut after = Code {
        name: name.unwrap_or_else(|| before.name.clone()),
        definition: change
            .definition
            .map(|t| t.trim().to_owned())
            .unwrap_or_else(|| before.definition.clone()),
        inclusion: change
            .inclusion
            .map(|t| t.trim().to_owned())
            .unwrap_or_else(|| before.inclusion.clone()),
        exclusion: change
            .exclusion
            .map(|t| t.trim().to_owned())
            .unwrap_or_else(|| before.exclusion.clone()),
        example: change
            .example
            .map(|t| t.trim().to_owned())
            .unwrap_or_else(|| before.example.clone()),
        color: color.unwrap_or_else(|| before.color.clone()),
        parent_id,
        ..before.clone()
    };
    if !store::update_code(&mut *conn, actor.project_id, &after, change.version).await? {
        return Err(AppError::stale(&before));
    }
    after.version = before.version + 1;
    audit::record(
        &mut *conn,
        by_member(actor, Action::CodeUpdated, id.0)
            .subject(before.owner_id)
            .before_value(Some(json(&before)))
            .after_value(Some(json(&after))),
    )
    .await?;
    Ok(after)
}

/// Moves every coding of `id` onto `into` and deletes `id` (recorded, undoable
/// only by hand: the codings keep their new code).
pub async fn merge_code(
    conn: &mut PgConnection,
    actor: &Actor,
    id: CodeId,
    into: CodeId,
) -> Result<(Code, i64), AppError> {
    require_coder(actor)?;
    if id == into {
        return Err(AppError::field("into", crate::messages::CHOOSE_OTHER_CODE));
    }
    let source = usable_code(&mut *conn, actor, id, "id")
        .await
        .map_err(|_| AppError::NotFound)?;
    let target = usable_code(&mut *conn, actor, into, "into").await?;
    // The caller's submitted layers stay as submitted.
    let frozen: i64 = sqlx::query_scalar!(
        r#"select count(*) as "count!" from codings c join assignments a on a.transcript_id = c.transcript_id and a.user_id = c.coder_id
            where c.code_id = $1 and a.state = 'submitted' and c.deleted_at is null"#,
        id as CodeId
    )
    .fetch_one(&mut *conn)
    .await?;
    if frozen > 0 {
        return Err(AppError::State(
            "This code is used in a submitted transcript; ask the lead to reopen it first.".into(),
        ));
    }
    let moved = store::move_codings(&mut *conn, actor.project_id, id, into).await?;
    store::reparent_children(&mut *conn, actor.project_id, id, Some(into)).await?;
    store::set_code_deleted(&mut *conn, actor.project_id, id, true, Some(into)).await?;
    audit::record(
        &mut *conn,
        by_member(actor, Action::CodeMerged, id.0)
            .subject(source.owner_id)
            .before_value(Some(json(&source)))
            .after_value(Some(serde_json::json!({ "into": target, "moved": moved }))),
    )
    .await?;
    Ok((target, moved))
}

pub async fn set_code_deleted(
    conn: &mut PgConnection,
    actor: &Actor,
    id: CodeId,
    deleted: bool,
) -> Result<Code, AppError> {
    require_coder(actor)?;
    let row = store::find_code(&mut *conn, actor.project_id, id)
        .await?
        .filter(|r| r.code.owner_id == codebook_owner(actor))
        .ok_or(AppError::NotFound)?;
    if store::set_code_deleted(&mut *conn, actor.project_id, id, deleted, None).await? {
        let action = if deleted {
            Action::CodeDeleted
        } else {
            Action::CodeRestored
        };
        if deleted {
            store::reparent_children(&mut *conn, actor.project_id, id, row.code.parent_id).await?;
        }
        audit::record(
            &mut *conn,
            by_member(actor, action, id.0)
                .subject(row.code.owner_id)
                .after_value(Some(json(&row.code))),
        )
        .await?;
        // A restored code's codings count again, on complete transcripts too.
        if !deleted {
            crate::reconcile::service::file_automatic_for(
                &mut *conn,
                actor,
                crate::reconcile::service::Refile::All,
            )
            .await?;
        }
    }
    Ok(row.code)
}
