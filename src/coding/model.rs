//! Codes and codings.

use serde::Serialize;

use crate::db::ids::{CodeId, CodingId, TranscriptId, UserId};
use crate::error::FieldErrors;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Code {
    pub id: CodeId,
    /// The coder whose codebook holds it; None in a shared codebook.
    pub owner_id: Option<UserId>,
    pub name: String,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub color: String,
    pub parent_id: Option<CodeId>,
    pub version: i32,
}

/// Offsets are Unicode code points into the canonical text, `[start, end)`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Coding {
    pub id: CodingId,
    pub transcript_id: TranscriptId,
    pub coder_id: UserId,
    pub code_id: CodeId,
    pub start: i32,
    pub end: i32,
    pub memo: String,
    pub version: i32,
}

impl Coding {
    /// Same content, ignoring the version: a retried create.
    pub fn same_as(&self, other: &Coding) -> bool {
        self.id == other.id
            && self.transcript_id == other.transcript_id
            && self.coder_id == other.coder_id
            && self.code_id == other.code_id
            && self.start == other.start
            && self.end == other.end
            && self.memo == other.memo
    }
}

/// Distinct colours for new codes, in order.
/// Code colours, distinct for colour-blind readers too: the Okabe–Ito palette
/// (without black) and Paul Tol's "muted" scheme, both designed to stay apart
/// under the common colour-vision deficiencies. New codes take the first
/// colour no live code of the same codebook uses ([`next_color`]).
pub const PALETTE: [&str; 16] = [
    "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#332288",
    "#117733", "#88ccee", "#ddcc77", "#cc6677", "#aa4499", "#882255", "#44aa99", "#999933",
];

/// The palette colour the fewest of `used` have, the earliest on a tie: an
/// unused colour while there is one.
pub fn next_color<'a>(used: impl IntoIterator<Item = &'a str>) -> &'static str {
    let mut counts = [0usize; PALETTE.len()];
    for color in used {
        if let Some(i) = PALETTE.iter().position(|p| p.eq_ignore_ascii_case(color)) {
            counts[i] += 1;
        }
    }
    let (index, _) = counts
        .iter()
        .enumerate()
        .min_by_key(|(i, n)| (**n, *i))
        .expect("a palette");
    PALETTE[index]
}

pub const MAX_MEMO_CHARS: usize = 10_000;
const MAX_TEXT_CHARS: usize = 5_000;

pub fn parse_code_name(errors: &mut FieldErrors, input: &str) -> String {
    let name = input.trim();
    if name.is_empty() {
        errors.add("name", "Name the code.");
    } else if name.chars().count() > 200 {
        errors.add("name", crate::messages::at_most(200));
    }
    name.to_owned()
}

pub fn parse_color(errors: &mut FieldErrors, input: &str) -> String {
    let color = input.trim().to_lowercase();
    let valid = color.len() == 7
        && color.starts_with('#')
        && color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !valid {
        errors.add("color", "Use a colour like #1f77b4.");
    }
    color
}

pub fn check_long_text(errors: &mut FieldErrors, field: &str, text: &str) {
    if text.chars().count() > MAX_TEXT_CHARS {
        errors.add(field, format!("Use at most {MAX_TEXT_CHARS} characters."));
    }
}

/// `0 <= start < end <= length`, in code points (invariant 2).
pub fn check_offsets(errors: &mut FieldErrors, start: i64, end: i64, length: i64) {
    if start < 0 {
        errors.add("start", "The start must be 0 or more.");
    }
    if end <= start {
        errors.add("end", "The end must come after the start.");
    }
    if end > length {
        errors.add(
            "end",
            format!("The end is past the end of the text ({length} characters)."),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_code_takes_a_colour_no_code_uses() {
        assert_eq!(next_color([]), PALETTE[0]);
        assert_eq!(next_color([PALETTE[0], "#E69F00"]), PALETTE[1]);
        let all: Vec<&str> = PALETTE
            .iter()
            .copied()
            .chain([PALETTE[0], PALETTE[2]])
            .collect();
        assert_eq!(next_color(all), PALETTE[1]);
        assert_eq!(next_color(["#123456"]), PALETTE[0]);
    }

    #[test]
    fn offsets_must_be_ordered_and_inside_the_text() {
        let check = |s, e| {
            let mut errors = FieldErrors::new();
            check_offsets(&mut errors, s, e, 10);
            errors.is_empty()
        };
        assert!(check(0, 10));
        assert!(check(3, 4));
        assert!(!check(-1, 4));
        assert!(!check(4, 4));
        assert!(!check(5, 4));
        assert!(!check(0, 11));
    }

    #[test]
    fn colours_are_six_hex_digits() {
        let mut errors = FieldErrors::new();
        assert_eq!(parse_color(&mut errors, "#A1B2C3"), "#a1b2c3");
        assert!(errors.is_empty());
        parse_color(&mut errors, "red");
        assert!(!errors.is_empty());
    }
}
