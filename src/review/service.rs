//! Member checking: review rounds of the theme hierarchy, reviewers' comments
//! and sign-offs, and what changed since a round's snapshot.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::store;
use crate::db::audit::{self, Action, Change};
use crate::db::ids::UserId;
use crate::error::{AppError, FieldErrors};
use crate::projects::member::Actor;
use crate::projects::model::Role;
use crate::themes::model::Counts;
use crate::themes::service::{self as themes, Editor, Hierarchy, Reader};

/// A node of the frozen hierarchy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SnapNode {
    pub id: uuid::Uuid,
    pub parent_id: Option<uuid::Uuid>,
    pub name: String,
    pub definition: String,
    pub depth: usize,
    pub counts: Counts,
    /// The example quote, attributed by participant pseudonym and role only.
    pub example: Option<SnapQuote>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SnapQuote {
    pub coding_id: uuid::Uuid,
    pub text: String,
    pub attribution: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SnapCode {
    pub id: uuid::Uuid,
    pub name: String,
    pub definition: String,
    pub node_id: Option<uuid::Uuid>,
    pub counts: Counts,
}

/// What a round froze: the hierarchy as the reviewers read it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    pub participants_total: i64,
    pub nodes: Vec<SnapNode>,
    pub codes: Vec<SnapCode>,
}

async fn snapshot(conn: &mut PgConnection, reader: Reader) -> Result<Snapshot, AppError> {
    let h: Hierarchy = themes::hierarchy(conn, reader).await?;
    let examples: Vec<uuid::Uuid> = h
        .nodes
        .iter()
        .filter_map(|n| n.example.as_ref().map(|e| e.coding_id.0))
        .collect();
    let attributions = store::attributions(conn, reader.project_id, &examples).await?;
    Ok(Snapshot {
        participants_total: h.participants_total,
        nodes: h
            .nodes
            .iter()
            .map(|n| SnapNode {
                id: n.node.id.0,
                parent_id: n.node.parent_id.map(|p| p.0),
                name: n.node.name.clone(),
                definition: n.node.definition.clone(),
                depth: n.depth,
                counts: n.counts.clone(),
                example: n.example.as_ref().map(|e| SnapQuote {
                    coding_id: e.coding_id.0,
                    text: e.text.clone(),
                    attribution: attributions
                        .get(&e.coding_id.0)
                        .cloned()
                        .unwrap_or_default(),
                }),
            })
            .collect(),
        codes: h
            .codes
            .iter()
            .map(|c| SnapCode {
                id: c.id.0,
                name: c.name.clone(),
                definition: c.definition.clone(),
                node_id: c.node_id.map(|n| n.0),
                counts: c.counts.clone(),
            })
            .collect(),
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewRound {
    #[serde(default)]
    pub message: String,
    /// `YYYY-MM-DD`, optional.
    #[serde(default)]
    pub due_on: Option<String>,
    pub reviewers: Vec<UserId>,
}

fn parse_date(errors: &mut FieldErrors, value: Option<&str>) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    let parts: Vec<&str> = value.split('-').collect();
    let ok = parts.len() == 3
        && match (
            parts[0].parse::<i32>(),
            parts[1].parse::<u8>(),
            parts[2].parse::<u8>(),
        ) {
            (Ok(y), Ok(m), Ok(d)) => time::Month::try_from(m)
                .ok()
                .and_then(|m| time::Date::from_calendar_date(y, m, d).ok())
                .is_some(),
            _ => false,
        };
    if !ok {
        errors.add("due_on", crate::messages::DATE_FORMAT);
        return None;
    }
    Some(value.to_owned())
}

/// Publishes the next round: the hierarchy as it is now, frozen, for the
/// chosen reviewers (members with the reviewer role).
pub async fn publish(
    tx: &mut PgConnection,
    editor: Editor,
    input: NewRound,
) -> Result<store::Round, AppError> {
    let project = editor.reader.project_id;
    crate::themes::store::lock(tx, project).await?;
    let mut errors = FieldErrors::new();
    let due_on = parse_date(&mut errors, input.due_on.as_deref());
    if input.message.chars().count() > 10_000 {
        errors.add("message", "At most 10000 characters.");
    }
    if input.reviewers.is_empty() {
        errors.add("reviewers", "Choose at least one reviewer.");
    }
    let roles = store::roles_of(tx, project, &input.reviewers).await?;
    if input
        .reviewers
        .iter()
        .any(|r| roles.get(r) != Some(&Role::Reviewer))
    {
        errors.add(
            "reviewers",
            "Each reviewer must be a member of this project with the reviewer role.",
        );
    }
    errors.into_result()?;
    let snap = snapshot(tx, editor.reader).await?;
    if snap.nodes.is_empty() {
        return Err(AppError::State(
            "There are no themes to review yet: build the hierarchy first.".into(),
        ));
    }
    let value = serde_json::to_value(&snap).map_err(anyhow::Error::from)?;
    let round = store::insert_round(
        tx,
        project,
        input.message.trim(),
        due_on.as_deref(),
        &value,
        editor.user_id,
        &input.reviewers,
    )
    .await?;
    audit::record(
        tx,
        Change::new(Some(editor.user_id), Action::ReviewRoundPublished)
            .project(project)
            .entity(round.id)
            .after(&serde_json::json!({
                "number": round.number,
                "reviewers": input.reviewers,
                "due_on": due_on,
            })),
    )
    .await?;
    Ok(round)
}

/// Who may open a round: leads and owners (every round), and the reviewers it
/// was sent to.
pub async fn require_round(
    conn: &mut PgConnection,
    actor: &Actor,
    round: uuid::Uuid,
) -> Result<store::Round, AppError> {
    if actor.role == Role::Coder {
        return Err(AppError::Forbidden);
    }
    let found = store::round(conn, actor.project_id, round)
        .await?
        .ok_or(AppError::NotFound)?;
    match actor.role {
        Role::Owner | Role::Lead => Ok(found),
        Role::Reviewer if found.reviewers.contains(&actor.user_id) => Ok(found),
        _ => Err(AppError::NotFound),
    }
}

pub async fn rounds(conn: &mut PgConnection, actor: &Actor) -> Result<Vec<store::Round>, AppError> {
    let all = store::rounds(conn, actor.project_id).await?;
    Ok(match actor.role {
        Role::Owner | Role::Lead => all,
        Role::Reviewer => all
            .into_iter()
            .filter(|r| r.reviewers.contains(&actor.user_id))
            .collect(),
        Role::Coder => return Err(AppError::Forbidden),
    })
}

#[derive(Debug, Clone, Deserialize)]
pub struct NewComment {
    /// round, node, code or quote.
    pub target_kind: String,
    #[serde(default)]
    pub target_id: Option<uuid::Uuid>,
    pub body: String,
}

pub async fn comment(
    tx: &mut PgConnection,
    actor: &Actor,
    round: uuid::Uuid,
    input: NewComment,
) -> Result<store::Comment, AppError> {
    let found = require_round(tx, actor, round).await?;
    if found.closed_at.is_some() {
        return Err(AppError::State(crate::messages::ROUND_CLOSED.into()));
    }
    let snap: Snapshot = serde_json::from_value(found.snapshot.clone()).unwrap_or_default();
    let mut errors = FieldErrors::new();
    let body = input.body.trim();
    if body.is_empty() {
        errors.add("body", "Write the comment.");
    } else if body.chars().count() > 20_000 {
        errors.add("body", crate::messages::at_most(20_000));
    }
    let known = match (input.target_kind.as_str(), input.target_id) {
        ("round", None) => true,
        ("node", Some(id)) => snap.nodes.iter().any(|n| n.id == id),
        ("code", Some(id)) => snap.codes.iter().any(|c| c.id == id),
        ("quote", Some(id)) => snap
            .nodes
            .iter()
            .any(|n| n.example.as_ref().is_some_and(|e| e.coding_id == id)),
        _ => false,
    };
    if !known {
        errors.add(
            "target_id",
            "Comment on the round, or on a theme, code or quote of its snapshot.",
        );
    }
    errors.into_result()?;
    let comment = store::insert_comment(
        tx,
        actor.project_id,
        round,
        actor.user_id,
        &input.target_kind,
        input.target_id,
        body,
    )
    .await?;
    audit::record(
        tx,
        Change::new(Some(actor.user_id), Action::ReviewCommented)
            .project(actor.project_id)
            .entity(comment.id)
            .after(&comment),
    )
    .await?;
    Ok(comment)
}

#[derive(Debug, Clone, Deserialize)]
pub struct Answer {
    pub status: String,
    #[serde(default)]
    pub reply: String,
    pub version: i32,
}

/// The lead sets a comment's status (open, addressed, dismissed) with a reply.
pub async fn answer(
    tx: &mut PgConnection,
    editor: Editor,
    round: uuid::Uuid,
    comment: uuid::Uuid,
    input: Answer,
) -> Result<store::Comment, AppError> {
    let project = editor.reader.project_id;
    let before = store::comment(tx, project, round, comment)
        .await?
        .ok_or(AppError::NotFound)?;
    if !["open", "addressed", "dismissed"].contains(&input.status.as_str()) {
        return Err(AppError::field(
            "status",
            "Choose open, addressed or dismissed.",
        ));
    }
    if input.reply.chars().count() > 20_000 {
        return Err(AppError::field("reply", crate::messages::at_most(20_000)));
    }
    let after = store::answer(
        tx,
        comment,
        &input.status,
        input.reply.trim(),
        editor.user_id,
        input.version,
    )
    .await?
    .ok_or_else(|| AppError::stale(&before))?;
    audit::record(
        tx,
        Change::new(Some(editor.user_id), Action::ReviewCommentAnswered)
            .project(project)
            .entity(comment)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

#[derive(Debug, Clone, Deserialize)]
pub struct SignOff {
    /// confirmed or reservations.
    pub verdict: String,
    #[serde(default)]
    pub note: String,
}

pub async fn sign_off(
    tx: &mut PgConnection,
    actor: &Actor,
    round: uuid::Uuid,
    input: SignOff,
) -> Result<(), AppError> {
    let found = require_round(tx, actor, round).await?;
    if !found.reviewers.contains(&actor.user_id) {
        return Err(AppError::Forbidden);
    }
    if found.closed_at.is_some() {
        return Err(AppError::State(crate::messages::ROUND_CLOSED.into()));
    }
    if !["confirmed", "reservations"].contains(&input.verdict.as_str()) {
        return Err(AppError::field(
            "verdict",
            "Confirm the structure, or confirm it with reservations.",
        ));
    }
    if input.verdict == "reservations" && input.note.trim().is_empty() {
        return Err(AppError::field("note", "Say what your reservations are."));
    }
    store::upsert_signoff(
        tx,
        actor.project_id,
        round,
        actor.user_id,
        &input.verdict,
        input.note.trim(),
    )
    .await?;
    audit::record(
        tx,
        Change::new(Some(actor.user_id), Action::ReviewSignedOff)
            .project(actor.project_id)
            .entity(round)
            .after(&serde_json::json!({ "verdict": input.verdict, "note": input.note.trim() })),
    )
    .await?;
    Ok(())
}

pub async fn close(
    tx: &mut PgConnection,
    editor: Editor,
    round: uuid::Uuid,
) -> Result<(), AppError> {
    let project = editor.reader.project_id;
    if !store::close(tx, project, round).await? {
        return Err(AppError::State("This round is closed already.".into()));
    }
    audit::record(
        tx,
        Change::new(Some(editor.user_id), Action::ReviewRoundClosed)
            .project(project)
            .entity(round),
    )
    .await?;
    Ok(())
}

/// One difference between a round's snapshot and the hierarchy now.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Difference {
    /// node or code.
    pub what: &'static str,
    /// added, removed, renamed or moved.
    pub how: &'static str,
    pub name: String,
    pub detail: String,
}

/// What changed in the hierarchy since `snap` was taken.
pub fn changes(snap: &Snapshot, now: &Snapshot) -> Vec<Difference> {
    let mut out = Vec::new();
    let node_name = |s: &Snapshot, id: Option<uuid::Uuid>| {
        id.and_then(|id| s.nodes.iter().find(|n| n.id == id))
            .map(|n| n.name.clone())
            .unwrap_or_else(|| "the top level".into())
    };
    let then: HashMap<uuid::Uuid, &SnapNode> = snap.nodes.iter().map(|n| (n.id, n)).collect();
    let current: HashMap<uuid::Uuid, &SnapNode> = now.nodes.iter().map(|n| (n.id, n)).collect();
    for n in &now.nodes {
        match then.get(&n.id) {
            None => out.push(Difference {
                what: "node",
                how: "added",
                name: n.name.clone(),
                detail: format!("under {}", node_name(now, n.parent_id)),
            }),
            Some(old) => {
                if old.name != n.name {
                    out.push(Difference {
                        what: "node",
                        how: "renamed",
                        name: n.name.clone(),
                        detail: format!("was {}", old.name),
                    });
                }
                if old.parent_id != n.parent_id {
                    out.push(Difference {
                        what: "node",
                        how: "moved",
                        name: n.name.clone(),
                        detail: format!(
                            "from {} to {}",
                            node_name(snap, old.parent_id),
                            node_name(now, n.parent_id)
                        ),
                    });
                }
            }
        }
    }
    for n in &snap.nodes {
        if !current.contains_key(&n.id) {
            out.push(Difference {
                what: "node",
                how: "removed",
                name: n.name.clone(),
                detail: String::new(),
            });
        }
    }
    let then: HashMap<uuid::Uuid, &SnapCode> = snap.codes.iter().map(|c| (c.id, c)).collect();
    let current: HashMap<uuid::Uuid, &SnapCode> = now.codes.iter().map(|c| (c.id, c)).collect();
    let place = |s: &Snapshot, id: Option<uuid::Uuid>| match id {
        None => "unplaced".to_owned(),
        Some(_) => node_name(s, id),
    };
    for c in &now.codes {
        match then.get(&c.id) {
            None => out.push(Difference {
                what: "code",
                how: "added",
                name: c.name.clone(),
                detail: place(now, c.node_id),
            }),
            Some(old) => {
                if old.name != c.name {
                    out.push(Difference {
                        what: "code",
                        how: "renamed",
                        name: c.name.clone(),
                        detail: format!("was {}", old.name),
                    });
                }
                if old.node_id != c.node_id {
                    out.push(Difference {
                        what: "code",
                        how: "moved",
                        name: c.name.clone(),
                        detail: format!(
                            "from {} to {}",
                            place(snap, old.node_id),
                            place(now, c.node_id)
                        ),
                    });
                }
            }
        }
    }
    for c in &snap.codes {
        if !current.contains_key(&c.id) {
            out.push(Difference {
                what: "code",
                how: "removed",
                name: c.name.clone(),
                detail: String::new(),
            });
        }
    }
    out
}

/// A round as its page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RoundView {
    pub round: store::Round,
    pub snapshot: Snapshot,
    pub reviewer_names: Vec<(UserId, String)>,
    pub comments: Vec<store::Comment>,
    pub signoffs: Vec<store::Signoff>,
    /// For leads: what changed since the snapshot (None for reviewers).
    pub changes: Option<Vec<Difference>>,
    pub by_status: [(String, usize); 3],
}

pub async fn view(
    conn: &mut PgConnection,
    actor: &Actor,
    round: uuid::Uuid,
) -> Result<RoundView, AppError> {
    let found = require_round(conn, actor, round).await?;
    let snap: Snapshot = serde_json::from_value(found.snapshot.clone()).unwrap_or_default();
    let comments = store::comments(conn, actor.project_id, round).await?;
    let signoffs = store::signoffs(conn, actor.project_id, round).await?;
    let reviewer_names = store::names(conn, &found.reviewers).await?;
    let changes = if matches!(actor.role, Role::Owner | Role::Lead) {
        match Reader::of(conn, actor).await {
            Ok(reader) => Some(changes(&snap, &snapshot(conn, reader).await?)),
            Err(_) => None,
        }
    } else {
        None
    };
    let count = |s: &str| comments.iter().filter(|c| c.status == s).count();
    let by_status = [
        ("open".to_owned(), count("open")),
        ("addressed".to_owned(), count("addressed")),
        ("dismissed".to_owned(), count("dismissed")),
    ];
    Ok(RoundView {
        round: found,
        snapshot: snap,
        reviewer_names,
        comments,
        signoffs,
        changes,
        by_status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u128, parent: Option<u128>, name: &str) -> SnapNode {
        SnapNode {
            id: uuid::Uuid::from_u128(id),
            parent_id: parent.map(uuid::Uuid::from_u128),
            name: name.into(),
            definition: String::new(),
            depth: 0,
            counts: Counts::default(),
            example: None,
        }
    }

    fn code(id: u128, node: Option<u128>, name: &str) -> SnapCode {
        SnapCode {
            id: uuid::Uuid::from_u128(id),
            name: name.into(),
            definition: String::new(),
            node_id: node.map(uuid::Uuid::from_u128),
            counts: Counts::default(),
        }
    }

    #[test]
    fn changes_name_what_was_added_removed_renamed_and_moved() {
        let then = Snapshot {
            participants_total: 18,
            nodes: vec![
                node(1, None, "Education"),
                node(2, Some(1), "Awareness"),
                node(3, None, "Cost"),
            ],
            codes: vec![
                code(10, Some(2), "Guidelines"),
                code(11, None, "Tumour"),
                code(12, Some(3), "Price"),
            ],
        };
        let now = Snapshot {
            participants_total: 18,
            nodes: vec![
                node(1, None, "Education"),
                node(2, None, "Awareness of IDDS"),
                node(4, None, "Barriers"),
            ],
            codes: vec![
                code(10, Some(2), "Guidelines"),
                code(11, Some(4), "Tumour location"),
                code(13, None, "New"),
            ],
        };
        let got: Vec<(&str, &str, String)> = changes(&then, &now)
            .into_iter()
            .map(|d| (d.what, d.how, d.name))
            .collect();
        assert_eq!(
            got,
            [
                ("node", "renamed", "Awareness of IDDS".to_owned()),
                ("node", "moved", "Awareness of IDDS".to_owned()),
                ("node", "added", "Barriers".to_owned()),
                ("node", "removed", "Cost".to_owned()),
                ("code", "renamed", "Tumour location".to_owned()),
                ("code", "moved", "Tumour location".to_owned()),
                ("code", "added", "New".to_owned()),
                ("code", "removed", "Price".to_owned()),
            ]
        );
        assert!(changes(&now, &now).is_empty());
    }
}
