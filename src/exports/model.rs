//! What can be exported, by whom, under which file name, and the cells of a
//! row. Pure: no I/O.

use serde::Serialize;
use time::Date;

use crate::projects::model::Role;

/// One export a project offers. Each has its own URL under
/// `/projects/{id}/exports/` and its own `concord export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportKind {
    SegmentsCsv,
    SegmentsXlsx,
    CodebookCsv,
    CodebookXlsx,
    CodebookDocx,
    LedgerCsv,
    LedgerDocx,
    AgreementXlsx,
    AgreementDocx,
    AuditCsv,
    OwnCodebookCsv,
    OwnCodebookXlsx,
    OwnCodebookDocx,
}

/// The file format, for the content type and the file name's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Docx,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Docx => "docx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Csv => "CSV",
            Self::Xlsx => "XLSX",
            Self::Docx => "DOCX",
        }
    }
}

/// Who may make an export, beyond their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// The agreed codebook and the consensus layer: refused to anyone still
    /// coding a transcript of the project (`Viewer::agreed_codebook`).
    AgreedCodebook,
    /// The audit log: owners not coding any transcript.
    AuditLog,
    /// The member's own codes: anyone who has some, blind or not.
    OwnCodes,
}

impl ExportKind {
    pub const ALL: [ExportKind; 13] = [
        Self::SegmentsCsv,
        Self::SegmentsXlsx,
        Self::CodebookCsv,
        Self::CodebookXlsx,
        Self::CodebookDocx,
        Self::LedgerCsv,
        Self::LedgerDocx,
        Self::AgreementXlsx,
        Self::AgreementDocx,
        Self::AuditCsv,
        Self::OwnCodebookCsv,
        Self::OwnCodebookXlsx,
        Self::OwnCodebookDocx,
    ];

    /// The name `concord export --format` takes and the audit log records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SegmentsCsv => "segments-csv",
            Self::SegmentsXlsx => "segments-xlsx",
            Self::CodebookCsv => "codebook-csv",
            Self::CodebookXlsx => "codebook-xlsx",
            Self::CodebookDocx => "codebook-docx",
            Self::LedgerCsv => "ledger-csv",
            Self::LedgerDocx => "ledger-docx",
            Self::AgreementXlsx => "agreement-xlsx",
            Self::AgreementDocx => "agreement-docx",
            Self::AuditCsv => "audit-csv",
            Self::OwnCodebookCsv => "own-codebook-csv",
            Self::OwnCodebookXlsx => "own-codebook-xlsx",
            Self::OwnCodebookDocx => "own-codebook-docx",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The last segment of its URL.
    pub fn file(self) -> &'static str {
        match self {
            Self::SegmentsCsv => "segments.csv",
            Self::SegmentsXlsx => "segments.xlsx",
            Self::CodebookCsv => "codebook.csv",
            Self::CodebookXlsx => "codebook.xlsx",
            Self::CodebookDocx => "codebook.docx",
            Self::LedgerCsv => "ledger.csv",
            Self::LedgerDocx => "ledger.docx",
            Self::AgreementXlsx => "agreement.xlsx",
            Self::AgreementDocx => "agreement.docx",
            Self::AuditCsv => "audit.csv",
            Self::OwnCodebookCsv => "own-codebook.csv",
            Self::OwnCodebookXlsx => "own-codebook.xlsx",
            Self::OwnCodebookDocx => "own-codebook.docx",
        }
    }

    pub fn format(self) -> Format {
        match self {
            Self::SegmentsCsv
            | Self::CodebookCsv
            | Self::LedgerCsv
            | Self::AuditCsv
            | Self::OwnCodebookCsv => Format::Csv,
            Self::SegmentsXlsx
            | Self::CodebookXlsx
            | Self::AgreementXlsx
            | Self::OwnCodebookXlsx => Format::Xlsx,
            Self::CodebookDocx | Self::LedgerDocx | Self::AgreementDocx | Self::OwnCodebookDocx => {
                Format::Docx
            }
        }
    }

    /// What the file holds, as its name says it.
    pub fn slug(self) -> &'static str {
        match self {
            Self::SegmentsCsv | Self::SegmentsXlsx => "coded-segments",
            Self::CodebookCsv | Self::CodebookXlsx | Self::CodebookDocx => "codebook",
            Self::LedgerCsv | Self::LedgerDocx => "decision-ledger",
            Self::AgreementXlsx => "agreement",
            Self::AgreementDocx => "agreement-methods",
            Self::AuditCsv => "audit-log",
            Self::OwnCodebookCsv | Self::OwnCodebookXlsx | Self::OwnCodebookDocx => "own-codebook",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::SegmentsCsv | Self::SegmentsXlsx => "Coded segments",
            Self::CodebookCsv | Self::CodebookXlsx | Self::CodebookDocx => "Codebook",
            Self::LedgerCsv | Self::LedgerDocx => "Decision ledger",
            Self::AgreementXlsx => "Agreement report",
            Self::AgreementDocx => "Agreement methods paragraph",
            Self::AuditCsv => "Audit log",
            Self::OwnCodebookCsv | Self::OwnCodebookXlsx | Self::OwnCodebookDocx => {
                "Your own codebook"
            }
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::SegmentsCsv | Self::SegmentsXlsx => {
                "One row per consensus coding: transcript, participant and every attribute, speaker, line, offsets, agreed code, theme path, the quoted text and memo. Optionally every coder's coding you may see, too."
            }
            Self::CodebookCsv | Self::CodebookXlsx => {
                "One row per agreed code: theme path, definition, inclusion and exclusion criteria, example, counts of codings, transcripts and participants (n of N), and the coder codes aligned onto it."
            }
            Self::CodebookDocx => {
                "A Word document for reviewers and journals: a title page, the theme hierarchy as headings, each agreed code with its definition, inclusion and exclusion criteria, a typical example quote and who said it, its counts (n of N participants) and the coder codes aligned onto it; unplaced codes last."
            }
            Self::LedgerDocx => {
                "The decision ledger as a Word appendix: the summary table (decisions by kind, share with a rationale, discrepancies per transcript), then every discrepancy with both coders' spans and codes, the decision in force and its superseded history."
            }
            Self::AgreementDocx => {
                "A methods paragraph and a table ready to paste: the unit, coders, units and transcripts, each statistic with its 95 % bootstrap confidence interval, and the 0.667/0.800 guidance."
            }
            Self::LedgerCsv => {
                "Every decision on a discrepancy, for a methods appendix: its kind, both coders' spans and codes, the decision, rationale, who and when; superseded decisions stay as history rows."
            }
            Self::AgreementXlsx => {
                "The agreement report of the Agreement page, one sheet per unit level (line, sentence, paragraph, speaker turn, character), each with the pooled row and one row per agreed code, and 95 % bootstrap confidence intervals of the pooled statistics."
            }
            Self::AuditCsv => "Every event of the project's audit log, newest first.",
            Self::OwnCodebookCsv | Self::OwnCodebookXlsx => {
                "The codes you made while coding (yours only): one row per code with its parent and path when codes nest, definition, inclusion and exclusion criteria, example, colour, and how many codings and transcripts you used it in."
            }
            Self::OwnCodebookDocx => {
                "The codes you made while coding (yours only) as a Word document: each code a heading under its parent, with its definition, criteria, example, colour and your counts of codings and transcripts."
            }
        }
    }

    /// The roles that may make it (owners may make every export).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Self::CodebookCsv
            | Self::CodebookXlsx
            | Self::CodebookDocx
            | Self::OwnCodebookCsv
            | Self::OwnCodebookXlsx
            | Self::OwnCodebookDocx => &[Role::Owner, Role::Lead, Role::Coder, Role::Reviewer],
            Self::SegmentsCsv
            | Self::SegmentsXlsx
            | Self::LedgerCsv
            | Self::LedgerDocx
            | Self::AgreementXlsx
            | Self::AgreementDocx => &[Role::Owner, Role::Lead],
            Self::AuditCsv => &[Role::Owner],
        }
    }

    pub fn needs(self) -> Needs {
        match self {
            Self::AuditCsv => Needs::AuditLog,
            Self::OwnCodebookCsv | Self::OwnCodebookXlsx | Self::OwnCodebookDocx => Needs::OwnCodes,
            _ => Needs::AgreedCodebook,
        }
    }

    /// Whether `?coders=1` (every coder coding the exporter may see) applies.
    pub fn takes_coder_layers(self) -> bool {
        matches!(self, Self::SegmentsCsv | Self::SegmentsXlsx)
    }
}

impl ExportKind {
    /// Whether `concord export` makes it: not the own codebook, which belongs
    /// to whoever asks for it, while the command line acts as the project's owner.
    pub fn from_command_line(self) -> bool {
        self.needs() != Needs::OwnCodes
    }
}

/// The file name of a coder's own codebook names the coder too
/// (`pain-study-own-codebook-ada-2026-12-04.csv`).
pub fn own_file_name(project: &str, coder: &str, kind: ExportKind, date: Date) -> String {
    format!(
        "{}-{}-{}-{date}.{}",
        slug(project),
        kind.slug(),
        slug(coder),
        kind.format().extension()
    )
}

/// The file name: project, export and date, in letters a file system keeps
/// (`pain-study-coded-segments-2026-12-04.csv`).
pub fn file_name(project: &str, kind: ExportKind, date: Date) -> String {
    format!(
        "{}-{}-{date}.{}",
        slug(project),
        kind.slug(),
        kind.format().extension()
    )
}

/// Lower-case ASCII letters and digits of `name`, other runs as one `-`, at
/// most 40 characters; `project` when nothing is left.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "project".to_owned()
    } else {
        out.to_owned()
    }
}

/// One cell of an exported row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Number(f64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }

    /// As a CSV field. A text a spreadsheet would run as a formula gets a
    /// leading quote, as the audit CSV does.
    pub fn to_csv(&self) -> String {
        match self {
            Self::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
            Self::Text(s) => s.clone(),
            Self::Int(n) => n.to_string(),
            Self::Number(v) => format!("{v}"),
            Self::Empty => String::new(),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Self::Empty)
    }
}

/// The 1-based line of code point `offset`, given each line's first offset.
pub fn line_of(line_starts: &[u32], offset: u32) -> usize {
    line_starts.partition_point(|&s| s <= offset).max(1)
}

/// The first code point of each line of `text`.
pub fn line_starts(text: &str) -> Vec<u32> {
    let mut starts = vec![0u32];
    for (i, c) in text.chars().enumerate() {
        if c == '\n' {
            starts.push(i as u32 + 1);
        }
    }
    starts
}

/// The byte offset of each code point of `text`, and one past the end, so a
/// span of code points slices the text without walking it again.
pub fn char_bytes(text: &str) -> Vec<u32> {
    let mut out: Vec<u32> = text.char_indices().map(|(b, _)| b as u32).collect();
    out.push(text.len() as u32);
    out
}

/// `[start, end)` in code points of `text`, clamped to the text.
pub fn quote<'t>(text: &'t str, bytes: &[u32], start: i32, end: i32) -> &'t str {
    let last = bytes.len().saturating_sub(1);
    let at = |i: i32| bytes[(i.max(0) as usize).min(last)] as usize;
    let (s, e) = (at(start), at(end));
    text.get(s..e.max(s)).unwrap_or_default()
}

/// Joins a theme path as the files show it: `Burden > Cost of care`.
pub fn path_text(path: &[String]) -> String {
    path.join(" > ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_say_project_export_and_date() {
        let date = time::macros::date!(2026 - 12 - 04);
        assert_eq!(
            file_name("Pain study (pilot)", ExportKind::SegmentsXlsx, date),
            "pain-study-pilot-coded-segments-2026-12-04.xlsx"
        );
        assert_eq!(
            file_name("Étude ✓", ExportKind::LedgerCsv, date),
            "tude-decision-ledger-2026-12-04.csv"
        );
        assert_eq!(
            file_name("✓✓", ExportKind::CodebookCsv, date),
            "project-codebook-2026-12-04.csv"
        );
        assert!(slug(&"a".repeat(100)).len() <= 40);
    }

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in ExportKind::ALL {
            assert_eq!(ExportKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ExportKind::parse("segments"), None);
    }

    #[test]
    fn quotes_and_lines_count_code_points() {
        let text = "é😀 one\ntwo 😀\nthree";
        let bytes = char_bytes(text);
        assert_eq!(quote(text, &bytes, 0, 2), "é😀");
        assert_eq!(quote(text, &bytes, 7, 12), "two 😀");
        assert_eq!(quote(text, &bytes, 13, 99), "three");
        let starts = line_starts(text);
        assert_eq!(starts, [0, 7, 13]);
        assert_eq!(line_of(&starts, 0), 1);
        assert_eq!(line_of(&starts, 7), 2);
        assert_eq!(line_of(&starts, 12), 2);
        assert_eq!(line_of(&starts, 13), 3);
    }

    #[test]
    fn formula_like_text_is_quoted_in_csv() {
        assert_eq!(Cell::text("=SUM(A1)").to_csv(), "'=SUM(A1)");
        assert_eq!(Cell::text("plain").to_csv(), "plain");
        assert_eq!(Cell::Int(-3).to_csv(), "-3");
    }
}
