//! The quote bank's rules, with no I/O: what counts as a light edit of a
//! quote for publication, how a quote is attributed, and whether a selected
//! quote still stands on the consensus coding it was chosen from.
//!
//! # The editing rule
//!
//! A publication text may differ from the coded span in two ways only:
//!
//! - **words left out**, each run of them marked where it was by an ellipsis:
//!   `…`, `...`, `[…]` or `[...]`; an ellipsis stands for at least one whole
//!   word (a word is what lies between spaces or line breaks), and words left
//!   out at the start or the end are marked too;
//! - **words added in square brackets**: `[the tumour]`.
//!
//! Every other word stays exactly as coded, in its order: same letters, same
//! case, same punctuation. Spacing is free (runs of spaces and line breaks
//! count as one). At least one coded word must be kept. An ellipsis or a
//! bracketed word that is in the coded text itself (a transcriber's `...` or
//! `[laughs]`) may simply be kept. To quote only part of a coding without
//! marks, select a sub-span of it instead.
//!
//! ```
//! use concord::quote_bank::model::check_edit;
//! let coded = "I think he was, you know, really scared of the scan.";
//! assert!(check_edit(coded, "I think he was, … really scared of the [MRI] scan.").is_ok());
//! assert!(check_edit(coded, "I think he was really scared of the scan.").is_err());
//! ```

use serde::Serialize;

/// One piece of a text, as the editing rule reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    /// `…`, `...`, `[…]` or `[...]`, as written.
    Ellipsis(String),
    /// What is inside square brackets (not an ellipsis).
    Bracket(String),
}

fn is_ellipsis(s: &str) -> bool {
    matches!(s, "…" | "..." | "[…]" | "[...]")
}

/// Splits a text into words, ellipses and bracketed pieces.
fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Token>| {
        if !word.is_empty() {
            out.push(Token::Word(std::mem::take(word)));
        }
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            flush(&mut word, &mut out);
            i += 1;
        } else if c == '[' {
            match chars[i + 1..].iter().position(|&c| c == ']' || c == '[') {
                Some(len) if chars[i + 1 + len] == ']' => {
                    flush(&mut word, &mut out);
                    let inner: String = chars[i + 1..i + 1 + len].iter().collect();
                    let inner = inner.split_whitespace().collect::<Vec<_>>().join(" ");
                    if is_ellipsis(&inner) {
                        out.push(Token::Ellipsis(format!("[{inner}]")));
                    } else {
                        out.push(Token::Bracket(inner));
                    }
                    i += len + 2;
                }
                _ => {
                    word.push(c);
                    i += 1;
                }
            }
        } else if c == '…' {
            flush(&mut word, &mut out);
            out.push(Token::Ellipsis("…".into()));
            i += 1;
        } else if c == '.' && chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') {
            flush(&mut word, &mut out);
            out.push(Token::Ellipsis("...".into()));
            i += 3;
            // "...." is an ellipsis and a full stop: the stop belongs to no word.
            while chars.get(i) == Some(&'.') {
                i += 1;
            }
        } else {
            word.push(c);
            i += 1;
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Why a publication text is not a light edit of its quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditRefusal {
    pub message: String,
}

impl std::fmt::Display for EditRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

const RULE: &str =
    "An edit may only leave words out, marked with … or […], and add words in [square brackets].";

fn refuse(message: String) -> Result<(), EditRefusal> {
    Err(EditRefusal { message })
}

/// Whether `edited` is a light edit of `original` under the rule of this
/// module's documentation; if not, what is wrong, in a sentence for the lead.
pub fn check_edit(original: &str, edited: &str) -> Result<(), EditRefusal> {
    let o = tokens(original);
    let e = tokens(edited);
    if !e.iter().any(|t| matches!(t, Token::Word(_))) {
        return refuse("Keep at least one word of the quote.".into());
    }
    // reach[i][j]: the first i pieces of the edit account for the first j of the original.
    let n = o.len();
    let mut reach = vec![vec![false; n + 1]; e.len() + 1];
    reach[0][0] = true;
    for (i, piece) in e.iter().enumerate() {
        for j in 0..=n {
            if !reach[i][j] {
                continue;
            }
            match piece {
                Token::Word(w) => {
                    if o.get(j) == Some(&Token::Word(w.clone())) {
                        reach[i + 1][j + 1] = true;
                    }
                }
                Token::Bracket(b) => {
                    reach[i + 1][j] = true;
                    if o.get(j) == Some(&Token::Bracket(b.clone())) {
                        reach[i + 1][j + 1] = true;
                    }
                }
                Token::Ellipsis(mark) => {
                    if o.get(j) == Some(&Token::Ellipsis(mark.clone())) {
                        reach[i + 1][j + 1] = true;
                    }
                    for r in &mut reach[i + 1][j + 1..] {
                        *r = true;
                    }
                }
            }
        }
    }
    if reach[e.len()][n] {
        return Ok(());
    }
    // Explain at the first piece of the edit no reading gets past.
    let stuck = (0..e.len())
        .find(|&i| !reach[i + 1].iter().any(|r| *r))
        .unwrap_or(e.len());
    let needless_ellipsis = stuck > 0
        && matches!(e[stuck - 1], Token::Ellipsis(_))
        && (0..n).any(|j| reach[stuck - 1][j] && o[j] == e[stuck]);
    match e.get(stuck) {
        Some(Token::Word(_)) if needless_ellipsis => refuse(format!(
            "An ellipsis here leaves out no word of the quote. {RULE}"
        )),
        Some(Token::Word(w)) => {
            let after = e[..stuck].iter().rev().find_map(|t| match t {
                Token::Word(w) => Some(w.as_str()),
                _ => None,
            });
            let place = match after {
                Some(prev) => format!("after “{prev}”"),
                None => "at the start".to_owned(),
            };
            refuse(format!(
                "“{w}” is not the coded text’s next word {place}. {RULE}"
            ))
        }
        Some(Token::Ellipsis(_)) => refuse(format!(
            "An ellipsis here leaves out no word of the quote. {RULE}"
        )),
        // Brackets can always be added, so only the end is left.
        Some(Token::Bracket(_)) | None => refuse(format!(
            "The end of the quote is left out without an ellipsis. {RULE}"
        )),
    }
}

/// "— Palliative Care Consultant, P01": the attribute's value and the
/// participant's label, whichever are known; the transcript's title when the
/// transcript has no participant.
pub fn attribution(attribute: Option<&str>, participant: Option<&str>, transcript: &str) -> String {
    let attribute = attribute.map(str::trim).filter(|a| !a.is_empty());
    let who = match (attribute, participant) {
        (Some(a), Some(p)) => format!("{a}, {p}"),
        (Some(a), None) => format!("{a}, {transcript}"),
        (None, Some(p)) => p.to_owned(),
        (None, None) => transcript.to_owned(),
    };
    format!("— {who}")
}

/// The quote as the write-up prints it: the text in quotation marks, then
/// the attribution.
pub fn attributed(text: &str, attribution: &str) -> String {
    format!("“{}” {attribution}", text.trim())
}

/// Whether a selected quote still stands on what it was chosen from. A quote
/// whose source changed is shown apart and left out of the exports until the
/// lead files it again or takes it out; it is never changed by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    Current,
    /// The consensus coding was deleted (a restore brings the quote back).
    CodingDeleted,
    /// The coding now carries another agreed code (a merge, a split, a recode).
    CodeChanged,
    /// The coding no longer covers the quoted span.
    SpanChanged,
    /// The agreed code was deleted.
    CodeDeleted,
}

impl SourceState {
    pub fn is_current(self) -> bool {
        self == Self::Current
    }

    /// What happened, for the lead.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Current => "",
            Self::CodingDeleted => "The consensus coding behind this quote was deleted.",
            Self::CodeChanged => "The consensus coding behind this quote now carries another code.",
            Self::SpanChanged => "The consensus coding behind this quote no longer covers it.",
            Self::CodeDeleted => "The code this quote was chosen for was deleted.",
        }
    }

    /// Whether "file again" can accept the change: the coding still covers
    /// the quote, under a live code.
    pub fn can_refile(self) -> bool {
        self == Self::CodeChanged
    }
}

/// What a selection saw against what its coding is now.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub coding_deleted: bool,
    pub coding_code: crate::db::ids::AgreedCodeId,
    pub coding_start: i32,
    pub coding_end: i32,
    pub code_deleted: bool,
}

pub fn source_state(
    selected_code: crate::db::ids::AgreedCodeId,
    start: i32,
    end: i32,
    source: &Source,
) -> SourceState {
    if source.coding_deleted {
        SourceState::CodingDeleted
    } else if source.coding_start > start || source.coding_end < end {
        SourceState::SpanChanged
    } else if source.coding_code != selected_code {
        SourceState::CodeChanged
    } else if source.code_deleted {
        SourceState::CodeDeleted
    } else {
        SourceState::Current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODED: &str =
        "Well, I think he was, you know, really scared of the scan. [laughs] It was hard.";

    fn ok(edit: &str) {
        assert_eq!(check_edit(CODED, edit), Ok(()), "{edit}");
    }

    fn refused(edit: &str) -> String {
        check_edit(CODED, edit).expect_err(edit).message
    }

    #[test]
    fn the_unchanged_text_and_free_spacing_are_light_edits() {
        ok(CODED);
        ok("Well,  I think he was,\nyou know, really scared of the scan. [laughs] It was hard.");
    }

    #[test]
    fn words_may_be_left_out_where_an_ellipsis_marks_them() {
        ok("Well, I think he was, … really scared of the scan. [laughs] It was hard.");
        ok("Well, I think he was, [...] really scared of the scan. … It was hard.");
        ok("… I think he was, you know, really scared of the scan. …");
        ok("… he was, … scared of the scan. […] It was hard.");
        ok("Well, I think…really scared of the scan. …");
        // A transcriber's bracket is coded text and may stay.
        ok("… really scared of the scan. [laughs] It was hard.");
    }

    #[test]
    fn bracketed_words_may_be_added_anywhere() {
        ok(
            "Well, I think he [my husband] was, you know, really scared of the [MRI] scan. [laughs] It was hard.",
        );
        ok("[Speaking of her husband:] … he was, … really scared of the scan. …");
    }

    #[test]
    fn leaving_words_out_without_an_ellipsis_is_refused() {
        let why = refused("Well, I think he was, really scared of the scan. [laughs] It was hard.");
        assert!(
            why.contains("“really”") && why.contains("after “was,”"),
            "{why}"
        );
        let why = refused("Well, I think he was, you know, really scared of the scan.");
        assert!(why.contains("end of the quote"), "{why}");
        let why = refused("I think he was … scared of the scan …");
        assert!(why.contains("at the start"), "{why}");
    }

    #[test]
    fn changed_or_added_words_outside_brackets_are_refused() {
        let why = refused("Well, I think he was, … very scared of the scan. …");
        assert!(why.contains("“very”"), "{why}");
        refused("Well, I think he was, you know, really scared of the Scan. [laughs] It was hard.");
        refused("Well I think he was, you know, really scared of the scan. [laughs] It was hard.");
        // Reordering is not leaving out.
        refused("… the scan … he was …");
    }

    #[test]
    fn an_ellipsis_must_leave_something_out() {
        let why = refused(
            "Well, I think … he was, you know, really scared of the scan. [laughs] It was hard.",
        );
        assert!(why.contains("leaves out no word"), "{why}");
    }

    #[test]
    fn an_edit_keeps_at_least_one_coded_word() {
        assert!(refused("… [Something else entirely.] …").contains("at least one word"));
        assert!(refused("…").contains("at least one word"));
    }

    #[test]
    fn a_coded_ellipsis_may_be_kept_or_stand_for_itself() {
        let coded = "I was... I was so tired…";
        assert_eq!(check_edit(coded, "I was... I was so tired…"), Ok(()));
        assert_eq!(check_edit(coded, "… I was so tired…"), Ok(()));
        assert!(check_edit(coded, "I was I was so tired…").is_err());
    }

    #[test]
    fn an_unclosed_bracket_is_an_ordinary_character() {
        assert!(check_edit("a b c", "a [b c").is_err());
        assert_eq!(check_edit("a [b c", "a [b c"), Ok(()));
    }

    #[test]
    fn attribution_names_the_attribute_and_the_participant() {
        assert_eq!(
            attribution(
                Some("Palliative Care Consultant"),
                Some("P01"),
                "Interview 1"
            ),
            "— Palliative Care Consultant, P01"
        );
        assert_eq!(attribution(Some("  "), Some("P01"), "Interview 1"), "— P01");
        assert_eq!(attribution(None, None, "Interview 1"), "— Interview 1");
        assert_eq!(
            attributed(" It was hard. ", "— Nurse, P02"),
            "“It was hard.” — Nurse, P02"
        );
    }

    #[test]
    fn a_source_change_is_named_and_never_current() {
        use crate::db::ids::AgreedCodeId;
        let code = AgreedCodeId::new();
        let live = Source {
            coding_deleted: false,
            coding_code: code,
            coding_start: 10,
            coding_end: 50,
            code_deleted: false,
        };
        assert_eq!(source_state(code, 10, 50, &live), SourceState::Current);
        assert_eq!(source_state(code, 20, 30, &live), SourceState::Current);
        let wider = Source {
            coding_start: 0,
            coding_end: 80,
            ..live
        };
        assert_eq!(source_state(code, 20, 30, &wider), SourceState::Current);
        let narrower = Source {
            coding_start: 25,
            ..live
        };
        assert_eq!(
            source_state(code, 20, 30, &narrower),
            SourceState::SpanChanged
        );
        let merged = Source {
            coding_code: AgreedCodeId::new(),
            ..live
        };
        assert_eq!(
            source_state(code, 20, 30, &merged),
            SourceState::CodeChanged
        );
        assert!(SourceState::CodeChanged.can_refile());
        let gone = Source {
            coding_deleted: true,
            ..live
        };
        assert_eq!(
            source_state(code, 20, 30, &gone),
            SourceState::CodingDeleted
        );
        let deleted_code = Source {
            code_deleted: true,
            ..live
        };
        assert_eq!(
            source_state(code, 20, 30, &deleted_code),
            SourceState::CodeDeleted
        );
    }
}
