//! Krippendorff's unitized α (Krippendorff, Mathet, Bouvry & Widlöcher 2016) on the
//! character continuum: uα and the binary |uα (§5).
//!
//! Each coder's coding partitions the continuum into sections with a value and gaps (φ).
//! With `k_c(x)` the number of coders giving value `c` at position `x` and `m` coders,
//! the observed coincidences only enter through `Σ_c l_cc`, and
//! `l.. − Σ_c l_cc = Σ_x (m² − Σ_c k_c(x)²) / (m − 1)`; the margins `l_c.` are plain lengths.
//! Substituting `e_ck` of §5.2 gives
//! `uα = 1 − (l.. − Σ l_cc) · (l..² − Σ corr) / (l.. · (l..² − Σ_c l_c.²))`,
//! where everything but the first factor is an integer, so the undefined cases are exact
//! integer tests. A transcript coded by `m_t` coders contributes with its own `m_t`, the
//! way Krippendorff's α treats units with missing values; one with fewer than two layers
//! contributes nothing.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::bootstrap::{self, BootstrapOptions, Interval, IntervalReason};
use super::study::{Prepared, Study};
use super::types::{CodeId, InputError, Stat, UndefinedReason};

/// A unit on a continuum: `[start, end)` with a value (a category index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitizedSpan {
    pub start: u32,
    pub end: u32,
    pub value: u32,
}

/// uα over all values, and |uα with every value merged into "relevant". For a single code
/// they are equal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UnitizedAlpha {
    pub u_alpha: Stat,
    pub binary_u_alpha: Stat,
}

/// uα and |uα of one continuum `[0, length)` coded by `coders.len()` coders (§5). A coder's
/// overlapping units of one value are united first; units of two different values on one
/// position make both coefficients undefined (`overlapping_values_in_domain`).
pub fn unitized_alpha(
    length: u32,
    coders: &[Vec<UnitizedSpan>],
) -> Result<UnitizedAlpha, InputError> {
    let mut values = 0;
    let mut layers = Vec::with_capacity(coders.len());
    for units in coders {
        let mut sorted = units.clone();
        for (i, unit) in sorted.iter().enumerate() {
            if unit.start >= unit.end || unit.end > length {
                return Err(InputError::InvalidSpan {
                    transcript: 0,
                    key: i as u64,
                    start: unit.start,
                    end: unit.end,
                    length,
                });
            }
            values = values.max(unit.value as usize + 1);
        }
        sorted.sort_unstable_by_key(|u| (u.value, u.start, u.end));
        let mut sections: Vec<(u32, u32, u32)> = Vec::with_capacity(sorted.len());
        for unit in sorted {
            match sections.last_mut() {
                Some(last) if last.2 == unit.value && unit.start < last.1 => {
                    last.1 = last.1.max(unit.end);
                }
                _ => sections.push((unit.start, unit.end, unit.value)),
            }
        }
        sections.sort_unstable();
        layers.push(sections);
    }
    let mut tally = UnitizedTally::new(coders.len(), values);
    tally.add_continuum(length, &layers, &mut Vec::new());
    Ok(tally.finish())
}

/// |uα of every code of a study, pooled over transcripts and per transcript.
#[derive(Debug, Clone, Serialize)]
pub struct UnitizedAgreement {
    /// In the order of the study's codes.
    pub overall: Vec<CodeUnitized>,
    /// In input order.
    pub per_transcript: Vec<Vec<CodeUnitized>>,
    /// Each transcript's sums per code, which add up to `overall`'s: what
    /// [`Self::intervals`] resamples.
    #[serde(skip)]
    tallies: Vec<Vec<UnitizedTally>>,
}

impl UnitizedAgreement {
    /// No codes, no transcripts: for a report that asked only for discrepancies.
    pub fn empty() -> Self {
        Self {
            overall: Vec::new(),
            per_transcript: Vec::new(),
            tallies: Vec::new(),
        }
    }

    /// 95 % (or `options.confidence`) percentile bootstrap intervals of each
    /// code's pooled |uα, in the order of `overall`. A resample draws the
    /// transcripts coded by two or more coders with replacement, as many as
    /// there are (a cluster bootstrap: a continuum is |uα's unit of
    /// sampling, and its positions are not independent), and pools each
    /// code's sums over the draw; one draw serves every code. Seeded by
    /// `options.seed`, so the same data give the same intervals.
    pub fn intervals(&self, options: &BootstrapOptions) -> Vec<Interval> {
        let continua: Vec<&Vec<UnitizedTally>> = self
            .tallies
            .iter()
            .filter(|codes| codes.first().is_some_and(|t| t.total > 0))
            .collect();
        let n = continua.len();
        let codes = self.overall.len();
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); codes];
        let mut undefined = vec![0u32; codes];
        if n >= 2 && options.resamples >= 2 {
            let mut rng = StdRng::seed_from_u64(options.seed);
            let mut weights = vec![0u128; n];
            let mut tally = UnitizedTally::new(continua[0][0].coders, 1);
            for s in &mut samples {
                s.reserve(options.resamples as usize);
            }
            for _ in 0..options.resamples {
                weights.fill(0);
                for _ in 0..n {
                    weights[rng.gen_range(0..n)] += 1;
                }
                for code in 0..codes {
                    tally.clear();
                    for (continuum, &w) in continua.iter().zip(&weights) {
                        if w > 0 {
                            tally.add_times(&continuum[code], w);
                        }
                    }
                    match tally.finish().binary_u_alpha.value() {
                        Some(v) => samples[code].push(v),
                        None => undefined[code] += 1,
                    }
                }
            }
        }
        self.overall
            .iter()
            .zip(samples.iter_mut().zip(undefined))
            .map(|(c, (samples, undefined))| match c.binary_u_alpha {
                Stat::Value(_) if n < 2 => Interval::Undefined(IntervalReason::TooFewTranscripts {
                    transcripts: n as u32,
                }),
                point => bootstrap::percentile(point, samples, undefined, options),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CodeUnitized {
    pub code: CodeId,
    pub binary_u_alpha: Stat,
}

/// uα and |uα of a semantic domain (a set of codes no coder may overlap).
#[derive(Debug, Clone, Serialize)]
pub struct DomainAgreement {
    pub codes: Vec<CodeId>,
    pub overall: UnitizedAlpha,
    pub per_transcript: Vec<UnitizedAlpha>,
}

impl Study<'_> {
    /// |uα per code on the character continuum (§1, §5).
    pub fn unitized_agreement(&self) -> UnitizedAgreement {
        let codes = self.codes();
        let coders = self.coders().len();
        let mut overall: Vec<UnitizedTally> = codes
            .iter()
            .map(|_| UnitizedTally::new(coders, 1))
            .collect();
        let mut scratch = UnitizedScratch::default();
        let mut tallies = Vec::with_capacity(self.prepared().len());
        let per_transcript = self
            .prepared()
            .iter()
            .map(|transcript| {
                let mut of_transcript = Vec::with_capacity(codes.len());
                let row = codes
                    .iter()
                    .enumerate()
                    .map(|(i, &code)| {
                        let mut tally = UnitizedTally::new(coders, 1);
                        scratch.load(transcript, &[i]);
                        tally.add_continuum(
                            transcript.units.length(),
                            &scratch.layers,
                            &mut scratch.events,
                        );
                        overall[i].add(&tally);
                        let binary_u_alpha = tally.finish().binary_u_alpha;
                        of_transcript.push(tally);
                        CodeUnitized {
                            code,
                            binary_u_alpha,
                        }
                    })
                    .collect();
                tallies.push(of_transcript);
                row
            })
            .collect();
        let overall = codes
            .iter()
            .zip(&overall)
            .map(|(&code, tally)| CodeUnitized {
                code,
                binary_u_alpha: tally.finish().binary_u_alpha,
            })
            .collect();
        UnitizedAgreement {
            overall,
            per_transcript,
            tallies,
        }
    }

    /// uα and |uα of a domain. Codes outside the study's codes have no codings in scope and
    /// are left out of the result's `codes`.
    pub fn domain_agreement(&self, domain: &[CodeId]) -> DomainAgreement {
        let mut members: Vec<usize> = domain
            .iter()
            .filter_map(|code| self.codes().iter().position(|c| c == code))
            .collect();
        members.sort_unstable();
        members.dedup();
        let coders = self.coders().len();
        let mut overall = UnitizedTally::new(coders, members.len());
        let mut scratch = UnitizedScratch::default();
        let per_transcript = self
            .prepared()
            .iter()
            .map(|transcript| {
                let mut tally = UnitizedTally::new(coders, members.len());
                scratch.load(transcript, &members);
                tally.add_continuum(
                    transcript.units.length(),
                    &scratch.layers,
                    &mut scratch.events,
                );
                overall.add(&tally);
                tally.finish()
            })
            .collect();
        DomainAgreement {
            codes: members.iter().map(|&i| self.codes()[i]).collect(),
            overall: overall.finish(),
            per_transcript,
        }
    }
}

#[derive(Default)]
struct UnitizedScratch {
    layers: Vec<Vec<(u32, u32, u32)>>,
    events: Vec<(u32, i32, u32)>,
}

impl UnitizedScratch {
    /// The submitted coders' sections of the `members` codes, valued by position in
    /// `members`, sorted by start.
    fn load(&mut self, transcript: &Prepared<'_>, members: &[usize]) {
        self.layers.clear();
        for (coder, &submitted) in transcript.submitted.iter().enumerate() {
            if !submitted {
                continue;
            }
            let mut sections = Vec::new();
            for (value, &code) in members.iter().enumerate() {
                let value = u32::try_from(value).unwrap_or(u32::MAX);
                sections.extend(
                    transcript
                        .sections(code, coder)
                        .iter()
                        .map(|s| (s.span.start, s.span.end, value)),
                );
            }
            sections.sort_unstable();
            self.layers.push(sections);
        }
    }
}

/// The integer sums of §5.2, added over continua.
#[derive(Debug, Clone)]
struct UnitizedTally {
    coders: usize,
    /// `l..`.
    total: u128,
    /// `l_c.` per value.
    margins: Vec<u128>,
    /// `l_φ.`.
    gap: u128,
    /// `Σ_c corr_c`, gaps included.
    corr: u128,
    /// `Σ_x (m² − Σ_c k_c(x)²)` per number of coders `m` (all values distinct).
    disagreement: Vec<u128>,
    /// The same with the values merged into one.
    binary_disagreement: Vec<u128>,
    overlapping: bool,
}

impl UnitizedTally {
    fn new(coders: usize, values: usize) -> Self {
        Self {
            coders,
            total: 0,
            margins: vec![0; values],
            gap: 0,
            corr: 0,
            disagreement: vec![0; coders + 1],
            binary_disagreement: vec![0; coders + 1],
            overlapping: false,
        }
    }

    fn add(&mut self, other: &Self) {
        self.add_times(other, 1);
    }

    /// Adds `other` as if its continua came `times` times (a bootstrap draw).
    fn add_times(&mut self, other: &Self, times: u128) {
        self.total += times * other.total;
        self.margins
            .iter_mut()
            .zip(&other.margins)
            .for_each(|(a, b)| *a += times * b);
        self.gap += times * other.gap;
        self.corr += times * other.corr;
        self.disagreement
            .iter_mut()
            .zip(&other.disagreement)
            .for_each(|(a, b)| *a += times * b);
        self.binary_disagreement
            .iter_mut()
            .zip(&other.binary_disagreement)
            .for_each(|(a, b)| *a += times * b);
        self.overlapping |= other.overlapping;
    }

    /// Back to no continuum, keeping the coders and values.
    fn clear(&mut self) {
        self.total = 0;
        self.margins.fill(0);
        self.gap = 0;
        self.corr = 0;
        self.disagreement.fill(0);
        self.binary_disagreement.fill(0);
        self.overlapping = false;
    }

    /// Adds one continuum of `length` positions; `layers` are the sections (start, end,
    /// value) of the coders who coded it, each sorted by start.
    fn add_continuum(
        &mut self,
        length: u32,
        layers: &[Vec<(u32, u32, u32)>],
        events: &mut Vec<(u32, i32, u32)>,
    ) {
        let m = layers.len();
        if m < 2 || m >= self.disagreement.len() {
            return;
        }
        let length = u128::from(length);
        events.clear();
        for sections in layers {
            let mut covered = 0u128;
            let mut reach = 0;
            for &(start, end, value) in sections {
                if start < reach {
                    self.overlapping = true;
                }
                reach = reach.max(end);
                let len = u128::from(end - start);
                covered += len;
                self.margins[value as usize] += len;
                self.corr += len * len;
                events.push((start, 1, value));
                events.push((end, -1, value));
            }
            // A gap is divisible: each of its positions pairs with itself once.
            let gap = length.saturating_sub(covered);
            self.gap += gap;
            self.corr += gap;
        }
        let m = m as u128;
        self.total += m * length;
        if self.overlapping {
            return;
        }

        events.sort_unstable();
        let mut counts = vec![0u128; self.margins.len()];
        let mut same = 0u128; // Σ_c k_c² over the values
        let mut relevant = 0u128; // Σ_c k_c
        let mut previous = 0;
        let mut multi = 0u128;
        let mut binary = 0u128;
        for &(position, delta, value) in events.iter() {
            if relevant > 0 {
                let run = u128::from(position - previous);
                let idle = m - relevant;
                multi += run * (m * m - same - idle * idle);
                binary += run * 2 * relevant * idle;
            }
            let k = &mut counts[value as usize];
            if delta > 0 {
                same += 2 * *k + 1;
                *k += 1;
                relevant += 1;
            } else {
                *k -= 1;
                same -= 2 * *k + 1;
                relevant -= 1;
            }
            previous = position;
        }
        self.disagreement[layers.len()] += multi;
        self.binary_disagreement[layers.len()] += binary;
    }

    fn finish(&self) -> UnitizedAlpha {
        let relevant: u128 = self.margins.iter().sum();
        let spread_multi = self.margins.iter().map(|&l| l * l).sum::<u128>() + self.gap * self.gap;
        let spread_binary = relevant * relevant + self.gap * self.gap;
        UnitizedAlpha {
            u_alpha: self.alpha(&self.disagreement, spread_multi),
            binary_u_alpha: self.alpha(&self.binary_disagreement, spread_binary),
        }
    }

    /// `same_margins` is `Σ_c l_c.²` for the value set at hand.
    fn alpha(&self, disagreement: &[u128], same_margins: u128) -> Stat {
        if self.coders < 2 {
            return Stat::Undefined(UndefinedReason::FewerThanTwoCoders);
        }
        if self.overlapping {
            return Stat::Undefined(UndefinedReason::OverlappingValuesInDomain);
        }
        if self.total == 0 {
            return Stat::Undefined(UndefinedReason::NoPairableUnits);
        }
        let square = self.total * self.total;
        // Both hold with equality exactly when no variation exists (only φ, or one value
        // everywhere); Σ_c l_c.² ≤ l..² and Σ corr ≤ l..² always.
        if square <= self.corr || square <= same_margins {
            return Stat::Undefined(UndefinedReason::NoVariation);
        }
        let observed: f64 = disagreement
            .iter()
            .enumerate()
            .skip(2)
            .map(|(m, &d)| d as f64 / (m - 1) as f64)
            .sum();
        let value = 1.0
            - observed * (square - self.corr) as f64
                / (self.total as f64 * (square - same_margins) as f64);
        Stat::finite(value, UndefinedReason::NoVariation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::fixtures::{assert_stat, load};
    use crate::agreement::{CoderId, Coding};

    #[test]
    fn krippendorff2004_unitizing_two_categories_matches_reference() {
        let case = load("krippendorff2004_unitizing_two_categories.json");
        let data = &case["data"];
        let begin = data["begin"].as_u64().expect("begin");
        let length = u32::try_from(data["length"].as_u64().expect("length")).expect("small");
        let exact = case["expected_exact"].as_object().expect("expected_exact");
        assert_eq!(exact.len(), 2);
        for category in data["categories"].as_array().expect("categories") {
            // Units of different categories overlap within a coder, so each category is its
            // own binary continuum (the case's description).
            let coders: Vec<Vec<UnitizedSpan>> = data["units_by_coder"]
                .as_array()
                .expect("coders")
                .iter()
                .map(|units| {
                    units
                        .as_array()
                        .expect("units")
                        .iter()
                        .filter(|u| &u["category"] == category)
                        .map(|u| {
                            let start = u["start"].as_u64().expect("start") - begin;
                            let end = start + u["length"].as_u64().expect("length");
                            UnitizedSpan {
                                start: u32::try_from(start).expect("small"),
                                end: u32::try_from(end).expect("small"),
                                value: 0,
                            }
                        })
                        .collect()
                })
                .collect();
            let alpha = unitized_alpha(length, &coders).expect("valid units");
            let key = format!("binary_u_alpha_2016[{}]", category.as_str().expect("name"));
            assert_stat(alpha.binary_u_alpha, &exact[&key], &key);
            assert_eq!(alpha.u_alpha, alpha.binary_u_alpha, "one value: uα = |uα");
        }
    }

    #[test]
    fn overlapping_values_of_one_coder_make_domain_alpha_undefined() {
        let coders = vec![
            vec![
                UnitizedSpan {
                    start: 0,
                    end: 5,
                    value: 0,
                },
                UnitizedSpan {
                    start: 4,
                    end: 8,
                    value: 1,
                },
            ],
            vec![UnitizedSpan {
                start: 0,
                end: 5,
                value: 0,
            }],
        ];
        let alpha = unitized_alpha(10, &coders).expect("valid units");
        let reason = Stat::Undefined(UndefinedReason::OverlappingValuesInDomain);
        assert_eq!(
            alpha,
            UnitizedAlpha {
                u_alpha: reason,
                binary_u_alpha: reason
            }
        );
    }

    #[test]
    fn nothing_coded_and_one_coder_are_undefined_with_their_reasons() {
        let empty = unitized_alpha(10, &[vec![], vec![]]).expect("valid");
        assert_eq!(
            empty.binary_u_alpha,
            Stat::Undefined(UndefinedReason::NoVariation)
        );
        let alone = unitized_alpha(
            10,
            &[vec![UnitizedSpan {
                start: 0,
                end: 3,
                value: 0,
            }]],
        )
        .expect("valid");
        assert_eq!(
            alone.binary_u_alpha,
            Stat::Undefined(UndefinedReason::FewerThanTwoCoders)
        );
        assert!(
            unitized_alpha(
                10,
                &[vec![UnitizedSpan {
                    start: 3,
                    end: 11,
                    value: 0
                }]]
            )
            .is_err()
        );
    }

    #[test]
    fn touching_units_stay_separate_sections() {
        // Two touching units [0,5) [5,10) are not one unit [0,10): corr differs, so |uα does.
        let split = vec![
            vec![
                UnitizedSpan {
                    start: 0,
                    end: 5,
                    value: 0,
                },
                UnitizedSpan {
                    start: 5,
                    end: 10,
                    value: 0,
                },
            ],
            vec![UnitizedSpan {
                start: 0,
                end: 12,
                value: 0,
            }],
        ];
        let whole = vec![
            vec![UnitizedSpan {
                start: 0,
                end: 10,
                value: 0,
            }],
            vec![UnitizedSpan {
                start: 0,
                end: 12,
                value: 0,
            }],
        ];
        let a = unitized_alpha(40, &split)
            .expect("valid")
            .binary_u_alpha
            .value();
        let b = unitized_alpha(40, &whole)
            .expect("valid")
            .binary_u_alpha
            .value();
        assert!(a.is_some() && b.is_some() && a != b, "{a:?} {b:?}");
    }

    /// Six transcripts of two coders with pseudo-random spans of code 0;
    /// code 1 is never used.
    fn six_transcripts() -> (Vec<u32>, Vec<Vec<Coding>>) {
        let mut seed = 5u64;
        let mut next = |n: u32| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % u64::from(n)) as u32
        };
        let lengths: Vec<u32> = (0..6).map(|i| 200 + 37 * i).collect();
        let codings = lengths
            .iter()
            .map(|&length| {
                let mut out = Vec::new();
                for coder in [CoderId(0), CoderId(1)] {
                    for _ in 0..4 {
                        let start = next(length - 40);
                        out.push(Coding {
                            coder,
                            code: CodeId(0),
                            start,
                            end: start + 5 + next(30),
                            key: out.len() as u64,
                        });
                    }
                }
                out
            })
            .collect();
        (lengths, codings)
    }

    #[test]
    fn u_alpha_intervals_resample_transcripts_as_concatenated_continua_would() {
        use crate::agreement::{TranscriptLayers, TranscriptUnits};

        let (lengths, codings) = six_transcripts();
        let texts: Vec<String> = lengths.iter().map(|&l| "x".repeat(l as usize)).collect();
        let units: Vec<TranscriptUnits> = texts
            .iter()
            .map(|t| TranscriptUnits::new(t, &[]).expect("valid"))
            .collect();
        let coders = [CoderId(0), CoderId(1)];
        let layers: Vec<TranscriptLayers> = units
            .iter()
            .zip(&codings)
            .map(|(units, codings)| TranscriptLayers {
                units,
                submitted: &coders,
                codings,
            })
            .collect();
        let study = Study::new(&coders, &[CodeId(0), CodeId(1)], &layers).expect("valid");
        let agreement = study.unitized_agreement();
        let options = BootstrapOptions {
            resamples: 300,
            ..BootstrapOptions::default()
        };
        let got = agreement.intervals(&options);
        assert_eq!(got, agreement.intervals(&options), "seeded");

        // A second way: each resample's transcripts laid end to end as one
        // continuum, its |uα computed by `unitized_alpha`, then R's type 7
        // quantiles; the draws are the documented ones (seeded StdRng,
        // `gen_range` over the transcripts, as many draws as transcripts).
        let mut rng = StdRng::seed_from_u64(options.seed);
        let mut values = Vec::new();
        for _ in 0..options.resamples {
            let mut spans = vec![Vec::new(), Vec::new()];
            let mut at = 0;
            for _ in 0..lengths.len() {
                let t = rng.gen_range(0..lengths.len());
                for c in &codings[t] {
                    spans[c.coder.0 as usize].push(UnitizedSpan {
                        start: at + c.start,
                        end: at + c.end,
                        value: 0,
                    });
                }
                at += lengths[t];
            }
            let alpha = unitized_alpha(at, &spans).expect("valid units");
            values.push(alpha.binary_u_alpha.value().expect("defined"));
        }
        values.sort_by(f64::total_cmp);
        let quantile = |p: f64| {
            let h = (values.len() - 1) as f64 * p;
            let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
            values[lo] + (h - lo as f64) * (values[hi] - values[lo])
        };
        let (low, high) = got[0].bounds().expect("an interval");
        assert!((low - quantile(0.025)).abs() < 1e-12, "{low}");
        assert!((high - quantile(0.975)).abs() < 1e-12, "{high}");
        let point = agreement.overall[0]
            .binary_u_alpha
            .value()
            .expect("defined");
        assert!(low < point && point < high, "{low} {point} {high}");

        // The unused code has no |uα, and its interval says why.
        let Stat::Undefined(because) = agreement.overall[1].binary_u_alpha else {
            panic!("an unused code has no |uα");
        };
        assert_eq!(
            got[1],
            Interval::Undefined(IntervalReason::Undefined { because })
        );

        // One transcript is nothing to resample.
        let one = Study::new(&coders, &[CodeId(0)], &layers[..1]).expect("valid");
        let got = one.unitized_agreement().intervals(&options);
        assert_eq!(
            got[0],
            Interval::Undefined(IntervalReason::TooFewTranscripts { transcripts: 1 })
        );
        assert!(
            got[0]
                .reason()
                .unwrap()
                .to_string()
                .contains("fewer than two transcripts")
        );
    }
}
