//! Turning uploaded files into canonical transcripts and participant tables.
//!
//! Everything here is pure: it parses byte slices handed to it and returns
//! values or an [`ImportError`]; storing them is the caller's business. The
//! caller prefixes error messages with the file name.

mod canonical;
mod captions;
mod docx;
mod encoding;
#[cfg(test)]
mod fixture_tests;
mod table;
mod text;

use serde::{Deserialize, Serialize};

pub use canonical::{Canonical, canonicalize};
pub use captions::{parse_srt, parse_vtt};
pub use docx::{ZipLimits, parse_docx};
pub use encoding::{Encoding, EncodingChoice};
pub use table::{
    ColumnMapping, ParticipantRecord, RowError, Table, TableKind, TableMapping, Value,
    VariableType, infer_type, label_looks_like_name, labels_look_like_names, parse_number,
    parse_table, validate,
};
pub use text::{decode_for_preview, decode_text, parse_markdown, parse_text};

/// The transcript formats Concord imports, known by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Txt,
    Markdown,
    Docx,
    Vtt,
    Srt,
}

/// A half-open range `[start, end)` of code-point offsets into a canonical text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// One speaker turn. `start..end` covers the label too; speech begins at
/// `label_end` when there is a label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub speaker: Option<String>,
    pub start: usize,
    pub end: usize,
    /// Offset just past the `Name: ` label (colon and following spaces) in the text.
    pub label_end: Option<usize>,
    /// Start time of the turn's first caption, for .vtt and .srt.
    pub start_ms: Option<u64>,
    /// End time of the turn's last caption, for .vtt and .srt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
    /// The captions merged into this turn, each with its place in the text
    /// and its times, so any sentence can be found in the recording.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cues: Vec<CueTime>,
}

/// Where one caption's text is in the transcript, and when it is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CueTime {
    pub start: usize,
    pub end: usize,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// What a source holds beside its text, kept with the transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Page headers of a Word document (often the interview id, date and
    /// pseudonym), each distinct one once, in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub footers: Vec<String>,
    /// Word comments, with the span of text each is on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<DocumentComment>,
}

impl Metadata {
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty() && self.footers.is_empty() && self.comments.is_empty()
    }
}

/// A comment of a Word document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentComment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    pub text: String,
    /// The commented text as code-point offsets; `None` when the comment
    /// marks no text (or its text was not imported, as in a deleted change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
}

/// A transcript ready to store: canonical text plus the structure found in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedTranscript {
    pub text: String,
    pub sha256: String,
    pub char_count: usize,
    /// Every `\n`-separated line, empty ones included, so `lines[i]` is line `i + 1`.
    pub lines: Vec<Span>,
    /// Turns in text order; they never overlap, and every non-blank line is in one.
    pub turns: Vec<Turn>,
    /// Things the researcher should know but that did not stop the import.
    pub warnings: Vec<String>,
    /// What the source has that the transcript does not keep (formatting,
    /// pictures, caption positions...), for the preview.
    pub not_kept: Vec<String>,
    pub metadata: Metadata,
    /// The encoding the text was read in, for the text formats.
    pub encoding: Option<Encoding>,
}

impl ParsedTranscript {
    /// Assembles the result from canonical text and its turns.
    pub(crate) fn new(canonical: Canonical, turns: Vec<Turn>, warnings: Vec<String>) -> Self {
        let lines = line_spans(&canonical.text);
        ParsedTranscript {
            text: canonical.text,
            sha256: canonical.sha256,
            char_count: canonical.char_count,
            lines,
            turns,
            warnings,
            not_kept: Vec::new(),
            metadata: Metadata::default(),
            encoding: None,
        }
    }

    /// Every speaker with the number of turns they have, in order of first turn.
    pub fn speakers(&self) -> Vec<(String, usize)> {
        let mut speakers: Vec<(String, usize)> = Vec::new();
        for speaker in self.turns.iter().filter_map(|t| t.speaker.as_deref()) {
            match speakers.iter_mut().find(|(s, _)| s == speaker) {
                Some((_, count)) => *count += 1,
                None => speakers.push((speaker.to_owned(), 1)),
            }
        }
        speakers
    }
}

/// How to parse one transcript upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// `None` detects the encoding and asks when it cannot tell; only used
    /// by the text formats (.docx says its own).
    pub encoding: Option<Encoding>,
    pub zip_limits: ZipLimits,
    /// Names found as speaker labels that the researcher says are not
    /// speakers (compared without case): their lines stay text of the turn.
    pub not_speakers: Vec<String>,
}

impl ImportOptions {
    pub(crate) fn is_not_speaker(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.not_speakers
            .iter()
            .any(|n| n.trim().to_lowercase() == name)
    }
}

/// Everything that can stop an import, worded for the researcher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(
        "Concord can't import .{extension} files. Transcripts can be .txt, .md, .docx, .vtt or .srt."
    )]
    UnsupportedExtension { extension: String },
    #[error(
        "The file name has no extension, so Concord can't tell its format. Transcripts can be .txt, .md, .docx, .vtt or .srt."
    )]
    MissingExtension,
    #[error("The file is empty.")]
    Empty,
    #[error("The file contains no text (it looks like a binary file).")]
    Binary,
    #[error(
        "This is a PDF file. Open it, save or export it as .docx or .txt, and import that instead."
    )]
    Pdf,
    #[error(
        "The file is not UTF-8 text (the first character that isn't is on line {line}). It looks like {suggestion}: check the preview, choose its encoding, and import it again."
    )]
    EncodingChoiceNeeded { line: usize, suggestion: Encoding },
    #[error("The file is not valid {encoding} text (line {line}).")]
    InvalidEncoding { encoding: Encoding, line: usize },
    #[error(
        "This .docx is encrypted or password-protected, or is an old-style .doc file. Open it in Word, remove the password or save it as .docx, and import it again."
    )]
    DocxEncrypted,
    #[error("This .docx is damaged or is not a Word document, so it can't be opened.")]
    DocxCorrupt { detail: String },
    #[error("This .docx has no document text (word/document.xml is missing).")]
    DocxMissingDocument,
    #[error(
        "This document has no text, only {pictures} picture(s), and Concord imports text. If it is a scanned transcript, run it through text recognition (OCR) in Word or another program, and import the result."
    )]
    DocxOnlyPictures { pictures: usize },
    #[error("The file unpacks to more than {limit_mb} MB, which is more than Concord accepts.")]
    ArchiveTooLarge { limit_mb: u64 },
    #[error(
        "The file contains {entries} parts, more than the {limit} Concord accepts; it may be damaged."
    )]
    ArchiveTooManyEntries { entries: usize, limit: usize },
    #[error("This .vtt file doesn't start with WEBVTT, so it isn't a WebVTT caption file.")]
    MissingWebvttHeader,
    #[error("Line {line}: '{value}' is not a valid timestamp.")]
    InvalidTimestamp { line: usize, value: String },
    #[error(
        "Line {line}: expected a caption timing such as '00:00:01.000 --> 00:00:04.000' but found '{found}'."
    )]
    MissingCueTiming { line: usize, found: String },
    #[error("The file contains no captions.")]
    NoCaptions,
    #[error("The table is empty.")]
    TableEmpty,
    #[error("The table has column headings but no rows of data.")]
    TableNoDataRows,
    #[error("Column {column} has no heading, but has values.")]
    TableEmptyHeader { column: String },
    #[error("The heading '{heading}' appears twice, in columns {first} and {second}.")]
    TableDuplicateHeader {
        heading: String,
        first: String,
        second: String,
    },
    #[error("Row {row} has more values than there are column headings.")]
    TableTooManyValues { row: usize },
    #[error("The CSV file can't be read near line {line}.")]
    CsvUnreadable { line: usize, detail: String },
    #[error(
        "This spreadsheet is password-protected, or is an old-style .xls file. Remove the password or save it as .xlsx, and import it again."
    )]
    SpreadsheetEncrypted,
    #[error("This .xlsx is damaged or is not an Excel workbook, so it can't be opened.")]
    SpreadsheetUnreadable { detail: String },
    #[error("The workbook has no worksheets.")]
    SpreadsheetNoSheets,
}

/// Tells the transcript format from a file name's extension.
pub fn detect_kind(file_name: &str) -> Result<SourceKind, ImportError> {
    let base = base_name(file_name);
    let extension = match base.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() && !extension.is_empty() => extension,
        _ => return Err(ImportError::MissingExtension),
    };
    match extension.to_ascii_lowercase().as_str() {
        "txt" | "text" => Ok(SourceKind::Txt),
        "md" | "markdown" => Ok(SourceKind::Markdown),
        "docx" => Ok(SourceKind::Docx),
        "vtt" => Ok(SourceKind::Vtt),
        "srt" => Ok(SourceKind::Srt),
        _ => Err(ImportError::UnsupportedExtension {
            extension: extension.to_string(),
        }),
    }
}

/// Parses one transcript upload of the given kind.
pub fn parse_transcript(
    bytes: &[u8],
    kind: SourceKind,
    options: &ImportOptions,
) -> Result<ParsedTranscript, ImportError> {
    match kind {
        SourceKind::Txt | SourceKind::Markdown => text::parse_text_with(bytes, options),
        SourceKind::Docx => docx::parse_docx_with(bytes, options),
        SourceKind::Vtt => captions::parse_captions(bytes, options, captions::Format::WebVtt),
        SourceKind::Srt => captions::parse_captions(bytes, options, captions::Format::SubRip),
    }
}

/// Finds which of the project's participant labels a file name mentions,
/// such as `P07` in `P07 interview.docx` or `participant_3.txt` for
/// `Participant 3`.
///
/// Case, spaces, underscores and hyphens don't matter, but a label must stand
/// as whole words (`P1` is not found in `P10`). When no label is found
/// exactly, numbers are compared by value, so `P7 interview.docx` finds `P07`;
/// but only when exactly one label matches that way, so a project with both
/// `P7` and `P07` is never guessed wrongly. Ambiguity gives `None`.
pub fn guess_participant_label(file_name: &str, known_labels: &[&str]) -> Option<String> {
    let base = base_name(file_name);
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    let name_words = label_words(stem);
    let exact = |label: &str| {
        let words = label_words(label);
        !words.is_empty() && contains_words(&name_words, &words, |a, b| a == b)
    };
    let numeric = |label: &str| {
        let words = label_words(label);
        !words.is_empty() && contains_words(&name_words, &words, same_token_by_number)
    };
    pick_one(known_labels, exact).or_else(|| pick_one(known_labels, numeric))
}

/// The one label satisfying `matches`; when several do, the one whose words
/// contain all the others' (`Nurse A` over `A`), else `None`.
fn pick_one(labels: &[&str], matches: impl Fn(&str) -> bool) -> Option<String> {
    let found: Vec<&str> = labels.iter().copied().filter(|l| matches(l)).collect();
    found
        .iter()
        .find(|candidate| {
            let words = label_words(candidate);
            found.iter().all(|other| {
                let other = label_words(other);
                other.len() <= words.len() && contains_words(&words, &other, |a, b| a == b)
            })
        })
        .map(|label| (*label).to_string())
}

/// Lower-cased alphanumeric words, splitting letters from digits so that
/// `P07`, `p_07` and `P 07` compare equal.
fn label_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut current_is_digit = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            let is_digit = c.is_ascii_digit();
            if !current.is_empty() && is_digit != current_is_digit {
                words.push(std::mem::take(&mut current));
            }
            current_is_digit = is_digit;
            current.push(c);
        } else if !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether `needle` occurs as consecutive whole words of `haystack`, so
/// that `P07` is not found in `AP07` (words `ap`, `07`).
fn contains_words(
    haystack: &[String],
    needle: &[String],
    same: impl Fn(&str, &str) -> bool,
) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window.iter().zip(needle).all(|(a, b)| same(a, b)))
}

fn same_token_by_number(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x == y && [a, b].iter().all(|t| t.bytes().all(|c| c.is_ascii_digit())),
        _ => false,
    }
}

/// The last path component: browsers on Windows may send a full path.
fn base_name(file_name: &str) -> &str {
    file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .trim()
}

/// The `\n`-separated lines of `text` as code-point spans.
pub(crate) fn line_spans(text: &str) -> Vec<Span> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for c in text.chars() {
        if c == '\n' {
            lines.push(Span { start, end: offset });
            start = offset + 1;
        }
        offset += 1;
    }
    lines.push(Span { start, end: offset });
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What every parser promises about its result (DESIGN invariants 1, 2).
    pub(crate) fn assert_well_formed(parsed: &ParsedTranscript) {
        let again = canonicalize(&parsed.text);
        assert_eq!(again.text, parsed.text, "text is canonical");
        assert_eq!(again.sha256, parsed.sha256);
        assert_eq!(again.char_count, parsed.char_count);
        assert_eq!(parsed.lines, line_spans(&parsed.text));
        let mut previous_end = None;
        for turn in &parsed.turns {
            assert!(
                turn.start < turn.end && turn.end <= parsed.char_count,
                "{turn:?}"
            );
            assert!(previous_end.is_none_or(|end| end < turn.start), "{turn:?}");
            if let Some(label_end) = turn.label_end {
                assert!(turn.start < label_end && label_end <= turn.end, "{turn:?}");
            }
            previous_end = Some(turn.end);
        }
        for (line, text) in parsed.lines.iter().zip(parsed.text.split('\n')) {
            if !text.trim().is_empty() {
                assert!(
                    parsed
                        .turns
                        .iter()
                        .any(|t| t.start <= line.start && line.end <= t.end),
                    "line {line:?} is in no turn"
                );
            }
        }
    }

    const PIECES: &str = "(P01: |Interviewer: |I:|Dr Smith: |Zoë |👋|e\u{301}|\n|\r\n|\r|\n\n|WEBVTT\n\n|1\n|00:00:01.000 --> 00:00:02.000\n|00:00:01,000 --> 00:00:02,000\n|<v Ana>|</v>|<i>|&amp;|\\*\\*|[a-zA-Z ]{1,6}|:|\t|\u{FEFF}|\u{7})*";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn every_text_parser_gives_well_formed_results_or_an_error(text in PIECES) {
            for kind in [SourceKind::Txt, SourceKind::Vtt, SourceKind::Srt] {
                if let Ok(parsed) = parse_transcript(text.as_bytes(), kind, &ImportOptions::default()) {
                    assert_well_formed(&parsed);
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            for kind in [SourceKind::Txt, SourceKind::Docx, SourceKind::Vtt, SourceKind::Srt] {
                let options = ImportOptions { encoding: Some(Encoding::WINDOWS_1252), ..ImportOptions::default() };
                for options in [ImportOptions::default(), options] {
                    if let Ok(parsed) = parse_transcript(&bytes, kind, &options) {
                        assert_well_formed(&parsed);
                    }
                }
            }
            let _ = parse_table(&bytes, TableKind::Csv);
            let _ = parse_table(&bytes, TableKind::Xlsx);
        }
    }

    #[test]
    fn kind_comes_from_the_extension_in_any_case() {
        assert_eq!(detect_kind("P01.TXT"), Ok(SourceKind::Txt));
        assert_eq!(detect_kind("notes.md"), Ok(SourceKind::Markdown));
        assert_eq!(
            detect_kind("C:\\Users\\ana\\P01 interview.Docx"),
            Ok(SourceKind::Docx)
        );
        assert_eq!(detect_kind("teams.vtt"), Ok(SourceKind::Vtt));
        assert_eq!(detect_kind("zoom.srt"), Ok(SourceKind::Srt));
    }

    #[test]
    fn unknown_or_missing_extensions_are_clear_errors() {
        let error = detect_kind("interview.pdf").unwrap_err();
        assert_eq!(
            error,
            ImportError::UnsupportedExtension {
                extension: "pdf".into()
            }
        );
        assert!(error.to_string().contains(".pdf"));
        assert_eq!(detect_kind("README"), Err(ImportError::MissingExtension));
        assert_eq!(detect_kind(".txt"), Err(ImportError::MissingExtension));
        assert_eq!(
            detect_kind("dir.v2/notes"),
            Err(ImportError::MissingExtension)
        );
    }

    #[test]
    fn participant_label_is_found_as_a_whole_word() {
        let labels = ["P01", "P07", "P10", "Participant 3", "Nurse A"];
        let guess = |name| guess_participant_label(name, &labels);
        assert_eq!(guess("P07 interview.docx").as_deref(), Some("P07"));
        assert_eq!(guess("interview_p07_final.txt").as_deref(), Some("P07"));
        assert_eq!(guess("2024-05-01 P10.vtt").as_deref(), Some("P10"));
        assert_eq!(guess("participant-3.md").as_deref(), Some("Participant 3"));
        assert_eq!(
            guess("Nurse A (second visit).docx").as_deref(),
            Some("Nurse A")
        );
        assert_eq!(guess("AP07.docx"), None);
        assert_eq!(guess("P070.docx"), None);
        assert_eq!(guess("P01 and P07 joint.docx"), None);
        assert_eq!(guess("focus group.docx"), None);
    }

    #[test]
    fn unpadded_numbers_match_only_when_unambiguous() {
        assert_eq!(
            guess_participant_label("P7 interview.docx", &["P07", "P17"]).as_deref(),
            Some("P07")
        );
        assert_eq!(
            guess_participant_label("P7 interview.docx", &["P7", "P07"]).as_deref(),
            Some("P7")
        );
        assert_eq!(guess_participant_label("P007.docx", &["P07", "P7"]), None);
    }

    #[test]
    fn line_spans_include_empty_lines() {
        assert_eq!(
            line_spans("a\n\nbc"),
            vec![
                Span { start: 0, end: 1 },
                Span { start: 2, end: 2 },
                Span { start: 3, end: 5 }
            ]
        );
        assert_eq!(line_spans(""), vec![Span { start: 0, end: 0 }]);
    }
}
