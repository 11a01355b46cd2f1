//! A coder's own codebook (their codes of phase 1), for that coder only:
//! each code with its parent when codes nest and the coder's own counts.
//! Nobody gets another coder's codes through it, whatever their role.

use std::collections::{HashMap, HashSet};

use super::model::{self, Cell};
use super::sink::Sink;
use super::store::{self, OwnCodeRow};
use crate::db::ids::CodeId;
use crate::docx::{Block, Document, Run};
use crate::error::AppError;
use crate::projects::member::Actor;
use crate::state::AppState;

const HEADINGS: [(&str, f64); 12] = [
    ("code", 24.0),
    ("parent", 24.0),
    ("path", 30.0),
    ("definition", 50.0),
    ("inclusion", 40.0),
    ("exclusion", 40.0),
    ("example", 40.0),
    ("color", 9.0),
    ("codings", 9.0),
    ("transcripts", 11.0),
    ("code_id", 38.0),
    ("parent_id", 38.0),
];

/// One code in reading order, at its depth (1 for a top-level code).
#[derive(Debug, Clone)]
pub struct OwnCode {
    pub depth: usize,
    /// The codes above it, top first.
    pub path: Vec<String>,
    pub row: OwnCodeRow,
}

impl OwnCode {
    /// The parent's name; empty for a top-level code.
    pub fn parent(&self) -> &str {
        self.path.last().map(String::as_str).unwrap_or_default()
    }
}

/// The coder's codebook, ready to write.
#[derive(Debug, Clone)]
pub struct OwnBook {
    pub project: String,
    pub coder: String,
    pub date: time::Date,
    pub codes: Vec<OwnCode>,
}

pub(super) fn no_codes() -> AppError {
    AppError::State(
        "You have no codes of your own in this project, so there is no own codebook to export: it holds the codes you made while coding, and only yours.".into(),
    )
}

/// The caller's own codes; refused (409, with the reason) when they have none.
pub async fn load(state: &AppState, actor: &Actor) -> Result<OwnBook, AppError> {
    let mut conn = state.db.acquire().await?;
    let rows = store::list_own_codes(&mut conn, actor.project_id, actor.user_id).await?;
    let coder = crate::auth::store::get_user(&mut conn, actor.user_id)
        .await?
        .display_name;
    drop(conn);
    if rows.is_empty() {
        return Err(no_codes());
    }
    Ok(OwnBook {
        project: actor.project.name.clone(),
        coder,
        date: time::OffsetDateTime::now_utc().date(),
        codes: tree(rows),
    })
}

/// Depth first, siblings in the order given (by name). A code whose parent
/// is gone (deleted, or not the coder's) is a top-level code, and a cycle
/// of parents is broken where it is first met, so every code comes once.
pub fn tree(rows: Vec<OwnCodeRow>) -> Vec<OwnCode> {
    let ids: HashSet<CodeId> = rows.iter().map(|r| r.id).collect();
    let mut children: HashMap<Option<CodeId>, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let parent = r.parent_id.filter(|p| ids.contains(p) && *p != r.id);
        children.entry(parent).or_default().push(i);
    }
    let mut rows: Vec<Option<OwnCodeRow>> = rows.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(rows.len());
    let walk = |start: usize, out: &mut Vec<OwnCode>, rows: &mut Vec<Option<OwnCodeRow>>| {
        let mut stack = vec![(start, 1usize, Vec::<String>::new())];
        while let Some((i, depth, path)) = stack.pop() {
            // Taken once: a code met again on a cycle of parents is skipped.
            let Some(row) = rows[i].take() else { continue };
            let mut below = path.clone();
            below.push(row.name.clone());
            for &child in children.get(&Some(row.id)).into_iter().flatten().rev() {
                stack.push((child, depth + 1, below.clone()));
            }
            out.push(OwnCode { depth, path, row });
        }
    };
    for &top in children.get(&None).into_iter().flatten() {
        walk(top, &mut out, &mut rows);
    }
    // What is left sits on a cycle of parents: start each cycle at its first code.
    for i in 0..rows.len() {
        if rows[i].is_some() {
            walk(i, &mut out, &mut rows);
        }
    }
    out
}

pub async fn write(book: &OwnBook, sink: &mut Sink) -> Result<(), AppError> {
    sink.sheet("Own codebook", &HEADINGS)?;
    for c in &book.codes {
        let r = &c.row;
        let cells = [
            Cell::text(r.name.as_str()),
            Cell::text(c.parent()),
            Cell::text(model::path_text(&c.path)),
            Cell::text(r.definition.as_str()),
            Cell::text(r.inclusion.as_str()),
            Cell::text(r.exclusion.as_str()),
            Cell::text(r.example.as_str()),
            Cell::text(r.color.as_str()),
            Cell::Int(r.codings),
            Cell::Int(r.transcripts),
            Cell::text(r.id.to_string()),
            r.parent_id
                .filter(|_| !c.path.is_empty())
                .map(|p| Cell::text(p.to_string()))
                .unwrap_or(Cell::Empty),
        ];
        sink.row(&cells).await?;
    }
    Ok(())
}

/// `12 codings · 5 transcripts`: the coder's own codings of the code.
pub fn counts_text(r: &OwnCodeRow) -> String {
    format!("{} codings · {} transcripts", r.codings, r.transcripts)
}

/// The Word document: a title page, then each code as a heading nested
/// under its parent (down to Heading 4), with its fields and counts.
pub fn document(book: &OwnBook) -> Document {
    let mut doc = Document::new(
        format!("{} — Own codebook of {}", book.project, book.coder),
        book.date,
    );
    let nested = book.codes.iter().filter(|c| !c.path.is_empty()).count();
    let codings: i64 = book.codes.iter().map(|c| c.row.codings).sum();
    doc.push(Block::Title(book.project.clone()));
    doc.push(Block::paragraph([Run::bold(format!(
        "Own codebook of {}",
        book.coder
    ))]));
    doc.push(Block::text(format!("Made {}", book.date)));
    doc.push(Block::text(format!(
        "{} codes, {nested} of them under another code; {codings} codings by {}. The counts are this coder's own codings only.",
        book.codes.len(),
        book.coder
    )));
    doc.push(Block::PageBreak);
    for c in &book.codes {
        let r = &c.row;
        doc.push(Block::heading(c.depth, r.name.as_str()));
        for (label, text) in [
            ("Definition: ", r.definition.as_str()),
            ("Include when: ", r.inclusion.as_str()),
            ("Exclude when: ", r.exclusion.as_str()),
            ("Example: ", r.example.as_str()),
            ("Under: ", c.parent()),
        ] {
            if !text.trim().is_empty() {
                doc.push(Block::paragraph([Run::bold(label), Run::plain(text)]));
            }
        }
        doc.push(Block::paragraph([
            Run::bold("Colour: "),
            Run::plain(r.color.as_str()),
        ]));
        doc.push(Block::paragraph([
            Run::bold("Counts: "),
            Run::plain(counts_text(r)),
        ]));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, id: CodeId, parent: Option<CodeId>) -> OwnCodeRow {
        OwnCodeRow {
            id,
            name: name.into(),
            definition: String::new(),
            inclusion: String::new(),
            exclusion: String::new(),
            example: String::new(),
            color: "#112233".into(),
            parent_id: parent,
            codings: 0,
            transcripts: 0,
        }
    }

    #[test]
    fn codes_come_depth_first_each_once_even_on_a_cycle_of_parents() {
        let [a, b, c, d, e, f] = std::array::from_fn(|_| CodeId::new());
        let gone = CodeId::new();
        let rows = vec![
            row("alpha", a, None),
            row("beta", b, Some(a)),
            row("cycle one", c, Some(d)),
            row("cycle two", d, Some(c)),
            row("gamma", e, Some(b)),
            row("orphan", f, Some(gone)),
        ];
        let out = tree(rows);
        let seen: Vec<(&str, usize, String)> = out
            .iter()
            .map(|c| (c.row.name.as_str(), c.depth, c.path.join(">")))
            .collect();
        assert_eq!(
            seen,
            [
                ("alpha", 1, String::new()),
                ("beta", 2, "alpha".into()),
                ("gamma", 3, "alpha>beta".into()),
                ("orphan", 1, String::new()),
                ("cycle one", 1, String::new()),
                ("cycle two", 2, "cycle one".into()),
            ]
        );
    }
}
