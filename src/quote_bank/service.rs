//! The quote bank's reads and changes, with no HTTP in sight: each takes a
//! connection (a change: the caller's write transaction) and an actor from
//! the theme hierarchy's service, who carries the blinding proof.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::model::{self, Source, SourceState};
use super::store::{self, NewSelection, SelectionRow};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{
    AgreedCodeId, ConsensusCodingId, ProjectId, QuoteSelectionId, ThemeNodeId, TranscriptId,
    VariableId,
};
use crate::error::AppError;
use crate::themes::service::{Editor, Reader};

/// Longest publication text taken, in characters.
const MAX_TEXT: usize = 20_000;

/// One selected quote, as the page, the API and the exports show it.
#[derive(Debug, Clone, Serialize)]
pub struct SelectedQuote {
    pub id: QuoteSelectionId,
    pub coding_id: ConsensusCodingId,
    /// The code it was chosen for.
    pub code_id: AgreedCodeId,
    pub code_name: String,
    /// The theme that code sits under now, and its path from the top theme.
    pub node_id: Option<ThemeNodeId>,
    pub theme_path: Vec<String>,
    pub transcript_id: TranscriptId,
    pub transcript_title: String,
    pub participant: Option<String>,
    /// The chosen attribute's value for the participant.
    pub attribute: Option<String>,
    pub line: usize,
    pub start: i32,
    pub end: i32,
    /// The coded text of the span, as it is in the transcript.
    pub original_text: String,
    /// The lead's light edit, if any.
    pub publication_text: Option<String>,
    /// What is published: the edit, or the original.
    pub text: String,
    pub attribution: String,
    /// The text in quotation marks with its attribution.
    pub attributed: String,
    pub position: i32,
    pub version: i32,
    pub source: SourceState,
    pub source_note: &'static str,
    /// Where the coding is now, when its code changed.
    pub now_code_id: Option<AgreedCodeId>,
    pub now_code_name: Option<String>,
}

/// The quotes chosen for one agreed code.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub code_id: AgreedCodeId,
    pub code_name: String,
    pub node_id: Option<ThemeNodeId>,
    pub theme_path: Vec<String>,
    /// The node's depth (0: a top theme), for indenting.
    pub depth: usize,
    pub quotes: Vec<SelectedQuote>,
}

/// The participant attribute that attributes quotes.
#[derive(Debug, Clone, Serialize)]
pub struct AttributeChoice {
    pub variable_id: Option<VariableId>,
    pub name: Option<String>,
    /// False while the default (a variable named Role or Profession) applies.
    pub chosen: bool,
    /// What a change sends back (0: never chosen).
    pub version: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariableRef {
    pub id: VariableId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuoteBank {
    pub attribute: AttributeChoice,
    pub variables: Vec<VariableRef>,
    /// Current quotes by code, in the theme hierarchy's order (placed codes
    /// first, depth-first; then unplaced codes).
    pub groups: Vec<Group>,
    /// Quotes whose source changed, shown apart and left out of exports.
    pub changed: Vec<SelectedQuote>,
}

impl QuoteBank {
    pub fn quote(&self, id: QuoteSelectionId) -> Option<&SelectedQuote> {
        self.groups
            .iter()
            .flat_map(|g| &g.quotes)
            .chain(&self.changed)
            .find(|q| q.id == id)
    }

    /// Every current quote, in the order of the page.
    pub fn current(&self) -> impl Iterator<Item = &SelectedQuote> {
        self.groups.iter().flat_map(|g| &g.quotes)
    }
}

/// The default attribute: a variable named Role, else Profession.
fn default_attribute(variables: &[VariableRef]) -> Option<&VariableRef> {
    ["role", "profession"].iter().find_map(|want| {
        variables
            .iter()
            .find(|v| v.name.trim().to_lowercase() == *want)
    })
}

pub async fn bank(conn: &mut PgConnection, reader: Reader) -> Result<QuoteBank, AppError> {
    let project = reader.project_id;
    let rows = store::list_selections(conn, project, reader.proof).await?;
    let hierarchy = crate::themes::service::hierarchy(conn, reader).await?;
    let paths = crate::themes::store::code_paths(conn, project, reader.proof).await?;
    let names = store::code_names(conn, project).await?;
    let variables: Vec<VariableRef> = crate::participants::store::list_variables(conn, project)
        .await?
        .into_iter()
        .map(|v| VariableRef {
            id: v.id,
            name: v.name,
        })
        .collect();
    let attribute = match store::settings(conn, project).await? {
        Some((variable, version)) => AttributeChoice {
            name: variable.and_then(|id| {
                variables
                    .iter()
                    .find(|v| v.id == id)
                    .map(|v| v.name.clone())
            }),
            variable_id: variable,
            chosen: true,
            version,
        },
        None => {
            let default = default_attribute(&variables);
            AttributeChoice {
                variable_id: default.map(|v| v.id),
                name: default.map(|v| v.name.clone()),
                chosen: false,
                version: 0,
            }
        }
    };
    let participants: HashMap<_, _> = crate::participants::store::list_participants(conn, project)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut transcript_ids: Vec<TranscriptId> = rows.iter().map(|r| r.transcript_id).collect();
    transcript_ids.sort();
    transcript_ids.dedup();
    let transcripts =
        crate::themes::store::transcript_texts(conn, project, &transcript_ids).await?;

    // Each selection's text and line, one pass over each transcript.
    let mut texts: HashMap<QuoteSelectionId, (usize, String)> = HashMap::new();
    for t in &transcripts {
        let mut mine: Vec<&SelectionRow> =
            rows.iter().filter(|r| r.transcript_id == t.id).collect();
        mine.sort_by_key(|r| (r.start_offset, r.end_offset));
        let cut = crate::themes::service::slice_spans(
            &t.text,
            mine.iter()
                .map(|r| (r.start_offset.max(0) as usize, r.end_offset.max(0) as usize)),
        );
        for (row, piece) in mine.iter().zip(cut) {
            texts.insert(row.id, piece);
        }
    }
    let by_transcript: HashMap<TranscriptId, &crate::themes::store::TranscriptText> =
        transcripts.iter().map(|t| (t.id, t)).collect();
    let placed: HashMap<AgreedCodeId, Option<ThemeNodeId>> =
        hierarchy.codes.iter().map(|c| (c.id, c.node_id)).collect();

    let view = |row: &SelectionRow| -> SelectedQuote {
        let t = by_transcript.get(&row.transcript_id);
        let participant = t
            .and_then(|t| t.participant_id)
            .and_then(|p| participants.get(&p));
        let value = attribute
            .variable_id
            .and_then(|v| participant.and_then(|p| p.values.get(&v)))
            .cloned()
            .filter(|v| !v.trim().is_empty());
        let title = t.map(|t| t.title.clone()).unwrap_or_default();
        let (line, original) = texts.get(&row.id).cloned().unwrap_or_default();
        let text = row
            .publication_text
            .clone()
            .unwrap_or_else(|| original.clone());
        let attribution = model::attribution(
            value.as_deref(),
            participant.map(|p| p.label.as_str()),
            &title,
        );
        let source = model::source_state(
            row.agreed_code_id,
            row.start_offset,
            row.end_offset,
            &Source {
                coding_deleted: row.coding_deleted,
                coding_code: row.coding_code,
                coding_start: row.coding_start,
                coding_end: row.coding_end,
                code_deleted: row.code_deleted,
            },
        );
        let moved = row.coding_code != row.agreed_code_id;
        SelectedQuote {
            id: row.id,
            coding_id: row.consensus_coding_id,
            code_id: row.agreed_code_id,
            code_name: names.get(&row.agreed_code_id).cloned().unwrap_or_default(),
            node_id: placed.get(&row.agreed_code_id).copied().flatten(),
            theme_path: paths.get(&row.agreed_code_id).cloned().unwrap_or_default(),
            transcript_id: row.transcript_id,
            transcript_title: title,
            participant: participant.map(|p| p.label.clone()),
            attribute: value,
            line,
            start: row.start_offset,
            end: row.end_offset,
            attributed: model::attributed(&text, &attribution),
            original_text: original,
            publication_text: row.publication_text.clone(),
            text,
            attribution,
            position: row.position,
            version: row.version,
            source,
            source_note: source.describe(),
            now_code_id: moved.then_some(row.coding_code),
            now_code_name: moved.then(|| names.get(&row.coding_code).cloned().unwrap_or_default()),
        }
    };

    let depth: HashMap<ThemeNodeId, usize> = hierarchy
        .nodes
        .iter()
        .map(|n| (n.node.id, n.depth))
        .collect();
    let mut by_code: BTreeMap<usize, Group> = BTreeMap::new();
    let order: HashMap<AgreedCodeId, usize> = hierarchy
        .codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let mut changed = Vec::new();
    for row in &rows {
        let quote = view(row);
        let Some(&at) = order
            .get(&row.agreed_code_id)
            .filter(|_| quote.source.is_current())
        else {
            changed.push(quote);
            continue;
        };
        by_code
            .entry(at)
            .or_insert_with(|| Group {
                code_id: quote.code_id,
                code_name: quote.code_name.clone(),
                node_id: quote.node_id,
                theme_path: quote.theme_path.clone(),
                depth: quote
                    .node_id
                    .and_then(|n| depth.get(&n).copied())
                    .unwrap_or(0),
                quotes: Vec::new(),
            })
            .quotes
            .push(quote);
    }
    let mut groups: Vec<Group> = by_code.into_values().collect();
    for g in &mut groups {
        g.quotes.sort_by_key(|q| q.position);
    }
    changed.sort_by(|a, b| (&a.code_name, a.position).cmp(&(&b.code_name, b.position)));
    Ok(QuoteBank {
        attribute,
        variables,
        groups,
        changed,
    })
}

// ---------------------------------------------------------------- changes

fn change(editor: &Editor, action: Action, id: QuoteSelectionId) -> Change {
    Change::new(Some(editor.user_id), action)
        .project(editor.reader.project_id)
        .entity(id.0)
}

async fn quote_of(
    conn: &mut PgConnection,
    editor: &Editor,
    id: QuoteSelectionId,
) -> Result<SelectedQuote, AppError> {
    bank(conn, editor.reader)
        .await?
        .quote(id)
        .cloned()
        .ok_or(AppError::NotFound)
}

/// A publication text as it will be stored: `None` when blank or the same as
/// the original, else the trimmed edit if it is a light edit of `original`.
pub fn publication_text(original: &str, edit: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(edit) = edit.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    if edit.chars().count() > MAX_TEXT {
        return Err(AppError::field(
            "publication_text",
            format!("At most {MAX_TEXT} characters."),
        ));
    }
    let same = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    if same(edit) == same(original) {
        return Ok(None);
    }
    model::check_edit(original, edit)
        .map_err(|refusal| AppError::field("publication_text", refusal.message))?;
    Ok(Some(edit.to_owned()))
}

/// The coded text of `[start, end)` of a transcript.
async fn original_text(
    conn: &mut PgConnection,
    project: ProjectId,
    transcript: TranscriptId,
    start: i32,
    end: i32,
) -> Result<String, AppError> {
    let texts = crate::themes::store::transcript_texts(conn, project, &[transcript]).await?;
    let t = texts.first().ok_or(AppError::NotFound)?;
    Ok(crate::themes::service::slice_spans(
        &t.text,
        [(start.max(0) as usize, end.max(0) as usize)].into_iter(),
    )
    .pop()
    .map(|(_, text)| text)
    .unwrap_or_default())
}

#[derive(Debug, Clone, Deserialize)]
pub struct SelectInput {
    /// The client's id, so a retry is harmless.
    #[serde(default)]
    pub id: Option<QuoteSelectionId>,
    pub coding_id: ConsensusCodingId,
    /// A sub-span of the coding (code points); the whole coding if absent.
    #[serde(default)]
    pub start: Option<i64>,
    #[serde(default)]
    pub end: Option<i64>,
    #[serde(default)]
    pub publication_text: Option<String>,
}

/// Selects a consensus quote (or a sub-span of it) for the write-up, after
/// the quotes already chosen for its code. Answers the quote and whether it
/// is new (false: a retry of the same selection).
pub async fn select(
    tx: &mut PgConnection,
    editor: Editor,
    input: SelectInput,
) -> Result<(SelectedQuote, bool), AppError> {
    let project = editor.reader.project_id;
    store::lock(tx, project).await?;
    let coding = store::find_coding(tx, project, input.coding_id, editor.reader.proof)
        .await?
        .ok_or_else(|| {
            AppError::field("coding_id", "Not a live consensus quote of this project.")
        })?;
    let start = input.start.unwrap_or(i64::from(coding.start_offset));
    let end = input.end.unwrap_or(i64::from(coding.end_offset));
    if start < i64::from(coding.start_offset) || end > i64::from(coding.end_offset) || start >= end
    {
        return Err(AppError::field(
            "start",
            format!(
                "Choose a span inside the coding, [{}, {}), with start before end.",
                coding.start_offset, coding.end_offset
            ),
        ));
    }
    let (start, end) = (start as i32, end as i32);
    let id = input.id.unwrap_or_default();
    if let Some((p, c, s, e, deleted)) = store::find_any_selection(tx, id).await? {
        if p == project && c == coding.id && s == start && e == end && !deleted {
            return Ok((quote_of(tx, &editor, id).await?, false));
        }
        return Err(AppError::Conflict(serde_json::json!({
            "message": "This id belongs to another selection.",
        })));
    }
    let original = original_text(tx, project, coding.transcript_id, start, end).await?;
    let text = publication_text(&original, input.publication_text.as_deref())?;
    let position = store::next_position(tx, project, coding.agreed_code_id).await?;
    store::insert_selection(
        tx,
        project,
        NewSelection {
            id,
            coding: &coding,
            start,
            end,
            publication_text: text.as_deref(),
            position,
            by: editor.user_id,
        },
    )
    .await?;
    let quote = quote_of(tx, &editor, id).await?;
    audit::record(tx, change(&editor, Action::QuoteSelected, id).after(&quote)).await?;
    Ok((quote, true))
}

/// A live selection with the version the client saw, else 404 or 409 with it.
async fn current(
    tx: &mut PgConnection,
    editor: &Editor,
    id: QuoteSelectionId,
    version: i32,
) -> Result<SelectedQuote, AppError> {
    store::get_selection(tx, editor.reader.project_id, id).await?;
    let quote = quote_of(tx, editor, id).await?;
    if quote.version != version {
        return Err(AppError::stale(&quote));
    }
    Ok(quote)
}

#[derive(Debug, Clone, Deserialize)]
pub struct EditInput {
    pub version: i32,
    /// `null` or blank: publish the coded text as it is.
    #[serde(default)]
    pub publication_text: Option<String>,
}

/// Sets or clears the publication text; a text that is not a light edit is
/// refused (422) and nothing is stored.
pub async fn edit(
    tx: &mut PgConnection,
    editor: Editor,
    id: QuoteSelectionId,
    input: EditInput,
) -> Result<SelectedQuote, AppError> {
    store::lock(tx, editor.reader.project_id).await?;
    let before = current(tx, &editor, id, input.version).await?;
    let text = publication_text(&before.original_text, input.publication_text.as_deref())?;
    if text == before.publication_text {
        return Ok(before);
    }
    if !store::update_publication(tx, id, input.version, text.as_deref()).await? {
        return Err(AppError::stale(&before));
    }
    let after = quote_of(tx, &editor, id).await?;
    audit::record(
        tx,
        change(&editor, Action::QuoteEdited, id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

/// Takes a quote out of the bank.
pub async fn unselect(
    tx: &mut PgConnection,
    editor: Editor,
    id: QuoteSelectionId,
    version: i32,
) -> Result<(), AppError> {
    store::lock(tx, editor.reader.project_id).await?;
    let before = current(tx, &editor, id, version).await?;
    if !store::delete_selection(tx, id, version).await? {
        return Err(AppError::stale(&before));
    }
    audit::record(
        tx,
        change(&editor, Action::QuoteUnselected, id).before(&before),
    )
    .await?;
    Ok(())
}

/// Accepts that a quote's coding now carries another code: the quote is filed
/// under that code, after its quotes. Only for [`SourceState::CodeChanged`];
/// any other change of source leaves the lead to take the quote out.
pub async fn refile(
    tx: &mut PgConnection,
    editor: Editor,
    id: QuoteSelectionId,
    version: i32,
) -> Result<SelectedQuote, AppError> {
    let project = editor.reader.project_id;
    store::lock(tx, project).await?;
    let before = current(tx, &editor, id, version).await?;
    let to = match (before.source.can_refile(), before.now_code_id) {
        (true, Some(to)) => to,
        _ => {
            return Err(AppError::State(match before.source {
                SourceState::Current => "This quote's source has not changed.".to_owned(),
                other => format!(
                    "{} Take the quote out of the bank, or restore its source.",
                    other.describe()
                ),
            }));
        }
    };
    let position = store::next_position(tx, project, to).await?;
    if !store::refile_selection(tx, id, version, to, position).await? {
        return Err(AppError::stale(&before));
    }
    let after = quote_of(tx, &editor, id).await?;
    audit::record(
        tx,
        change(&editor, Action::QuoteRefiled, id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub struct QuoteRef {
    pub id: QuoteSelectionId,
    pub version: i32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReorderInput {
    pub code_id: AgreedCodeId,
    /// Every current quote of the code, in the new order, with the version the
    /// client saw.
    pub quotes: Vec<QuoteRef>,
}

/// Puts a code's quotes in a new order. The request must name each current
/// quote of the code once, at the version it has: a quote another lead moved,
/// edited, added or took out meanwhile makes it 409 with the group as it is,
/// and nothing changes.
pub async fn reorder(
    tx: &mut PgConnection,
    editor: Editor,
    input: ReorderInput,
) -> Result<Group, AppError> {
    let project = editor.reader.project_id;
    store::lock(tx, project).await?;
    let ids: Vec<QuoteSelectionId> = input.quotes.iter().map(|q| q.id).collect();
    if ids.iter().collect::<HashSet<_>>().len() != ids.len() {
        return Err(AppError::field("quotes", "A quote is named twice."));
    }
    let bank = bank(tx, editor.reader).await?;
    let group = bank
        .groups
        .iter()
        .find(|g| g.code_id == input.code_id)
        .cloned();
    let Some(group) = group else {
        return Err(AppError::field(
            "code_id",
            "No current quotes are selected for this code.",
        ));
    };
    if let Some(stray) = ids.iter().find(|id| bank.quote(**id).is_none()) {
        return Err(AppError::field(
            "quotes",
            format!("{stray} is not a selected quote of this project."),
        ));
    }
    let now: HashMap<QuoteSelectionId, i32> =
        group.quotes.iter().map(|q| (q.id, q.version)).collect();
    let matches = input.quotes.len() == now.len()
        && input
            .quotes
            .iter()
            .all(|q| now.get(&q.id) == Some(&q.version));
    if !matches {
        return Err(AppError::Conflict(serde_json::json!({
            "message": "The quotes of this code changed meanwhile; nothing was moved.",
            "group": group,
        })));
    }
    let before: Vec<QuoteSelectionId> = group.quotes.iter().map(|q| q.id).collect();
    if before == ids {
        return Ok(group);
    }
    store::renumber(tx, &ids).await?;
    let after = self::bank(tx, editor.reader)
        .await?
        .groups
        .into_iter()
        .find(|g| g.code_id == input.code_id)
        .ok_or(AppError::NotFound)?;
    audit::record(
        tx,
        Change::new(Some(editor.user_id), Action::QuotesReordered)
            .project(project)
            .entity(input.code_id.0)
            .before(&before)
            .after(&ids),
    )
    .await?;
    Ok(after)
}

#[derive(Debug, Clone, Deserialize)]
pub struct AttributeInput {
    /// `null`: attribute by the participant's label alone.
    pub variable_id: Option<VariableId>,
    /// The choice's version as the client saw it (0: never chosen).
    pub version: i32,
}

/// Chooses the participant attribute that attributes every quote.
pub async fn choose_attribute(
    tx: &mut PgConnection,
    editor: Editor,
    input: AttributeInput,
) -> Result<AttributeChoice, AppError> {
    let project = editor.reader.project_id;
    store::lock(tx, project).await?;
    let before = bank(tx, editor.reader).await?;
    if let Some(v) = input.variable_id
        && !before.variables.iter().any(|known| known.id == v)
    {
        return Err(AppError::field(
            "variable_id",
            "Not a participant attribute of this project.",
        ));
    }
    if input.version != before.attribute.version
        || !store::put_settings(
            tx,
            project,
            input.variable_id,
            input.version,
            editor.user_id,
        )
        .await?
    {
        return Err(AppError::stale(&before.attribute));
    }
    let after = bank(tx, editor.reader).await?.attribute;
    audit::record(
        tx,
        Change::new(Some(editor.user_id), Action::QuoteAttributeChosen)
            .project(project)
            .entity(project.0)
            .before(&before.attribute)
            .after(&after),
    )
    .await?;
    Ok(after)
}

/// What a publication text would look like, or why it is refused; stores nothing.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub ok: bool,
    pub message: Option<String>,
    pub attributed: String,
}

pub async fn preview(
    conn: &mut PgConnection,
    reader: Reader,
    id: QuoteSelectionId,
    text: Option<&str>,
) -> Result<Preview, AppError> {
    store::get_selection(conn, reader.project_id, id).await?;
    let bank = bank(conn, reader).await?;
    let quote = bank.quote(id).ok_or(AppError::NotFound)?;
    Ok(match publication_text(&quote.original_text, text) {
        Ok(t) => Preview {
            ok: true,
            message: None,
            attributed: model::attributed(
                t.as_deref().unwrap_or(&quote.original_text),
                &quote.attribution,
            ),
        },
        Err(AppError::Invalid(errors)) => Preview {
            ok: false,
            message: errors.get("publication_text").map(str::to_owned),
            attributed: String::new(),
        },
        Err(other) => return Err(other),
    })
}

/// The demo study's quote bank: for the first three placed codes, quotes of
/// different participants in the order a lead might choose (the second
/// before the first for the first code), and one light edit (the middle of
/// a long quote left out). Through the service, with its audit rows.
pub async fn select_for_demo(tx: &mut PgConnection, editor: Editor) -> Result<usize, AppError> {
    let hierarchy = crate::themes::service::hierarchy(tx, editor.reader).await?;
    let codes: Vec<AgreedCodeId> = hierarchy
        .codes
        .iter()
        .filter(|c| c.node_id.is_some() && c.counts.codings >= 2)
        .take(3)
        .map(|c| c.id)
        .collect();
    let mut selected = 0;
    let mut edited = false;
    for (i, code) in codes.iter().enumerate() {
        let list = crate::themes::service::quotes(
            tx,
            editor.reader,
            &crate::themes::service::QuoteQuery {
                code: Some(*code),
                ..Default::default()
            },
        )
        .await?;
        let mut seen = HashSet::new();
        let picks: Vec<_> = list
            .quotes
            .iter()
            .filter(|q| seen.insert(q.participant.clone()))
            .take(if i == 0 { 2 } else { 1 })
            .collect();
        let mut made = Vec::new();
        for q in picks {
            let words: Vec<&str> = q.text.split_whitespace().collect();
            let edit = (!edited && words.len() >= 12).then(|| {
                format!(
                    "{} … {}",
                    words[..5].join(" "),
                    words[words.len() - 4..].join(" ")
                )
            });
            let (quote, _) = select(
                tx,
                editor,
                SelectInput {
                    id: None,
                    coding_id: q.coding_id,
                    start: None,
                    end: None,
                    publication_text: edit.clone(),
                },
            )
            .await?;
            edited |= edit.is_some();
            made.push(QuoteRef {
                id: quote.id,
                version: quote.version,
            });
            selected += 1;
        }
        if made.len() == 2 {
            made.reverse();
            reorder(
                tx,
                editor,
                ReorderInput {
                    code_id: *code,
                    quotes: made,
                },
            )
            .await?;
        }
    }
    Ok(selected)
}
