//! Turning uploaded files into canonical transcripts and participant tables.
//!
//! Everything here is pure: it parses byte slices handed to it and returns
//! values or an [`ImportError`]; storing them is the caller's business. The
//! caller prefixes error messages with the file name.

mod canonical;
mod captions;
mod docx;
mod table;
mod text;

use serde::{Deserialize, Serialize};

pub use canonical::{Canonical, canonicalize};
pub use captions::{parse_srt, parse_vtt};
pub use docx::{ZipLimits, parse_docx};
pub use table::{
    ColumnMapping, ParticipantRecord, RowError, Table, TableKind, TableMapping, Value,
    VariableType, infer_type, label_looks_like_name, labels_look_like_names, parse_number,
    parse_table, validate,
};
pub use text::{decode_text, parse_markdown, parse_text};

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

/// A text encoding, either detected or chosen by the researcher when the
/// file does not say (see [`ImportError::EncodingChoiceNeeded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    /// Also what files labelled ISO-8859-1 or Latin-1 really are: browsers
    /// and Windows treat those names as Windows-1252.
    Windows1252,
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16Le => "UTF-16 LE",
            Encoding::Utf16Be => "UTF-16 BE",
            Encoding::Windows1252 => "Windows-1252",
        })
    }
}

/// A half-open range `[start, end)` of code-point offsets into a canonical text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// One speaker turn. `start..end` covers the label too; speech begins at
/// `label_end` when there is a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub speaker: Option<String>,
    pub start: usize,
    pub end: usize,
    /// Offset just past the `Name: ` label (colon and following spaces) in the text.
    pub label_end: Option<usize>,
    /// Start time of the turn's first caption, for .vtt and .srt.
    pub start_ms: Option<u64>,
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
        }
    }
}

/// How to parse one transcript upload.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// `None` detects the encoding and asks when it cannot tell; only used
    /// by the text formats (.docx says its own).
    pub encoding: Option<Encoding>,
    pub zip_limits: ZipLimits,
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
        "The file is not UTF-8 text (the first unreadable character is on line {line}). Choose its encoding, for example Windows-1252 for Western European text, and import it again."
    )]
    EncodingChoiceNeeded { line: usize },
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
        SourceKind::Txt => parse_text(bytes, options.encoding),
        SourceKind::Markdown => parse_markdown(bytes, options.encoding),
        SourceKind::Docx => parse_docx(bytes, &options.zip_limits),
        SourceKind::Vtt => parse_vtt(bytes, options.encoding),
        SourceKind::Srt => parse_srt(bytes, options.encoding),
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
                let options = ImportOptions { encoding: Some(Encoding::Windows1252), ..ImportOptions::default() };
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
