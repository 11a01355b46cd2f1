//! One write protocol for every layer (DESIGN.md invariant 4): a coder's own
//! layer and the consensus layer create, change and soft-delete codings the
//! same way, written once here. A layer says only who may write it, which
//! codebook its codes come from, and how its rows are stored ([`Layer`]).
//!
//! - Create is idempotent with the client's id: a retry with the same body
//!   returns the same coding and changes nothing; the id on another coding is
//!   a 409.
//! - Updates carry the version they were made against: a stale one gets 409
//!   with the current record, never a silent overwrite.
//! - Deletes are soft and undone by restore; doing either twice is doing it once.
//! - Each change writes its audit row and live event in the same transaction.

use std::future::Future;

use serde::Serialize;
use sqlx::PgConnection;

use crate::coding::model::{MAX_MEMO_CHARS, check_offsets};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::TranscriptId;
use crate::error::{AppError, FieldErrors};

/// The part of a coding a writer sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span<C> {
    pub code: C,
    pub start: i32,
    pub end: i32,
    pub memo: String,
}

/// A change to some of a coding's fields, made against `version`.
#[derive(Debug, Clone)]
pub struct SpanChange<C> {
    pub code: Option<C>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub memo: Option<String>,
    pub version: i32,
}

/// The actions a layer's changes are recorded under.
pub struct Actions {
    pub created: Action,
    pub updated: Action,
    pub deleted: Action,
    pub restored: Action,
}

/// One kind of layer, seen by one writer.
pub trait Layer: Sync {
    type Id: Copy + Send + Sync;
    type Code: Copy + Send + Sync + PartialEq;
    type Coding: Clone + Serialize + Send + Sync;

    const ACTIONS: Actions;

    fn id(coding: &Self::Coding) -> Self::Id;
    fn transcript(coding: &Self::Coding) -> TranscriptId;
    fn version(coding: &Self::Coding) -> i32;
    fn span(coding: &Self::Coding) -> Span<Self::Code>;
    /// A new coding of `transcript` by this writer.
    fn new_coding(
        &self,
        id: Self::Id,
        transcript: TranscriptId,
        span: Span<Self::Code>,
    ) -> Self::Coding;
    fn with_span(coding: &Self::Coding, span: Span<Self::Code>) -> Self::Coding;

    /// Whether this writer's role lets them write this kind of layer at all:
    /// asked before anything is read, so a role that may not gets 403.
    fn require_writer(&self) -> Result<(), AppError>;

    /// May this writer change their codings of `transcript` now? Answers the
    /// text's length, and adds to `errors` when `code` is not one of theirs
    /// (one round trip where the layer can: this is the hottest write path).
    fn open(
        &self,
        conn: &mut PgConnection,
        transcript: TranscriptId,
        code: Option<Self::Code>,
        errors: &mut FieldErrors,
    ) -> impl Future<Output = Result<i64, AppError>> + Send;

    /// Inserts unless the id exists; whether it was inserted.
    fn insert(
        &self,
        conn: &mut PgConnection,
        coding: &Self::Coding,
    ) -> impl Future<Output = Result<bool, AppError>> + Send;

    /// This writer's coding with `id`, deleted or not (locked for the change).
    fn find(
        &self,
        conn: &mut PgConnection,
        id: Self::Id,
    ) -> impl Future<Output = Result<Option<(Self::Coding, bool)>, AppError>> + Send;

    /// Writes `coding` if its stored version is still `version`.
    fn update(
        &self,
        conn: &mut PgConnection,
        coding: &Self::Coding,
        version: i32,
    ) -> impl Future<Output = Result<Option<Self::Coding>, AppError>> + Send;

    /// Soft-deletes or restores; `None` when it was so already.
    fn set_deleted(
        &self,
        conn: &mut PgConnection,
        coding: &Self::Coding,
        deleted: bool,
    ) -> impl Future<Output = Result<Option<Self::Coding>, AppError>> + Send;

    /// The audit row and event of a change to `coding`.
    fn change(&self, action: Action, coding: &Self::Coding) -> Change;

    /// After a first coding is made (a coder's assignment starts).
    fn created(
        &self,
        _conn: &mut PgConnection,
        _transcript: TranscriptId,
    ) -> impl Future<Output = Result<(), AppError>> + Send {
        async { Ok(()) }
    }
}

fn json(value: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

fn check_memo(errors: &mut FieldErrors, memo: &str) {
    if memo.chars().count() > MAX_MEMO_CHARS {
        errors.add("memo", format!("Use at most {MAX_MEMO_CHARS} characters."));
    }
}

/// A coding as a client asks for it, with the client's own id.
#[derive(Debug, Clone)]
pub struct NewCoding<I, C> {
    pub id: I,
    pub transcript: TranscriptId,
    pub code: C,
    pub start: i64,
    pub end: i64,
    pub memo: String,
}

/// Creates a coding with the client's id. Returns it and whether it is new.
pub async fn create<L: Layer>(
    conn: &mut PgConnection,
    layer: &L,
    new: NewCoding<L::Id, L::Code>,
) -> Result<(L::Coding, bool), AppError> {
    let NewCoding {
        id,
        transcript,
        code,
        start,
        end,
        memo,
    } = new;
    layer.require_writer()?;
    let mut errors = FieldErrors::new();
    let length = layer
        .open(conn, transcript, Some(code), &mut errors)
        .await?;
    check_offsets(&mut errors, start, end, length);
    check_memo(&mut errors, &memo);
    errors.into_result()?;
    let span = Span {
        code,
        start: start as i32,
        end: end as i32,
        memo,
    };
    let coding = layer.new_coding(id, transcript, span.clone());
    if !layer.insert(conn, &coding).await? {
        return match layer.find(conn, id).await? {
            Some((existing, false))
                if L::transcript(&existing) == transcript && L::span(&existing) == span =>
            {
                Ok((existing, false))
            }
            Some((existing, _)) => Err(AppError::stale(&existing)),
            None => Err(AppError::State(
                "This id belongs to another coding; create it with a new id.".into(),
            )),
        };
    }
    layer.created(conn, transcript).await?;
    let change = layer
        .change(L::ACTIONS.created, &coding)
        .after_value(Some(json(&coding)));
    audit::record(conn, change).await?;
    Ok((coding, true))
}

/// Changes a coding's code, boundaries or memo, if `change.version` is current.
pub async fn update<L: Layer>(
    conn: &mut PgConnection,
    layer: &L,
    id: L::Id,
    change: SpanChange<L::Code>,
) -> Result<L::Coding, AppError> {
    layer.require_writer()?;
    let (before, deleted) = layer.find(conn, id).await?.ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let length = layer
        .open(conn, L::transcript(&before), change.code, &mut errors)
        .await?;
    if deleted || L::version(&before) != change.version {
        return Err(AppError::stale(&before));
    }
    let old = L::span(&before);
    let start = change.start.unwrap_or(i64::from(old.start));
    let end = change.end.unwrap_or(i64::from(old.end));
    check_offsets(&mut errors, start, end, length);
    if let Some(memo) = &change.memo {
        check_memo(&mut errors, memo);
    }
    errors.into_result()?;
    let span = Span {
        code: change.code.unwrap_or(old.code),
        start: start as i32,
        end: end as i32,
        memo: change.memo.unwrap_or(old.memo),
    };
    let after = layer
        .update(conn, &L::with_span(&before, span), change.version)
        .await?
        .ok_or_else(|| AppError::stale(&before))?;
    let record = layer
        .change(L::ACTIONS.updated, &after)
        .before_value(Some(json(&before)))
        .after_value(Some(json(&after)));
    audit::record(conn, record).await?;
    Ok(after)
}

/// Soft delete, or its undo; the same twice is the same as once.
pub async fn set_deleted<L: Layer>(
    conn: &mut PgConnection,
    layer: &L,
    id: L::Id,
    deleted: bool,
) -> Result<L::Coding, AppError> {
    layer.require_writer()?;
    let (before, _) = layer.find(conn, id).await?.ok_or(AppError::NotFound)?;
    layer
        .open(conn, L::transcript(&before), None, &mut FieldErrors::new())
        .await?;
    let Some(after) = layer.set_deleted(conn, &before, deleted).await? else {
        return Ok(before);
    };
    let action = if deleted {
        L::ACTIONS.deleted
    } else {
        L::ACTIONS.restored
    };
    let record = layer
        .change(action, &after)
        .before_value(Some(json(&before)))
        .after_value(Some(json(&after)));
    audit::record(conn, record).await?;
    Ok(after)
}
