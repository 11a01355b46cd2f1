//! Word documents (.docx), and the zip-bomb guard the .xlsx reader shares.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::ops::Range;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use zip::ZipArchive;
use zip::result::ZipError;

use super::canonical::{canonicalize, normalize};
use super::text::{LabelRule, build_turns, find_label, looks_like_speaker};
use super::{ImportError, ParsedTranscript, line_spans};

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
/// and tabs stay `\t`. Table cells' paragraphs are lines in reading order;
/// text boxes are read once (not their legacy fallback copy); deleted and
/// moved-away tracked changes are left out; headers, footers, footnotes and
/// comments are not part of the transcript.
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
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    let mut zip = GuardedZip::open(
        bytes,
        limits,
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
    let xml = xml_text(&xml)?;
    let (paragraphs, has_revisions) =
        read_document(&xml).map_err(|detail| ImportError::DocxCorrupt { detail })?;
    let mut parsed = assemble(label_paragraphs(paragraphs))?;
    if has_revisions {
        parsed.warnings.push(
            "The document has tracked changes; it was imported as if all of them were accepted."
                .to_owned(),
        );
    }
    Ok(parsed)
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

#[derive(Debug, Default)]
struct Run {
    text: String,
    bold: bool,
}

#[derive(Debug, Default)]
struct Paragraph {
    runs: Vec<Run>,
    /// Set on the first speech paragraph of a two-column table row whose
    /// first cell held this speaker name.
    table_speaker: Option<String>,
    /// The name cell of such a row, once its name moved into the speech.
    merged: bool,
}

impl Paragraph {
    fn text(&self) -> String {
        self.runs.iter().map(|r| r.text.as_str()).collect()
    }
}

#[derive(Default)]
struct Frame {
    runs: Vec<Run>,
    run: Option<Run>,
    in_run_properties: bool,
}

struct TableRow {
    first_paragraph: usize,
    cell_starts: Vec<usize>,
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
];

/// The paragraphs of a document, and whether it had tracked changes.
fn read_document(xml: &str) -> Result<(Vec<Paragraph>, bool), String> {
    let mut reader = Reader::from_str(xml);
    let mut paragraphs: Vec<Paragraph> = Vec::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut skip_depth = 0usize;
    let mut in_text = false;
    let mut has_revisions = false;
    let mut table_depth = 0usize;
    let mut row: Option<TableRow> = None;
    let mut tables = 0usize;
    let mut speaker_rows: Vec<(usize, Range<usize>, Range<usize>)> = Vec::new();

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
                has_revisions |= REVISIONS.contains(&name);
                if SKIPPED.contains(&name) {
                    skip_depth = 1;
                    continue;
                }
                match name {
                    "p" => frames.push(Frame::default()),
                    "r" => {
                        if let Some(frame) = frames.last_mut() {
                            frame.run = Some(Run::default());
                        }
                    }
                    "rPr" => {
                        if let Some(frame) = frames.last_mut() {
                            frame.in_run_properties = frame.run.is_some();
                        }
                    }
                    "t" => in_text = true,
                    "tbl" => {
                        table_depth += 1;
                        tables += 1;
                    }
                    "tr" if table_depth == 1 && frames.is_empty() => {
                        row = Some(TableRow {
                            first_paragraph: paragraphs.len(),
                            cell_starts: Vec::new(),
                        });
                    }
                    "tc" if table_depth == 1 && frames.is_empty() => {
                        if let Some(row) = row.as_mut() {
                            row.cell_starts.push(paragraphs.len());
                        }
                    }
                    _ => inline_element(&element, frames.last_mut()),
                }
            }
            Event::Empty(element) => inline_element(&element, frames.last_mut()),
            Event::End(element) => match element.local_name().as_ref() {
                "p" => {
                    if let Some(mut frame) = frames.pop() {
                        if let Some(run) = frame.run.take() {
                            frame.runs.push(run);
                        }
                        paragraphs.push(Paragraph {
                            runs: frame.runs,
                            ..Paragraph::default()
                        });
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
                    if let Some(row) = row.take()
                        && let [first, second] = row.cell_starts[..]
                        && first == row.first_paragraph
                    {
                        speaker_rows.push((tables, first..second, second..paragraphs.len()));
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
    merge_table_speakers(&mut paragraphs, &speaker_rows);
    Ok((paragraphs, has_revisions))
}

/// Run content and formatting given as (usually empty) elements.
fn inline_element(element: &BytesStart<'_>, frame: Option<&mut Frame>) {
    let Some(frame) = frame else { return };
    let in_properties = frame.in_run_properties;
    let Some(run) = frame.run.as_mut() else {
        return;
    };
    match element.local_name().as_ref() {
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
                .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
        );
    }
}

/// The speaker name in the first cell of a two-column table row, when the
/// cell holds one short name and the second cell has speech.
fn table_speaker(
    paragraphs: &[Paragraph],
    name_cell: &Range<usize>,
    speech_cell: &Range<usize>,
) -> Option<(String, usize)> {
    let visible = |i: &usize| {
        paragraphs
            .get(*i)
            .is_some_and(|p| !p.text().trim().is_empty())
    };
    let speech = speech_cell.clone().find(visible)?;
    let names: Vec<usize> = name_cell.clone().filter(visible).collect();
    let [name_index] = names[..] else { return None };
    let text = paragraphs.get(name_index)?.text();
    let text = text.trim();
    let name = text.strip_suffix([':', '\u{FF1A}']).unwrap_or(text).trim();
    if name.contains([':', '\u{FF1A}']) || !looks_like_speaker(name, LabelRule::Transcript) {
        return None;
    }
    Some((name.to_owned(), speech))
}

/// Moves the names of speaker-table rows into their speech paragraphs, in
/// tables with at least two such rows: there the layout itself says the
/// first column is speakers (a layout some transcription services deliver).
fn merge_table_speakers(
    paragraphs: &mut [Paragraph],
    rows: &[(usize, Range<usize>, Range<usize>)],
) {
    let found: Vec<(usize, Range<usize>, String, usize)> = rows
        .iter()
        .filter_map(|(table, name_cell, speech_cell)| {
            let (name, speech) = table_speaker(paragraphs, name_cell, speech_cell)?;
            Some((*table, name_cell.clone(), name, speech))
        })
        .collect();
    let mut rows_per_table: HashMap<usize, usize> = HashMap::new();
    for (table, ..) in &found {
        *rows_per_table.entry(*table).or_default() += 1;
    }
    for (table, name_cell, name, speech) in found {
        if rows_per_table.get(&table).is_some_and(|&n| n >= 2) {
            for i in name_cell {
                if let Some(paragraph) = paragraphs.get_mut(i) {
                    paragraph.merged = true;
                }
            }
            if let Some(paragraph) = paragraphs.get_mut(speech) {
                paragraph.table_speaker = Some(name);
            }
        }
    }
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
fn bold_label(paragraph: &Paragraph) -> Option<Candidate> {
    let runs = &paragraph.runs;
    let first_visible = runs.iter().position(|r| !r.text.trim().is_empty())?;
    let mut end = first_visible;
    while end < runs.len() && (runs[end].bold || runs[end].text.trim().is_empty()) {
        end += 1;
    }
    let prefix: String = runs[..end].iter().map(|r| r.text.as_str()).collect();
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
    if (!had_colon && speech.trim().is_empty())
        || name.contains([':', '\u{FF1A}', '\n'])
        || !looks_like_speaker(name, LabelRule::Transcript)
    {
        return None;
    }
    Some(Candidate {
        name: name.to_owned(),
        certain: had_colon,
        speech: speech.trim_start().to_owned(),
    })
}

/// Turns paragraphs into text, writing accepted bold and table labels as
/// `Name: `; table labels are marked `true`, to be kept as labels however
/// rarely the name occurs.
fn label_paragraphs(paragraphs: Vec<Paragraph>) -> Vec<(String, bool)> {
    let candidates: Vec<Option<Candidate>> = paragraphs
        .iter()
        .map(|p| match &p.table_speaker {
            Some(name) => Some(Candidate {
                name: name.clone(),
                certain: true,
                speech: p.text().trim_start().to_owned(),
            }),
            None if p.merged => None,
            None => bold_label(p),
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
            let line = if candidate.speech.trim().is_empty() {
                format!("{}:", candidate.name)
            } else {
                format!("{}: {}", candidate.name, candidate.speech)
            };
            lines.push((line, paragraph.table_speaker.is_some()));
        } else if !paragraph.merged {
            lines.push((paragraph.text(), false));
        }
    }
    lines
}

/// Builds the canonical transcript from paragraph lines.
fn assemble(paragraphs: Vec<(String, bool)>) -> Result<ParsedTranscript, ImportError> {
    let mut paragraphs: Vec<(String, bool)> = paragraphs
        .into_iter()
        .map(|(text, certain)| (normalize(&text), certain))
        .collect();
    while paragraphs.last().is_some_and(|(p, _)| p.trim().is_empty()) {
        paragraphs.pop();
    }
    let first = paragraphs
        .iter()
        .position(|(p, _)| !p.trim().is_empty())
        .unwrap_or(paragraphs.len());
    let mut paragraphs = paragraphs.split_off(first);
    if let Some((last, _)) = paragraphs.last_mut() {
        last.truncate(last.trim_end().len());
    }
    if paragraphs.is_empty() {
        return Err(ImportError::Empty);
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
    }
    let (turns, warnings) = build_turns(
        &canonical.text,
        &lines,
        &ranges,
        &certain_lines,
        LabelRule::Transcript,
    );
    Ok(ParsedTranscript::new(canonical, turns, warnings))
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
