//! Thematic saturation over the consensus layers, computed by pure functions
//! (no I/O, like `agreement`): the caller loads which agreed codes each
//! transcript's consensus layer uses, in interview order, and renders the result.
//!
//! - [`curve`]: new codes per transcript (a code is new in the first transcript
//!   that uses it), the cumulative count, and how many of the last transcripts
//!   added nothing ([`Curve::quiet_tail`]).
//! - [`guest`]: the method of Guest, Namey & Chen (2020, *PLoS ONE* 15(5):
//!   e0232076). The **base** is the first `base` transcripts and the codes they
//!   hold; a **run** is `run` consecutive transcripts after it. The saturation
//!   ratio of a run is the number of codes new in the run over the number of
//!   codes of the base; the run moves on one transcript at a time, the base
//!   staying the first `base` transcripts, and saturation is reached at the last
//!   transcript of the first run whose ratio is at or below the threshold.
//!   The comparison is exact (integers in hundredths of a percent).
//! - [`order_free`]: the same over many interview orders (every order when there
//!   are no more of them than asked for, else seeded random ones), with the
//!   median and a 95 % band of the cumulative curve per transcript count and the
//!   share of orders saturated by each count.
//!
//! Codes are the caller's small integers (positions in its code list), so the
//! module needs nothing of the database's ids.
//!
//! ```
//! use concord::saturation::{Params, curve, guest};
//!
//! // Six transcripts in interview order, each with the codes its consensus layer uses.
//! let transcripts = [vec![0, 1, 2], vec![1, 3], vec![0, 4], vec![5], vec![1], vec![2]];
//! let c = curve(&transcripts);
//! assert_eq!(c.new, [3, 1, 1, 1, 0, 0]);
//! assert_eq!(c.quiet_tail(), 2);
//! // The base (transcripts 1-4) holds 6 codes; the run 5-6 adds none: 0 / 6 <= 5 %.
//! let g = guest(&c.new, &Params::default());
//! assert_eq!(g.reached_at(), Some(6));
//! ```

pub mod permutations;

use std::fmt;

use serde::Serialize;

pub use permutations::{Band, OrderFree, order_free};

/// The cumulative count of distinct codes, transcript by transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Curve {
    /// Codes new in each transcript.
    pub new: Vec<usize>,
    /// Distinct codes in the transcripts up to and including each.
    pub cumulative: Vec<usize>,
    /// Which codes were new in each transcript, ascending.
    pub new_codes: Vec<Vec<u32>>,
}

impl Curve {
    /// Distinct codes over every transcript.
    pub fn total(&self) -> usize {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// How many of the last transcripts added no new code.
    pub fn quiet_tail(&self) -> usize {
        self.new.iter().rev().take_while(|n| **n == 0).count()
    }
}

/// The curve of `transcripts` (each a list of the codes it uses, repeats
/// allowed) taken in the order given.
pub fn curve(transcripts: &[Vec<u32>]) -> Curve {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Curve {
        new: Vec::with_capacity(transcripts.len()),
        cumulative: Vec::with_capacity(transcripts.len()),
        new_codes: Vec::with_capacity(transcripts.len()),
    };
    for codes in transcripts {
        let mut fresh: Vec<u32> = codes.iter().copied().filter(|c| seen.insert(*c)).collect();
        fresh.sort_unstable();
        out.new.push(fresh.len());
        out.cumulative.push(seen.len());
        out.new_codes.push(fresh);
    }
    out
}

/// The new-information threshold, in hundredths of a percent so that the
/// comparison with a run's ratio is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "f64")]
pub struct Threshold {
    basis_points: u32,
}

impl From<Threshold> for f64 {
    fn from(t: Threshold) -> f64 {
        t.percent()
    }
}

impl Threshold {
    /// From hundredths of a percent: 500 is 5 %.
    pub const fn from_basis_points(basis_points: u32) -> Self {
        Self { basis_points }
    }

    /// A percentage as typed: "5", "2.5", "5%", "0.25 %"; at most two decimals,
    /// from 0 to 100.
    pub fn parse(text: &str) -> Result<Self, ParamError> {
        let bad = ParamError::Threshold;
        let text = text.trim().trim_end_matches('%').trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !fraction.chars().all(|c| c.is_ascii_digit())
            || fraction.len() > 2
            || whole.len() > 3
        {
            return Err(bad);
        }
        let whole: u32 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad)?
        };
        let hundredths: u32 = format!("{fraction:0<2}").parse().map_err(|_| bad)?;
        let basis_points = whole * 100 + hundredths;
        if basis_points > 10_000 {
            return Err(bad);
        }
        Ok(Self { basis_points })
    }

    pub fn percent(self) -> f64 {
        f64::from(self.basis_points) / 100.0
    }

    /// `new / base <= threshold`, decided in integers.
    pub fn met_by(self, new: usize, base: usize) -> bool {
        base > 0 && (new as u128) * 10_000 <= u128::from(self.basis_points) * base as u128
    }
}

impl fmt::Display for Threshold {
    /// "5%", "2.5%", "0.25%".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.basis_points / 100;
        let hundredths = self.basis_points % 100;
        match (hundredths, hundredths % 10) {
            (0, _) => write!(f, "{whole}%"),
            (h, 0) => write!(f, "{whole}.{}%", h / 10),
            (h, _) => write!(f, "{whole}.{h:02}%"),
        }
    }
}

/// The parameters of Guest, Namey & Chen's method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Params {
    /// Transcripts in the base (the paper recommends 4).
    pub base: usize,
    /// Transcripts in each run (the paper recommends 2).
    pub run: usize,
    /// New information at or below which saturation is reached (the paper: 5 %).
    pub threshold: Threshold,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            base: 4,
            run: 2,
            threshold: Threshold::from_basis_points(500),
        }
    }
}

/// Bounds on the parameters, so that a request stays cheap.
pub const MAX_BASE: usize = 1_000;
pub const MAX_RUN: usize = 1_000;

impl Params {
    pub fn new(base: usize, run: usize, threshold: Threshold) -> Result<Self, ParamError> {
        if !(1..=MAX_BASE).contains(&base) {
            return Err(ParamError::Base);
        }
        if !(1..=MAX_RUN).contains(&run) {
            return Err(ParamError::Run);
        }
        Ok(Self {
            base,
            run,
            threshold,
        })
    }
}

/// A parameter out of its bounds: each says which and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("The base size is a whole number of transcripts from 1 to 1000.")]
    Base,
    #[error("The run length is a whole number of transcripts from 1 to 1000.")]
    Run,
    #[error("The threshold is a percentage from 0 to 100, with at most two decimals.")]
    Threshold,
    #[error("The number of random orders is a whole number from 1 to 10000.")]
    Permutations,
    #[error("The seed is a whole number from 0 to 18446744073709551615.")]
    Seed,
}

impl ParamError {
    /// The request parameter it is about.
    pub fn field(self) -> &'static str {
        match self {
            Self::Base => "base",
            Self::Run => "run",
            Self::Threshold => "threshold",
            Self::Permutations => "permutations",
            Self::Seed => "seed",
        }
    }
}

/// One run: transcripts `first..=last` (1-based) against the base.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Step {
    pub first: usize,
    pub last: usize,
    /// Codes new in the run.
    pub new: usize,
    /// `new` over the base's codes; `None` when the base holds none.
    pub ratio: Option<f64>,
    pub meets_threshold: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// At the last transcript of the first run at or below the threshold.
    Reached { at: usize },
    /// No run met the threshold.
    NotReached,
    /// There are fewer transcripts than a base and one run.
    TooFewTranscripts { have: usize, need: usize },
    /// The base holds no code, so no ratio is defined.
    EmptyBase,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guest {
    pub params: Params,
    pub transcripts: usize,
    /// Distinct codes in the base.
    pub base_codes: usize,
    pub steps: Vec<Step>,
    pub outcome: Outcome,
}

/// Guest, Namey & Chen's assessment of one order, from the new codes of each
/// transcript in that order ([`Curve::new`]).
pub fn guest(new: &[usize], params: &Params) -> Guest {
    let n = new.len();
    let need = params.base + params.run;
    let base_codes: usize = new.iter().take(params.base).sum();
    let mut steps = Vec::new();
    let mut outcome = if n < need {
        Outcome::TooFewTranscripts { have: n, need }
    } else if base_codes == 0 {
        Outcome::EmptyBase
    } else {
        Outcome::NotReached
    };
    if n >= need {
        // A running sum over the window base..base+run, moved one at a time.
        let mut in_run: usize = new[params.base..need].iter().sum();
        for start in params.base..=n - params.run {
            if start > params.base {
                in_run = in_run + new[start + params.run - 1] - new[start - 1];
            }
            let meets = params.threshold.met_by(in_run, base_codes);
            steps.push(Step {
                first: start + 1,
                last: start + params.run,
                new: in_run,
                ratio: (base_codes > 0).then(|| in_run as f64 / base_codes as f64),
                meets_threshold: meets,
            });
            if meets && outcome == Outcome::NotReached {
                outcome = Outcome::Reached {
                    at: start + params.run,
                };
            }
        }
    }
    Guest {
        params: *params,
        transcripts: n,
        base_codes,
        steps,
        outcome,
    }
}

/// The first transcript count at which saturation is reached, if it is.
pub fn reached_at(new: &[usize], params: &Params) -> Option<usize> {
    guest(new, params).reached_at()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn transcripts_of(step: &Step) -> String {
    if step.first == step.last {
        format!("transcript {}", step.first)
    } else {
        format!("transcripts {}–{}", step.first, step.last)
    }
}

impl Guest {
    pub fn reached_at(&self) -> Option<usize> {
        match self.outcome {
            Outcome::Reached { at } => Some(at),
            _ => None,
        }
    }

    /// One sentence for a methods section, with the parameters and the result.
    pub fn sentence(&self) -> String {
        let p = &self.params;
        let method = format!(
            "Saturation was assessed with the method of Guest, Namey and Chen (2020), with a base size of {}, a run length of {} and a new-information threshold of ≤{}",
            plural(p.base, "transcript", "transcripts"),
            plural(p.run, "transcript", "transcripts"),
            p.threshold
        );
        let step_text = |s: &Step| {
            format!(
                "{} added {} to the {} of the base ({:.1}%)",
                transcripts_of(s),
                plural(s.new, "new agreed code", "new agreed codes"),
                self.base_codes,
                s.ratio.unwrap_or(0.0) * 100.0
            )
        };
        match self.outcome {
            Outcome::Reached { at } => {
                let step = self
                    .steps
                    .iter()
                    .find(|s| s.meets_threshold)
                    .map(step_text)
                    .unwrap_or_default();
                format!(
                    "{method}: it was reached at transcript {at} of {}, where {step}.",
                    self.transcripts
                )
            }
            Outcome::NotReached => {
                let last = self.steps.last().map(step_text).unwrap_or_default();
                format!(
                    "{method}: it was not reached in {}; the last run, {last}.",
                    plural(self.transcripts, "transcript", "transcripts")
                )
            }
            Outcome::TooFewTranscripts { have, need } => format!(
                "{method}: it cannot be assessed with {}, as a base and one run need {need}.",
                plural(have, "transcript", "transcripts")
            ),
            Outcome::EmptyBase => format!(
                "{method}: it cannot be assessed, as the base ({}) holds no agreed code.",
                plural(p.base, "transcript", "transcripts")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Worked example 1, eight transcripts, codes a..l as 0..11:
    ///
    /// | # | codes       | new        | cumulative |
    /// |---|-------------|------------|------------|
    /// | 1 | a b c d e   | a b c d e 5 | 5 |
    /// | 2 | a b f g     | f g       2 | 7 |
    /// | 3 | c h i       | h i       2 | 9 |
    /// | 4 | a j         | j         1 | 10 |
    /// | 5 | a b k       | k         1 | 11 |
    /// | 6 | c l         | l         1 | 12 |
    /// | 7 | a b         |           0 | 12 |
    /// | 8 | d           |           0 | 12 |
    ///
    /// Base 4, run 2, 5 %: the base holds 5+2+2+1 = 10 codes.
    /// Run 5–6: 1+1 = 2 new, 2/10 = 20 % > 5 %.
    /// Run 6–7: 1+0 = 1 new, 1/10 = 10 % > 5 %.
    /// Run 7–8: 0+0 = 0 new, 0/10 = 0 % ≤ 5 %: reached at transcript 8.
    fn example_one() -> Vec<Vec<u32>> {
        let (a, b, c, d, e, f, g, h, i, j, k, l) = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        vec![
            vec![a, b, c, d, e],
            vec![a, b, f, g],
            vec![c, h, i],
            vec![a, j],
            vec![a, b, k],
            vec![c, l],
            vec![a, b],
            vec![d],
        ]
    }

    #[test]
    fn worked_example_one_reaches_saturation_at_transcript_eight() {
        let c = curve(&example_one());
        assert_eq!(c.new, [5, 2, 2, 1, 1, 1, 0, 0]);
        assert_eq!(c.cumulative, [5, 7, 9, 10, 11, 12, 12, 12]);
        assert_eq!(c.new_codes[4], [10]);
        assert_eq!(c.total(), 12);
        assert_eq!(c.quiet_tail(), 2);
        let g = guest(&c.new, &Params::default());
        assert_eq!(g.base_codes, 10);
        let steps: Vec<(usize, usize, usize, Option<f64>, bool)> = g
            .steps
            .iter()
            .map(|s| (s.first, s.last, s.new, s.ratio, s.meets_threshold))
            .collect();
        assert_eq!(
            steps,
            [
                (5, 6, 2, Some(0.2), false),
                (6, 7, 1, Some(0.1), false),
                (7, 8, 0, Some(0.0), true),
            ]
        );
        assert_eq!(g.outcome, Outcome::Reached { at: 8 });
        assert_eq!(
            g.sentence(),
            "Saturation was assessed with the method of Guest, Namey and Chen (2020), with a base size of 4 transcripts, a run length of 2 transcripts and a new-information threshold of ≤5%: it was reached at transcript 8 of 8, where transcripts 7–8 added 0 new agreed codes to the 10 of the base (0.0%)."
        );
        // With a 10 % threshold, run 6–7 (1/10 = 10 %) already meets it.
        let ten = Params::new(4, 2, Threshold::parse("10").unwrap()).unwrap();
        assert_eq!(guest(&c.new, &ten).reached_at(), Some(7));
        // Base 2 (a..g, 7 codes), run 3: runs 3–5 (2+1+1 = 4, 57 %), 4–6 (3, 43 %),
        // 5–7 (2, 29 %), 6–8 (1, 14.3 %): never ≤ 5 %.
        let wide = Params::new(2, 3, Threshold::from_basis_points(500)).unwrap();
        let g = guest(&c.new, &wide);
        assert_eq!(g.base_codes, 7);
        assert_eq!(
            g.steps.iter().map(|s| s.new).collect::<Vec<_>>(),
            [4, 3, 2, 1]
        );
        assert_eq!(g.outcome, Outcome::NotReached);
        assert!(g.sentence().ends_with(
            "it was not reached in 8 transcripts; the last run, transcripts 6–8 added 1 new agreed code to the 7 of the base (14.3%)."
        ), "{}", g.sentence());
    }

    /// Worked example 2, the threshold's edge: transcript 1 holds 20 codes (0..19),
    /// 2–4 repeat code 0, 5 brings code 20, 6–7 repeat code 0.
    /// Base 4: 20 codes. Run 5–6: 1/20 = 5 % exactly, ≤ 5 %: reached at 6.
    /// At 4.99 %: run 5–6 fails (5 > 4.99), run 6–7 (0/20) meets it: reached at 7.
    #[test]
    fn worked_example_two_a_ratio_equal_to_the_threshold_meets_it() {
        let mut t = vec![(0..20).collect::<Vec<u32>>()];
        t.extend([vec![0], vec![0], vec![0], vec![20], vec![0], vec![0]]);
        let c = curve(&t);
        assert_eq!(c.new, [20, 0, 0, 0, 1, 0, 0]);
        let g = guest(&c.new, &Params::default());
        assert_eq!(g.steps[0].ratio, Some(0.05));
        assert_eq!(g.reached_at(), Some(6));
        let strict = Params::new(4, 2, Threshold::parse("4.99").unwrap()).unwrap();
        assert_eq!(guest(&c.new, &strict).reached_at(), Some(7));
        // Run length 1: run 5 (1/20) meets 5 % at transcript 5.
        let single = Params::new(4, 1, Threshold::parse("5%").unwrap()).unwrap();
        let g = guest(&c.new, &single);
        assert_eq!(g.reached_at(), Some(5));
        assert!(
            g.sentence()
                .contains("a run length of 1 transcript and a new-information threshold of ≤5%: it was reached at transcript 5 of 7, where transcript 5 added 1 new agreed code to the 20 of the base (5.0%).")
        );
    }

    #[test]
    fn too_few_transcripts_and_an_empty_base_are_said_so_not_computed() {
        let g = guest(&[3, 1, 0, 0, 1], &Params::default());
        assert_eq!(g.outcome, Outcome::TooFewTranscripts { have: 5, need: 6 });
        assert!(g.steps.is_empty());
        assert!(
            g.sentence().ends_with(
                "it cannot be assessed with 5 transcripts, as a base and one run need 6."
            )
        );
        let g = guest(&[0, 0, 0, 0, 2, 0], &Params::default());
        assert_eq!(g.outcome, Outcome::EmptyBase);
        assert_eq!(g.steps[0].ratio, None);
        assert!(!g.steps[0].meets_threshold);
        assert!(
            g.sentence().ends_with(
                "it cannot be assessed, as the base (4 transcripts) holds no agreed code."
            )
        );
    }

    #[test]
    fn thresholds_parse_as_typed_and_print_back() {
        for (text, bp, shown) in [
            ("5", 500, "5%"),
            ("5%", 500, "5%"),
            (" 2.5 % ", 250, "2.5%"),
            ("0.25", 25, "0.25%"),
            (".5", 50, "0.5%"),
            ("0", 0, "0%"),
            ("100", 10_000, "100%"),
        ] {
            let t = Threshold::parse(text).unwrap();
            assert_eq!(t, Threshold::from_basis_points(bp), "{text}");
            assert_eq!(t.to_string(), shown);
        }
        for bad in [
            "", "%", "-1", "100.01", "1.234", "five", "1e2", "5.5.5", "1000",
        ] {
            assert_eq!(Threshold::parse(bad), Err(ParamError::Threshold), "{bad:?}");
        }
        assert_eq!(
            Params::new(0, 2, Params::default().threshold),
            Err(ParamError::Base)
        );
        assert_eq!(
            Params::new(4, 0, Params::default().threshold),
            Err(ParamError::Run)
        );
        // 0 %: only a run with no new code meets it.
        let zero = Threshold::from_basis_points(0);
        assert!(zero.met_by(0, 10) && !zero.met_by(1, 1000));
    }

    fn transcripts() -> impl Strategy<Value = Vec<Vec<u32>>> {
        prop::collection::vec(prop::collection::vec(0u32..40, 0..12), 0..14)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn the_curve_never_falls_and_ends_at_the_number_of_distinct_codes(t in transcripts()) {
            let c = curve(&t);
            prop_assert!(c.cumulative.windows(2).all(|w| w[0] <= w[1]));
            let distinct: std::collections::BTreeSet<u32> = t.iter().flatten().copied().collect();
            prop_assert_eq!(c.total(), distinct.len());
            prop_assert_eq!(c.new.iter().sum::<usize>(), distinct.len());
            prop_assert_eq!(c.new_codes.iter().flatten().count(), distinct.len());
        }

        #[test]
        fn saturation_is_reached_at_the_end_of_the_first_run_that_meets_the_threshold(
            t in transcripts(), base in 1usize..6, run in 1usize..4, bp in 0u32..3000,
        ) {
            let c = curve(&t);
            let params = Params::new(base, run, Threshold::from_basis_points(bp)).unwrap();
            let g = guest(&c.new, &params);
            // Each step recounted from the curve, by brute force.
            for s in &g.steps {
                let before = if s.first >= 2 { c.cumulative[s.first - 2] } else { 0 };
                prop_assert_eq!(s.new, c.cumulative[s.last - 1] - before);
                prop_assert_eq!(s.last - s.first + 1, run);
            }
            let first = g.steps.iter().find(|s| s.meets_threshold).map(|s| s.last);
            prop_assert_eq!(g.reached_at(), first);
            if let Some(at) = first {
                prop_assert!(at >= base + run && at <= t.len());
            }
        }
    }
}
