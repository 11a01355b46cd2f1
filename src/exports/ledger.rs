//! The decision ledger: every decision on a discrepancy, grouped by
//! discrepancy, oldest first, with what it decided on as it was then.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::model::{self, Cell};
use super::sink::Sink;
use super::store;
use crate::coding::blinding::{AgreedCodebook, Viewer};
use crate::db::ids::{DecisionId, TranscriptId, UserId};
use crate::docx::{Block, Document, ParagraphStyle, Run, Table};
use crate::error::AppError;
use crate::projects::member::Actor;
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

/// A discrepancy and its decisions, oldest first, each with the line its
/// sides start on.
pub struct Chain {
    pub key: String,
    pub decisions: Vec<(Decision, i64)>,
}

/// One transcript's decided discrepancies.
pub struct TranscriptLedger {
    pub id: TranscriptId,
    pub title: String,
    pub chains: Vec<Chain>,
}

/// Everything the CSV, the DOCX and the summary show, from one read.
pub struct Ledger {
    pub transcripts: Vec<TranscriptLedger>,
    names: HashMap<UserId, String>,
    codes: HashMap<crate::db::ids::AgreedCodeId, String>,
    superseded: HashSet<Option<DecisionId>>,
}

impl Ledger {
    fn name(&self, u: UserId) -> String {
        self.names.get(&u).cloned().unwrap_or_default()
    }

    fn code(&self, d: &Decision) -> Option<String> {
        d.agreed_code_id.and_then(|c| self.codes.get(&c).cloned())
    }

    fn status(&self, d: &Decision) -> &'static str {
        status(&self.superseded, d)
    }
}

pub async fn load(
    state: &AppState,
    actor: &Actor,
    viewer: &Viewer,
    proof: AgreedCodebook,
) -> Result<Ledger, AppError> {
    let project = actor.project_id;
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
    let mut by_transcript: HashMap<TranscriptId, Vec<(String, Vec<Decision>)>> = HashMap::new();
    for d in all {
        let keys = by_transcript.entry(d.transcript_id).or_default();
        match keys.iter_mut().find(|(k, _)| *k == d.key) {
            Some((_, chain)) => chain.push(d),
            None => keys.push((d.key.clone(), vec![d])),
        }
    }
    let mut out = Vec::new();
    for t in transcripts.iter().filter(|t| visible.contains(&t.id)) {
        let Some(keys) = by_transcript.remove(&t.id) else {
            continue;
        };
        let text = store::get_text(&mut conn, project, t.id).await?;
        let starts = model::line_starts(&text.text);
        drop(text);
        let chains = keys
            .into_iter()
            .map(|(key, chain)| Chain {
                key,
                decisions: chain
                    .into_iter()
                    .map(|d| {
                        let s = &d.discrepancy.0;
                        let start = [&s.a, &s.b]
                            .into_iter()
                            .flatten()
                            .map(|side| side.start)
                            .min()
                            .unwrap_or(0);
                        let line = model::line_of(&starts, start) as i64;
                        (d, line)
                    })
                    .collect(),
            })
            .collect();
        out.push(TranscriptLedger {
            id: t.id,
            title: t.title.clone(),
            chains,
        });
    }
    Ok(Ledger {
        transcripts: out,
        names,
        codes,
        superseded,
    })
}

fn rfc3339(t: time::OffsetDateTime) -> Result<String, AppError> {
    t.format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| AppError::Internal(e.into()))
}

pub async fn write(
    state: &AppState,
    actor: &Actor,
    viewer: &Viewer,
    proof: AgreedCodebook,
    sink: &mut Sink,
) -> Result<(), AppError> {
    let ledger = load(state, actor, viewer, proof).await?;
    sink.sheet("Decisions", &HEADINGS)?;
    for t in &ledger.transcripts {
        for chain in &t.chains {
            for (d, line) in &chain.decisions {
                let s = &d.discrepancy.0;
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
                    Cell::Int(*line),
                    Cell::text(s.kind.as_str()),
                    Cell::text(ledger.name(s.coder_a)),
                ];
                cells.extend(side(&s.a));
                cells.push(Cell::text(ledger.name(s.coder_b)));
                cells.extend(side(&s.b));
                cells.extend([
                    Cell::text(d.kind.as_str()),
                    ledger.code(d).into(),
                    Cell::text(d.rationale.as_str()),
                    Cell::text(d.decided_by_name.as_str()),
                    Cell::text(rfc3339(d.created_at)?),
                    Cell::text(if d.auto { "yes" } else { "no" }),
                    Cell::text(ledger.status(d)),
                    d.supersedes.map(|s| s.to_string()).into(),
                    Cell::text(d.id.to_string()),
                    Cell::text(chain.key.as_str()),
                    Cell::text(t.id.to_string()),
                ]);
                sink.row(&cells).await?;
            }
        }
    }
    Ok(())
}

/// Decisions of one kind: in force, superseded, and in force with a rationale.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KindCount {
    pub kind: String,
    pub in_force: usize,
    pub superseded: usize,
    pub with_rationale: usize,
}

/// One transcript's discrepancies decided, decisions made, and
/// discrepancies decided more than once.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TranscriptCount {
    pub transcript: String,
    pub discrepancies: usize,
    pub decisions: usize,
    pub revised: usize,
}

/// The summary table of the ledger, on the Exports page and in the DOCX.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub discrepancies: usize,
    pub decisions: usize,
    pub in_force: usize,
    pub with_rationale: usize,
    /// `with_rationale` of `in_force`, as a percentage with one decimal, or
    /// null when nothing is decided.
    pub rationale_share: Option<f64>,
    pub by_kind: Vec<KindCount>,
    pub per_transcript: Vec<TranscriptCount>,
}

impl Summary {
    /// `12 of 40 (30.0 %)`, or `none decided`.
    pub fn rationale_text(&self) -> String {
        match self.rationale_share {
            Some(share) => format!(
                "{} of {} ({share:.1} %)",
                self.with_rationale, self.in_force
            ),
            None => "none decided".to_owned(),
        }
    }
}

/// The decision in force of each discrepancy is the last of its chain
/// (nothing supersedes it); the others are history.
pub fn summarize(ledger: &Ledger) -> Summary {
    let mut by_kind: Vec<KindCount> = Vec::new();
    let mut per_transcript = Vec::new();
    let (mut discrepancies, mut decisions, mut in_force, mut with_rationale) = (0, 0, 0, 0);
    for t in &ledger.transcripts {
        let mut row = TranscriptCount {
            transcript: t.title.clone(),
            discrepancies: t.chains.len(),
            decisions: 0,
            revised: 0,
        };
        for chain in &t.chains {
            row.decisions += chain.decisions.len();
            if chain.decisions.len() > 1 {
                row.revised += 1;
            }
            for (d, _) in &chain.decisions {
                let i = match by_kind.iter().position(|k| k.kind == d.kind) {
                    Some(i) => i,
                    None => {
                        by_kind.push(KindCount {
                            kind: d.kind.clone(),
                            in_force: 0,
                            superseded: 0,
                            with_rationale: 0,
                        });
                        by_kind.len() - 1
                    }
                };
                let k = &mut by_kind[i];
                if ledger.status(d) == "in force" {
                    k.in_force += 1;
                    in_force += 1;
                    if !d.rationale.trim().is_empty() {
                        k.with_rationale += 1;
                        with_rationale += 1;
                    }
                } else {
                    k.superseded += 1;
                }
            }
        }
        discrepancies += row.discrepancies;
        decisions += row.decisions;
        per_transcript.push(row);
    }
    by_kind.sort_by(|a, b| b.in_force.cmp(&a.in_force).then(a.kind.cmp(&b.kind)));
    let rationale_share =
        (in_force > 0).then(|| (with_rationale as f64 * 1000.0 / in_force as f64).round() / 10.0);
    Summary {
        discrepancies,
        decisions,
        in_force,
        with_rationale,
        rationale_share,
        by_kind,
        per_transcript,
    }
}

fn side_text(ledger: &Ledger, coder: UserId, side: &Option<Side>) -> String {
    match side {
        Some(s) => format!(
            "{}: {} [{}–{}]",
            ledger.name(coder),
            s.code_name,
            s.start,
            s.end
        ),
        None => format!("{}: —", ledger.name(coder)),
    }
}

fn decision_text(ledger: &Ledger, d: &Decision) -> Result<String, AppError> {
    let mut text = d.kind.clone();
    if let Some(code) = ledger.code(d) {
        text.push_str(&format!(" → {code}"));
    }
    text.push_str(&format!(
        ", {} {}{}",
        d.decided_by_name,
        rfc3339(d.created_at)?,
        if d.auto { " (automatic)" } else { "" }
    ));
    Ok(text)
}

/// The summary's two tables, for the DOCX (the page shows the same rows).
pub fn summary_blocks(summary: &Summary) -> Vec<Block> {
    let mut blocks = vec![Block::text(format!(
        "{} discrepancies decided in {} transcripts, by {} decisions; {} in force, {} superseded. Decisions in force with a rationale: {}.",
        summary.discrepancies,
        summary.per_transcript.len(),
        summary.decisions,
        summary.in_force,
        summary.decisions - summary.in_force,
        summary.rationale_text()
    ))];
    let mut kinds = Table::new(["Decision", "In force", "Superseded", "With a rationale"])
        .widths(&[3, 1, 1, 1]);
    for k in &summary.by_kind {
        kinds.row([
            k.kind.clone(),
            k.in_force.to_string(),
            k.superseded.to_string(),
            k.with_rationale.to_string(),
        ]);
    }
    kinds.row([
        "All".to_owned(),
        summary.in_force.to_string(),
        (summary.decisions - summary.in_force).to_string(),
        summary.with_rationale.to_string(),
    ]);
    blocks.push(Block::Table(kinds));
    let mut per =
        Table::new(["Transcript", "Discrepancies", "Decisions", "Revised"]).widths(&[3, 1, 1, 1]);
    for t in &summary.per_transcript {
        per.row([
            t.transcript.clone(),
            t.discrepancies.to_string(),
            t.decisions.to_string(),
            t.revised.to_string(),
        ]);
    }
    blocks.push(Block::Table(per));
    blocks
}

/// The Word ledger: the summary, then a table per transcript with one row
/// per discrepancy (the decision in force, and the ones it replaced).
pub async fn document(
    state: &AppState,
    actor: &Actor,
    viewer: &Viewer,
    proof: AgreedCodebook,
) -> Result<Document, AppError> {
    let ledger = load(state, actor, viewer, proof).await?;
    let summary = summarize(&ledger);
    let date = time::OffsetDateTime::now_utc().date();
    let mut doc = Document::new(format!("{} — Decision ledger", actor.project.name), date);
    doc.push(Block::Title(actor.project.name.clone()));
    doc.push(Block::paragraph([Run::bold("Decision ledger")]));
    doc.push(Block::text(format!("Made {date}")));
    doc.push(Block::heading(1, "Summary"));
    for block in summary_blocks(&summary) {
        doc.push(block);
    }
    doc.push(Block::heading(1, "Discrepancies"));
    doc.push(Block::styled(
        ParagraphStyle::Note,
        [Run::plain(
            "Spans are [start–end) in Unicode code points of the transcript. The decision in force is the last one of each discrepancy; the decisions it replaced follow it as history.",
        )],
    ));
    for t in &ledger.transcripts {
        doc.push(Block::heading(2, t.title.as_str()));
        let mut table = Table::new([
            "Line",
            "Kind",
            "Coder A",
            "Coder B",
            "Decision in force",
            "Rationale",
            "Superseded",
        ])
        .widths(&[1, 2, 3, 3, 3, 3, 3]);
        for chain in &t.chains {
            let Some((last, line)) = chain.decisions.last() else {
                continue;
            };
            let s = &last.discrepancy.0;
            let mut history = Vec::new();
            for (d, _) in chain.decisions.iter().rev().skip(1) {
                let mut text = decision_text(&ledger, d)?;
                if !d.rationale.trim().is_empty() {
                    text.push_str(&format!(": {}", d.rationale));
                }
                history.push(text);
            }
            table.row([
                line.to_string(),
                s.kind.clone(),
                side_text(&ledger, s.coder_a, &s.a),
                side_text(&ledger, s.coder_b, &s.b),
                decision_text(&ledger, last)?,
                last.rationale.clone(),
                history.join("\n"),
            ]);
        }
        doc.push(Block::Table(table));
    }
    Ok(doc)
}
