//! Memos and journals: who may read and write which, their checks and audit.
//!
//! - Analytic memos (on the project, an agreed code or a theme node) speak of
//!   the agreed codebook and so of every coder's reading: they are read and
//!   written by owners, leads and coders who hold the
//!   [`AgreedCodebook`](crate::coding::blinding::AgreedCodebook) proof (not
//!   still coding any transcript). Reviewers do not see memos.
//! - A reflexive journal is its author's: always open to its author (even
//!   while still coding), and read by the project's owners and leads once they
//!   are not still coding themselves (a journal speaks of its author's reading).
//!   Only its author writes it.
//! - Only a memo's author changes it; its author or a lead deletes it (soft).

use serde::Deserialize;
use sqlx::PgConnection;

use super::store::{self, Filter, Memo, NewMemo, Visible};
use crate::coding::blinding::Viewer;
use crate::db::audit::{self, Action, Change};
use crate::db::ids::UserId;
use crate::debriefings::service::parse_date;
use crate::error::{AppError, FieldErrors};
use crate::projects::member::Actor;
use crate::projects::model::Role;

/// What one member may read and write of the project's memos.
#[derive(Debug, Clone)]
pub struct Access {
    pub actor: Actor,
    pub visible: Visible,
}

impl Access {
    pub async fn of(conn: &mut PgConnection, actor: &Actor) -> Result<Self, AppError> {
        actor.require(&[Role::Lead, Role::Coder])?;
        let viewer = Viewer::of(conn, actor).await?;
        Ok(Self {
            actor: actor.clone(),
            visible: visible(actor, &viewer).ok_or(AppError::Forbidden)?,
        })
    }

    fn require_analytic(&self) -> Result<(), AppError> {
        if self.visible.analytic {
            Ok(())
        } else {
            Err(AppError::State(
                "Memos on the project, codes and themes open once you have submitted every transcript you are coding: they speak of the other coders' readings.".into(),
            ))
        }
    }
}

/// The memos `member` may read (the rules above), or None: none at all.
pub fn visible(actor: &Actor, viewer: &Viewer) -> Option<Visible> {
    actor.require(&[Role::Lead, Role::Coder]).ok()?;
    let analytic = viewer.agreed_codebook().is_ok();
    Some(Visible {
        me: actor.user_id,
        journals: analytic && actor.require(&[Role::Lead]).is_ok(),
        analytic,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MemoInput {
    /// project, code, node or journal (for a new memo).
    #[serde(default)]
    pub kind: String,
    /// The agreed code or theme node (for a new memo on one).
    #[serde(default)]
    pub target_id: Option<uuid::Uuid>,
    /// `YYYY-MM-DD`; today when left out.
    #[serde(default)]
    pub written_on: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// For a change: the version read.
    #[serde(default)]
    pub version: Option<i32>,
}

fn check_text(input: &MemoInput) -> Result<String, AppError> {
    let mut errors = FieldErrors::new();
    let written_on = match input.written_on.as_deref().map(str::trim) {
        None | Some("") => time::OffsetDateTime::now_utc().date().to_string(),
        Some(d) => match parse_date(d) {
            Some(_) => d.to_owned(),
            None => {
                errors.add("written_on", crate::messages::DATE_FORMAT);
                String::new()
            }
        },
    };
    if input.title.chars().count() > 200 {
        errors.add("title", crate::messages::at_most(200));
    }
    let body = input.body.trim();
    if body.is_empty() {
        errors.add("body", "Write the memo.");
    } else if body.chars().count() > 100_000 {
        errors.add("body", "At most 100000 characters.");
    }
    errors.into_result()?;
    Ok(written_on)
}

pub async fn list(
    conn: &mut PgConnection,
    access: &Access,
    mut filter: Filter,
) -> Result<Vec<Memo>, AppError> {
    if filter.kind.as_deref() != Some("journal") {
        // Asking for analytic memos one may not read says why, not "none".
        if filter.kind.is_some() || filter.target.is_some() {
            access.require_analytic()?;
        }
    }
    if filter.limit == 0 {
        filter.limit = 1000;
    }
    store::list(conn, access.actor.project_id, access.visible, &filter).await
}

pub async fn get(
    conn: &mut PgConnection,
    access: &Access,
    id: uuid::Uuid,
) -> Result<Memo, AppError> {
    store::list(
        conn,
        access.actor.project_id,
        access.visible,
        &Filter {
            id: Some(id),
            limit: 1,
            ..Filter::default()
        },
    )
    .await?
    .pop()
    .ok_or(AppError::NotFound)
}

pub async fn create(
    tx: &mut PgConnection,
    access: &Access,
    input: MemoInput,
) -> Result<Memo, AppError> {
    let project = access.actor.project_id;
    access.actor.require_active()?;
    let (code, node) = match (input.kind.as_str(), input.target_id) {
        ("journal", None) => (None, None),
        ("project", None) => {
            access.require_analytic()?;
            (None, None)
        }
        ("code", Some(id)) => {
            access.require_analytic()?;
            let live = crate::codebook::store::list_agreed(tx, project).await?;
            if !live.iter().any(|c| c.id.0 == id) {
                return Err(AppError::field(
                    "target_id",
                    crate::messages::NO_SUCH_AGREED_CODE,
                ));
            }
            (Some(id), None)
        }
        ("node", Some(id)) => {
            access.require_analytic()?;
            let reader = crate::themes::service::Reader::of(tx, &access.actor).await?;
            let live = crate::themes::store::list_nodes(tx, project, reader.proof).await?;
            if !live.iter().any(|n| n.id.0 == id) {
                return Err(AppError::field("target_id", crate::messages::NO_SUCH_THEME));
            }
            (None, Some(id))
        }
        _ => {
            return Err(AppError::field(
                "kind",
                "A memo is on the project, an agreed code (code, with its id) or a theme (node, with its id), or an entry of your journal.",
            ));
        }
    };
    let written_on = check_text(&input)?;
    let id = uuid::Uuid::now_v7();
    store::insert(
        tx,
        project,
        &NewMemo {
            id,
            kind: &input.kind,
            agreed_code_id: code,
            node_id: node,
            written_on: &written_on,
            title: input.title.trim(),
            body: input.body.trim(),
        },
        access.actor.user_id,
    )
    .await?;
    let made = get(tx, access, id).await?;
    audit::record(
        tx,
        Change::new(Some(access.actor.user_id), Action::MemoWritten)
            .project(project)
            .entity(id)
            .subject(journal_author(&made))
            .after(&made),
    )
    .await?;
    Ok(made)
}

pub async fn update(
    tx: &mut PgConnection,
    access: &Access,
    id: uuid::Uuid,
    input: MemoInput,
) -> Result<Memo, AppError> {
    let project = access.actor.project_id;
    access.actor.require_active()?;
    let before = get(tx, access, id).await?;
    if before.author_id != access.actor.user_id {
        return Err(AppError::Forbidden);
    }
    let version = input
        .version
        .ok_or_else(|| AppError::field("version", crate::messages::SEND_VERSION))?;
    let written_on = check_text(&MemoInput {
        written_on: input.written_on.clone().or(Some(before.written_on.clone())),
        ..input.clone()
    })?;
    if !store::update(
        tx,
        project,
        id,
        version,
        &written_on,
        input.title.trim(),
        input.body.trim(),
    )
    .await?
    {
        return Err(AppError::stale(&before));
    }
    let after = get(tx, access, id).await?;
    audit::record(
        tx,
        Change::new(Some(access.actor.user_id), Action::MemoUpdated)
            .project(project)
            .entity(id)
            .subject(journal_author(&after))
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

pub async fn delete(
    tx: &mut PgConnection,
    access: &Access,
    id: uuid::Uuid,
) -> Result<Memo, AppError> {
    let project = access.actor.project_id;
    access.actor.require_active()?;
    let before = get(tx, access, id).await?;
    let lead = access.actor.require(&[Role::Lead]).is_ok();
    if before.author_id != access.actor.user_id && (!lead || before.kind == "journal") {
        return Err(AppError::Forbidden);
    }
    store::delete(tx, project, id).await?;
    audit::record(
        tx,
        Change::new(Some(access.actor.user_id), Action::MemoDeleted)
            .project(project)
            .entity(id)
            .subject(journal_author(&before))
            .before(&before),
    )
    .await?;
    Ok(before)
}

/// A journal entry's author, whose entry its live event names (the event's
/// visibility follows the journal's); None for analytic memos.
fn journal_author(memo: &Memo) -> Option<UserId> {
    (memo.kind == "journal").then_some(memo.author_id)
}

/// The author filter of a list, checked against what the reader may see.
pub fn author(value: Option<&str>) -> Result<Option<UserId>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::field("author", "Not a member.")),
    }
}
