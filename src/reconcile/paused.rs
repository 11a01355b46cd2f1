//! The reconciliation of a transcript while it cannot go on: a coder's layer
//! is reopened (or not submitted yet), so there is no discrepancy list to
//! decide on. The lead's page then shows, read-only, why it waits and the
//! decisions made so far. Everything here only reads.

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;

use super::model::{DecisionKind, Snapshot};
use super::store;
use crate::assignments::model::AssignmentState;
use crate::coding::blinding::Viewer;
use crate::db::ids::{ProjectId, TranscriptId};
use crate::error::AppError;
use crate::import::Turn;
use crate::projects::member::Member;
use crate::projects::model::Role;
use crate::state::AppState;

/// A coder of the transcript who has not submitted (again).
#[derive(Debug, Clone)]
pub struct Pending {
    pub name: String,
    /// Who reopened the layer and when ("2026-12-01 14:05 UTC"), if it was.
    pub reopened: Option<(String, String)>,
}

/// A decision in force, as the page lists it.
#[derive(Debug, Clone)]
pub struct DecisionRow {
    pub line: usize,
    pub what: &'static str,
    pub codes: String,
    pub decision: String,
    pub auto: bool,
    pub rationale: String,
    pub by: String,
    pub quote: String,
}

#[derive(Debug, Clone)]
pub struct Paused {
    pub title: String,
    pub text: String,
    pub turns: Vec<Turn>,
    pub pending: Vec<Pending>,
    pub decisions: Vec<DecisionRow>,
    /// Codings of the consensus layer now.
    pub consensus: usize,
}

/// Why a discrepancy is one, as the reconciliation page says it.
fn kind_label(kind: &str) -> &'static str {
    match kind {
        "agreement" => "Agreement",
        "boundary" => "Same code, different boundaries",
        "different_code" => "Same span, different codes",
        "partial_overlap" => "Partly overlapping",
        "only_a" => "Coded by A only",
        "only_b" => "Coded by B only",
        _ => "Discrepancy",
    }
}

fn decision_label(kind: &str) -> &'static str {
    DecisionKind::ALL
        .into_iter()
        .find(|k| k.as_str() == kind)
        .map(DecisionKind::label)
        .unwrap_or("Decision")
}

fn when(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute())
}

/// Coders of the transcript and, for each, whether they have submitted and
/// who last reopened their layer.
async fn coders(
    conn: &mut sqlx::PgConnection,
    project: ProjectId,
    transcript: TranscriptId,
) -> Result<Vec<(bool, Pending)>, AppError> {
    let rows = sqlx::query!(
        r#"select u.display_name as name, a.state as "state: AssignmentState",
                  r.actor_name as "reopened_by?", r.created_at as "reopened_at?"
             from assignments a
             join users u on u.id = a.user_id
             left join lateral (
                 select coalesce(actor.display_name, '') as actor_name, e.created_at
                   from audit_events e
                   left join users actor on actor.id = e.actor_id
                  where e.project_id = a.project_id and e.entity_id = a.id
                    and e.action = 'assignment.reopened'
                  order by e.id desc
                  limit 1
             ) r on true
            where a.project_id = $1 and a.transcript_id = $2
            order by a.created_at, a.id"#,
        project as ProjectId,
        transcript as TranscriptId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let reopened = match (r.reopened_by, r.reopened_at) {
                (Some(by), Some(at)) => Some((by, when(at))),
                _ => None,
            };
            (
                r.state.is_submitted(),
                Pending {
                    name: r.name,
                    reopened,
                },
            )
        })
        .collect())
}

fn start_of(snapshot: &Snapshot) -> u32 {
    snapshot
        .a
        .iter()
        .chain(snapshot.b.iter())
        .map(|s| s.start)
        .min()
        .unwrap_or(0)
}

/// The read-only view for a lead when the transcript has two or more coders,
/// not all of them submitted; `None` otherwise (the reconciliation page proper,
/// or its refusal, applies). Coders keep the refusal: like the consensus layer,
/// what was decided opens to them only once every coder has submitted.
pub async fn find(
    state: &AppState,
    member: &Member,
    transcript: TranscriptId,
) -> Result<Option<Paused>, AppError> {
    if member.require(&[Role::Lead]).is_err() {
        return Ok(None);
    }
    let mut conn = state.db.acquire().await?;
    let coders = coders(&mut conn, member.project_id, transcript).await?;
    if coders.len() < 2 || coders.iter().all(|(submitted, _)| *submitted) {
        return Ok(None);
    }
    let viewer = Viewer::load(&mut conn, member).await?;
    // A lead still coding it is blind to what was decided, like any coder.
    if !viewer.can_see_reconciliation(transcript, false) {
        return Ok(None);
    }
    let t =
        crate::transcripts::store::get_transcript(&mut conn, member.project_id, transcript).await?;
    if t.deleted_at.is_some() {
        return Err(AppError::NotFound);
    }
    let decisions = store::list_decisions(&mut conn, member.project_id, Some(transcript)).await?;
    let consensus = store::list_consensus(&mut conn, member.project_id, Some(transcript))
        .await?
        .len();
    let agreed: HashMap<_, _> = crate::codebook::store::list_agreed(&mut conn, member.project_id)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    drop(conn);

    let superseded: HashSet<_> = decisions.iter().filter_map(|d| d.supersedes).collect();
    let chars: Vec<char> = t.text.chars().collect();
    let mut rows: Vec<(u32, DecisionRow)> = decisions
        .iter()
        .filter(|d| !superseded.contains(&d.id) && d.kind != DecisionKind::Undo.as_str())
        .map(|d| {
            let snapshot = &d.discrepancy.0;
            let start = start_of(snapshot);
            let end = snapshot
                .a
                .iter()
                .chain(snapshot.b.iter())
                .map(|s| s.end)
                .max()
                .unwrap_or(start);
            let mut names: Vec<&str> = Vec::new();
            for side in snapshot.a.iter().chain(snapshot.b.iter()) {
                if !names.contains(&side.code_name.as_str()) {
                    names.push(&side.code_name);
                }
            }
            let mut decision = decision_label(&d.kind).to_owned();
            if let Some(name) = d.agreed_code_id.and_then(|id| agreed.get(&id)) {
                decision.push_str(" → ");
                decision.push_str(name);
            }
            let quote: String = chars
                .get(start as usize..(end as usize).min(chars.len()))
                .unwrap_or_default()
                .iter()
                .take(160)
                .collect();
            let line = chars[..(start as usize).min(chars.len())]
                .iter()
                .filter(|c| **c == '\n')
                .count()
                + 1;
            (
                start,
                DecisionRow {
                    line,
                    what: kind_label(&snapshot.kind),
                    codes: names.join(" / "),
                    decision,
                    auto: d.auto,
                    rationale: d.rationale.clone(),
                    by: d.decided_by_name.clone(),
                    quote: quote.trim().to_owned(),
                },
            )
        })
        .collect();
    rows.sort_by_key(|(start, row)| (row.line, *start));
    Ok(Some(Paused {
        title: t.title,
        text: t.text,
        turns: t.turns.0,
        pending: coders
            .into_iter()
            .filter(|(submitted, _)| !submitted)
            .map(|(_, pending)| pending)
            .collect(),
        decisions: rows.into_iter().map(|(_, row)| row).collect(),
        consensus,
    }))
}
