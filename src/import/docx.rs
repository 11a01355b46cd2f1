//! Word documents (.docx), and the zip-bomb guard the .xlsx reader shares.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use zip::ZipArchive;
use zip::result::ZipError;

use super::canonical::{canonicalize, normalize};
use super::text::{LabelRule, TurnHints, build_turns, find_label, looks_like_speaker};
use super::{
    DocumentComment, ImportError, ImportOptions, Metadata, ParsedTranscript, Span, line_spans,
};

/// Office files that are encrypted (or pre-2007 binary files) are OLE
/// compound documents rather than zips, and start with these bytes.
pub(crate) const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

const MAIN_DOCUMENT: &str = "word/document.xml";

/// Bounds on what reading a zip-based upload (.docx, .xlsx) may unpack, so a
/// small upload cannot make the server inflate gigabytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipLimits {
    /// Total bytes decompressed, counted as they are read: declared sizes
    /// in a zip can lie.
    pub max_uncompressed_bytes: u64,
    pub max_entries: usize,
}

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits {
            max_uncompressed_bytes: 100 * 1_000_000,
            max_entries: 10_000,
        }
    }
}

/// A zip archive being read within [`ZipLimits`].
pub(crate) struct GuardedZip<'a> {
    archive: ZipArchive<Cursor<&'a [u8]>>,
    remaining: u64,
    limit: u64,
    corrupt: fn(String) -> ImportError,
    encrypted: ImportError,
}

impl<'a> GuardedZip<'a> {
    /// Opens `bytes` as a zip, mapping failures to the format's own errors.
    pub(crate) fn open(
        bytes: &'a [u8],
        limits: &ZipLimits,
        corrupt: fn(String) -> ImportError,
        encrypted: ImportError,
    ) -> Result<Self, ImportError> {
        if bytes.starts_with(OLE_MAGIC) {
            return Err(encrypted);
        }
        let archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(e.to_string()))?;
        if archive.len() > limits.max_entries {
            return Err(ImportError::ArchiveTooManyEntries {
                entries: archive.len(),
                limit: limits.max_entries,
            });
        }
        Ok(GuardedZip {
            archive,
            remaining: limits.max_uncompressed_bytes,
            limit: limits.max_uncompressed_bytes,
            corrupt,
            encrypted,
        })
    }

    fn too_large(&self) -> ImportError {
        ImportError::ArchiveTooLarge {
            limit_mb: self.limit.div_ceil(1_000_000),
        }
    }

    /// Reads one entry in full, or `None` when there is no such entry.
    pub(crate) fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, ImportError> {
        let index = match self.archive.index_for_name(name) {
            Some(index) => index,
            None => return Ok(None),
        };
        let mut contents = Vec::new();
        self.read_index(index, &mut contents)?;
        Ok(Some(contents))
    }

    /// The names of every entry.
    pub(crate) fn names(&self) -> Vec<String> {
        self.archive
            .file_names()
            .filter_map(Result::ok)
            .map(|name| name.into_owned())
            .collect()
    }

    /// Decompresses every entry once, so that a reader which does not take
    /// limits (calamine) is only handed archives known to fit them.
    pub(crate) fn check_every_entry(&mut self) -> Result<(), ImportError> {
        let mut sink = Vec::new();
        for index in 0..self.archive.len() {
            sink.clear();
            self.read_index(index, &mut sink)?;
        }
        Ok(())
    }

    fn read_index(&mut self, index: usize, out: &mut Vec<u8>) -> Result<(), ImportError> {
        let remaining = self.remaining;
        let too_large = self.too_large();
        let corrupt = self.corrupt;
        let encrypted = self.encrypted.clone();
        let file = match self.archive.by_index(index) {
            Ok(file) => file,
            Err(error) => return Err(map_zip_error(error, corrupt, encrypted)),
        };
        if file.encrypted() {
            return Err(encrypted);
        }
        if file.size() > remaining {
            return Err(too_large);
        }
        // One byte past the budget is enough to know it was exceeded.
        let read = file
            .take(remaining.saturating_add(1))
            .read_to_end(out)
            .map_err(|e| corrupt(e.to_string()))?;
        let read = read as u64;
        if read > remaining {
            return Err(too_large);
        }
        self.remaining -= read;
        Ok(())
    }
}

fn map_zip_error(
    error: ZipError,
    corrupt: fn(String) -> ImportError,
    encrypted: ImportError,
) -> ImportError {
    match error {
        ZipError::UnsupportedArchive(message) if message == ZipError::PASSWORD_REQUIRED => {
            encrypted
        }
        ZipError::InvalidPassword => encrypted,
        other => corrupt(other.to_string()),
    }
}

/// Parses a Word document.
///
/// Each paragraph of `word/document.xml` becomes a line, joined with `\n`;
/// line breaks inside a paragraph (`<w:br/>`, `<w:cr/>`) become `\n` too,
/// and tabs stay `\t`. List paragraphs keep their number or bullet as Word
/// shows it (`1.`, `a)`, `•`), indented by a tab per level. Each table row
/// is one line with its cells separated by ` | `. Footnote and endnote
/// references stay in place as `[1]` (footnotes) and `[i]` (endnotes), and
/// the notes follow the text under the headings `Footnotes` and
/// `Endnotes`. Text boxes are read once (not their legacy fallback copy);
/// deleted and moved-away tracked changes are left out. Headers, footers
/// and comments are not part of the text: they are kept in the
/// transcript's [`Metadata`], each comment with the span it marks.
///
/// A speaker label is a bold run at the start of a paragraph
/// (**Interviewer:** or **P01** followed by speech), the first cell of a
/// two-column table row, or a typed `Name:` prefix. Bold and table labels
/// are written into the text as `Name: ` so the text reads naturally; one
/// without a colon of its own is only taken for a label when the same name
/// labels at least one other paragraph, so bold emphasis in prose is left
/// alone. Turns then follow the rules of [`super::parse_text`], with each
/// paragraph one turn when there are no labels.
pub fn parse_docx(bytes: &[u8], limits: &ZipLimits) -> Result<ParsedTranscript, ImportError> {
    let options = ImportOptions {
        zip_limits: *limits,
        ..ImportOptions::default()
    };
    parse_docx_with(bytes, &options)
}

/// [`parse_docx`] with every option.
pub(crate) fn parse_docx_with(
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ParsedTranscript, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    let mut zip = GuardedZip::open(
        bytes,
        &options.zip_limits,
        |detail| ImportError::DocxCorrupt { detail },
        ImportError::DocxEncrypted,
    )?;
    let xml = match zip.read(MAIN_DOCUMENT)? {
        Some(xml) => xml,
        None => {
            let part = main_part_name(&mut zip)?.ok_or(ImportError::DocxMissingDocument)?;
            zip.read(&part)?.ok_or(ImportError::DocxMissingDocument)?
        }
    };
    let document = Package::read(&mut zip, &xml)?;
    match document.transcript(options, true)? {
        Some(parsed) => Ok(parsed),
        // Comment anchors split a character from its combining mark; the
        // text matters more than where the comments sit.
        None => Ok(document
            .transcript(options, false)?
            .ok_or(ImportError::Empty)?),
    }
}

/// The main document named by the package relationships, for producers
/// that do not call it `word/document.xml`.
fn main_part_name(zip: &mut GuardedZip<'_>) -> Result<Option<String>, ImportError> {
    let Some(rels) = zip.read("_rels/.rels")? else {
        return Ok(None);
    };
    let rels = xml_text(&rels)?;
    let mut reader = Reader::from_str(&rels);
    loop {
        match reader.read_event() {
            Ok(Event::Start(element) | Event::Empty(element))
                if element.local_name().as_ref() == "Relationship" =>
            {
                let is_main =
                    attribute(&element, "Type").is_some_and(|t| t.ends_with("/officeDocument"));
                if is_main && let Some(target) = attribute(&element, "Target") {
                    return Ok(Some(target.trim_start_matches('/').to_owned()));
                }
            }
            Ok(Event::Eof) => return Ok(None),
            Ok(_) => {}
            Err(error) => {
                return Err(ImportError::DocxCorrupt {
                    detail: error.to_string(),
                });
            }
        }
    }
}

/// XML parts are UTF-8 in practice; UTF-16 is allowed and marked by a BOM.
fn xml_text(bytes: &[u8]) -> Result<String, ImportError> {
    let (text, _, malformed) = encoding_rs::UTF_8.decode(bytes);
    if malformed {
        return Err(ImportError::DocxCorrupt {
            detail: "document part is not valid UTF-8 or UTF-16".to_owned(),
        });
    }
    Ok(text.into_owned())
}

fn attribute(element: &BytesStart<'_>, local_name: &str) -> Option<String> {
    element.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == local_name)
            .then(|| {
                a.normalized_value(XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.into_owned())
            })
            .flatten()
    })
}

/// Comment anchors travel through the text as private-use characters of
/// plane 15 (two per comment: start and end), found and removed once the
/// text and its turns are final, so every offset computed on the way is
/// mapped exactly. Such characters already in a document are dropped.
const ANCHOR_BASE: u32 = 0xF_0000;
const MAX_ANCHORED_COMMENTS: usize = 0x7FFE;

fn anchor(comment: usize, end: bool) -> Option<char> {
    if comment >= MAX_ANCHORED_COMMENTS {
        return None;
    }
    char::from_u32(ANCHOR_BASE + 2 * comment as u32 + u32::from(end))
}

fn is_anchor(c: char) -> bool {
    (0xF_0000..=0x10_FFFF).contains(&(c as u32))
}

fn without_anchors(text: &str) -> String {
    text.chars().filter(|c| !is_anchor(*c)).collect()
}

#[derive(Debug, Default, Clone)]
struct Run {
    text: String,
    bold: bool,
    /// Only comment anchors: neither speech nor a label.
    anchors_only: bool,
}

#[derive(Debug, Default, Clone)]
struct Paragraph {
    runs: Vec<Run>,
    /// Direct or style numbering: (numId, level).
    numbering: Option<(String, usize)>,
    style: Option<String>,
    /// Set on the first speech paragraph of a two-column table row whose
    /// first cell held this speaker name.
    table_speaker: Option<String>,
}

impl Paragraph {
    fn text(&self) -> String {
        self.runs.iter().map(|r| r.text.as_str()).collect()
    }

    fn of_text(text: String) -> Self {
        Paragraph {
            runs: vec![Run {
                text,
                ..Run::default()
            }],
            ..Paragraph::default()
        }
    }
}

#[derive(Debug)]
enum Block {
    Paragraph(Paragraph),
    /// A row of a top-level table (the index tells tables apart); nested
    /// tables' paragraphs are read into the cell that holds them.
    Row {
        table: usize,
        cells: Vec<Vec<Paragraph>>,
    },
}

#[derive(Default)]
struct Frame {
    runs: Vec<Run>,
    run: Option<Run>,
    in_run_properties: bool,
    in_paragraph_properties: bool,
    num_id: Option<String>,
    level: Option<usize>,
    style: Option<String>,
}

impl Frame {
    fn current_run(&mut self) -> &mut Run {
        self.run.get_or_insert_with(Run::default)
    }
}

/// A footnote, endnote or comment of its part, with its blocks.
#[derive(Debug, Default)]
struct Container {
    id: String,
    author: Option<String>,
    date: Option<String>,
    blocks: Vec<Block>,
}

/// Tracked insertions, deletions and moves.
const REVISIONS: &[&str] = &["ins", "del", "moveFrom", "moveTo"];

/// Elements whose content is not part of the visible text: deleted or
/// moved-away revisions, legacy copies of text boxes, field instructions and
/// earlier formatting kept for tracked changes.
const SKIPPED: &[&str] = &[
    "del",
    "moveFrom",
    "Fallback",
    "instrText",
    "delText",
    "rPrChange",
    "pPrChange",
    "footnoteRef",
    "endnoteRef",
];

/// What one XML part of a document holds.
#[derive(Debug, Default)]
struct Part {
    blocks: Vec<Block>,
    /// Footnotes, endnotes or comments, for those parts.
    containers: Vec<Container>,
    has_revisions: bool,
    pictures: usize,
    /// Footnote and endnote ids in order of first reference.
    footnotes: Vec<String>,
    endnotes: Vec<String>,
    /// Comment ids in order of their anchors.
    comments: Vec<String>,
}

/// Reads one part: the document body, notes, comments, a header or footer.
/// `anchors` writes comment anchors into the text.
fn read_part(xml: &str, anchors: bool) -> Result<Part, String> {
    let mut reader = Reader::from_str(xml);
    let mut part = Part::default();
    let mut frames: Vec<Frame> = Vec::new();
    let mut skip_depth = 0usize;
    let mut in_text = false;
    let mut table_depth = 0usize;
    let mut row: Option<Vec<Vec<Paragraph>>> = None;
    let mut tables = 0usize;
    let mut container: Option<Container> = None;
    // Anchors met between paragraphs wait for the next one.
    let mut pending = String::new();

    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        if skip_depth > 0 {
            match event {
                Event::Start(_) => skip_depth += 1,
                Event::End(_) => skip_depth -= 1,
                Event::Eof => break,
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(element) => {
                let name = element.local_name();
                let name = name.as_ref();
                part.has_revisions |= REVISIONS.contains(&name);
                if SKIPPED.contains(&name) {
                    skip_depth = 1;
                    continue;
                }
                match name {
                    "footnote" | "endnote" | "comment" if frames.is_empty() => {
                        container = Some(Container {
                            id: attribute(&element, "id").unwrap_or_default(),
                            author: attribute(&element, "author"),
                            date: attribute(&element, "date"),
                            blocks: Vec::new(),
                        });
                    }
                    "p" => {
                        let mut frame = Frame::default();
                        if !pending.is_empty() {
                            frame.runs.push(anchor_run(std::mem::take(&mut pending)));
                        }
                        frames.push(frame);
                    }
                    "pPr" => {
                        if let Some(frame) = frames.last_mut() {
                            frame.in_paragraph_properties = frame.run.is_none();
                        }
                    }
                    "r" => {
                        if let Some(frame) = frames.last_mut() {
                            frame.run = Some(Run::default());
                        }
                    }
                    "rPr" => {
                        if let Some(frame) = frames.last_mut() {
                            frame.in_run_properties = true;
                        }
                    }
                    "t" => in_text = true,
                    "pic" => part.pictures += 1,
                    "tbl" => {
                        table_depth += 1;
                        if table_depth == 1 {
                            tables += 1;
                        }
                    }
                    "tr" if table_depth == 1 && frames.is_empty() => row = Some(Vec::new()),
                    "tc" if table_depth == 1 && frames.is_empty() => {
                        if let Some(row) = row.as_mut() {
                            row.push(Vec::new());
                        }
                    }
                    _ => empty_element(&element, &mut frames, &mut part, anchors, &mut pending),
                }
            }
            Event::Empty(element) => {
                empty_element(&element, &mut frames, &mut part, anchors, &mut pending)
            }
            Event::End(element) => match element.local_name().as_ref() {
                "footnote" | "endnote" | "comment" if frames.is_empty() => {
                    if let Some(done) = container.take() {
                        part.containers.push(done);
                    }
                }
                "p" => {
                    if let Some(mut frame) = frames.pop() {
                        if let Some(run) = frame.run.take() {
                            frame.runs.push(run);
                        }
                        let paragraph = Paragraph {
                            runs: frame.runs,
                            numbering: frame.num_id.map(|id| (id, frame.level.unwrap_or(0))),
                            style: frame.style,
                            table_speaker: None,
                        };
                        match row.as_mut() {
                            Some(cells) if table_depth >= 1 => {
                                if cells.is_empty() {
                                    cells.push(Vec::new());
                                }
                                if let Some(cell) = cells.last_mut() {
                                    cell.push(paragraph);
                                }
                            }
                            _ => {
                                let blocks = match container.as_mut() {
                                    Some(c) => &mut c.blocks,
                                    None => &mut part.blocks,
                                };
                                blocks.push(Block::Paragraph(paragraph));
                            }
                        }
                    }
                }
                "pPr" => {
                    if let Some(frame) = frames.last_mut() {
                        frame.in_paragraph_properties = false;
                    }
                }
                "r" => {
                    if let Some(frame) = frames.last_mut()
                        && let Some(run) = frame.run.take()
                    {
                        frame.runs.push(run);
                    }
                }
                "rPr" => {
                    if let Some(frame) = frames.last_mut() {
                        frame.in_run_properties = false;
                    }
                }
                "t" => in_text = false,
                "tbl" => table_depth = table_depth.saturating_sub(1),
                "tr" if table_depth == 1 && frames.is_empty() => {
                    if let Some(cells) = row.take() {
                        let block = Block::Row {
                            table: tables,
                            cells,
                        };
                        match container.as_mut() {
                            Some(c) => c.blocks.push(block),
                            None => part.blocks.push(block),
                        }
                    }
                }
                _ => {}
            },
            Event::Text(text) if in_text => push_text(frames.last_mut(), &text.xml10_content()),
            Event::CData(text) if in_text => push_text(frames.last_mut(), &text),
            Event::GeneralRef(reference) if in_text => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => match reference.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                    Err(error) => return Err(error.to_string()),
                };
                if let Some(c) = resolved {
                    push_text(frames.last_mut(), c.encode_utf8(&mut [0; 4]));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !pending.is_empty() {
        // Anchors after the last paragraph belong at the end of it.
        if let Some(Block::Paragraph(last)) = part.blocks.last_mut() {
            last.runs.push(anchor_run(pending));
        }
    }
    Ok(part)
}

fn anchor_run(text: String) -> Run {
    Run {
        text,
        bold: false,
        anchors_only: true,
    }
}

/// Run content, formatting, numbering and references given as (usually
/// empty) elements.
fn empty_element(
    element: &BytesStart<'_>,
    frames: &mut [Frame],
    part: &mut Part,
    anchors: bool,
    pending: &mut String,
) {
    let name = element.local_name();
    let name = name.as_ref();
    match name {
        "imagedata" => part.pictures += 1,
        "commentRangeStart" | "commentRangeEnd" if anchors => {
            let id = attribute(element, "id").unwrap_or_default();
            let index = match part.comments.iter().position(|c| *c == id) {
                Some(index) => index,
                None => {
                    part.comments.push(id);
                    part.comments.len() - 1
                }
            };
            let Some(c) = anchor(index, name == "commentRangeEnd") else {
                return;
            };
            match frames.last_mut() {
                Some(frame) => {
                    // Inside a run the anchor joins its text; between runs it
                    // is a run of its own, so it never hides a bold label.
                    if let Some(run) = frame.run.as_mut() {
                        run.text.push(c);
                    } else {
                        frame.runs.push(anchor_run(c.to_string()));
                    }
                }
                None => pending.push(c),
            }
            return;
        }
        _ => {}
    }
    let Some(frame) = frames.last_mut() else {
        return;
    };
    if frame.in_paragraph_properties && !frame.in_run_properties {
        match name {
            "numId" => frame.num_id = attribute(element, "val"),
            "ilvl" => frame.level = attribute(element, "val").and_then(|v| v.parse().ok()),
            "pStyle" => frame.style = attribute(element, "val"),
            _ => {}
        }
        return;
    }
    let in_properties = frame.in_run_properties;
    match name {
        "footnoteReference" | "endnoteReference" if !in_properties => {
            let id = attribute(element, "id").unwrap_or_default();
            let (list, roman) = if name == "footnoteReference" {
                (&mut part.footnotes, false)
            } else {
                (&mut part.endnotes, true)
            };
            let number = match list.iter().position(|n| *n == id) {
                Some(index) => index + 1,
                None => {
                    list.push(id);
                    list.len()
                }
            };
            let mark = if roman {
                format_number(number as u32, "lowerRoman")
            } else {
                number.to_string()
            };
            frame.current_run().text.push_str(&format!("[{mark}]"));
            return;
        }
        _ => {}
    }
    let Some(run) = frame.run.as_mut() else {
        return;
    };
    match name {
        "b" | "bCs" if in_properties => {
            run.bold = !matches!(
                attribute(element, "val").as_deref(),
                Some("0" | "false" | "off")
            );
        }
        "rStyle"
            if in_properties
                && attribute(element, "val").is_some_and(|v| v.eq_ignore_ascii_case("strong")) =>
        {
            run.bold = true;
        }
        "tab" | "ptab" if !in_properties => run.text.push('\t'),
        "br" | "cr" if !in_properties => run.text.push('\n'),
        "noBreakHyphen" if !in_properties => run.text.push('-'),
        _ => {}
    }
}

fn push_text(frame: Option<&mut Frame>, text: &str) {
    if let Some(run) = frame.and_then(|f| f.run.as_mut()) {
        // Line breaks are `<w:br/>`; a raw newline in text is just
        // whitespace to Word.
        run.text.extend(
            text.chars()
                .filter(|c| !is_anchor(*c))
                .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
        );
    }
}

/// A list level's look: its number format, text (`%1.`) and start.
#[derive(Debug, Clone)]
struct Level {
    format: String,
    text: String,
    start: u32,
}

/// The numbering part: list instances and their levels, and the styles
/// that number their paragraphs.
#[derive(Debug, Default)]
struct Numbering {
    /// numId → level → look (abstract definition with overrides applied).
    lists: HashMap<String, HashMap<usize, Level>>,
    /// Paragraph style → (numId, level), following `basedOn`.
    styles: HashMap<String, (String, usize)>,
}

impl Numbering {
    fn read(numbering_xml: Option<&str>, styles_xml: Option<&str>) -> Numbering {
        let mut numbering = Numbering::default();
        if let Some(xml) = numbering_xml {
            numbering.lists = read_numbering(xml);
        }
        if let Some(xml) = styles_xml {
            numbering.styles = read_style_numbering(xml);
        }
        numbering
    }

    fn level(&self, paragraph: &Paragraph) -> Option<(String, usize)> {
        let direct = paragraph.numbering.clone();
        let from_style = || {
            paragraph
                .style
                .as_ref()
                .and_then(|s| self.styles.get(s))
                .cloned()
        };
        let (id, level) = direct.or_else(from_style)?;
        // numId 0 switches numbering off, for a paragraph of a list style.
        (id != "0").then_some((id, level.min(8)))
    }
}

fn read_numbering(xml: &str) -> HashMap<String, HashMap<usize, Level>> {
    let mut reader = Reader::from_str(xml);
    let mut abstracts: HashMap<String, HashMap<usize, Level>> = HashMap::new();
    // numId → (abstractNumId, level → start override)
    let mut nums: Vec<(String, String, HashMap<usize, u32>)> = Vec::new();
    let mut current_abstract: Option<String> = None;
    let mut current_level: Option<usize> = None;
    let mut current_num: Option<usize> = None;
    let mut override_level: Option<usize> = None;
    // A damaged numbering or styles part only costs the list markers.
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Start(element) | Event::Empty(element) => {
                let name = element.local_name();
                let value = || attribute(&element, "val");
                match name.as_ref() {
                    "abstractNum" => current_abstract = attribute(&element, "abstractNumId"),
                    "lvl" if current_num.is_none() => {
                        current_level = attribute(&element, "ilvl").and_then(|v| v.parse().ok());
                        if let (Some(a), Some(l)) = (&current_abstract, current_level) {
                            abstracts.entry(a.clone()).or_default().insert(
                                l,
                                Level {
                                    format: "decimal".to_owned(),
                                    text: String::new(),
                                    start: 1,
                                },
                            );
                        }
                    }
                    "start" | "numFmt" | "lvlText" if current_num.is_none() => {
                        if let (Some(a), Some(l), Some(v)) =
                            (&current_abstract, current_level, value())
                            && let Some(level) =
                                abstracts.get_mut(a).and_then(|levels| levels.get_mut(&l))
                        {
                            match name.as_ref() {
                                "start" => level.start = v.parse().unwrap_or(1),
                                "numFmt" => level.format = v,
                                _ => level.text = v,
                            }
                        }
                    }
                    "num" => {
                        nums.push((
                            attribute(&element, "numId").unwrap_or_default(),
                            String::new(),
                            HashMap::new(),
                        ));
                        current_num = Some(nums.len() - 1);
                    }
                    "abstractNumId" => {
                        if let (Some(n), Some(v)) = (current_num, value()) {
                            nums[n].1 = v;
                        }
                    }
                    "lvlOverride" => {
                        override_level = attribute(&element, "ilvl").and_then(|v| v.parse().ok())
                    }
                    "startOverride" => {
                        if let (Some(n), Some(l), Some(v)) = (current_num, override_level, value())
                        {
                            nums[n].2.insert(l, v.parse().unwrap_or(1));
                        }
                    }
                    _ => {}
                }
            }
            Event::End(element) => match element.local_name().as_ref() {
                "abstractNum" => current_abstract = None,
                "lvl" => current_level = None,
                "num" => current_num = None,
                "lvlOverride" => override_level = None,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    nums.into_iter()
        .filter_map(|(id, abstract_id, overrides)| {
            let mut levels = abstracts.get(&abstract_id)?.clone();
            for (level, start) in overrides {
                if let Some(l) = levels.get_mut(&level) {
                    l.start = start;
                }
            }
            Some((id, levels))
        })
        .collect()
}

/// A paragraph style's own numId, level and parent style.
type StyleNumbering = (Option<String>, Option<usize>, Option<String>);

fn read_style_numbering(xml: &str) -> HashMap<String, (String, usize)> {
    let mut reader = Reader::from_str(xml);
    // style → (numId, level, basedOn)
    let mut styles: HashMap<String, StyleNumbering> = HashMap::new();
    let mut current: Option<String> = None;
    let mut in_run_properties = false;
    // A damaged numbering or styles part only costs the list markers.
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Start(element) | Event::Empty(element) => match element.local_name().as_ref() {
                "style" => {
                    current = (attribute(&element, "type").as_deref() == Some("paragraph"))
                        .then(|| attribute(&element, "styleId"))
                        .flatten();
                }
                "rPr" => in_run_properties = true,
                name @ ("numId" | "ilvl" | "basedOn") if !in_run_properties => {
                    if let Some(style) = &current {
                        let entry = styles.entry(style.clone()).or_default();
                        let value = attribute(&element, "val");
                        match name {
                            "numId" => entry.0 = value,
                            "ilvl" => entry.1 = value.and_then(|v| v.parse().ok()),
                            _ => entry.2 = value,
                        }
                    }
                }
                _ => {}
            },
            Event::End(element) => match element.local_name().as_ref() {
                "style" => current = None,
                "rPr" => in_run_properties = false,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    let mut resolved = HashMap::new();
    for style in styles.keys() {
        let mut name = style.clone();
        let (mut num_id, mut level) = (None, None);
        // A short chain: Word nests list styles a few deep at most.
        for _ in 0..10 {
            let Some((n, l, based_on)) = styles.get(&name) else {
                break;
            };
            num_id = num_id.or_else(|| n.clone());
            level = level.or(*l);
            match based_on {
                Some(parent) => name = parent.clone(),
                None => break,
            }
        }
        if let Some(num_id) = num_id {
            resolved.insert(style.clone(), (num_id, level.unwrap_or(0)));
        }
    }
    resolved
}

/// A list counter as Word shows it in the given `numFmt`.
fn format_number(n: u32, format: &str) -> String {
    fn letters(mut n: u32) -> String {
        // Word repeats the letter: a … z, aa … zz.
        n = n.max(1);
        let letter = char::from(b'a' + ((n - 1) % 26) as u8);
        std::iter::repeat_n(letter, ((n - 1) / 26 + 1) as usize).collect()
    }
    fn roman(mut n: u32) -> String {
        const DIGITS: &[(u32, &str)] = &[
            (1000, "m"),
            (900, "cm"),
            (500, "d"),
            (400, "cd"),
            (100, "c"),
            (90, "xc"),
            (50, "l"),
            (40, "xl"),
            (10, "x"),
            (9, "ix"),
            (5, "v"),
            (4, "iv"),
            (1, "i"),
        ];
        let mut out = String::new();
        for (value, digits) in DIGITS {
            while n >= *value {
                out.push_str(digits);
                n -= value;
            }
        }
        out
    }
    match format {
        "lowerLetter" => letters(n),
        "upperLetter" => letters(n).to_uppercase(),
        "lowerRoman" => roman(n),
        "upperRoman" => roman(n).to_uppercase(),
        "decimalZero" => format!("{n:02}"),
        "none" => String::new(),
        _ => n.to_string(),
    }
}

/// Bullets in Symbol or Wingdings fonts are private-use characters (or
/// letters such as `o` and `§` drawn as symbols); they are shown as the
/// bullet they look like.
fn bullet_text(text: &str, level: usize) -> String {
    let symbolic = text.chars().count() == 1
        && text
            .chars()
            .all(|c| ('\u{E000}'..='\u{F8FF}').contains(&c) || "o§Øüv".contains(c));
    if text.is_empty() || symbolic {
        if level.is_multiple_of(2) {
            "•"
        } else {
            "◦"
        }
        .to_owned()
    } else {
        text.to_owned()
    }
}

/// Writes each list paragraph's marker (`1.`, `a)`, `•`) at its start,
/// counting as Word does: per list, each level restarting below a higher one.
fn number_paragraphs(blocks: &mut [Block], numbering: &Numbering) {
    let mut counters: HashMap<String, [Option<u32>; 9]> = HashMap::new();
    let mut number = |paragraph: &mut Paragraph| {
        let Some((id, level)) = numbering.level(paragraph) else {
            return;
        };
        let Some(levels) = numbering.lists.get(&id) else {
            return;
        };
        let Some(look) = levels.get(&level) else {
            return;
        };
        let counter = counters.entry(id.clone()).or_default();
        let value = counter[level].map_or(look.start, |v| v + 1);
        counter[level] = Some(value);
        for deeper in counter.iter_mut().skip(level + 1) {
            *deeper = None;
        }
        let marker = if look.format == "bullet" {
            bullet_text(&look.text, level)
        } else {
            let mut marker = look.text.clone();
            for (k, value) in counter.iter().enumerate().take(level + 1).rev() {
                let shown = levels.get(&k).map_or_else(
                    || value.unwrap_or(1).to_string(),
                    |l| format_number(value.unwrap_or(l.start), &l.format),
                );
                marker = marker.replace(&format!("%{}", k + 1), &shown);
            }
            marker
        };
        if marker.trim().is_empty() {
            return;
        }
        let prefix = format!("{}{marker} ", "\t".repeat(level));
        paragraph.runs.insert(
            0,
            Run {
                text: prefix,
                ..Run::default()
            },
        );
    };
    for block in blocks {
        match block {
            Block::Paragraph(paragraph) => number(paragraph),
            Block::Row { cells, .. } => {
                for paragraph in cells.iter_mut().flatten() {
                    number(paragraph);
                }
            }
        }
    }
}

/// A table row as one line: cells separated by ` | `, a cell's paragraphs
/// by spaces; `None` for a row with no text.
fn row_line(cells: &[Vec<Paragraph>]) -> Option<Paragraph> {
    let texts: Vec<String> = cells
        .iter()
        .map(|cell| {
            cell.iter()
                .map(|p| p.text().replace('\n', " ").trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    if texts.iter().all(|t| without_anchors(t).trim().is_empty()) {
        return None;
    }
    Some(Paragraph::of_text(texts.join(" | ")))
}

/// The speaker name in the first cell of a two-column table row, when the
/// cell holds one short name and the second cell has speech.
fn table_speaker(cells: &[Vec<Paragraph>], options: &ImportOptions) -> Option<(String, usize)> {
    let [name_cell, speech_cell] = cells else {
        return None;
    };
    let visible = |p: &Paragraph| !without_anchors(&p.text()).trim().is_empty();
    let speech = speech_cell.iter().position(visible)?;
    let names: Vec<&Paragraph> = name_cell.iter().filter(|p| visible(p)).collect();
    let [name] = names[..] else { return None };
    let text = without_anchors(&name.text());
    let text = text.trim();
    let name = text.strip_suffix([':', '\u{FF1A}']).unwrap_or(text).trim();
    if name.contains([':', '\u{FF1A}'])
        || !looks_like_speaker(name, LabelRule::Transcript)
        || options.is_not_speaker(name)
    {
        return None;
    }
    Some((name.to_owned(), speech))
}

/// The document's blocks as paragraphs, one per line: table rows become
/// one line each, except in tables with at least two speaker rows, where
/// the layout itself says the first column is speakers (a layout some
/// transcription services deliver).
fn flatten(blocks: Vec<Block>, options: &ImportOptions) -> Vec<Paragraph> {
    let mut speaker_rows: HashMap<usize, usize> = HashMap::new();
    for block in &blocks {
        if let Block::Row { table, cells } = block
            && table_speaker(cells, options).is_some()
        {
            *speaker_rows.entry(*table).or_default() += 1;
        }
    }
    let mut paragraphs = Vec::new();
    for block in blocks {
        match block {
            Block::Paragraph(paragraph) => paragraphs.push(paragraph),
            Block::Row { table, cells } => {
                let speaker = speaker_rows
                    .get(&table)
                    .is_some_and(|&n| n >= 2)
                    .then(|| table_speaker(&cells, options))
                    .flatten();
                match speaker {
                    Some((name, speech)) => {
                        let [name_cell, speech_cell] = <[Vec<Paragraph>; 2]>::try_from(cells)
                            .unwrap_or_else(|_| [Vec::new(), Vec::new()]);
                        // Anchors in the name cell move to the speech.
                        let moved: String = name_cell
                            .iter()
                            .flat_map(|p| {
                                p.text()
                                    .chars()
                                    .filter(|c| is_anchor(*c))
                                    .collect::<Vec<_>>()
                            })
                            .collect();
                        for (i, mut paragraph) in speech_cell.into_iter().enumerate() {
                            if i == speech {
                                paragraph.table_speaker = Some(name.clone());
                                if !moved.is_empty() {
                                    paragraph.runs.insert(0, anchor_run(moved.clone()));
                                }
                            }
                            paragraphs.push(paragraph);
                        }
                    }
                    None => paragraphs.extend(row_line(&cells)),
                }
            }
        }
    }
    paragraphs
}

/// A label candidate of one paragraph and the speech after it.
struct Candidate {
    name: String,
    /// A colon of its own, or a table layout, makes it a label regardless
    /// of how often the name occurs.
    certain: bool,
    speech: String,
}

/// A bold run (or runs) at the start of a paragraph that could be a name.
/// Anchor runs are passed over, and anchors in the name move to the speech.
fn bold_label(paragraph: &Paragraph) -> Option<Candidate> {
    let runs = &paragraph.runs;
    let blank = |r: &Run| r.anchors_only || without_anchors(&r.text).trim().is_empty();
    let first_visible = runs.iter().position(|r| !blank(r))?;
    let mut end = first_visible;
    while end < runs.len() && (runs[end].bold || blank(&runs[end])) {
        end += 1;
    }
    let prefix: String = runs[..end].iter().map(|r| r.text.as_str()).collect();
    let moved: String = prefix.chars().filter(|c| is_anchor(*c)).collect();
    let prefix = without_anchors(&prefix);
    let rest: String = runs[end..].iter().map(|r| r.text.as_str()).collect();
    let mut name = prefix.trim();
    let mut speech = rest.as_str();
    let mut had_colon = false;
    if let Some(stripped) = name.strip_suffix([':', '\u{FF1A}']) {
        name = stripped.trim_end();
        had_colon = true;
    } else if let Some(after) = speech.trim_start().strip_prefix([':', '\u{FF1A}']) {
        speech = after;
        had_colon = true;
    }
    // A wholly bold paragraph without a colon is a heading or an emphasised
    // question, not a label.
    if (!had_colon && without_anchors(speech).trim().is_empty())
        || name.contains([':', '\u{FF1A}', '\n'])
        || !looks_like_speaker(name, LabelRule::Transcript)
    {
        return None;
    }
    Some(Candidate {
        name: name.to_owned(),
        certain: had_colon,
        speech: format!("{moved}{}", speech.trim_start()),
    })
}

/// Turns paragraphs into text, writing accepted bold and table labels as
/// `Name: `; table labels are marked `true`, to be kept as labels however
/// rarely the name occurs.
fn label_paragraphs(paragraphs: Vec<Paragraph>, options: &ImportOptions) -> Vec<(String, bool)> {
    let candidates: Vec<Option<Candidate>> = paragraphs
        .iter()
        .map(|p| match &p.table_speaker {
            Some(name) => Some(Candidate {
                name: name.clone(),
                certain: true,
                speech: p.text().trim_start().to_owned(),
            }),
            None => bold_label(p).filter(|c| !options.is_not_speaker(&c.name)),
        })
        .collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (paragraph, candidate) in paragraphs.iter().zip(&candidates) {
        let name = match candidate {
            Some(candidate) => Some(candidate.name.clone()),
            None => find_label(&paragraph.text(), LabelRule::Transcript).map(|l| l.speaker),
        };
        if let Some(name) = name {
            *counts.entry(name.to_lowercase()).or_default() += 1;
        }
    }
    let accepted = |candidate: &Candidate| {
        candidate.certain
            || counts
                .get(&candidate.name.to_lowercase())
                .is_some_and(|&n| n >= 2)
    };
    let mut lines = Vec::with_capacity(paragraphs.len());
    for (i, paragraph) in paragraphs.iter().enumerate() {
        let candidate = candidates[i].as_ref().filter(|c| accepted(c));
        if let Some(candidate) = candidate {
            // A label alone on its paragraph gets no trailing space; the
            // speech follows on the next line.
            let line = if without_anchors(&candidate.speech).trim().is_empty() {
                format!("{}:{}", candidate.name, candidate.speech.trim())
            } else {
                format!("{}: {}", candidate.name, candidate.speech)
            };
            lines.push((line, paragraph.table_speaker.is_some()));
        } else {
            lines.push((paragraph.text(), false));
        }
    }
    lines
}

/// A document read from its package, ready to become a transcript.
struct Package {
    body: Part,
    /// The document part, to read again without comment anchors if need be.
    xml: String,
    numbering: Numbering,
    footnotes: Part,
    endnotes: Part,
    comments: Part,
    headers: Vec<String>,
    footers: Vec<String>,
}

impl Package {
    fn read(zip: &mut GuardedZip<'_>, document: &[u8]) -> Result<Package, ImportError> {
        let corrupt = |detail: String| ImportError::DocxCorrupt { detail };
        let mut header_names: Vec<String> = zip
            .names()
            .into_iter()
            .filter(|n| is_numbered_part(n, "word/header") || is_numbered_part(n, "word/footer"))
            .collect();
        header_names.sort_by_key(|n| (part_number(n), n.clone()));
        let xml = xml_text(document)?;
        let body = read_part(&xml, true).map_err(corrupt)?;
        let mut optional = |name: &str| -> Result<Option<String>, ImportError> {
            match zip.read(name)? {
                Some(bytes) => Ok(Some(xml_text(&bytes)?)),
                None => Ok(None),
            }
        };
        let numbering_xml = optional("word/numbering.xml")?;
        let styles_xml = optional("word/styles.xml")?;
        let numbering = Numbering::read(numbering_xml.as_deref(), styles_xml.as_deref());
        let mut part = |name: &str| -> Result<Part, ImportError> {
            match optional(name)? {
                Some(xml) => read_part(&xml, false).map_err(corrupt),
                None => Ok(Part::default()),
            }
        };
        let footnotes = part("word/footnotes.xml")?;
        let endnotes = part("word/endnotes.xml")?;
        let comments = part("word/comments.xml")?;
        let (mut headers, mut footers) = (Vec::new(), Vec::new());
        for name in header_names {
            let Some(xml) = optional(&name)? else {
                continue;
            };
            let read = read_part(&xml, false).map_err(corrupt)?;
            let text = blocks_text(read.blocks, &numbering);
            let list = if name.starts_with("word/header") {
                &mut headers
            } else {
                &mut footers
            };
            if !text.is_empty() && !list.contains(&text) {
                list.push(text);
            }
        }
        Ok(Package {
            body,
            xml,
            numbering,
            footnotes,
            endnotes,
            comments,
            headers,
            footers,
        })
    }

    /// The transcript, or `None` when comment anchors changed how the text
    /// normalises (then `anchored` false gives it without comment spans).
    fn transcript(
        &self,
        options: &ImportOptions,
        anchored: bool,
    ) -> Result<Option<ParsedTranscript>, ImportError> {
        let plain;
        let body = if anchored {
            &self.body
        } else {
            plain = read_part(&self.xml, false)
                .map_err(|detail| ImportError::DocxCorrupt { detail })?;
            &plain
        };
        let mut blocks = clone_blocks(&body.blocks);
        number_paragraphs(&mut blocks, &self.numbering);
        let paragraphs = flatten(blocks, options);
        let lines = label_paragraphs(paragraphs, options);
        let mut notes = Vec::new();
        for (heading, part, ids, roman) in [
            ("Footnotes", &self.footnotes, &body.footnotes, false),
            ("Endnotes", &self.endnotes, &body.endnotes, true),
        ] {
            let texts: Vec<String> = ids
                .iter()
                .enumerate()
                .filter_map(|(i, id)| {
                    let note = part.containers.iter().find(|c| c.id == *id)?;
                    let mark = if roman {
                        format_number(i as u32 + 1, "lowerRoman")
                    } else {
                        (i + 1).to_string()
                    };
                    let text =
                        blocks_text(clone_blocks(&note.blocks), &self.numbering).replace('\n', " ");
                    Some(format!("[{mark}] {}", text.trim()))
                })
                .collect();
            if !texts.is_empty() {
                notes.push(heading.to_owned());
                notes.extend(texts);
            }
        }
        let Some(mut parsed) = assemble(lines, notes, options)? else {
            return Err(if body.pictures > 0 {
                ImportError::DocxOnlyPictures {
                    pictures: body.pictures,
                }
            } else {
                ImportError::Empty
            });
        };
        let spans = if anchored {
            match strip_anchors(&mut parsed) {
                Some(spans) => spans,
                None => return Ok(None),
            }
        } else {
            HashMap::new()
        };
        let mut comments = Vec::new();
        for comment in &self.comments.containers {
            let text = blocks_text(clone_blocks(&comment.blocks), &self.numbering);
            let index = self.body.comments.iter().position(|c| *c == comment.id);
            let span = index.and_then(|i| spans.get(&i).copied());
            comments.push(DocumentComment {
                author: comment.author.clone().filter(|a| !a.trim().is_empty()),
                date: comment.date.clone(),
                text,
                span,
            });
        }
        if body.has_revisions {
            parsed.warnings.push(
                "The document has tracked changes; it was imported as if all of them were accepted."
                    .to_owned(),
            );
        }
        if !comments.is_empty() {
            parsed.warnings.push(format!(
                "The document has {} comment(s). They are kept with the transcript, each on the text it marks, and shown on its page; they are not codings.",
                comments.len()
            ));
        }
        parsed
            .not_kept
            .push("formatting (fonts, bold and italics, colours, page layout)".to_owned());
        if body.pictures > 0 {
            parsed
                .not_kept
                .push(format!("{} picture(s)", body.pictures));
        }
        if body.has_revisions {
            parsed
                .not_kept
                .push("text deleted in tracked changes".to_owned());
        }
        parsed.metadata = Metadata {
            headers: self.headers.clone(),
            footers: self.footers.clone(),
            comments,
        };
        Ok(Some(parsed))
    }
}

fn clone_blocks(blocks: &[Block]) -> Vec<Block> {
    blocks
        .iter()
        .map(|b| match b {
            Block::Paragraph(p) => Block::Paragraph(p.clone()),
            Block::Row { table, cells } => Block::Row {
                table: *table,
                cells: cells.clone(),
            },
        })
        .collect()
}

/// The plain text of a header, footer, note or comment: its paragraphs (and
/// table rows) one per line, trimmed.
fn blocks_text(mut blocks: Vec<Block>, numbering: &Numbering) -> String {
    number_paragraphs(&mut blocks, numbering);
    let lines: Vec<String> = blocks
        .into_iter()
        .filter_map(|block| match block {
            Block::Paragraph(p) => Some(p.text()),
            Block::Row { cells, .. } => row_line(&cells).map(|p| p.text()),
        })
        .map(|line| normalize(&without_anchors(&line)).trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect();
    lines.join("\n")
}

fn is_numbered_part(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(".xml"))
        .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
}

fn part_number(name: &str) -> u32 {
    name.trim_end_matches(".xml")
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(0)
}

/// Removes the comment anchors from the finished transcript, moving every
/// offset back accordingly; gives each anchored comment's span, or `None`
/// when the text without anchors normalises differently.
fn strip_anchors(parsed: &mut ParsedTranscript) -> Option<HashMap<usize, Span>> {
    if !parsed.text.chars().any(is_anchor) {
        return Some(HashMap::new());
    }
    // before[i]: how many anchors precede code point i.
    let mut before = Vec::with_capacity(parsed.char_count + 1);
    let mut text = String::with_capacity(parsed.text.len());
    let mut anchors_seen = 0;
    let mut starts: HashMap<usize, usize> = HashMap::new();
    let mut spans: HashMap<usize, Span> = HashMap::new();
    for c in parsed.text.chars() {
        before.push(anchors_seen);
        if is_anchor(c) {
            let position = text.chars().count();
            let code = c as u32 - ANCHOR_BASE;
            let comment = (code / 2) as usize;
            if code.is_multiple_of(2) {
                starts.insert(comment, position);
            } else if let Some(start) = starts.get(&comment) {
                spans.insert(
                    comment,
                    Span {
                        start: *start,
                        end: position,
                    },
                );
            }
            anchors_seen += 1;
        } else {
            text.push(c);
        }
    }
    before.push(anchors_seen);
    let canonical = canonicalize(&text);
    if canonical.text != text {
        return None;
    }
    let map = |offset: usize| offset - before.get(offset).copied().unwrap_or(anchors_seen);
    let turns = std::mem::take(&mut parsed.turns)
        .into_iter()
        .map(|mut turn| {
            turn.start = map(turn.start);
            turn.end = map(turn.end);
            turn.label_end = turn.label_end.map(map);
            turn
        })
        .filter(|turn| turn.start < turn.end)
        .collect();
    // Spans that covered nothing but anchors mark no text.
    spans.retain(|_, span| span.start < span.end);
    let warnings = std::mem::take(&mut parsed.warnings);
    let not_kept = std::mem::take(&mut parsed.not_kept);
    *parsed = ParsedTranscript {
        not_kept,
        ..ParsedTranscript::new(canonical, turns, warnings)
    };
    Some(spans)
}

/// Builds the canonical transcript from paragraph lines and the notes
/// that follow them (each note its own turn); `None` when there is no text.
fn assemble(
    paragraphs: Vec<(String, bool)>,
    notes: Vec<String>,
    options: &ImportOptions,
) -> Result<Option<ParsedTranscript>, ImportError> {
    let mut paragraphs: Vec<(String, bool)> = paragraphs
        .into_iter()
        .map(|(text, certain)| (normalize(&text), certain))
        .collect();
    // Paragraphs holding nothing but comment anchors at either end go too:
    // such a comment marks no text.
    let blank = |p: &str| without_anchors(p).trim().is_empty();
    while paragraphs.last().is_some_and(|(p, _)| blank(p)) {
        paragraphs.pop();
    }
    let first = paragraphs
        .iter()
        .position(|(p, _)| !blank(p))
        .unwrap_or(paragraphs.len());
    let mut paragraphs = paragraphs.split_off(first);
    if paragraphs.iter().all(|(p, _)| blank(p)) {
        return Ok(None);
    }
    let mut breaks = Vec::new();
    let body_lines: usize = paragraphs
        .iter()
        .map(|(p, _)| p.matches('\n').count() + 1)
        .sum();
    if !notes.is_empty() {
        paragraphs.push((String::new(), false));
        for (i, note) in notes.into_iter().enumerate() {
            breaks.push(body_lines + 1 + i);
            paragraphs.push((normalize(&note), false));
        }
    }
    if let Some((last, _)) = paragraphs.last_mut() {
        last.truncate(last.trim_end().len());
    }
    let texts: Vec<&str> = paragraphs.iter().map(|(p, _)| p.as_str()).collect();
    let canonical = canonicalize(&texts.join("\n"));
    let lines = line_spans(&canonical.text);
    let mut ranges = Vec::with_capacity(paragraphs.len());
    let mut certain_lines = Vec::new();
    let mut next = 0;
    for (paragraph, certain) in &paragraphs {
        let count = paragraph.matches('\n').count() + 1;
        if *certain {
            certain_lines.push(next);
        }
        ranges.push(next..next + count);
        next += count;
    }
    if next != lines.len() {
        // Cannot happen while `normalize` keeps line counts; each line as its
        // own paragraph is still a sound fallback.
        ranges = (0..lines.len()).map(|i| i..i + 1).collect();
        certain_lines.clear();
        breaks.clear();
    }
    let hints = TurnHints {
        certain_lines,
        breaks,
    };
    let (turns, warnings) = build_turns(
        &canonical.text,
        &lines,
        &ranges,
        &hints,
        LabelRule::Transcript,
        options,
    );
    Ok(Some(ParsedTranscript::new(canonical, turns, warnings)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::tests::assert_well_formed;
    use proptest::prelude::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, contents) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(contents).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn docx(body: &str) -> Vec<u8> {
        let document = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{body}<w:sectPr/></w:body></w:document>"#
        );
        zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", document.as_bytes()),
        ])
    }

    fn para(runs: &str) -> String {
        format!("<w:p><w:pPr><w:rPr><w:b/></w:rPr></w:pPr>{runs}</w:p>")
    }

    fn run(text: &str) -> String {
        format!(r#"<w:r><w:t xml:space="preserve">{text}</w:t></w:r>"#)
    }

    fn bold(text: &str) -> String {
        format!(r#"<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>"#)
    }

    fn parse(body: &str) -> ParsedTranscript {
        parse_docx(&docx(body), &ZipLimits::default()).unwrap()
    }

    fn turn_texts(parsed: &ParsedTranscript) -> Vec<(Option<String>, String)> {
        parsed
            .turns
            .iter()
            .map(|t| {
                (
                    t.speaker.clone(),
                    parsed
                        .text
                        .chars()
                        .skip(t.start)
                        .take(t.end - t.start)
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn bold_labels_become_name_colon_prefixes() {
        let body = [
            para(&format!(
                "{}{}",
                bold("Interviewer:"),
                run(" How did you start?")
            )),
            para(&format!("{}{}", bold("P01"), run("\tI was a nurse."))),
            para(&format!("{}{}", bold("Interviewer"), run(": And then?"))),
            para(&format!("{}{}", bold("P01"), run(" Oncology."))),
        ]
        .concat();
        let parsed = parse(&body);
        assert_eq!(
            parsed.text,
            "Interviewer: How did you start?\nP01: I was a nurse.\nInterviewer: And then?\nP01: Oncology."
        );
        let speakers: Vec<_> = parsed.turns.iter().map(|t| t.speaker.as_deref()).collect();
        assert_eq!(
            speakers,
            [
                Some("Interviewer"),
                Some("P01"),
                Some("Interviewer"),
                Some("P01")
            ]
        );
        assert_eq!(parsed.turns[1].label_end, Some(parsed.turns[1].start + 5));
    }

    #[test]
    fn a_bold_label_alone_on_its_paragraph_heads_the_speech_after_it() {
        let body = [
            para(&bold("Interviewer:")),
            para(&run("How are you?")),
            para(&bold("P06:")),
            para(&run("Fine.")),
            para(&run("Really.")),
        ]
        .concat();
        let parsed = parse(&body);
        assert_eq!(
            parsed.text,
            "Interviewer:\nHow are you?\nP06:\nFine.\nReally."
        );
        assert_eq!(
            turn_texts(&parsed),
            [
                (
                    Some("Interviewer".to_owned()),
                    "Interviewer:\nHow are you?".to_owned()
                ),
                (Some("P06".to_owned()), "P06:\nFine.\nReally.".to_owned()),
            ]
        );
        assert!(parsed.warnings.is_empty());
    }

    #[test]
    fn bold_emphasis_in_prose_is_not_a_label() {
        let body = [
            para(&bold("Interview with P02")),
            para(&format!("{}{}", bold("Important"), run(" point here."))),
            para(&bold("How did you start?")),
            para(&run("I: typed label")),
            para(&run("P02: typed answer")),
            para(&run("I: again")),
            para(&run("P02: again")),
        ]
        .concat();
        let parsed = parse(&body);
        assert!(
            parsed
                .text
                .starts_with("Interview with P02\nImportant point here.\nHow did you start?\n")
        );
        assert_eq!(parsed.turns.len(), 7);
        assert_eq!(parsed.turns[0].speaker, None);
        assert_eq!(parsed.turns[3].speaker.as_deref(), Some("I"));
    }

    #[test]
    fn without_labels_each_paragraph_is_a_turn() {
        let parsed = parse(&[para(&run("One.")), para(""), para(&run("Two."))].concat());
        assert_eq!(parsed.text, "One.\n\nTwo.");
        assert_eq!(
            turn_texts(&parsed),
            [(None, "One.".to_owned()), (None, "Two.".to_owned())]
        );
    }

    #[test]
    fn breaks_tabs_entities_and_split_runs_are_read() {
        let body = para(
            r#"<w:r><w:t>Zo</w:t></w:r><w:r><w:t>e&#x308; &amp; &lt;b&gt;</w:t><w:tab/><w:t>x</w:t><w:br/><w:t>y</w:t><w:noBreakHyphen/><w:t>z</w:t></w:r>"#,
        );
        let parsed = parse(&body);
        assert_eq!(parsed.text, "Zoë & <b>\tx\ny-z");
        assert_eq!(parsed.lines.len(), 2);
        assert_eq!(
            parsed.turns.len(),
            1,
            "a line break stays within the paragraph's turn"
        );
    }

    #[test]
    fn tracked_deletions_fallbacks_and_tab_stops_are_left_out() {
        let body = format!(
            r#"<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>{}<w:del><w:r><w:delText>gone</w:delText></w:r></w:del><w:ins>{}</w:ins><w:r><mc:AlternateContent><mc:Choice><w:drawing><w:txbxContent><w:p>{}</w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p>{}</w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>"#,
            run("kept "),
            run("added"),
            run("box"),
            run("box"),
        );
        let parsed = parse(&body);
        assert_eq!(parsed.text, "box\nkept added");
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
        assert!(parsed.warnings[0].contains("tracked changes"));
    }

    #[test]
    fn two_column_tables_of_speaker_and_speech_are_read_as_turns() {
        let row = |name: &str, speech: &str| {
            format!(
                "<w:tr><w:tc>{}</w:tc><w:tc>{}</w:tc></w:tr>",
                para(&run(name)),
                para(&run(speech))
            )
        };
        let body = format!(
            "<w:tbl>{}{}{}</w:tbl>",
            row("Interviewer", "Hello."),
            row("P03", "Hi."),
            row("Interviewer", "Bye.")
        );
        let parsed = parse(&body);
        assert_eq!(
            parsed.text,
            "Interviewer: Hello.\nP03: Hi.\nInterviewer: Bye."
        );
        assert_eq!(parsed.turns.len(), 3);
    }

    #[test]
    fn offsets_are_code_points_after_emoji() {
        let body = [
            para(&format!("{}{}", bold("Zoë:"), run(" 👋 hi"))),
            para(&format!("{}{}", bold("P05:"), run(" hello"))),
        ]
        .concat();
        let parsed = parse(&body);
        assert_eq!(parsed.text, "Zoë: 👋 hi\nP05: hello");
        assert_eq!(parsed.turns[1].start, 10);
        assert_eq!(parsed.turns[1].label_end, Some(15));
    }

    #[test]
    fn main_document_is_found_through_the_package_relationships() {
        let rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/word/document2.xml"/></Relationships>"#;
        let document = format!(
            r#"<w:document {W}><w:body>{}</w:body></w:document>"#,
            para(&run("Text"))
        );
        let bytes = zip_of(&[
            ("_rels/.rels", rels.as_bytes()),
            ("word/document2.xml", document.as_bytes()),
        ]);
        assert_eq!(
            parse_docx(&bytes, &ZipLimits::default()).unwrap().text,
            "Text"
        );
    }

    #[test]
    fn a_zip_bomb_stops_at_the_size_cap() {
        let zeros = vec![b' '; 3_000_000];
        let document = format!(r#"<w:document {W}><w:body><w:p><w:r><w:t>x</w:t></w:r></w:p>"#);
        let mut big = document.into_bytes();
        big.extend(&zeros);
        let bytes = zip_of(&[("word/document.xml", &big)]);
        assert!(bytes.len() < 50_000, "the fixture is highly compressible");
        let limits = ZipLimits {
            max_uncompressed_bytes: 1_000_000,
            ..ZipLimits::default()
        };
        let error = parse_docx(&bytes, &limits).unwrap_err();
        assert_eq!(error, ImportError::ArchiveTooLarge { limit_mb: 1 });
        assert!(error.to_string().contains("more than 1 MB"));
    }

    #[test]
    fn a_lying_declared_size_does_not_get_past_the_cap() {
        let mut big = vec![b' '; 2_000_000];
        big.extend(b"<w:document/>");
        let mut bytes = zip_of(&[("word/document.xml", &big)]);
        // Rewrite both declared uncompressed sizes (local header offset 22,
        // central directory offset 24) to 10 bytes.
        let declared = (big.len() as u32).to_le_bytes();
        let positions: Vec<usize> = bytes
            .windows(4)
            .enumerate()
            .filter(|(_, w)| *w == declared)
            .map(|(i, _)| i)
            .collect();
        assert!(!positions.is_empty());
        for i in positions {
            bytes[i..i + 4].copy_from_slice(&10u32.to_le_bytes());
        }
        let limits = ZipLimits {
            max_uncompressed_bytes: 1_000_000,
            ..ZipLimits::default()
        };
        let error = parse_docx(&bytes, &limits).unwrap_err();
        assert!(
            matches!(
                error,
                ImportError::ArchiveTooLarge { .. } | ImportError::DocxCorrupt { .. }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn too_many_entries_is_an_error() {
        assert_eq!(ZipLimits::default().max_entries, 10_000);
        let names: Vec<String> = (0..51).map(|i| format!("word/media/f{i}")).collect();
        let mut entries: Vec<(&str, &[u8])> =
            names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let document = format!(
            r#"<w:document {W}><w:body>{}</w:body></w:document>"#,
            para(&run("x"))
        );
        entries.push(("word/document.xml", document.as_bytes()));
        let bytes = zip_of(&entries);
        let limits = ZipLimits {
            max_entries: 50,
            ..ZipLimits::default()
        };
        assert_eq!(
            parse_docx(&bytes, &limits),
            Err(ImportError::ArchiveTooManyEntries {
                entries: 52,
                limit: 50
            })
        );
        let limits = ZipLimits {
            max_entries: 52,
            ..ZipLimits::default()
        };
        assert_eq!(
            parse_docx(&bytes, &limits).map(|p| p.text),
            Ok("x".to_owned())
        );
    }

    #[test]
    fn corrupt_encrypted_and_incomplete_files_are_clear_errors() {
        let corrupt =
            parse_docx(b"PK\x03\x04 not really a zip", &ZipLimits::default()).unwrap_err();
        assert!(matches!(corrupt, ImportError::DocxCorrupt { .. }));
        let mut truncated = docx(&para(&run("x")));
        truncated.truncate(truncated.len() / 2);
        assert!(matches!(
            parse_docx(&truncated, &ZipLimits::default()),
            Err(ImportError::DocxCorrupt { .. })
        ));

        let mut ole = OLE_MAGIC.to_vec();
        ole.extend([0; 504]);
        let encrypted = parse_docx(&ole, &ZipLimits::default()).unwrap_err();
        assert_eq!(encrypted, ImportError::DocxEncrypted);
        assert!(encrypted.to_string().starts_with("This .docx is encrypted"));

        let no_document = zip_of(&[("word/styles.xml", b"<w:styles/>")]);
        assert_eq!(
            parse_docx(&no_document, &ZipLimits::default()),
            Err(ImportError::DocxMissingDocument)
        );

        let bad_xml = zip_of(&[("word/document.xml", b"<w:document><w:body><w:p></w:body>")]);
        assert!(matches!(
            parse_docx(&bad_xml, &ZipLimits::default()),
            Err(ImportError::DocxCorrupt { .. })
        ));

        assert_eq!(
            parse_docx(b"", &ZipLimits::default()),
            Err(ImportError::Empty)
        );
        assert_eq!(
            parse_docx(&docx(&para("")), &ZipLimits::default()),
            Err(ImportError::Empty)
        );
    }

    fn document_xml(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{body}<w:sectPr/></w:body></w:document>"#
        )
    }

    fn list_item(num_id: &str, level: usize, text: &str) -> String {
        format!(
            r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr>{}</w:p>"#,
            run(text)
        )
    }

    #[test]
    fn numbered_lists_keep_their_numbers_letters_and_levels() {
        // "1. / 2. / a." as Word numbers an outline list, restarting the
        // letters under each number; a second list restarts at 1 by override.
        let numbering = format!(
            r#"<w:numbering {W}><w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl><w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%2)"/></w:lvl><w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerRoman"/><w:lvlText w:val="%1.%2.%3"/></w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="0"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="7"/></w:lvlOverride></w:num></w:numbering>"#
        );
        let body = [
            list_item("1", 0, "First"),
            list_item("1", 1, "sub a"),
            list_item("1", 1, "sub b"),
            list_item("1", 2, "deep"),
            list_item("1", 0, "Second"),
            list_item("1", 1, "sub again"),
            para(&run("Between")),
            list_item("2", 0, "Other list"),
            format!(
                r#"<w:p><w:pPr><w:numPr><w:numId w:val="0"/></w:numPr></w:pPr>{}</w:p>"#,
                run("Not numbered")
            ),
        ]
        .concat();
        let bytes = zip_of(&[
            ("word/document.xml", document_xml(&body).as_bytes()),
            ("word/numbering.xml", numbering.as_bytes()),
        ]);
        let parsed = parse_docx(&bytes, &ZipLimits::default()).unwrap();
        assert_eq!(
            parsed.text,
            "1. First\n\ta) sub a\n\tb) sub b\n\t\t1.b.i deep\n2. Second\n\ta) sub again\nBetween\n7. Other list\nNot numbered"
        );
        assert_well_formed(&parsed);
    }

    #[test]
    fn table_rows_keep_empty_cells_and_skip_empty_rows() {
        let cell = |text: &str| format!("<w:tc>{}</w:tc>", para(&run(text)));
        let body = format!(
            "<w:tbl><w:tr>{}{}{}</w:tr><w:tr>{}{}{}</w:tr><w:tr>{}{}{}</w:tr></w:tbl>",
            cell("Code"),
            cell("Count"),
            cell("Note"),
            cell("Fear"),
            cell(""),
            cell("rare"),
            cell(""),
            cell(""),
            cell(""),
        );
        assert_eq!(parse(&body).text, "Code | Count | Note\nFear |  | rare");
    }

    #[test]
    fn a_comment_over_a_bold_label_and_speech_keeps_the_label_and_its_span() {
        let body = [
            format!(
                r#"<w:p><w:commentRangeStart w:id="5"/>{}{}<w:commentRangeEnd w:id="5"/></w:p>"#,
                bold("Interviewer:"),
                run(" Tell me.")
            ),
            para(&format!("{}{}", bold("P01:"), run(" Zoë 👋 knows."))),
            format!(
                r#"<w:p>{}<w:r><w:t>I was </w:t><w:commentRangeStart w:id="6"/><w:t>tired</w:t><w:commentRangeEnd w:id="6"/><w:t>.</w:t></w:r></w:p>"#,
                bold("Interviewer:")
            ),
            para(&format!("{}{}", bold("P01:"), run(" Yes."))),
        ]
        .concat();
        let comments = format!(
            r#"<w:comments {W}><w:comment w:id="5" w:author="Ana"><w:p>{}</w:p></w:comment><w:comment w:id="6" w:author=""><w:p>{}</w:p></w:comment></w:comments>"#,
            run("Opening"),
            run("Check the recording")
        );
        let bytes = zip_of(&[
            ("word/document.xml", document_xml(&body).as_bytes()),
            ("word/comments.xml", comments.as_bytes()),
        ]);
        let parsed = parse_docx(&bytes, &ZipLimits::default()).unwrap();
        assert_well_formed(&parsed);
        assert_eq!(
            parsed.text,
            "Interviewer: Tell me.\nP01: Zoë 👋 knows.\nInterviewer: I was tired.\nP01: Yes."
        );
        let speakers: Vec<_> = parsed.turns.iter().map(|t| t.speaker.as_deref()).collect();
        assert_eq!(
            speakers,
            [
                Some("Interviewer"),
                Some("P01"),
                Some("Interviewer"),
                Some("P01")
            ]
        );
        assert_eq!(parsed.turns[2].label_end, Some(parsed.turns[2].start + 13));
        let spans: Vec<String> = parsed
            .metadata
            .comments
            .iter()
            .map(|c| {
                let span = c.span.unwrap();
                parsed
                    .text
                    .chars()
                    .skip(span.start)
                    .take(span.end - span.start)
                    .collect()
            })
            .collect();
        // The anchor before the label moves past it, into the speech.
        assert_eq!(spans, ["Tell me.", "tired"]);
        assert_eq!(parsed.metadata.comments[0].author.as_deref(), Some("Ana"));
        assert_eq!(parsed.metadata.comments[1].author, None);
    }

    #[test]
    fn a_comment_between_a_letter_and_its_accent_keeps_the_text_without_a_span() {
        let body = format!(
            r#"<w:p>{}<w:commentRangeStart w:id="1"/>{}<w:commentRangeEnd w:id="1"/></w:p>"#,
            run("Cafe"),
            run("\u{301} noir")
        );
        let comments = format!(
            r#"<w:comments {W}><w:comment w:id="1"><w:p>{}</w:p></w:comment></w:comments>"#,
            run("accent?")
        );
        let bytes = zip_of(&[
            ("word/document.xml", document_xml(&body).as_bytes()),
            ("word/comments.xml", comments.as_bytes()),
        ]);
        let parsed = parse_docx(&bytes, &ZipLimits::default()).unwrap();
        assert_eq!(parsed.text, "Café noir");
        assert_well_formed(&parsed);
        assert_eq!(parsed.metadata.comments.len(), 1);
        assert_eq!(parsed.metadata.comments[0].span, None);
    }

    #[test]
    fn dropped_speakers_stay_text() {
        let body = [
            para(&format!("{}{}", bold("Interviewer:"), run(" Hello."))),
            para(&format!("{}{}", bold("Note:"), run(" the tape stops."))),
            para(&format!("{}{}", bold("Interviewer:"), run(" Again."))),
        ]
        .concat();
        let options = ImportOptions {
            not_speakers: vec!["note".to_owned()],
            ..ImportOptions::default()
        };
        let parsed = parse_docx_with(&docx(&body), &options).unwrap();
        assert_eq!(
            parsed.text,
            "Interviewer: Hello.\nNote: the tape stops.\nInterviewer: Again."
        );
        assert_eq!(parsed.speakers(), [("Interviewer".to_owned(), 2)]);
        assert_eq!(
            slice_turn(&parsed, 0),
            "Interviewer: Hello.\nNote: the tape stops."
        );
    }

    fn slice_turn(parsed: &ParsedTranscript, i: usize) -> String {
        let turn = &parsed.turns[i];
        parsed
            .text
            .chars()
            .skip(turn.start)
            .take(turn.end - turn.start)
            .collect()
    }

    #[test]
    fn headers_repeated_across_sections_are_kept_once() {
        let header = |text: &str| format!(r#"<w:hdr {W}>{}</w:hdr>"#, para(&run(text)));
        let (first, again, date) = (
            header("Interview P07"),
            header("Interview P07"),
            header("12 May 2024"),
        );
        let footer = format!(r#"<w:ftr {W}>{}</w:ftr>"#, para(&run("Page 1")));
        let bytes = zip_of(&[
            (
                "word/document.xml",
                document_xml(&para(&run("Text"))).as_bytes(),
            ),
            ("word/header2.xml", again.as_bytes()),
            ("word/header1.xml", first.as_bytes()),
            ("word/header10.xml", date.as_bytes()),
            ("word/footer1.xml", footer.as_bytes()),
        ]);
        let parsed = parse_docx(&bytes, &ZipLimits::default()).unwrap();
        assert_eq!(parsed.text, "Text");
        assert_eq!(parsed.metadata.headers, ["Interview P07", "12 May 2024"]);
        assert_eq!(parsed.metadata.footers, ["Page 1"]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn generated_documents_give_well_formed_transcripts(
            paragraphs in proptest::collection::vec(
                proptest::collection::vec(
                    (any::<bool>(), "(P01|Interviewer|Zoë|👋|e\u{301}|:| |\t|[a-z]{1,4}|&amp;|<w:br/>|<w:tab/>)*"),
                    0..4,
                ),
                0..8,
            )
        ) {
            let body: String = paragraphs
                .iter()
                .map(|runs| {
                    let runs: String = runs
                        .iter()
                        .map(|(is_bold, text)| {
                            let text = text
                                .replace("<w:br/>", "</w:t><w:br/><w:t>")
                                .replace("<w:tab/>", "</w:t><w:tab/><w:t>");
                            let properties = if *is_bold { "<w:rPr><w:b/></w:rPr>" } else { "" };
                            format!(r#"<w:r>{properties}<w:t xml:space="preserve">{text}</w:t></w:r>"#)
                        })
                        .collect();
                    para(&runs)
                })
                .collect();
            match parse_docx(&docx(&body), &ZipLimits::default()) {
                Ok(parsed) => assert_well_formed(&parsed),
                Err(error) => prop_assert_eq!(error, ImportError::Empty),
            }
        }
    }
}
