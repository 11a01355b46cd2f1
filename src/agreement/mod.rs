//! Inter-coder agreement: statistics and the discrepancy list, derived from the coders'
//! layers by pure functions (DESIGN invariant 8). Nothing here does I/O; the caller loads
//! the layers and renders the results. `shared/agreement/SPEC.md` is the specification;
//! section numbers (§) below refer to it.
//!
//! # Identifiers
//!
//! Coders and codes are the caller's small integers ([`CoderId`], [`CodeId`]), for example
//! their position in the project's member and agreed-code lists. Each [`Coding`] carries a
//! caller-chosen `u64` [`Coding::key`] (its index in the caller's list is the simplest
//! choice); every discrepancy points back at codings through these keys, so the caller can
//! map them to its UUIDs. Transcripts are referred to by their position in the input slice.
//!
//! Offsets are Unicode code points (Rust `char` indices), half-open `[start, end)`
//! (DESIGN invariant 2).
//!
//! # Layout
//!
//! The files import each other in one direction only: `types` (identifiers, spans, unit
//! levels, [`Stat`], [`Ratio`], [`InputError`]) is the leaf; `units` and `coefficients`
//! build on it; `study` prepares the layers and computes the presence/absence statistics;
//! `unitized` and `discrepancies` read the prepared [`Study`] and not each other; and
//! `report` composes the three into a [`Report`]. `warnings` holds the rule that marks a
//! table whose units are too few for its figures to mean much ([`UnitWarning`]).
//!
//! # Usage
//!
//! ```
//! use concord::agreement::{
//!     CodeId, CoderId, Coding, DiscrepancyKind, Options, TranscriptLayers, TranscriptUnits,
//!     UnitLevel, report,
//! };
//!
//! let text = "I: How is the ward?\nP01: Busy. The paperwork never ends.";
//! let units = TranscriptUnits::new(text, &[])?; // scan once, reuse for every level
//! let (ana, ben) = (CoderId(1), CoderId(2));
//! let paperwork = CodeId(7);
//! let codings = [
//!     Coding { coder: ana, code: paperwork, start: 35, end: 56, key: 0 }, // "paperwork never ends."
//!     Coding { coder: ben, code: paperwork, start: 31, end: 56, key: 1 }, // "The paperwork never ends."
//! ];
//! let transcripts = [TranscriptLayers { units: &units, submitted: &[ana, ben], codings: &codings }];
//! let options = Options { level: UnitLevel::Line, ..Options::default() };
//! let result = report(&[ana, ben], &[paperwork], &transcripts, &options)?;
//!
//! // Both coders flagged line 2 and left line 1: perfect agreement over lines.
//! let paperwork_lines = &result.units.overall.per_code[0].coefficients;
//! assert_eq!(paperwork_lines.cohen_kappa.value(), Some(1.0));
//! // The discrepancy list still shows the boundary difference, as 21 of 25 characters.
//! let found = &result.discrepancies.per_transcript[0].pairs[0].discrepancies;
//! assert_eq!(found[0].kind, DiscrepancyKind::Boundary);
//! assert_eq!(found[0].overlap.map(|r| r.to_string()), Some("21/25".to_owned()));
//! # Ok::<(), concord::agreement::InputError>(())
//! ```

pub mod bootstrap;
mod coefficients;
mod discrepancies;
mod intervals;
mod report;
mod study;
mod types;
mod unitized;
mod units;
mod warnings;

pub use coefficients::{
    ContingencyTable, DataError, Metric, ReliabilityData, brennan_prediger, cohen_kappa,
    fleiss_category_kappa, fleiss_kappa, gwet_ac1, krippendorff_alpha,
    krippendorff_observed_agreement, percent_agreement, scott_pi,
};
pub use discrepancies::{
    Discrepancies, Discrepancy, DiscrepancyKind, PairDiscrepancies, PairSegmentAgreement, Segment,
    SegmentAgreement, TranscriptDiscrepancies,
};
pub use report::{Options, Report, report};
pub use study::{
    AgreementTable, CodeAgreement, Coefficients, MacroMean, MacroMeans, Pooled, Study,
    TranscriptLayers, TwoByTwo, UnitAgreement, UnitCounts,
};
pub use types::{
    CodeId, CoderId, Coding, InputError, Ratio, Span, Stat, UndefinedReason, UnitLevel,
};
pub use unitized::{
    CodeUnitized, DomainAgreement, UnitizedAgreement, UnitizedAlpha, UnitizedSpan, unitized_alpha,
};
pub use units::TranscriptUnits;
pub use warnings::{MIN_UNITS_PER_TRANSCRIPT, UnitWarning};

#[cfg(test)]
mod fixtures;
