//! The agreed codebook's domain types: an agreed code, the requests that make
//! and change one, and what the codebook page shows of it (no I/O).

use serde::{Deserialize, Serialize};

use crate::coding::model as coding_model;
use crate::db::ids::{AgreedCodeId, CodeId, ConsensusCodingId, TranscriptId, UserId};

/// An agreed code with everything the consensus codebook shows. Serialised in
/// the shape of a coder's code, so the coding page can use the agreed codebook.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AgreedCode {
    pub id: AgreedCodeId,
    pub name: String,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub color: String,
    pub example_coding_id: Option<ConsensusCodingId>,
    pub merged_into: Option<AgreedCodeId>,
    pub version: i32,
    #[serde(skip)]
    pub deleted: bool,
    /// Always null: agreed codes are flat until the theme hierarchy.
    pub parent_id: Option<AgreedCodeId>,
    pub owner_id: Option<UserId>,
}

impl AgreedCode {
    /// A new, live agreed code with nothing but its name, definition and colour.
    pub fn new(id: AgreedCodeId, name: String, definition: String, color: String) -> Self {
        Self {
            id,
            name,
            definition,
            inclusion: String::new(),
            exclusion: String::new(),
            example: String::new(),
            color,
            example_coding_id: None,
            merged_into: None,
            version: 1,
            deleted: false,
            parent_id: None,
            owner_id: None,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct NewCode {
    pub id: AgreedCodeId,
    pub name: String,
    pub color: Option<String>,
    #[serde(default)]
    pub definition: String,
}

/// A colour for a new agreed code: one no live agreed code uses, if any is left.
pub fn agreed_color(agreed: &[AgreedCode]) -> &'static str {
    coding_model::next_color(
        agreed
            .iter()
            .filter(|a| !a.deleted)
            .map(|a| a.color.as_str()),
    )
}

#[derive(Debug, Deserialize)]
pub struct CodeChange {
    pub name: Option<String>,
    pub definition: Option<String>,
    pub inclusion: Option<String>,
    pub exclusion: Option<String>,
    pub example: Option<String>,
    pub color: Option<String>,
    /// A consensus coding of this code to show as its typical example (null: none).
    #[serde(default, deserialize_with = "present")]
    pub example_coding_id: Option<Option<ConsensusCodingId>>,
    pub version: i32,
}

fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<ConsensusCodingId>>, D::Error> {
    Option::<ConsensusCodingId>::deserialize(d).map(Some)
}

/// What a merge would do, for the lead to confirm.
#[derive(Debug, Serialize)]
pub struct MergePreview {
    pub code: AgreedCode,
    pub into: AgreedCode,
    pub consensus_codings: i64,
    pub coder_codes: i64,
}

/// A merge in force, for the list of merges that can be undone.
#[derive(Debug, Clone, Serialize)]
pub struct MergeInForce {
    pub code_id: AgreedCodeId,
    pub code: String,
    pub into_id: AgreedCodeId,
    pub into: String,
    pub consensus_codings: i32,
    pub merged_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub merged_at: time::OffsetDateTime,
}

/// What undoing a merge put back.
#[derive(Debug, Serialize)]
pub struct Unmerged {
    pub code: AgreedCode,
    pub into: AgreedCodeId,
    /// Consensus codings moved back (those still under the other code).
    pub consensus_codings_moved_back: u64,
    /// Coder codes aligned onto it again (those still aligned to the other code).
    pub coder_codes_realigned: u64,
    /// Moved codings that were deleted or moved on since, so stay where they are.
    pub left_in_place: u64,
}

#[derive(Debug, Deserialize)]
pub struct SplitRequest {
    /// Id of the new code (the client's, so a retry is harmless).
    #[serde(default)]
    pub id: Option<AgreedCodeId>,
    pub name: String,
    #[serde(default)]
    pub definition: String,
    /// The consensus codings that move to the new code.
    #[serde(default)]
    pub codings: Vec<ConsensusCodingId>,
    /// Coder codes whose alignment moves to the new code.
    #[serde(default)]
    pub coder_codes: Vec<CodeId>,
}

#[derive(Debug, Serialize)]
pub struct SplitResult {
    pub code: AgreedCode,
    pub new_code: AgreedCode,
    pub moved: u64,
}

/// One agreed code as the consensus codebook page shows it.
#[derive(Debug, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub code: AgreedCode,
    pub codings: i64,
    pub transcripts: i64,
    pub participants: i64,
    /// Coder codes aligned onto it: (coder name, code name).
    pub coder_codes: Vec<CoderCode>,
    /// Its consensus codings with their quotes, for the example and split choices.
    pub quotes: Vec<Quote>,
    /// The quote Concord suggests as its typical example (see [`suggest_example`]).
    pub suggested_example: Option<ConsensusCodingId>,
}

/// The typical example Concord suggests among a code's quotes: the one whose
/// length (in characters) is closest to the median length of them all, so
/// neither a two-word fragment nor a whole answer; the first in transcript
/// order on a tie.
pub fn suggest_example(quotes: &[Quote]) -> Option<ConsensusCodingId> {
    let lengths: Vec<usize> = quotes
        .iter()
        .map(|q| q.text.trim().chars().count())
        .collect();
    let mut sorted = lengths.clone();
    sorted.sort_unstable();
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    // Twice the median, to stay in whole numbers.
    let median2 = if n % 2 == 1 {
        2 * sorted[n / 2]
    } else {
        sorted[n / 2 - 1] + sorted[n / 2]
    };
    lengths
        .iter()
        .enumerate()
        .min_by_key(|(i, len)| ((2 * **len).abs_diff(median2), *i))
        .map(|(i, _)| quotes[i].coding_id)
}

#[derive(Debug, Serialize)]
pub struct CoderCode {
    pub id: CodeId,
    pub coder: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct Quote {
    pub coding_id: ConsensusCodingId,
    pub transcript_id: TranscriptId,
    pub transcript: String,
    pub participant: Option<String>,
    pub text: String,
}

/// Counts of one agreed code over the live consensus layer.
pub struct CodeCounts {
    pub agreed_code_id: AgreedCodeId,
    pub codings: i64,
    pub transcripts: i64,
    pub participants: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(text: &str) -> Quote {
        Quote {
            coding_id: ConsensusCodingId::new(),
            transcript_id: TranscriptId::new(),
            transcript: "T".into(),
            participant: None,
            text: text.into(),
        }
    }

    #[test]
    fn the_suggested_example_is_the_quote_nearest_the_median_length() {
        assert_eq!(suggest_example(&[]), None);
        let one = [quote("Only this.")];
        assert_eq!(suggest_example(&one), Some(one[0].coding_id));
        // Lengths 3, 19, 22 and 200: the median is 20.5, and 19 and 22 are as
        // near to it: the first of them wins.
        let quotes = [
            quote("Yes"),
            quote("I worry about costs"),
            quote("The pump alarms often."),
            quote(&"a".repeat(200)),
        ];
        assert_eq!(suggest_example(&quotes), Some(quotes[1].coding_id));
        let odd = [
            quote("short"),
            quote(&"b".repeat(40)),
            quote(&"c".repeat(41)),
            quote(&"d".repeat(90)),
            quote("x"),
        ];
        // Lengths 5, 40, 41, 90, 1: median 40.
        assert_eq!(suggest_example(&odd), Some(odd[1].coding_id));
    }
}
