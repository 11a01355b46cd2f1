//! 95 % confidence intervals by a seeded percentile bootstrap over units, for
//! the presence/absence statistics of two coders.
//!
//! # The bootstrap
//!
//! Two coders' presence/absence judgements over `n` pairable units (or, for
//! the pooled row, `n` (unit, code) items) are summed up by the 2×2 table
//! `both, only A, only B, neither`: every statistic here is a function of
//! those four counts. A bootstrap sample draws `n` units with replacement,
//! which for such data is exactly a multinomial draw of the four counts with
//! the observed shares as probabilities; the multinomial is drawn as three
//! exact binomials in constant time (see [`binomial`]), so a resample costs
//! the same for 50 units or 5 million. Each statistic is computed on each of
//! `resamples` samples (1,000 by default) and the interval is the 2.5th and
//! 97.5th percentile of the values (Efron's percentile method, quantiles
//! interpolated as R's type 7). The random stream is `StdRng` seeded with
//! [`BootstrapOptions::seed`], so the same data and seed give the same
//! interval on every run.
//!
//! This is not Hayes and Krippendorff's (2007) bootstrap for α, which
//! resamples the pairable values of the coincidence matrix and corrects the
//! distribution for α's known sampling properties; here units are resampled,
//! as for the other statistics, so that every statistic's interval comes
//! from the same samples. For the pooled row the items resampled are (unit,
//! code) pairs: units are not resampled as clusters of all their codes, so
//! the pooled interval ignores the correlation between codes within a unit
//! and may be narrower than a cluster bootstrap's.
//!
//! An interval is undefined with a reason when the point estimate is
//! undefined (no pairable units, no variation), or when the statistic is
//! undefined in more than 10 % of the resamples (a code so rare that many
//! samples hold no unit coded present): its percentiles would describe a
//! selected subset of the samples.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::coefficients::{Summary, cohen_kappa_2x2};
use super::study::TwoByTwo;
use super::types::{Stat, UndefinedReason};

/// The default number of bootstrap samples.
pub const RESAMPLES: u32 = 1_000;
/// The default seed: intervals are reproducible unless the caller asks otherwise.
pub const SEED: u64 = 20_071_001;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapOptions {
    pub resamples: u32,
    pub seed: u64,
    /// The confidence level, 0.95 for a 95 % interval.
    pub confidence: f64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            resamples: RESAMPLES,
            seed: SEED,
            confidence: 0.95,
        }
    }
}

/// Why an interval has no bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum IntervalReason {
    /// The statistic itself is undefined on the data.
    Undefined { because: UndefinedReason },
    /// Defined on the data but undefined in `undefined` of `resamples` samples.
    UnstableResamples { undefined: u32, resamples: u32 },
    /// Fewer than two resamples were asked for.
    TooFewResamples,
    /// A bootstrap over transcripts (|uα) with fewer than two to draw from.
    TooFewTranscripts { transcripts: u32 },
}

impl std::fmt::Display for IntervalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Undefined { because } => write!(f, "the statistic is undefined ({because})"),
            Self::UnstableResamples {
                undefined,
                resamples,
            } => write!(
                f,
                "undefined in {undefined} of {resamples} bootstrap samples (too few units coded present)"
            ),
            Self::TooFewResamples => f.write_str("fewer than two bootstrap samples"),
            Self::TooFewTranscripts { transcripts } => write!(
                f,
                "fewer than two transcripts to resample ({transcripts} coded by two or more coders)"
            ),
        }
    }
}

/// A percentile interval, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Interval {
    Bounds { low: f64, high: f64 },
    Undefined(IntervalReason),
}

impl Interval {
    pub fn bounds(self) -> Option<(f64, f64)> {
        match self {
            Self::Bounds { low, high } => Some((low, high)),
            Self::Undefined(_) => None,
        }
    }

    pub fn reason(self) -> Option<IntervalReason> {
        match self {
            Self::Bounds { .. } => None,
            Self::Undefined(r) => Some(r),
        }
    }
}

/// The intervals of each statistic, from the same bootstrap samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intervals {
    pub percent_agreement: Interval,
    pub cohen_kappa: Interval,
    /// Scott's π for two coders, as Fleiss' κ is.
    pub fleiss_kappa: Interval,
    pub brennan_prediger: Interval,
    pub gwet_ac1: Interval,
    pub krippendorff_alpha: Interval,
    pub options: BootstrapOptions,
}

/// The statistics of a 2×2 table, as [`super::Coefficients`] computes them
/// for two coders.
pub fn statistics(t: TwoByTwo) -> [Stat; 6] {
    let summary = Summary::new(
        2,
        [
            ([0u64, 2], t.both),
            ([1, 1], t.only_a + t.only_b),
            ([2, 0], t.neither),
        ],
    );
    [
        summary.percent_agreement(),
        cohen_kappa_2x2(t.both, t.only_a, t.only_b, t.neither),
        summary.fleiss_kappa(),
        summary.brennan_prediger(),
        summary.gwet_ac1(),
        summary.krippendorff_alpha(),
    ]
}

/// A draw of Binomial(n, p), exact, in constant time whatever `n`
/// (Kachitvichyanukul and Schmeiser's BTPE, as `rand_distr` draws it), so a
/// resample of a table of millions of units costs what one of fifty does.
pub fn binomial(rng: &mut impl Rng, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    match rand_distr::Binomial::new(n, p) {
        Ok(b) => rng.sample(b),
        // Only for a `p` that is not a number, which the shares above never are.
        Err(_) => 0,
    }
}

/// A resample of the table: `n` units drawn with replacement.
fn resample(rng: &mut impl Rng, t: TwoByTwo) -> TwoByTwo {
    let n = t.both + t.only_a + t.only_b + t.neither;
    let nf = n as f64;
    let both = binomial(rng, n, t.both as f64 / nf);
    let rest = (nf - t.both as f64).max(0.0);
    let left = n - both;
    let only_a = if rest > 0.0 {
        binomial(rng, left, t.only_a as f64 / rest)
    } else {
        0
    };
    let rest = rest - t.only_a as f64;
    let left = left - only_a;
    let only_b = if rest > 0.0 {
        binomial(rng, left, (t.only_b as f64 / rest).min(1.0))
    } else {
        0
    };
    TwoByTwo {
        both,
        only_a,
        only_b,
        neither: left - only_b,
    }
}

/// The R type 7 quantile of sorted `values`.
fn quantile(values: &[f64], p: f64) -> f64 {
    let h = (values.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    values[lo] + (h - lo as f64) * (values[hi] - values[lo])
}

/// The percentile interval of a statistic whose point estimate is `point`,
/// from its values on the resamples where it is defined (`samples`, sorted
/// here) and the number where it is not (`undefined`).
pub fn percentile(
    point: Stat,
    samples: &mut [f64],
    undefined: u32,
    options: &BootstrapOptions,
) -> Interval {
    if let Stat::Undefined(because) = point {
        return Interval::Undefined(IntervalReason::Undefined { because });
    }
    if options.resamples < 2 {
        return Interval::Undefined(IntervalReason::TooFewResamples);
    }
    // More than 10 % undefined: the defined samples are a biased subset.
    if u64::from(undefined) * 10 > u64::from(options.resamples) || samples.len() < 2 {
        return Interval::Undefined(IntervalReason::UnstableResamples {
            undefined,
            resamples: options.resamples,
        });
    }
    let tail = (1.0 - options.confidence.clamp(0.0, 1.0)) / 2.0;
    samples.sort_by(f64::total_cmp);
    Interval::Bounds {
        low: quantile(samples, tail),
        high: quantile(samples, 1.0 - tail),
    }
}

/// Bootstrap intervals of every statistic of `table`.
pub fn intervals(table: TwoByTwo, options: &BootstrapOptions) -> Intervals {
    let points = statistics(table);
    let mut samples: [Vec<f64>; 6] = Default::default();
    let mut undefined = [0u32; 6];
    let mut rng = StdRng::seed_from_u64(options.seed);
    let defined = points.iter().any(|s| s.value().is_some());
    if defined && options.resamples >= 2 {
        for s in &mut samples {
            s.reserve(options.resamples as usize);
        }
        for _ in 0..options.resamples {
            let stats = statistics(resample(&mut rng, table));
            for (i, stat) in stats.into_iter().enumerate() {
                match stat.value() {
                    Some(v) => samples[i].push(v),
                    None => undefined[i] += 1,
                }
            }
        }
    }
    let mut interval = |i: usize| percentile(points[i], &mut samples[i], undefined[i], options);
    Intervals {
        percent_agreement: interval(0),
        cohen_kappa: interval(1),
        fleiss_kappa: interval(2),
        brennan_prediger: interval(3),
        gwet_ac1: interval(4),
        krippendorff_alpha: interval(5),
        options: *options,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn table(both: u64, only_a: u64, only_b: u64, neither: u64) -> TwoByTwo {
        TwoByTwo {
            both,
            only_a,
            only_b,
            neither,
        }
    }

    fn all(i: &Intervals) -> [Interval; 6] {
        [
            i.percent_agreement,
            i.cohen_kappa,
            i.fleiss_kappa,
            i.brennan_prediger,
            i.gwet_ac1,
            i.krippendorff_alpha,
        ]
    }

    #[test]
    fn the_same_seed_gives_the_same_interval_and_another_seed_another() {
        let t = table(40, 7, 5, 148);
        let options = BootstrapOptions::default();
        let first = intervals(t, &options);
        assert_eq!(first, intervals(t, &options));
        let other = intervals(t, &BootstrapOptions { seed: 7, ..options });
        assert_ne!(first.krippendorff_alpha, other.krippendorff_alpha);
    }

    #[test]
    fn statistics_match_krippendorffs_published_binary_example() {
        // Krippendorff (2004), pp. 224-226 (shared/agreement/data/
        // krippendorff2004_binary_2coders.json): A 1100000000, B 0110010100.
        let t = table(1, 1, 3, 5);
        let got = statistics(t).map(|s| s.value().unwrap());
        let published = [0.6, 0.091, 0.048, 0.2, 0.31, 0.095];
        for (g, p) in got.iter().zip(published) {
            assert!((g - p).abs() < 0.0005, "{got:?}");
        }
        // Ten units are too few for a stable α: the interval is wide or undefined.
        let i = intervals(t, &BootstrapOptions::default());
        match i.krippendorff_alpha {
            Interval::Bounds { low, high } => assert!(high - low > 0.5),
            Interval::Undefined(reason) => {
                assert!(matches!(reason, IntervalReason::UnstableResamples { .. }))
            }
        }
    }

    #[test]
    fn degenerate_data_gives_undefined_intervals_with_reasons() {
        let none = intervals(table(0, 0, 0, 0), &BootstrapOptions::default());
        for i in all(&none) {
            assert_eq!(
                i,
                Interval::Undefined(IntervalReason::Undefined {
                    because: UndefinedReason::NoPairableUnits
                })
            );
        }
        // Nobody used the code: agreement is perfect, the chance-corrected ones undefined.
        let unused = intervals(table(0, 0, 0, 50), &BootstrapOptions::default());
        assert!(unused.percent_agreement.bounds().is_some());
        assert_eq!(
            unused.krippendorff_alpha.reason(),
            Some(IntervalReason::Undefined {
                because: UndefinedReason::NoVariation
            })
        );
        // One unit coded present among 200: most samples lose it.
        let rare = intervals(table(0, 1, 0, 199), &BootstrapOptions::default());
        assert!(matches!(
            rare.krippendorff_alpha.reason(),
            Some(IntervalReason::UnstableResamples { .. })
        ));
        assert!(
            rare.krippendorff_alpha
                .reason()
                .unwrap()
                .to_string()
                .contains("bootstrap samples")
        );
        let few = intervals(
            table(10, 2, 3, 30),
            &BootstrapOptions {
                resamples: 1,
                ..BootstrapOptions::default()
            },
        );
        assert_eq!(
            few.gwet_ac1,
            Interval::Undefined(IntervalReason::TooFewResamples)
        );
    }

    #[test]
    fn binomial_draws_have_the_right_mean_in_every_regime() {
        let mut rng = StdRng::seed_from_u64(1);
        for (n, p) in [
            (20u64, 0.3),
            (10_000, 0.01),
            (10_000, 0.97),
            (5_000_000_000, 0.4),
        ] {
            let draws = 400;
            let mean: f64 = (0..draws)
                .map(|_| binomial(&mut rng, n, p) as f64)
                .sum::<f64>()
                / f64::from(draws);
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            let expected = n as f64 * p;
            assert!(
                (mean - expected).abs() < 5.0 * sd / f64::from(draws).sqrt() + 1e-9,
                "n {n} p {p}: {mean} vs {expected}"
            );
            assert!(binomial(&mut rng, n, p) <= n);
        }
        assert_eq!(binomial(&mut rng, 10, 0.0), 0);
        assert_eq!(binomial(&mut rng, 10, 1.0), 10);
    }

    #[test]
    fn wider_samples_give_narrower_intervals() {
        let small = intervals(table(8, 2, 2, 28), &BootstrapOptions::default());
        let large = intervals(table(800, 200, 200, 2800), &BootstrapOptions::default());
        let width = |i: Interval| i.bounds().map(|(l, h)| h - l).unwrap();
        assert!(width(large.krippendorff_alpha) < width(small.krippendorff_alpha) / 3.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn intervals_hold_the_point_estimate_for_typical_data(
            both in 30u64..400, only_a in 5u64..60, only_b in 5u64..60, neither in 30u64..800,
            seed in any::<u64>(),
        ) {
            let t = table(both, only_a, only_b, neither);
            let options = BootstrapOptions { resamples: 400, seed, confidence: 0.95 };
            let got = intervals(t, &options);
            for (interval, point) in all(&got).into_iter().zip(statistics(t)) {
                let (low, high) = interval.bounds().expect("defined");
                let v = point.value().unwrap();
                prop_assert!(low <= high);
                prop_assert!(low <= v + 1e-9 && v <= high + 1e-9, "{low} {v} {high}");
            }
        }
    }
}
