//! The codebook: one row per live agreed code, from the same queries (and
//! so the same counts) as the consensus codebook page.

use std::collections::HashMap;

use super::model::{self, Cell};
use super::sink::Sink;
use super::store;
use crate::coding::blinding::AgreedCodebook;
use crate::db::ids::{AgreedCodeId, ConsensusCodingId, TranscriptId};
use crate::docx::{Block, Document, ParagraphStyle, Run};
use crate::error::AppError;
use crate::projects::member::Actor;
use crate::state::AppState;

const HEADINGS: [(&str, f64); 13] = [
    ("agreed_code", 24.0),
    ("theme_path", 30.0),
    ("definition", 50.0),
    ("inclusion", 40.0),
    ("exclusion", 40.0),
    ("example", 40.0),
    ("codings", 9.0),
    ("transcripts", 11.0),
    ("participants", 12.0),
    ("participants_of", 14.0),
    ("coder_codes", 40.0),
    ("color", 9.0),
    ("agreed_code_id", 38.0),
];

/// An agreed code as the codebook exports show it: the consensus codebook's
/// codes, counts and aligned coder codes (the same queries as
/// `codebook::service::codebook`), and of its quotes only the one its
/// example may come from, so no transcript text is cut per coding.
pub struct CodeEntry {
    pub code: crate::codebook::model::AgreedCode,
    pub codings: i64,
    pub transcripts: i64,
    pub participants: i64,
    /// `Ada: fear; Ben: worry`.
    pub coder_codes: String,
    /// The chosen example coding, else the first consensus coding.
    quote: Option<(ConsensusCodingId, Example)>,
}

pub async fn entries(
    state: &AppState,
    actor: &Actor,
    proof: AgreedCodebook,
) -> Result<Vec<CodeEntry>, AppError> {
    let mut conn = state.db.acquire().await?;
    let codes = crate::codebook::store::list_agreed(&mut conn, actor.project_id).await?;
    let counts: HashMap<AgreedCodeId, crate::codebook::model::CodeCounts> =
        crate::codebook::store::consensus_counts(&mut conn, actor.project_id)
            .await?
            .into_iter()
            .map(|c| (c.agreed_code_id, c))
            .collect();
    let mut aligned: HashMap<AgreedCodeId, Vec<String>> = HashMap::new();
    for a in crate::codebook::store::list_aligned(&mut conn, actor.project_id, proof).await? {
        aligned
            .entry(a.agreed)
            .or_default()
            .push(format!("{}: {}", a.coder, a.name));
    }
    let examples = store::list_example_codings(&mut conn, actor.project_id, proof).await?;
    let mut wanted: Vec<TranscriptId> = examples.iter().map(|e| e.transcript_id).collect();
    wanted.sort();
    wanted.dedup();
    let texts = store::texts(&mut conn, actor.project_id, &wanted).await?;
    drop(conn);
    let mut quotes: HashMap<AgreedCodeId, (ConsensusCodingId, Example)> = HashMap::new();
    for e in examples {
        let Some(text) = texts.get(&e.transcript_id) else {
            continue;
        };
        let bytes = model::char_bytes(text);
        let quote = model::quote(text, &bytes, e.start_offset, e.end_offset).to_owned();
        quotes.insert(
            e.agreed_code_id,
            (
                e.id,
                Example {
                    text: quote,
                    by: e.participant.unwrap_or(e.title),
                },
            ),
        );
    }
    Ok(codes
        .into_iter()
        .map(|code| {
            let n = counts.get(&code.id);
            CodeEntry {
                codings: n.map(|n| n.codings).unwrap_or(0),
                transcripts: n.map(|n| n.transcripts).unwrap_or(0),
                participants: n.map(|n| n.participants).unwrap_or(0),
                coder_codes: aligned
                    .remove(&code.id)
                    .map(|c| c.join("; "))
                    .unwrap_or_default(),
                quote: quotes.remove(&code.id),
                code,
            }
        })
        .collect())
}

pub async fn write(
    state: &AppState,
    actor: &Actor,
    proof: AgreedCodebook,
    sink: &mut Sink,
) -> Result<(), AppError> {
    let entries = entries(state, actor, proof).await?;
    let mut conn = state.db.acquire().await?;
    let paths = crate::themes::store::code_paths(&mut conn, actor.project_id, proof).await?;
    let of = store::count_reconciled_participants(&mut conn, actor.project_id, proof).await?;
    drop(conn);
    // Placed codes first, in the order of their paths; unplaced ones after.
    let mut rows: Vec<(String, &CodeEntry)> = entries
        .iter()
        .map(|e| {
            let path = paths
                .get(&e.code.id)
                .map(|p| model::path_text(p))
                .unwrap_or_default();
            (path, e)
        })
        .collect();
    rows.sort_by_cached_key(|(path, e)| {
        (
            path.is_empty(),
            path.to_lowercase(),
            e.code.name.to_lowercase(),
        )
    });
    sink.sheet("Codebook", &HEADINGS)?;
    for (path, e) in rows {
        let cells = [
            Cell::text(e.code.name.as_str()),
            Cell::text(path),
            Cell::text(e.code.definition.as_str()),
            Cell::text(e.code.inclusion.as_str()),
            Cell::text(e.code.exclusion.as_str()),
            Cell::text(e.code.example.as_str()),
            Cell::Int(e.codings),
            Cell::Int(e.transcripts),
            Cell::Int(e.participants),
            Cell::text(format!("{} of {of}", e.participants)),
            Cell::text(e.coder_codes.as_str()),
            Cell::text(e.code.color.as_str()),
            Cell::text(e.code.id.to_string()),
        ];
        sink.row(&cells).await?;
    }
    Ok(())
}

/// A typical example quote and who said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub text: String,
    /// The participant's label, else the transcript's title; empty for an
    /// example typed into the codebook rather than chosen from a coding.
    pub by: String,
}

/// One agreed code as the codebook documents show it.
#[derive(Debug, Clone)]
pub struct CodeView {
    pub name: String,
    pub path: String,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: Option<Example>,
    pub codings: i64,
    pub transcripts: i64,
    pub participants: i64,
    /// `name (coder)`, joined by `; `, as the CSV's coder_codes column.
    pub coder_codes: String,
}

/// The hierarchy in reading order: a theme (at its depth, 1 for a top
/// theme) or a code placed under the theme before it (one deeper).
#[derive(Debug, Clone)]
pub enum Item {
    Theme {
        depth: usize,
        name: String,
        definition: String,
    },
    Code {
        depth: usize,
        code: CodeView,
    },
}

/// The codebook for the DOCX and the printable page: the same entries and
/// counts as the CSV ([`entries`], `count_reconciled_participants`).
#[derive(Debug, Clone)]
pub struct Book {
    pub project: String,
    pub date: time::Date,
    /// N of "n of N".
    pub of: i64,
    pub themes: usize,
    pub codes: usize,
    pub items: Vec<Item>,
    pub unplaced: Vec<CodeView>,
}

/// The chosen example quote, else the typed example, else the first quote.
fn example_of(e: &CodeEntry) -> Option<Example> {
    match &e.quote {
        Some((id, quote)) if e.code.example_coding_id == Some(*id) => Some(quote.clone()),
        _ if !e.code.example.trim().is_empty() => Some(Example {
            text: e.code.example.clone(),
            by: String::new(),
        }),
        quote => quote.as_ref().map(|(_, q)| q.clone()),
    }
}

fn view_of(e: &CodeEntry, path: String) -> CodeView {
    CodeView {
        name: e.code.name.clone(),
        path,
        definition: e.code.definition.clone(),
        inclusion: e.code.inclusion.clone(),
        exclusion: e.code.exclusion.clone(),
        example: example_of(e),
        codings: e.codings,
        transcripts: e.transcripts,
        participants: e.participants,
        coder_codes: e.coder_codes.clone(),
    }
}

pub async fn book(
    state: &AppState,
    actor: &Actor,
    proof: AgreedCodebook,
) -> Result<Book, AppError> {
    use crate::themes::model::children_of;
    use crate::themes::store as themes;

    let entries = entries(state, actor, proof).await?;
    let mut conn = state.db.acquire().await?;
    let nodes = themes::list_nodes(&mut conn, actor.project_id, proof).await?;
    let placements = themes::list_placements(&mut conn, actor.project_id, proof).await?;
    let paths = themes::code_paths(&mut conn, actor.project_id, proof).await?;
    let of = store::count_reconciled_participants(&mut conn, actor.project_id, proof).await?;
    drop(conn);

    let by_code: std::collections::HashMap<_, _> = entries.iter().map(|e| (e.code.id, e)).collect();
    let children = children_of(&nodes);
    let mut tops: Vec<&crate::themes::model::Node> =
        nodes.iter().filter(|n| n.parent_id.is_none()).collect();
    tops.sort_by_key(|n| (n.position, n.name.to_lowercase()));
    let by_id: std::collections::HashMap<_, _> = nodes.iter().map(|n| (n.id, n)).collect();
    let mut placed = std::collections::HashSet::new();
    let mut items = Vec::new();
    // Depth first, each theme followed by its own codes, then its subthemes.
    let mut stack: Vec<(crate::db::ids::ThemeNodeId, usize)> =
        tops.iter().rev().map(|n| (n.id, 1)).collect();
    while let Some((id, depth)) = stack.pop() {
        let Some(node) = by_id.get(&id) else { continue };
        items.push(Item::Theme {
            depth,
            name: node.name.clone(),
            definition: node.definition.clone(),
        });
        for p in placements.iter().filter(|p| p.node_id == id) {
            if let Some(e) = by_code.get(&p.agreed_code_id) {
                placed.insert(p.agreed_code_id);
                let path = paths
                    .get(&p.agreed_code_id)
                    .map(|p| model::path_text(p))
                    .unwrap_or_default();
                items.push(Item::Code {
                    depth: depth + 1,
                    code: view_of(e, path),
                });
            }
        }
        for child in children.get(&id).into_iter().flatten().rev() {
            stack.push((*child, depth + 1));
        }
    }
    let mut unplaced: Vec<&CodeEntry> = entries
        .iter()
        .filter(|e| !placed.contains(&e.code.id))
        .collect();
    unplaced.sort_by_cached_key(|e| e.code.name.to_lowercase());
    Ok(Book {
        project: actor.project.name.clone(),
        date: time::OffsetDateTime::now_utc().date(),
        of,
        themes: nodes.len(),
        codes: entries.len(),
        items,
        unplaced: unplaced
            .into_iter()
            .map(|e| view_of(e, String::new()))
            .collect(),
    })
}

/// `12 codings · 5 transcripts · 4 of 18 participants`, as every codebook says it.
pub fn counts_text(c: &CodeView, of: i64) -> String {
    format!(
        "{} codings · {} transcripts · {} of {of} participants",
        c.codings, c.transcripts, c.participants
    )
}

fn code_blocks(doc: &mut Document, depth: usize, c: &CodeView, of: i64) {
    doc.push(Block::heading(depth, c.name.as_str()));
    for (label, text) in [
        ("Definition: ", &c.definition),
        ("Include when: ", &c.inclusion),
        ("Exclude when: ", &c.exclusion),
    ] {
        if !text.trim().is_empty() {
            doc.push(Block::paragraph([
                Run::bold(label),
                Run::plain(text.as_str()),
            ]));
        }
    }
    if let Some(example) = &c.example {
        let mut runs = vec![Run::plain(format!("“{}”", example.text.trim()))];
        if !example.by.is_empty() {
            runs.push(Run::plain(format!(" — {}", example.by)));
        }
        doc.push(Block::paragraph([Run::bold("Typical example:")]));
        doc.push(Block::styled(ParagraphStyle::Quote, runs));
    }
    doc.push(Block::paragraph([
        Run::bold("Counts: "),
        Run::plain(counts_text(c, of)),
    ]));
    if !c.coder_codes.is_empty() {
        doc.push(Block::paragraph([
            Run::bold("Coder codes aligned: "),
            Run::plain(c.coder_codes.as_str()),
        ]));
    }
}

/// The Word codebook: a title page, the hierarchy as headings with each
/// code under its theme, and the unplaced codes last.
pub fn document(book: &Book) -> Document {
    let mut doc = Document::new(format!("{} — Codebook", book.project), book.date);
    doc.push(Block::Title(book.project.clone()));
    doc.push(Block::paragraph([Run::bold("Codebook")]));
    doc.push(Block::text(format!("Made {}", book.date)));
    doc.push(Block::text(format!(
        "{} agreed codes, {} placed in {} themes and subcategories; {} unplaced. Participants are counted out of the {} whose interviews are reconciled.",
        book.codes,
        book.codes - book.unplaced.len(),
        book.themes,
        book.unplaced.len(),
        book.of
    )));
    doc.push(Block::PageBreak);
    for item in &book.items {
        match item {
            Item::Theme {
                depth,
                name,
                definition,
            } => {
                doc.push(Block::heading(*depth, name.as_str()));
                if !definition.trim().is_empty() {
                    doc.push(Block::styled(
                        ParagraphStyle::Normal,
                        [Run::italic(definition.as_str())],
                    ));
                }
            }
            Item::Code { depth, code } => code_blocks(&mut doc, *depth, code, book.of),
        }
    }
    if !book.unplaced.is_empty() {
        doc.push(Block::heading(1, UNPLACED));
        for c in &book.unplaced {
            code_blocks(&mut doc, 2, c, book.of);
        }
    }
    doc
}

/// The heading of the last section.
pub const UNPLACED: &str = "Codes not placed in a theme";
