//! The tables of the write-up, computed from loaded data (no I/O): codes and
//! themes × participant attributes ("n of N"), code co-occurrence, and codes ×
//! transcripts. Each also becomes a [`Sheet`] for its CSV and XLSX download,
//! with the same numbers.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;
use uuid::Uuid;

use super::export::{Cell, Sheet};
use super::service::Data;
use crate::db::ids::{AgreedCodeId, ParticipantId, TranscriptId};
use crate::error::AppError;
use crate::participants::model::VariableKind;
use crate::themes::service::Hierarchy;

/// "n of N", with the percentage rounded to one decimal as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fraction {
    pub n: usize,
    pub of: usize,
    /// `None` when N is 0.
    pub percent: Option<f64>,
}

impl Fraction {
    pub fn new(n: usize, of: usize) -> Self {
        Self {
            n,
            of,
            percent: (of > 0).then(|| (n as f64 * 1000.0 / of as f64).round() / 10.0),
        }
    }

    pub fn text(&self) -> String {
        match self.percent {
            Some(p) => format!("{} of {} ({p:.1}%)", self.n, self.of),
            None => format!("{} of {}", self.n, self.of),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The attribute's value; `None`: participants without one.
    pub value: Option<String>,
    pub participants: usize,
}

impl Group {
    pub fn label(&self) -> String {
        self.value.clone().unwrap_or_else(|| "(no value)".into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    Theme,
    Code,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttributeRow {
    pub kind: RowKind,
    pub id: Uuid,
    pub name: String,
    /// Depth in the hierarchy (a code one below its theme; unplaced codes 0).
    pub depth: usize,
    pub unplaced: bool,
    pub overall: Fraction,
    /// One per group, in the order of [`AttributeTable::groups`].
    pub groups: Vec<Fraction>,
}

impl AttributeRow {
    pub fn is_theme(&self) -> bool {
        self.kind == RowKind::Theme
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AttributeTable {
    /// The variable split by, if any.
    pub by: Option<String>,
    pub participants_total: usize,
    pub groups: Vec<Group>,
    pub rows: Vec<AttributeRow>,
}

/// Codes and themes × participants: a participant counts for a code when any
/// consensus coding of it is in one of their transcripts, for a theme when
/// they count for any code in its subtree.
pub fn attributes(
    data: &Data,
    hierarchy: &Hierarchy,
    by: Option<&str>,
) -> Result<AttributeTable, AppError> {
    let everyone = data.participants_in_consensus();
    let variable = match by {
        Some(name) => Some(
            data.variable(name)
                .ok_or_else(|| AppError::field("by", crate::messages::NO_SUCH_VARIABLE))?,
        ),
        None => None,
    };
    // Each participant's group, and the groups in order (numbers as numbers).
    let mut group_of: HashMap<ParticipantId, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    if let Some(v) = variable {
        let mut values: Vec<Option<String>> = everyone
            .iter()
            .map(|p| data.value_of(Some(*p), v).map(str::to_owned))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let number = |s: &Option<String>| {
            s.as_deref()
                .filter(|_| v.kind == VariableKind::Number)
                .and_then(crate::import::parse_number)
        };
        values.sort_by(|a, b| match (a, b) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, _) => std::cmp::Ordering::Greater,
            (_, None) => std::cmp::Ordering::Less,
            _ => match (number(a), number(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => a
                    .as_deref()
                    .map(str::to_lowercase)
                    .cmp(&b.as_deref().map(str::to_lowercase)),
            },
        });
        for p in &everyone {
            let value = data.value_of(Some(*p), v).map(str::to_owned);
            let i = values.iter().position(|x| *x == value).unwrap_or(0);
            group_of.insert(*p, i);
        }
        groups = values
            .into_iter()
            .enumerate()
            .map(|(i, value)| Group {
                value,
                participants: group_of.values().filter(|g| **g == i).count(),
            })
            .collect();
    }

    let mut of_code: HashMap<AgreedCodeId, HashSet<ParticipantId>> = HashMap::new();
    for u in &data.uses {
        if let Some(p) = u.participant_id {
            of_code.entry(u.agreed_code_id).or_default().insert(p);
        }
    }
    let fractions = |set: &HashSet<ParticipantId>| -> (Fraction, Vec<Fraction>) {
        let overall = Fraction::new(set.len(), everyone.len());
        let per_group = groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let n = set.iter().filter(|p| group_of.get(p) == Some(&i)).count();
                Fraction::new(n, g.participants)
            })
            .collect();
        (overall, per_group)
    };
    let empty = HashSet::new();
    let mut rows = Vec::new();
    for view in &hierarchy.nodes {
        let mut set = HashSet::new();
        for code in data.codes_under(view.node.id) {
            set.extend(of_code.get(&code).into_iter().flatten().copied());
        }
        let (overall, per_group) = fractions(&set);
        rows.push(AttributeRow {
            kind: RowKind::Theme,
            id: view.node.id.0,
            name: view.node.name.clone(),
            depth: view.depth,
            unplaced: false,
            overall,
            groups: per_group,
        });
        for code in hierarchy.codes_under(view.node.id) {
            let (overall, per_group) = fractions(of_code.get(&code.id).unwrap_or(&empty));
            rows.push(AttributeRow {
                kind: RowKind::Code,
                id: code.id.0,
                name: code.name.clone(),
                depth: view.depth + 1,
                unplaced: false,
                overall,
                groups: per_group,
            });
        }
    }
    for code in hierarchy.unplaced_codes() {
        let (overall, per_group) = fractions(of_code.get(&code.id).unwrap_or(&empty));
        rows.push(AttributeRow {
            kind: RowKind::Code,
            id: code.id.0,
            name: code.name.clone(),
            depth: 0,
            unplaced: true,
            overall,
            groups: per_group,
        });
    }
    Ok(AttributeTable {
        by: variable.map(|v| v.name.clone()),
        participants_total: everyone.len(),
        groups,
        rows,
    })
}

/// A consensus coding's span, for the co-occurrence count.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub transcript: TranscriptId,
    pub code: usize,
    pub start: i32,
    pub end: i32,
}

/// Pairs of codings of two different codes whose spans overlap (share at
/// least one character) in one transcript, per pair of codes: `counts[a][b]`,
/// symmetric, with 0 on the diagonal.
pub fn overlap_counts(spans: &[Span], codes: usize) -> Vec<Vec<usize>> {
    let mut counts = vec![vec![0usize; codes]; codes];
    let mut by_transcript: HashMap<TranscriptId, Vec<&Span>> = HashMap::new();
    for s in spans {
        by_transcript.entry(s.transcript).or_default().push(s);
    }
    for mut list in by_transcript.into_values() {
        list.sort_by_key(|s| (s.start, s.end));
        for (i, a) in list.iter().enumerate() {
            // Sorted by start: later spans overlap `a` while they start before it ends.
            for b in list[i + 1..].iter().take_while(|b| b.start < a.end) {
                if a.code != b.code && b.end > b.start && a.end > a.start {
                    counts[a.code][b.code] += 1;
                    counts[b.code][a.code] += 1;
                }
            }
        }
    }
    counts
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeRef {
    pub id: AgreedCodeId,
    pub name: String,
    /// Its consensus codings in the transcripts counted.
    pub codings: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cooccurrence {
    /// Cells under this many pairs are left blank, and codes with no cell at
    /// or above it left out.
    pub min: usize,
    pub codes: Vec<CodeRef>,
    /// `cells[i][j]` for `codes[i]` and `codes[j]`: `None` on the diagonal and
    /// under `min`.
    pub cells: Vec<Vec<Option<usize>>>,
    /// The largest cell shown, for the heat map's scale.
    pub max: usize,
}

pub fn cooccurrence(data: &Data, spans: &[Span], min: usize) -> Cooccurrence {
    let counts = overlap_counts(spans, data.codes.len());
    let min = min.max(1);
    let kept: Vec<usize> = (0..data.codes.len())
        .filter(|i| counts[*i].iter().any(|c| *c >= min))
        .collect();
    let mut codings = vec![0i64; data.codes.len()];
    for s in spans {
        codings[s.code] += 1;
    }
    let cells: Vec<Vec<Option<usize>>> = kept
        .iter()
        .map(|i| {
            kept.iter()
                .map(|j| Some(counts[*i][*j]).filter(|c| i != j && *c >= min))
                .collect()
        })
        .collect();
    let max = cells.iter().flatten().flatten().copied().max().unwrap_or(0);
    Cooccurrence {
        min,
        codes: kept
            .iter()
            .map(|i| CodeRef {
                id: data.codes[*i].id,
                name: data.codes[*i].name.clone(),
                codings: codings[*i],
            })
            .collect(),
        cells,
        max,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub id: TranscriptId,
    pub title: String,
    pub participant: Option<String>,
}

impl Column {
    pub fn label(&self) -> String {
        match &self.participant {
            Some(p) => format!("{} ({p})", self.title),
            None => self.title.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CountRow {
    pub id: AgreedCodeId,
    pub name: String,
    pub counts: Vec<i64>,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeByTranscript {
    pub transcripts: Vec<Column>,
    pub rows: Vec<CountRow>,
    pub totals: Vec<i64>,
    pub total: i64,
}

/// Consensus codings per agreed code and transcript (in import order).
pub fn by_transcript(data: &Data) -> CodeByTranscript {
    let column: HashMap<TranscriptId, usize> = data
        .included
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id, i))
        .collect();
    let mut cells: HashMap<AgreedCodeId, Vec<i64>> = HashMap::new();
    for u in &data.uses {
        if let Some(i) = column.get(&u.transcript_id) {
            cells
                .entry(u.agreed_code_id)
                .or_insert_with(|| vec![0; data.included.len()])[*i] += u.codings;
        }
    }
    let rows: Vec<CountRow> = data
        .codes
        .iter()
        .map(|c| {
            let counts = cells
                .remove(&c.id)
                .unwrap_or_else(|| vec![0; data.included.len()]);
            CountRow {
                id: c.id,
                name: c.name.clone(),
                total: counts.iter().sum(),
                counts,
            }
        })
        .collect();
    let totals: Vec<i64> = (0..data.included.len())
        .map(|i| rows.iter().map(|r| r.counts[i]).sum())
        .collect();
    CodeByTranscript {
        transcripts: data
            .included
            .iter()
            .map(|t| Column {
                id: t.id,
                title: t.title.clone(),
                participant: t.participant.clone(),
            })
            .collect(),
        total: totals.iter().sum(),
        rows,
        totals,
    }
}

// ---------------------------------------------------------------- sheets

fn fraction_cells(f: &Fraction) -> [Cell; 3] {
    [
        Cell::Int(f.n as i64),
        Cell::Int(f.of as i64),
        f.percent.map(Cell::Number).unwrap_or(Cell::Empty),
    ]
}

impl AttributeTable {
    pub fn sheet(&self) -> Sheet {
        let mut header: Vec<String> = ["Kind", "Theme or code", "Level"].map(String::from).into();
        header.extend(["All: n", "All: N", "All: %"].map(String::from));
        let by = self.by.clone().unwrap_or_default();
        for g in &self.groups {
            let label = format!("{by} = {}", g.label());
            header.extend([
                format!("{label}: n"),
                format!("{label}: N"),
                format!("{label}: %"),
            ]);
        }
        let rows = self
            .rows
            .iter()
            .map(|r| {
                let mut row = vec![
                    Cell::Text(
                        match (r.kind, r.unplaced) {
                            (RowKind::Theme, _) => "theme",
                            (RowKind::Code, false) => "code",
                            (RowKind::Code, true) => "unplaced code",
                        }
                        .into(),
                    ),
                    Cell::Text(r.name.clone()),
                    Cell::Int(r.depth as i64),
                ];
                row.extend(fraction_cells(&r.overall));
                for f in &r.groups {
                    row.extend(fraction_cells(f));
                }
                row
            })
            .collect();
        Sheet {
            name: "Participants".into(),
            notes: vec![
                "Agreed codes and themes: participants with any consensus coding of the code (or of a code under the theme) in their transcripts".into(),
                format!(
                    "Participants: those with a transcript in the consensus layer (N = {})",
                    self.participants_total
                ),
                match &self.by {
                    Some(by) => format!("Split by: {by}"),
                    None => "Split by: none".into(),
                },
            ],
            header,
            rows,
        }
    }
}

impl Cooccurrence {
    pub fn sheet(&self) -> Sheet {
        let mut header = vec!["Code".to_owned(), "Codings".to_owned()];
        header.extend(self.codes.iter().map(|c| c.name.clone()));
        let rows = self
            .codes
            .iter()
            .zip(&self.cells)
            .map(|(c, cells)| {
                let mut row = vec![Cell::Text(c.name.clone()), Cell::Int(c.codings)];
                row.extend(cells.iter().map(|v| match v {
                    Some(n) => Cell::Int(*n as i64),
                    None => Cell::Empty,
                }));
                row
            })
            .collect();
        Sheet {
            name: "Co-occurrence".into(),
            notes: vec![
                "Code co-occurrence: pairs of consensus codings of two codes whose spans overlap in one transcript".into(),
                format!(
                    "Filter: cells of at least {} pair(s); smaller cells left blank, codes with no such cell left out",
                    self.min
                ),
            ],
            header,
            rows,
        }
    }
}

impl CodeByTranscript {
    pub fn sheet(&self) -> Sheet {
        let mut header = vec!["Code".to_owned()];
        header.extend(self.transcripts.iter().map(Column::label));
        header.push("Total".into());
        let mut rows: Vec<Vec<Cell>> = self
            .rows
            .iter()
            .map(|r| {
                let mut row = vec![Cell::Text(r.name.clone())];
                row.extend(r.counts.iter().map(|n| Cell::Int(*n)));
                row.push(Cell::Int(r.total));
                row
            })
            .collect();
        let mut last = vec![Cell::Text("Total".into())];
        last.extend(self.totals.iter().map(|n| Cell::Int(*n)));
        last.push(Cell::Int(self.total));
        rows.push(last);
        Sheet {
            name: "Codes by transcript".into(),
            notes: vec![
                "Consensus codings per agreed code and transcript".into(),
                "Transcripts: those in the consensus layer, in import order".into(),
            ],
            header,
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(t: TranscriptId, code: usize, start: i32, end: i32) -> Span {
        Span {
            transcript: t,
            code,
            start,
            end,
        }
    }

    /// Transcript 1: code 0 on [0,10) and [20,30), code 1 on [5,25), code 2 on
    /// [10,20). Overlaps: 0[0,10)–1 (5<10), 0[20,30)–1 (20<25), 1–2 (10<25 and
    /// 5<20): 0×1 = 2, 1×2 = 1; 0[0,10) and 2[10,20) only touch: 0×2 = 0.
    /// Transcript 2: code 0 on [0,5), code 2 on [3,4): 0×2 = 1. A span of one
    /// transcript never meets one of another.
    #[test]
    fn overlapping_spans_of_two_codes_count_once_per_pair() {
        let (t1, t2) = (TranscriptId::new(), TranscriptId::new());
        let spans = [
            span(t1, 0, 0, 10),
            span(t1, 0, 20, 30),
            span(t1, 1, 5, 25),
            span(t1, 2, 10, 20),
            span(t2, 0, 0, 5),
            span(t2, 2, 3, 4),
            span(t2, 1, 40, 50),
        ];
        let c = overlap_counts(&spans, 3);
        assert_eq!(c, [[0, 2, 1], [2, 0, 1], [1, 1, 0]]);
    }

    #[test]
    fn fractions_round_to_one_decimal_and_n_of_zero_has_no_percentage() {
        assert_eq!(Fraction::new(1, 3).percent, Some(33.3));
        assert_eq!(Fraction::new(2, 3).text(), "2 of 3 (66.7%)");
        assert_eq!(Fraction::new(3, 4).text(), "3 of 4 (75.0%)");
        assert_eq!(Fraction::new(0, 0).percent, None);
        assert_eq!(Fraction::new(0, 0).text(), "0 of 0");
    }
}
