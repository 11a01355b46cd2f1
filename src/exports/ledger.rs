//! The decision ledger: every decision on a discrepancy, grouped by
//! discrepancy, oldest first, with what it decided on as it was then.

use std::collections::{HashMap, HashSet};

use super::model::{self, Cell};
use super::sink::Sink;
use super::store;
use crate::coding::blinding::{AgreedCodebook, Viewer};
use crate::db::ids::{DecisionId, TranscriptId, UserId};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::reconcile::model::Side;
use crate::reconcile::store::{self as decisions, Decision};
use crate::state::AppState;

const HEADINGS: [(&str, f64); 22] = [
    ("transcript", 24.0),
    ("line", 6.0),
    ("discrepancy", 16.0),
    ("coder_a", 14.0),
    ("a_code", 20.0),
    ("a_start", 8.0),
    ("a_end", 8.0),
    ("coder_b", 14.0),
    ("b_code", 20.0),
    ("b_start", 8.0),
    ("b_end", 8.0),
    ("decision", 12.0),
    ("decided_code", 20.0),
    ("rationale", 40.0),
    ("decided_by", 14.0),
    ("decided_at", 22.0),
    ("automatic", 9.0),
    ("status", 11.0),
    ("supersedes", 38.0),
    ("decision_id", 38.0),
    ("discrepancy_key", 34.0),
    ("transcript_id", 38.0),
];

/// Whether a decision is the one in force on its discrepancy.
fn status(all: &HashSet<Option<DecisionId>>, d: &Decision) -> &'static str {
    if all.contains(&Some(d.id)) {
        "superseded"
    } else {
        "in force"
    }
}

pub async fn write(
    state: &AppState,
    member: &Member,
    viewer: &Viewer,
    proof: AgreedCodebook,
    sink: &mut Sink,
) -> Result<(), AppError> {
    let project = member.project_id;
    let mut conn = state.db.acquire().await?;
    let transcripts = store::list_transcripts(&mut conn, project).await?;
    // A decision shows both coders' layers as they were: only transcripts
    // whose every layer and reconciliation the exporter may read.
    let layers = viewer.layers_of(transcripts.iter().map(|t| t.id));
    let visible: HashSet<TranscriptId> = layers
        .transcripts()
        .iter()
        .copied()
        .filter(|t| viewer.can_see_reconciliation(*t, false))
        .collect();
    let all = decisions::list_decisions(&mut conn, project, None).await?;
    let codes = store::agreed_code_names(&mut conn, project, proof).await?;
    let mut people: Vec<UserId> = all
        .iter()
        .flat_map(|d| [d.discrepancy.0.coder_a, d.discrepancy.0.coder_b])
        .collect();
    people.sort();
    people.dedup();
    let names = store::user_names(&mut conn, &people).await?;
    let superseded: HashSet<Option<DecisionId>> = all.iter().map(|d| d.supersedes).collect();

    // Each transcript's decisions by discrepancy, in the order of each
    // discrepancy's first decision (list_decisions is oldest first).
    let mut by_transcript: HashMap<TranscriptId, Vec<(&str, Vec<&Decision>)>> = HashMap::new();
    for d in &all {
        let keys = by_transcript.entry(d.transcript_id).or_default();
        match keys.iter_mut().find(|(k, _)| *k == d.key) {
            Some((_, chain)) => chain.push(d),
            None => keys.push((d.key.as_str(), vec![d])),
        }
    }

    sink.sheet("Decisions", &HEADINGS)?;
    let name = |u: UserId| names.get(&u).cloned().unwrap_or_default();
    for t in transcripts.iter().filter(|t| visible.contains(&t.id)) {
        let Some(keys) = by_transcript.get(&t.id) else {
            continue;
        };
        let text = store::get_text(&mut conn, project, t.id).await?;
        let starts = model::line_starts(&text.text);
        drop(text);
        for (key, chain) in keys {
            for d in chain {
                let s = &d.discrepancy.0;
                let start = [&s.a, &s.b]
                    .into_iter()
                    .flatten()
                    .map(|side| side.start)
                    .min()
                    .unwrap_or(0);
                let side = |side: &Option<Side>| -> [Cell; 3] {
                    match side {
                        Some(side) => [
                            Cell::text(side.code_name.as_str()),
                            Cell::Int(i64::from(side.start)),
                            Cell::Int(i64::from(side.end)),
                        ],
                        None => [Cell::Empty, Cell::Empty, Cell::Empty],
                    }
                };
                let mut cells = vec![
                    Cell::text(t.title.as_str()),
                    Cell::Int(model::line_of(&starts, start) as i64),
                    Cell::text(s.kind.as_str()),
                    Cell::text(name(s.coder_a)),
                ];
                cells.extend(side(&s.a));
                cells.push(Cell::text(name(s.coder_b)));
                cells.extend(side(&s.b));
                let when = d
                    .created_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| AppError::Internal(e.into()))?;
                cells.extend([
                    Cell::text(d.kind.as_str()),
                    d.agreed_code_id.and_then(|c| codes.get(&c).cloned()).into(),
                    Cell::text(d.rationale.as_str()),
                    Cell::text(d.decided_by_name.as_str()),
                    Cell::text(when),
                    Cell::text(if d.auto { "yes" } else { "no" }),
                    Cell::text(status(&superseded, d)),
                    d.supersedes.map(|s| s.to_string()).into(),
                    Cell::text(d.id.to_string()),
                    Cell::text(*key),
                    Cell::text(t.id.to_string()),
                ]);
                sink.row(&cells).await?;
            }
        }
    }
    Ok(())
}
