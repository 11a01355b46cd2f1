//! When a table's presence/absence figures say little, and why (README, "When the
//! figures say little"). A statistic over a handful of units can be exactly 1 or
//! exactly 0 by the luck of those few units; the values are still computed and
//! shown, but carry the warning wherever they go (page, JSON, CSV).

use serde::Serialize;

/// Fewer pairable units than this per compared transcript (on average, for pooled
/// tables) make a level too coarse: for example paragraphs in a text with no blank
/// lines, one unit per transcript.
pub const MIN_UNITS_PER_TRANSCRIPT: u64 = 10;

/// Why the presence/absence values of one table (per code, pooled and their means)
/// say little. Segment agreement and unitized α do not depend on the unit level and
/// are not affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum UnitWarning {
    /// Fewer than [`MIN_UNITS_PER_TRANSCRIPT`] pairable units per compared transcript.
    TooFewUnits {
        pairable_units: u64,
        /// Transcripts that have pairable units.
        transcripts: u64,
        /// `MIN_UNITS_PER_TRANSCRIPT × transcripts`.
        minimum: u64,
    },
    /// Every code that any coder applied is present in every pairable unit: the
    /// units are too large to tell where a code applies, only whether it was used.
    CodesInEveryUnit {
        pairable_units: u64,
        /// Codes applied at all (each present in every unit).
        codes: u64,
    },
}

impl UnitWarning {
    /// The reason as the JSON and the CSV spell it.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TooFewUnits { .. } => "too_few_units",
            Self::CodesInEveryUnit { .. } => "codes_in_every_unit",
        }
    }

    /// The rule. `transcripts` counts the transcripts with pairable units, and
    /// `present` gives, for each code, the pairable units in which at least one coder
    /// marked it present. No pairable unit at all gives no warning: every value is
    /// then undefined with `no_pairable_units` already.
    pub fn check(
        pairable_units: u64,
        transcripts: u64,
        present: impl IntoIterator<Item = u64>,
    ) -> Option<Self> {
        if pairable_units == 0 {
            return None;
        }
        let minimum = MIN_UNITS_PER_TRANSCRIPT * transcripts.max(1);
        if pairable_units < minimum {
            return Some(Self::TooFewUnits {
                pairable_units,
                transcripts,
                minimum,
            });
        }
        let mut codes = 0;
        for units in present.into_iter().filter(|&units| units > 0) {
            if units < pairable_units {
                return None;
            }
            codes += 1;
        }
        (codes > 0).then_some(Self::CodesInEveryUnit {
            pairable_units,
            codes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_than_ten_units_per_transcript_warn() {
        assert_eq!(
            UnitWarning::check(9, 1, [3]),
            Some(UnitWarning::TooFewUnits {
                pairable_units: 9,
                transcripts: 1,
                minimum: 10
            })
        );
        assert_eq!(UnitWarning::check(10, 1, [3]), None);
        // Pooled: 4 one-paragraph transcripts are 4 units, not 40.
        assert_eq!(
            UnitWarning::check(4, 4, [2, 4]),
            Some(UnitWarning::TooFewUnits {
                pairable_units: 4,
                transcripts: 4,
                minimum: 40
            })
        );
        assert_eq!(UnitWarning::check(40, 4, [2, 4]), None);
    }

    #[test]
    fn codes_present_in_every_unit_warn_and_unused_codes_do_not_count() {
        assert_eq!(
            UnitWarning::check(12, 1, [12, 0, 12]),
            Some(UnitWarning::CodesInEveryUnit {
                pairable_units: 12,
                codes: 2
            })
        );
        assert_eq!(
            UnitWarning::check(12, 1, [12]).map(|w| w.reason()),
            Some("codes_in_every_unit")
        );
        assert_eq!(UnitWarning::check(12, 1, [12, 11]), None);
        assert_eq!(UnitWarning::check(12, 1, [0, 0]), None, "nothing coded");
        assert_eq!(UnitWarning::check(12, 1, []), None, "no codes");
    }

    #[test]
    fn no_pairable_unit_gives_no_warning() {
        assert_eq!(UnitWarning::check(0, 0, [0]), None);
        assert_eq!(UnitWarning::check(0, 3, []), None);
    }

    #[test]
    fn warnings_serialise_with_their_reason_and_counts() {
        let warning = UnitWarning::check(4, 4, [1]);
        assert_eq!(warning.map(|w| w.reason()), Some("too_few_units"));
        let json = serde_json::to_value(warning).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "reason": "too_few_units", "pairable_units": 4, "transcripts": 4, "minimum": 40
            })
        );
    }
}
