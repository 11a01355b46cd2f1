//! The values every part of the module shares: identifiers, spans, unit levels, statistics
//! with their undefined reasons, exact ratios and input errors. This is the leaf of the
//! module graph: it imports nothing else from `agreement`.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// A coder, as numbered by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CoderId(pub u32);

/// An agreed code, as numbered by the caller. Codings must already carry the agreed code:
/// a coder's own codes aligned to one agreed code simply share its id (§3.8), and their
/// spans are united before units are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CodeId(pub u32);

/// One code applied by one coder to `[start, end)` of a transcript (code points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Coding {
    pub coder: CoderId,
    pub code: CodeId,
    pub start: u32,
    pub end: u32,
    /// Returned in discrepancies so the caller can find its coding again.
    pub key: u64,
}

/// A half-open range `[start, end)` of code points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn len(self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }
}

/// Why a statistic has no value (§7). Each is decided by an exact integer test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UndefinedReason {
    /// No unit carries values from two coders (transcript not submitted by two coders,
    /// empty text, or no units at this level).
    NoPairableUnits,
    /// Fewer than two distinct values occur: typically a code nobody used, or every coder
    /// gave the same value everywhere. Also used for a segment agreement of a code that
    /// neither coder applied (0 segments).
    NoVariation,
    /// The a-priori category set has fewer than two categories.
    FewerThanTwoCategories,
    /// Fewer than two coders are compared.
    FewerThanTwoCoders,
    /// Cohen's κ compares exactly two coders; with more, Fleiss' κ is the one to read (§1).
    MoreThanTwoCoders,
    /// A macro mean over codes none of which has a defined value (or over no codes).
    NoDefinedCodes,
    /// Unitized α over a domain: a coder put two codes of the domain on one character,
    /// so the coder's coding is not a partition of the continuum (§5.1).
    OverlappingValuesInDomain,
}

impl fmt::Display for UndefinedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoPairableUnits => "no pairable units",
            Self::NoVariation => "no variation",
            Self::FewerThanTwoCategories => "fewer than two categories",
            Self::FewerThanTwoCoders => "fewer than two coders",
            Self::MoreThanTwoCoders => "more than two coders",
            Self::NoDefinedCodes => "no code has a defined value",
            Self::OverlappingValuesInDomain => "overlapping values in domain",
        })
    }
}

/// A statistic: a finite value, or undefined with a reason. Serialised as
/// `{"value": 0.73, "undefined_reason": null}` or `{"value": null, "undefined_reason": "no_variation"}`
/// (§7); NaN and infinities are never produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    Value(f64),
    Undefined(UndefinedReason),
}

impl Stat {
    pub fn value(self) -> Option<f64> {
        match self {
            Self::Value(v) => Some(v),
            Self::Undefined(_) => None,
        }
    }

    pub fn undefined_reason(self) -> Option<UndefinedReason> {
        match self {
            Self::Value(_) => None,
            Self::Undefined(reason) => Some(reason),
        }
    }

    /// Every caller has already ruled out a zero denominator with an integer test; the
    /// check here only keeps a non-finite value from ever leaving the module should a
    /// future formula forget that.
    pub(super) fn finite(value: f64, otherwise: UndefinedReason) -> Self {
        debug_assert!(value.is_finite(), "non-finite statistic {value}");
        if value.is_finite() {
            Self::Value(value)
        } else {
            Self::Undefined(otherwise)
        }
    }
}

impl Serialize for Stat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire {
            value: Option<f64>,
            undefined_reason: Option<UndefinedReason>,
        }
        Wire {
            value: self.value(),
            undefined_reason: self.undefined_reason(),
        }
        .serialize(serializer)
    }
}

/// An exact non-negative fraction, reduced. Used for the match threshold θ (input) and for
/// segment overlap ratios (output). Written as `"22/39"`, or `"1"` when the denominator is 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ratio {
    num: u64,
    den: u64,
}

impl Ratio {
    /// `None` when `den` is 0.
    pub fn new(num: u64, den: u64) -> Option<Self> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den);
        Some(Self {
            num: num / g,
            den: den / g,
        })
    }

    pub fn numerator(self) -> u64 {
        self.num
    }

    pub fn denominator(self) -> u64 {
        self.den
    }

    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Exact comparison by cross-multiplication.
    pub fn cmp_exact(self, other: Self) -> std::cmp::Ordering {
        (u128::from(self.num) * u128::from(other.den))
            .cmp(&(u128::from(other.num) * u128::from(self.den)))
    }
}

impl Default for Ratio {
    /// The DESIGN default match threshold: half of the union.
    fn default() -> Self {
        Self { num: 1, den: 2 }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

impl std::str::FromStr for Ratio {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InputError::InvalidRatio(s.to_owned());
        let (num, den) = match s.split_once('/') {
            Some((num, den)) => (num.trim(), den.trim()),
            None => (s.trim(), "1"),
        };
        let num = num.parse().map_err(|_| bad())?;
        let den = den.parse().map_err(|_| bad())?;
        Self::new(num, den).ok_or_else(bad)
    }
}

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Input the module refuses instead of computing a misleading figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum InputError {
    /// A coding with `start >= end` or `end` beyond the transcript.
    InvalidSpan {
        transcript: usize,
        key: u64,
        start: u32,
        end: u32,
        length: u32,
    },
    /// A speaker turn with `start >= end`, beyond the text, or overlapping another turn.
    InvalidTurn {
        start: u32,
        end: u32,
        length: u32,
    },
    /// A unit boundary list that is unsorted, overlapping or out of range.
    InvalidUnits {
        level: UnitLevel,
    },
    /// The text has `u32::MAX` code points or more.
    TextTooLong,
    DuplicateCoder(CoderId),
    DuplicateCode(CodeId),
    /// A fraction that does not parse or has a zero denominator.
    InvalidRatio(String),
    /// The match threshold must lie in (0, 1].
    InvalidThreshold(Ratio),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidSpan {
                transcript,
                key,
                start,
                end,
                length,
            } => write!(
                f,
                "coding {key} in transcript {transcript} has span [{start}, {end}) outside [0, {length}) or empty"
            ),
            Self::InvalidTurn { start, end, length } => write!(
                f,
                "speaker turn [{start}, {end}) is empty, overlaps another or lies outside [0, {length})"
            ),
            Self::InvalidUnits { level } => {
                write!(
                    f,
                    "{level:?} units are unsorted, overlapping or out of range"
                )
            }
            Self::TextTooLong => f.write_str("transcript of 2^32 - 1 code points or more"),
            Self::DuplicateCoder(coder) => write!(f, "coder {} listed twice", coder.0),
            Self::DuplicateCode(code) => write!(f, "code {} listed twice", code.0),
            Self::InvalidRatio(text) => write!(f, "{text:?} is not a fraction n/d with d > 0"),
            Self::InvalidThreshold(ratio) => write!(f, "match threshold {ratio} is not in (0, 1]"),
        }
    }
}

impl std::error::Error for InputError {}

/// The unit of analysis for presence/absence statistics (project setting).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    /// A line with at least one non-whitespace character.
    #[default]
    Line,
    /// A UAX #29 sentence within one line.
    Sentence,
    /// A maximal run of non-blank lines.
    Paragraph,
    /// A speaker turn recorded at import; paragraphs when none were recorded.
    #[serde(rename = "turn")]
    SpeakerTurn,
    /// Every code point, newlines included (NVivo's coding comparison).
    Character,
}

impl UnitLevel {
    pub const ALL: [UnitLevel; 5] = [
        UnitLevel::Line,
        UnitLevel::Sentence,
        UnitLevel::Paragraph,
        UnitLevel::SpeakerTurn,
        UnitLevel::Character,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_reduces_and_prints_like_the_reference_data() {
        assert_eq!(
            Ratio::new(14, 18).map(|r| r.to_string()),
            Some("7/9".to_owned())
        );
        assert_eq!(
            Ratio::new(31, 31).map(|r| r.to_string()),
            Some("1".to_owned())
        );
        assert_eq!("1/2".parse::<Ratio>(), Ok(Ratio::default()));
        assert!("1/0".parse::<Ratio>().is_err());
        assert!("half".parse::<Ratio>().is_err());
    }

    #[test]
    fn undefined_stat_serialises_value_null_with_reason() {
        let json = serde_json::to_value(Stat::Undefined(UndefinedReason::NoVariation))
            .expect("serialisable");
        assert_eq!(
            json,
            serde_json::json!({"value": null, "undefined_reason": "no_variation"})
        );
        let json = serde_json::to_value(Stat::Value(0.5)).expect("serialisable");
        assert_eq!(
            json,
            serde_json::json!({"value": 0.5, "undefined_reason": null})
        );
    }
}
