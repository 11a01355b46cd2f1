//! Participant tables (.csv, .xlsx): one row per participant, a label
//! column and attribute columns that become the project's variables.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde::{Deserialize, Serialize};

use super::canonical::normalize;
use super::docx::{GuardedZip, ZipLimits};
use super::text::decode_text;
use super::{Encoding, ImportError};

/// A column with at most this many distinct values (that repeat) is
/// offered as a category.
const MAX_CATEGORIES: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableKind {
    Csv,
    Xlsx,
}

/// A table read from a file: trimmed headings and cells, every row as wide
/// as the headings, blank rows and unnamed empty columns left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The row number a researcher sees for the headings in their
    /// spreadsheet program (or the line in a text editor, for CSV).
    pub header_row: usize,
    /// The same for each of `rows`, which are not consecutive when blank
    /// rows were left out.
    pub row_numbers: Vec<usize>,
}

impl Table {
    /// The index of the column with this heading.
    pub fn column_index(&self, heading: &str) -> Option<usize> {
        let wanted = heading_key(heading);
        self.headers.iter().position(|h| heading_key(h) == wanted)
    }

    /// The values of one column, top to bottom.
    pub fn column(&self, index: usize) -> Vec<&str> {
        self.rows
            .iter()
            .map(|row| row.get(index).map_or("", String::as_str))
            .collect()
    }
}

/// What kind of variable a column holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VariableType {
    Text,
    Number,
    /// The allowed values, in a stable (case-insensitive alphabetical) order.
    Category(Vec<String>),
}

/// Which column holds the participant labels and how other columns map
/// onto variables; columns are named by their headings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableMapping {
    pub label_column: String,
    pub variables: Vec<ColumnMapping>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub column: String,
    pub variable: String,
    pub kind: VariableType,
}

/// One participant's row, checked and converted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParticipantRecord {
    pub row: usize,
    pub label: String,
    /// In the order of [`TableMapping::variables`].
    pub values: Vec<Value>,
}

/// A checked cell: numbers parsed, categories in their allowed spelling.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum Value {
    Missing,
    Text(String),
    Number(f64),
    Category(String),
}

/// A problem with one cell, located as the researcher sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    /// The column's heading.
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Row {}, column '{}': {}",
            self.row, self.column, self.message
        )
    }
}

/// Reads a participant table; the first non-blank row holds the headings.
///
/// CSV may be UTF-8 (with or without a byte-order mark), UTF-16 with a mark
/// (Excel's "Unicode text"), or else is read as Windows-1252, since that is
/// what Excel on Windows writes; tables are short and mostly ASCII, so this
/// fallback is safe where it would not be for a transcript. The delimiter
/// (comma, semicolon or tab) is the one used consistently in the first rows.
/// For XLSX the first worksheet is read; integers show without `.0`, other
/// numbers with at most 15 significant digits as Excel shows them, dates as
/// `YYYY-MM-DD` (with ` hh:mm:ss` when there is a time).
pub fn parse_table(bytes: &[u8], kind: TableKind) -> Result<Table, ImportError> {
    match kind {
        TableKind::Csv => parse_csv(bytes),
        TableKind::Xlsx => parse_xlsx(bytes, &ZipLimits::default()),
    }
}

fn parse_csv(bytes: &[u8]) -> Result<Table, ImportError> {
    let decoded = match decode_text(bytes, None) {
        Err(ImportError::EncodingChoiceNeeded { .. }) => {
            decode_text(bytes, Some(Encoding::WINDOWS_1252))
        }
        other => other,
    };
    let text = match decoded {
        Ok((text, _)) => normalize(&text),
        Err(ImportError::Empty) => return Err(ImportError::TableEmpty),
        Err(error) => return Err(error),
    };
    let delimiter = sniff_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut lines = LineCounter::new(&text);
    for record in reader.records() {
        let record = record.map_err(|error| ImportError::CsvUnreadable {
            line: error.position().map_or(0, |p| p.line() as usize),
            detail: error.to_string(),
        })?;
        let line = record
            .position()
            .map_or(rows.len() + 1, |p| lines.record_line(p.byte() as usize));
        rows.push((line, record.iter().map(str::to_owned).collect()));
    }
    build_table(rows, 0)
}

/// Line numbers of CSV records as an editor shows them: the csv reader
/// places a record after blank lines at the first of them.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The line of the record whose position is `byte`; records come in order.
    fn record_line(&mut self, byte: usize) -> usize {
        let mut start = byte.min(self.text.len());
        while self.text.get(start) == Some(&b'\n') {
            start += 1;
        }
        if start >= self.offset {
            let newlines = self.text[self.offset..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line += newlines;
            self.offset = start;
        }
        self.line
    }
}

/// The delimiter that splits the first rows into the same number (> 1) of
/// fields, preferring the most fields; comma when none does.
fn sniff_delimiter(text: &str) -> u8 {
    const SAMPLE_ROWS: usize = 20;
    let candidates = [b',', b';', b'\t'];
    let mut counts: Vec<Vec<usize>> = vec![Vec::new(); candidates.len()];
    let mut current = vec![0usize; candidates.len()];
    let mut in_quotes = false;
    let mut row_has_text = false;
    for b in text.bytes() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => {
                if row_has_text {
                    for (count, n) in counts.iter_mut().zip(&mut current) {
                        count.push(*n);
                    }
                }
                current.iter_mut().for_each(|n| *n = 0);
                row_has_text = false;
                if counts[0].len() >= SAMPLE_ROWS {
                    break;
                }
                continue;
            }
            _ if !in_quotes => {
                if let Some(i) = candidates.iter().position(|&c| c == b) {
                    current[i] += 1;
                }
            }
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            row_has_text = true;
        }
    }
    if row_has_text && counts[0].len() < SAMPLE_ROWS {
        for (count, n) in counts.iter_mut().zip(&current) {
            count.push(*n);
        }
    }
    let consistent = |rows: &[usize]| {
        rows.first()
            .filter(|&&first| first > 0 && rows.iter().all(|&n| n == first))
            .copied()
    };
    let mut best: Option<(usize, u8)> = None;
    for (delimiter, rows) in candidates.iter().zip(&counts) {
        if let Some(n) = consistent(rows)
            && best.is_none_or(|(most, _)| n > most)
        {
            best = Some((n, *delimiter));
        }
    }
    if let Some((_, delimiter)) = best {
        return delimiter;
    }
    // Ragged rows: go by the heading row, which is rarely ragged.
    candidates
        .iter()
        .zip(&counts)
        .filter_map(|(d, rows)| rows.first().filter(|&&n| n > 0).map(|&n| (n, *d)))
        .max_by_key(|(n, _)| *n)
        .map_or(b',', |(_, d)| d)
}

fn parse_xlsx(bytes: &[u8], limits: &ZipLimits) -> Result<Table, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::TableEmpty);
    }
    let unreadable = |detail: String| ImportError::SpreadsheetUnreadable { detail };
    // calamine takes no limits, so it only gets archives that fit ours.
    GuardedZip::open(bytes, limits, unreadable, ImportError::SpreadsheetEncrypted)?
        .check_every_entry()?;
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or(ImportError::SpreadsheetNoSheets)?
        .map_err(|e| unreadable(e.to_string()))?;
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            (
                first_row as usize + i + 1,
                cells.iter().map(render_cell).collect(),
            )
        })
        .collect();
    build_table(rows, first_column as usize)
}

fn render_cell(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(n) => format_number(*n),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(datetime) if datetime.is_duration() => {
            let seconds = (datetime.as_f64() * 86_400.0).round() as i64;
            format!(
                "{}:{:02}:{:02}",
                seconds / 3600,
                seconds / 60 % 60,
                seconds % 60
            )
        }
        Data::DateTime(datetime) => {
            let (year, month, day, hour, minute, second, _) = datetime.to_ymd_hms_milli();
            if (hour, minute, second) == (0, 0, 0) {
                format!("{year:04}-{month:02}-{day:02}")
            } else {
                format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
            }
        }
        Data::Error(error) => error.to_string(),
    }
}

/// A number as Excel shows it: whole numbers without `.0`, others rounded
/// to the 15 significant digits Excel keeps (so 0.1 + 0.2 shows as 0.3).
fn format_number(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "a whole number below 1e15 fits an i64 exactly"
        )]
        let whole = n as i64;
        return whole.to_string();
    }
    let rounded: f64 = format!("{n:.14e}").parse().unwrap_or(n);
    rounded.to_string()
}

/// Turns raw rows (with the row numbers the researcher sees) into a
/// [`Table`], checking the headings. `first_column` is how many columns the
/// rows start to the right of column A.
fn build_table(raw: Vec<(usize, Vec<String>)>, first_column: usize) -> Result<Table, ImportError> {
    let mut rows = raw.into_iter().filter_map(|(number, cells)| {
        let cells: Vec<String> = cells.iter().map(|c| c.trim().to_owned()).collect();
        cells
            .iter()
            .any(|c| !c.is_empty())
            .then_some((number, cells))
    });
    let (header_row, headers) = rows.next().ok_or(ImportError::TableEmpty)?;
    let data: Vec<(usize, Vec<String>)> = rows.collect();
    let width = data
        .iter()
        .map(|(_, cells)| cells.len())
        .fold(headers.len(), usize::max);

    let mut kept = Vec::new();
    for column in 0..width {
        let heading = headers.get(column).map_or("", String::as_str);
        let first_value = data
            .iter()
            .find(|(_, cells)| cells.get(column).is_some_and(|c| !c.is_empty()));
        match (heading.is_empty(), first_value) {
            (false, _) => kept.push(column),
            (true, None) => {}
            (true, Some((row, _))) if column >= headers.len() => {
                return Err(ImportError::TableTooManyValues { row: *row });
            }
            (true, Some(_)) => {
                return Err(ImportError::TableEmptyHeader {
                    column: column_name(first_column + column),
                });
            }
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for &column in &kept {
        let heading = &headers[column];
        if let Some(&first) = seen.get(&heading_key(heading)) {
            return Err(ImportError::TableDuplicateHeader {
                heading: heading.clone(),
                first: column_name(first_column + first),
                second: column_name(first_column + column),
            });
        }
        seen.insert(heading_key(heading), column);
    }
    if data.is_empty() {
        return Err(ImportError::TableNoDataRows);
    }
    let pick = |cells: &[String]| -> Vec<String> {
        kept.iter()
            .map(|&c| cells.get(c).cloned().unwrap_or_default())
            .collect()
    };
    Ok(Table {
        headers: pick(&headers),
        row_numbers: data.iter().map(|(number, _)| *number).collect(),
        rows: data.iter().map(|(_, cells)| pick(cells)).collect(),
        header_row,
    })
}

/// Headings compare without case or extra spaces: "Role" and "role " are
/// one column to a researcher.
fn heading_key(heading: &str) -> String {
    heading
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// "3 (C)": the number for CSV readers, the letter for spreadsheet users.
fn column_name(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        let remainder = (n - 1) % 26;
        letters.push(char::from(b'A' + remainder as u8));
        n = (n - 1) / 26;
    }
    let letters: String = letters.iter().rev().collect();
    format!("{} ({letters})", index + 1)
}

/// Reads a number as researchers type it: `12`, `-3.5`, `2,5` (decimal
/// comma) or `1e3`. Thousands separators are not accepted, so `1,000` is
/// not a number rather than silently 1 or 1000; nor are `inf` and `NaN`.
pub fn parse_number(value: &str) -> Option<f64> {
    let value = value.trim();
    if !value.chars().any(|c| c.is_ascii_digit())
        || !value
            .chars()
            .all(|c| c.is_ascii_digit() || ".,+-eE".contains(c))
        || ambiguous_comma(value)
    {
        return None;
    }
    let value = match value.matches(',').count() {
        0 => value.to_owned(),
        1 if !value.contains('.') => value.replace(',', "."),
        _ => return None,
    };
    value.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// `1,000` could be a thousand or one; `1,5` and `1234,567` cannot.
fn ambiguous_comma(value: &str) -> bool {
    let unsigned = value.trim_start_matches(['+', '-']);
    match unsigned.split_once(',') {
        Some((before, after)) => {
            (1..=3).contains(&before.len())
                && after.len() == 3
                && before
                    .bytes()
                    .chain(after.bytes())
                    .all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Suggests a variable type for a column's values.
///
/// Number when every non-empty value is a number; category when there are
/// at most 12 distinct values (ignoring case) and they repeat, at most two
/// distinct values for every three filled cells; text otherwise, including
/// an empty column.
pub fn infer_type<S: AsRef<str>>(values: &[S]) -> VariableType {
    let filled: Vec<&str> = values
        .iter()
        .map(|v| v.as_ref().trim())
        .filter(|v| !v.is_empty())
        .collect();
    if filled.is_empty() {
        return VariableType::Text;
    }
    if filled.iter().all(|v| parse_number(v).is_some()) {
        return VariableType::Number;
    }
    let mut distinct: Vec<&str> = Vec::new();
    for value in &filled {
        if !distinct
            .iter()
            .any(|d| d.to_lowercase() == value.to_lowercase())
        {
            distinct.push(value);
        }
    }
    if distinct.len() <= MAX_CATEGORIES
        && distinct.len() < filled.len()
        && distinct.len() * 3 <= filled.len() * 2
    {
        let mut categories: Vec<String> = distinct.iter().map(|d| (*d).to_owned()).collect();
        categories.sort_by_key(|c| c.to_lowercase());
        VariableType::Category(categories)
    } else {
        VariableType::Text
    }
}

/// Checks a table against its mapping.
///
/// Returns one record per row when every cell is valid, else every problem
/// found (empty or repeated labels, cells that are not numbers, values not
/// among a category's), so the researcher can fix the file in one go.
/// Empty cells of variables are `Missing`, never an error. Labels compare
/// without case, so `p01` repeats `P01`; categories accept any case and
/// give back the allowed spelling.
pub fn validate(
    table: &Table,
    mapping: &TableMapping,
) -> Result<Vec<ParticipantRecord>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut find = |heading: &str| {
        let index = table.column_index(heading);
        if index.is_none() {
            errors.push(RowError {
                row: table.header_row,
                column: heading.to_owned(),
                message: format!("The table has no column headed '{heading}'."),
            });
        }
        index
    };
    let label_column = find(&mapping.label_column);
    let columns: Vec<Option<usize>> = mapping.variables.iter().map(|v| find(&v.column)).collect();
    let Some(label_column) = label_column else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut first_row_of_label: HashMap<String, usize> = HashMap::new();
    let mut records = Vec::with_capacity(table.rows.len());
    for (cells, &row) in table.rows.iter().zip(&table.row_numbers) {
        let cell = |index: usize| cells.get(index).map_or("", |c| c.trim());
        let mut error = |column: &str, message: String| {
            errors.push(RowError {
                row,
                column: column.to_owned(),
                message,
            });
        };
        let label = cell(label_column);
        if label.is_empty() {
            error(
                &mapping.label_column,
                "The participant label is empty.".to_owned(),
            );
        } else if let Some(first) = first_row_of_label.get(&label.to_lowercase()) {
            error(
                &mapping.label_column,
                format!("The label '{label}' is already used in row {first}."),
            );
        } else {
            first_row_of_label.insert(label.to_lowercase(), row);
        }

        let mut values = Vec::with_capacity(mapping.variables.len());
        for (variable, column) in mapping.variables.iter().zip(&columns) {
            let raw = column.map_or("", &cell);
            let value = match (&variable.kind, raw) {
                (_, "") => Ok(Value::Missing),
                (VariableType::Text, text) => Ok(Value::Text(text.to_owned())),
                (VariableType::Number, text) => parse_number(text).map(Value::Number).ok_or_else(|| {
                    if ambiguous_comma(text) {
                        format!(
                            "'{text}' is ambiguous: write it without the comma, or with a decimal point."
                        )
                    } else {
                        format!("'{text}' is not a number.")
                    }
                }),
                (VariableType::Category(allowed), text) => allowed
                    .iter()
                    .find(|a| a.to_lowercase() == text.to_lowercase())
                    .map(|a| Value::Category(a.clone()))
                    .ok_or_else(|| {
                        format!("'{text}' is not one of the allowed values: {}.", allowed.join(", "))
                    }),
            };
            match value {
                Ok(value) => values.push(value),
                Err(message) => error(&variable.column, message),
            }
        }
        records.push(ParticipantRecord {
            row,
            label: label.to_owned(),
            values,
        });
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

/// Whether any label looks like a real person's name ("Mary Jones",
/// "Dr Smith") rather than a pseudonym ("P01", "Participant 3", "Nurse A",
/// "Mary"), so the researcher can be warned before names are stored.
pub fn labels_look_like_names<S: AsRef<str>>(labels: &[S]) -> bool {
    labels
        .iter()
        .any(|label| label_looks_like_name(label.as_ref()))
}

/// The test [`labels_look_like_names`] applies to each label, to show the
/// researcher which ones.
pub fn label_looks_like_name(label: &str) -> bool {
    const TITLES: &[&str] = &[
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "professor",
        "sir",
        "dame",
        "lady",
        "lord",
        "rev",
        "revd",
        "fr",
        "sr",
        "sra",
        "mme",
        "mlle",
        "herr",
        "frau",
    ];
    // Words of role-based pseudonyms: "Nurse A", "Team Leader", "Speaker One".
    const ROLES: &[&str] = &[
        "participant",
        "patient",
        "nurse",
        "doctor",
        "consultant",
        "carer",
        "caregiver",
        "parent",
        "mother",
        "father",
        "family",
        "member",
        "staff",
        "manager",
        "worker",
        "social",
        "senior",
        "junior",
        "specialist",
        "therapist",
        "pharmacist",
        "midwife",
        "volunteer",
        "client",
        "service",
        "user",
        "case",
        "respondent",
        "interviewee",
        "interviewer",
        "subject",
        "person",
        "group",
        "focus",
        "site",
        "ward",
        "team",
        "leader",
        "lead",
        "head",
        "director",
        "officer",
        "assistant",
        "student",
        "resident",
        "registrar",
        "physician",
        "surgeon",
        "gp",
        "clinician",
        "professional",
        "practitioner",
        "health",
        "care",
        "support",
        "community",
        "hospital",
        "clinic",
        "informant",
        "key",
        "expert",
        "provider",
        "partner",
        "son",
        "daughter",
        "wife",
        "husband",
        "friend",
        "teacher",
        "chaplain",
        "counsellor",
        "counselor",
        "speaker",
        "moderator",
        "facilitator",
        "anonymous",
        "unknown",
        "female",
        "male",
        "woman",
        "man",
        "pilot",
        "control",
        "one",
        "two",
        "three",
        "four",
        "five",
        "alpha",
        "beta",
        "gamma",
        "delta",
    ];
    let label = label.trim();
    if label.is_empty() || label.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let words: Vec<&str> = label
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    if !(2..=4).contains(&words.len()) {
        return false;
    }
    let key = |word: &str| word.trim_end_matches('.').to_lowercase();
    if words.iter().any(|w| ROLES.contains(&key(w).as_str())) {
        return false;
    }
    let is_name_word = |word: &str| {
        let mut chars = word.chars();
        chars.next().is_some_and(char::is_uppercase)
            && word.chars().any(char::is_lowercase)
            && word.chars().count() >= 2
            && word
                .chars()
                .all(|c| c.is_alphabetic() || "-'’.".contains(c))
    };
    let is_initial = |word: &str| {
        let letters: Vec<char> = word.trim_end_matches('.').chars().collect();
        letters.len() == 1 && letters[0].is_uppercase()
    };
    if TITLES.contains(&key(words[0]).as_str()) {
        return words[1..].iter().any(|w| is_name_word(w));
    }
    words.iter().filter(|w| is_name_word(w)).count() >= 2
        && words.iter().all(|w| is_name_word(w) || is_initial(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

    const EXAMPLE_CSV: &str = "Participant,Role,Experience (years),Patients in treatment\nP01,Palliative Care Consultant,5,30\nP02,Oncologist,25,60\nP03,Pain Specialist,12,45\n";

    fn example_rows() -> Vec<Vec<String>> {
        [
            ["P01", "Palliative Care Consultant", "5", "30"],
            ["P02", "Oncologist", "25", "60"],
            ["P03", "Pain Specialist", "12", "45"],
        ]
        .iter()
        .map(|row| row.iter().map(|c| (*c).to_owned()).collect())
        .collect()
    }

    fn example_mapping(table: &Table) -> TableMapping {
        TableMapping {
            label_column: "Participant".into(),
            variables: table.headers[1..]
                .iter()
                .enumerate()
                .map(|(i, heading)| ColumnMapping {
                    column: heading.clone(),
                    variable: heading.clone(),
                    kind: infer_type(&table.column(i + 1)),
                })
                .collect(),
        }
    }

    fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                if let Ok(n) = cell.parse::<f64>() {
                    sheet.write_number(r, c, n).unwrap();
                } else if !cell.is_empty() {
                    sheet.write_string(r, c, *cell).unwrap();
                }
            }
        }
        workbook.save_to_buffer().unwrap()
    }

    fn csv_table(text: &str) -> Result<Table, ImportError> {
        parse_table(text.as_bytes(), TableKind::Csv)
    }

    fn check_example(table: &Table) {
        assert_eq!(
            table.headers,
            [
                "Participant",
                "Role",
                "Experience (years)",
                "Patients in treatment"
            ]
        );
        assert_eq!(table.rows, example_rows());
        assert_eq!(table.header_row, 1);
        assert_eq!(table.row_numbers, [2, 3, 4]);
        let mapping = example_mapping(table);
        let kinds: Vec<_> = mapping.variables.iter().map(|v| v.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                VariableType::Text,
                VariableType::Number,
                VariableType::Number
            ]
        );
        let records = validate(table, &mapping).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].label, "P02");
        assert_eq!(
            records[1].values,
            [
                Value::Text("Oncologist".into()),
                Value::Number(25.0),
                Value::Number(60.0)
            ]
        );
        let labels: Vec<&str> = table.column(0);
        assert!(!labels_look_like_names(&labels));
    }

    #[test]
    fn the_example_table_imports_cleanly_as_csv() {
        check_example(&csv_table(EXAMPLE_CSV).unwrap());
    }

    #[test]
    fn the_example_table_imports_cleanly_as_xlsx() {
        let bytes = xlsx(&[
            &[
                "Participant",
                "Role",
                "Experience (years)",
                "Patients in treatment",
            ],
            &["P01", "Palliative Care Consultant", "5", "30"],
            &["P02", "Oncologist", "25", "60"],
            &["P03", "Pain Specialist", "12", "45"],
        ]);
        check_example(&parse_table(&bytes, TableKind::Xlsx).unwrap());
    }

    #[test]
    fn csv_encodings_and_delimiters_are_recognised() {
        let semicolons = "\u{FEFF}Participant;Role;Dose\r\nP01;Nurse;2,5\r\nP02;GP;3\r\n";
        let table = csv_table(semicolons).unwrap();
        assert_eq!(table.headers, ["Participant", "Role", "Dose"]);
        assert_eq!(table.rows[0], ["P01", "Nurse", "2,5"]);
        assert_eq!(infer_type(&table.column(2)), VariableType::Number);

        let tabs = "Participant\tRole\nP01\tNurse, senior\n";
        assert_eq!(csv_table(tabs).unwrap().rows[0], ["P01", "Nurse, senior"]);

        let quoted =
            "Participant,Notes\nP01,\"said \"\"yes\"\"; then left\"\nP02,\"two\nlines\"\nP03,x\n";
        let table = csv_table(quoted).unwrap();
        assert_eq!(table.rows[0][1], "said \"yes\"; then left");
        assert_eq!(table.rows[1][1], "two\nlines");
        assert_eq!(table.row_numbers, [2, 3, 5]);

        let windows_1252 = b"Participant,Role\nP01,Caf\xE9 owner\n";
        let table = parse_table(windows_1252, TableKind::Csv).unwrap();
        assert_eq!(table.rows[0][1], "Café owner");

        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "Participant\tRole\r\nP01\tZoë\r\n".encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        assert_eq!(
            parse_table(&utf16, TableKind::Csv).unwrap().rows[0],
            ["P01", "Zoë"]
        );
    }

    #[test]
    fn blank_rows_and_unnamed_empty_columns_are_dropped() {
        let table = csv_table("\n\nParticipant,Age,,\n\nP01,40,,\n,,,\nP02,51\n").unwrap();
        assert_eq!(table.headers, ["Participant", "Age"]);
        assert_eq!(table.rows, [["P01", "40"], ["P02", "51"]]);
        assert_eq!(table.header_row, 3);
        assert_eq!(table.row_numbers, [5, 7]);
    }

    #[test]
    fn every_table_error_is_clear() {
        assert_eq!(csv_table(""), Err(ImportError::TableEmpty));
        assert_eq!(csv_table(" \n,,\n"), Err(ImportError::TableEmpty));
        assert_eq!(
            csv_table("Participant,Role\n"),
            Err(ImportError::TableNoDataRows)
        );
        let empty_header = csv_table("Participant,,Role\nP01,x,y\n").unwrap_err();
        assert_eq!(
            empty_header,
            ImportError::TableEmptyHeader {
                column: "2 (B)".into()
            }
        );
        assert_eq!(
            empty_header.to_string(),
            "Column 2 (B) has no heading, but has values."
        );
        let duplicate = csv_table("Participant,Role,role \nP01,x,y\n").unwrap_err();
        assert_eq!(
            duplicate.to_string(),
            "The heading 'role' appears twice, in columns 2 (B) and 3 (C)."
        );
        assert_eq!(
            csv_table("Participant,Role\nP01,x\nP02,y,z\n"),
            Err(ImportError::TableTooManyValues { row: 3 })
        );
        assert!(matches!(
            parse_table(b"\x00\x01\x02binary", TableKind::Csv),
            Err(ImportError::Binary)
        ));
    }

    #[test]
    fn every_spreadsheet_error_is_clear() {
        assert_eq!(
            parse_table(b"", TableKind::Xlsx),
            Err(ImportError::TableEmpty)
        );
        assert!(matches!(
            parse_table(b"PK\x03\x04garbage", TableKind::Xlsx),
            Err(ImportError::SpreadsheetUnreadable { .. })
        ));
        let mut ole = super::super::docx::OLE_MAGIC.to_vec();
        ole.extend([0; 504]);
        assert_eq!(
            parse_table(&ole, TableKind::Xlsx),
            Err(ImportError::SpreadsheetEncrypted)
        );
        assert_eq!(
            parse_table(&xlsx(&[]), TableKind::Xlsx),
            Err(ImportError::TableEmpty)
        );
        assert_eq!(
            parse_table(&xlsx(&[&["Participant", "Role"]]), TableKind::Xlsx),
            Err(ImportError::TableNoDataRows)
        );
        assert_eq!(
            parse_table(
                &xlsx(&[&["", "Participant", "", "Role"], &["", "P01", "x", "y"]]),
                TableKind::Xlsx
            ),
            Err(ImportError::TableEmptyHeader {
                column: "3 (C)".into()
            })
        );
        assert!(matches!(
            parse_table(
                &xlsx(&[&["Participant", "PARTICIPANT"], &["P01", "P02"]]),
                TableKind::Xlsx
            ),
            Err(ImportError::TableDuplicateHeader { .. })
        ));
    }

    #[test]
    fn spreadsheet_cells_render_as_excel_shows_them() {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let headers = [
            "Participant",
            "Whole",
            "Fraction",
            "Sum",
            "Flag",
            "Interviewed",
            "At",
        ];
        for (c, heading) in headers.iter().enumerate() {
            sheet.write_string(1, c as u16 + 1, *heading).unwrap();
        }
        sheet.write_string(2, 1, "P01").unwrap();
        sheet.write_number(2, 2, 40.0).unwrap();
        sheet.write_number(2, 3, 2.5).unwrap();
        sheet.write_number(2, 4, 0.1 + 0.2).unwrap();
        sheet.write_boolean(2, 5, true).unwrap();
        let day = ExcelDateTime::from_ymd(2024, 5, 17).unwrap();
        sheet.write_datetime_with_format(2, 6, &day, &date).unwrap();
        let moment = ExcelDateTime::from_ymd(2024, 5, 17)
            .unwrap()
            .and_hms(14, 30, 0)
            .unwrap();
        let date_time = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        sheet
            .write_datetime_with_format(2, 7, &moment, &date_time)
            .unwrap();
        let table = parse_table(&workbook.save_to_buffer().unwrap(), TableKind::Xlsx).unwrap();
        assert_eq!(table.headers, headers);
        assert_eq!(table.header_row, 2);
        assert_eq!(table.row_numbers, [3]);
        assert_eq!(
            table.rows[0],
            [
                "P01",
                "40",
                "2.5",
                "0.3",
                "TRUE",
                "2024-05-17",
                "2024-05-17 14:30:00"
            ]
        );
    }

    #[test]
    fn a_spreadsheet_zip_bomb_is_refused_before_calamine_reads_it() {
        let mut bytes = xlsx(&[&["Participant"], &["P01"]]);
        let limits = ZipLimits {
            max_uncompressed_bytes: 2_000,
            ..ZipLimits::default()
        };
        assert_eq!(
            parse_xlsx(&bytes, &limits),
            Err(ImportError::ArchiveTooLarge { limit_mb: 1 })
        );

        let zeros = vec![0u8; 3_000_000];
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        writer
            .start_file("xl/worksheets/sheet1.xml", options)
            .unwrap();
        std::io::Write::write_all(&mut writer, &zeros).unwrap();
        bytes = writer.finish().unwrap().into_inner();
        let limits = ZipLimits {
            max_uncompressed_bytes: 1_000_000,
            ..ZipLimits::default()
        };
        assert_eq!(
            parse_xlsx(&bytes, &limits),
            Err(ImportError::ArchiveTooLarge { limit_mb: 1 })
        );
    }

    #[test]
    fn numbers_are_read_strictly() {
        for (text, expected) in [
            ("12", Some(12.0)),
            (" -3.5 ", Some(-3.5)),
            ("2,5", Some(2.5)),
            ("1234,567", Some(1234.567)),
            ("+1e3", Some(1000.0)),
            ("1,000", None),
            ("1.000,5", None),
            ("inf", None),
            ("NaN", None),
            ("12 years", None),
            ("", None),
            ("-", None),
        ] {
            assert_eq!(parse_number(text), expected, "{text}");
        }
    }

    #[test]
    fn types_are_inferred_from_values() {
        assert_eq!(infer_type(&["5", "", "12.5", "2,5"]), VariableType::Number);
        assert_eq!(
            infer_type(&["Nurse", "GP", "nurse", "GP", "Nurse", "Social worker"]),
            VariableType::Category(vec!["GP".into(), "Nurse".into(), "Social worker".into()])
        );
        assert_eq!(
            infer_type(&["Female", "Male", "Female"]),
            VariableType::Category(vec!["Female".into(), "Male".into()])
        );
        assert_eq!(
            infer_type(&["Nurse", "GP", "Oncologist"]),
            VariableType::Text
        );
        assert_eq!(infer_type::<&str>(&[]), VariableType::Text);
        assert_eq!(infer_type(&["", " "]), VariableType::Text);
        let many: Vec<String> = (0..40).map(|i| format!("Site {}", i % 13)).collect();
        assert_eq!(infer_type(&many), VariableType::Text);
    }

    #[test]
    fn validation_reports_every_bad_cell_with_the_row_the_user_sees() {
        let table = csv_table(
            "Participant,Role,Years\nP01,Nurse,5\n\nP02,Surgeon,five\n,GP,3\np01,gp,1,000\nP04,nurse,\n",
        );
        // "1,000" in an unquoted CSV cell is two cells; quote it as users' tools do.
        assert!(table.is_err());
        let table = csv_table(
            "Participant,Role,Years\nP01,Nurse,5\n\nP02,Surgeon,five\n,GP,3\np01,gp,\"1,000\"\nP04,nurse,\n",
        )
        .unwrap();
        let mapping = TableMapping {
            label_column: "participant".into(),
            variables: vec![
                ColumnMapping {
                    column: "Role".into(),
                    variable: "role".into(),
                    kind: VariableType::Category(vec!["GP".into(), "Nurse".into()]),
                },
                ColumnMapping {
                    column: "Years".into(),
                    variable: "years".into(),
                    kind: VariableType::Number,
                },
            ],
        };
        let errors = validate(&table, &mapping).unwrap_err();
        let described: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            described,
            [
                "Row 4, column 'Role': 'Surgeon' is not one of the allowed values: GP, Nurse.",
                "Row 4, column 'Years': 'five' is not a number.",
                "Row 5, column 'participant': The participant label is empty.",
                "Row 6, column 'participant': The label 'p01' is already used in row 2.",
                "Row 6, column 'Years': '1,000' is ambiguous: write it without the comma, or with a decimal point.",
            ]
        );

        let fixed = csv_table("Participant,Role,Years\nP01,nurse,5\nP02,GP,\n").unwrap();
        let records = validate(&fixed, &mapping).unwrap();
        assert_eq!(
            records[0].values,
            [Value::Category("Nurse".into()), Value::Number(5.0)]
        );
        assert_eq!(
            records[1].values,
            [Value::Category("GP".into()), Value::Missing]
        );
    }

    #[test]
    fn validation_reports_unknown_columns_at_the_heading_row() {
        let table = csv_table("Participant,Role\nP01,Nurse\n").unwrap();
        let mapping = TableMapping {
            label_column: "ID".into(),
            variables: vec![ColumnMapping {
                column: "Age".into(),
                variable: "age".into(),
                kind: VariableType::Number,
            }],
        };
        let errors = validate(&table, &mapping).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].row, 1);
        assert_eq!(errors[0].message, "The table has no column headed 'ID'.");
    }

    #[test]
    fn real_names_are_told_from_pseudonyms() {
        for name in [
            "Mary Jones",
            "Dr Smith",
            "Mrs. O'Brien",
            "Jones, Mary",
            "Anna-Lena Meyer",
            "John A. Smith",
            "José García",
        ] {
            assert!(label_looks_like_name(name), "{name}");
        }
        for pseudonym in [
            "P01",
            "Participant 3",
            "Nurse A",
            "Mary",
            "Team Leader",
            "GP",
            "ICU NURSE",
            "Speaker One",
            "Site Alpha",
            "Carer of P02",
            "Dr A",
            "",
        ] {
            assert!(!label_looks_like_name(pseudonym), "{pseudonym}");
        }
        assert!(labels_look_like_names(&["P01", "P02", "Mary Jones"]));
        assert!(!labels_look_like_names(&["P01", "P02", "Nurse B"]));
    }

    #[test]
    fn column_names_have_number_and_letter() {
        assert_eq!(column_name(0), "1 (A)");
        assert_eq!(column_name(25), "26 (Z)");
        assert_eq!(column_name(26), "27 (AA)");
        assert_eq!(column_name(701), "702 (ZZ)");
        assert_eq!(column_name(702), "703 (AAA)");
    }
}
