//! The order-free view: the cumulative curve and Guest, Namey & Chen's
//! saturation point over many interview orders.
//!
//! When the transcripts have no more orders than asked for (n! ≤ the number
//! requested: up to 6 transcripts for 1,000), every order is taken once and the
//! figures are exact. Otherwise the orders are drawn by a Fisher–Yates shuffle
//! driven by SplitMix64 from the seed, so one seed always gives the same figures,
//! on any machine and with any version of a random-number crate.
//!
//! Per transcript count the band is the 2.5th to 97.5th percentile of the
//! cumulative count over the orders, by the nearest-rank rule (of N sorted
//! values, the p-th percentile is the ⌈pN⌉-th), and the median the middle value
//! (the mean of the two middle ones when N is even).

use serde::Serialize;

use super::{ParamError, Params, guest};

pub const DEFAULT_PERMUTATIONS: usize = 1_000;
pub const MAX_PERMUTATIONS: usize = 10_000;
pub const DEFAULT_SEED: u64 = 2020;

/// The cumulative count of codes after `transcripts` transcripts, over the orders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    pub transcripts: usize,
    pub median: f64,
    /// 2.5th percentile.
    pub low: usize,
    /// 97.5th percentile.
    pub high: usize,
    /// Orders in which saturation is reached by this many transcripts.
    pub saturated: usize,
    /// `saturated` over the orders.
    pub share_saturated: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderFree {
    /// Orders taken.
    pub orders: usize,
    /// Every order was taken once (the figures are exact, the seed plays no part).
    pub exhaustive: bool,
    pub seed: u64,
    /// One per transcript count, 1 to n.
    pub bands: Vec<Band>,
}

/// The order-free view of `transcripts` (each the codes it uses) with
/// `permutations` orders (1 to [`MAX_PERMUTATIONS`]).
pub fn order_free(
    transcripts: &[Vec<u32>],
    params: &Params,
    permutations: usize,
    seed: u64,
) -> Result<OrderFree, ParamError> {
    if !(1..=MAX_PERMUTATIONS).contains(&permutations) {
        return Err(ParamError::Permutations);
    }
    let n = transcripts.len();
    let sets = Bitsets::new(transcripts);
    let mut walk = Walk {
        sets: &sets,
        params,
        seen: vec![0; sets.words],
        new: vec![0; n],
        cumulative: vec![Vec::new(); n],
        reached: vec![0; n + 1],
        orders: 0,
    };
    let mut order: Vec<usize> = (0..n).collect();
    let exhaustive = factorial_at_most(n, permutations);
    if exhaustive {
        // Heap's algorithm, iteratively: each swap gives the next order.
        walk.take(&order);
        let mut c = vec![0usize; n];
        let mut i = 1;
        while i < n {
            if c[i] < i {
                if i % 2 == 0 {
                    order.swap(0, i);
                } else {
                    order.swap(c[i], i);
                }
                walk.take(&order);
                c[i] += 1;
                i = 1;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
    } else {
        let mut rng = SplitMix64(seed);
        for _ in 0..permutations {
            for i in (1..n).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                order.swap(i, j);
            }
            walk.take(&order);
        }
    }
    let orders = walk.orders;
    let mut saturated = 0;
    let bands = walk
        .cumulative
        .iter_mut()
        .enumerate()
        .map(|(i, values)| {
            values.sort_unstable();
            saturated += walk.reached[i + 1];
            Band {
                transcripts: i + 1,
                median: median(values),
                low: nearest_rank(values, 25),
                high: nearest_rank(values, 975),
                saturated,
                share_saturated: saturated as f64 / orders as f64,
            }
        })
        .collect();
    Ok(OrderFree {
        orders,
        exhaustive,
        seed,
        bands,
    })
}

/// `n! <= limit`.
fn factorial_at_most(n: usize, limit: usize) -> bool {
    let mut f: usize = 1;
    for k in 2..=n {
        match f.checked_mul(k) {
            Some(next) if next <= limit => f = next,
            _ => return false,
        }
    }
    true
}

fn median(sorted: &[u32]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => f64::from(sorted[n / 2]),
        n => (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0,
    }
}

/// The ⌈(per_mille / 1000) N⌉-th smallest value (at least the first).
fn nearest_rank(sorted: &[u32], per_mille: usize) -> usize {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * per_mille).div_ceil(1000).max(1);
    sorted[rank - 1] as usize
}

/// Each transcript's codes as a bitset over the distinct codes.
struct Bitsets {
    words: usize,
    sets: Vec<Vec<u64>>,
}

impl Bitsets {
    fn new(transcripts: &[Vec<u32>]) -> Self {
        let mut distinct: Vec<u32> = transcripts.iter().flatten().copied().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let words = distinct.len().div_ceil(64).max(1);
        let sets = transcripts
            .iter()
            .map(|codes| {
                let mut set = vec![0u64; words];
                for code in codes {
                    if let Ok(i) = distinct.binary_search(code) {
                        set[i / 64] |= 1 << (i % 64);
                    }
                }
                set
            })
            .collect();
        Self { words, sets }
    }
}

struct Walk<'a> {
    sets: &'a Bitsets,
    params: &'a Params,
    seen: Vec<u64>,
    new: Vec<usize>,
    /// Per transcript count, the cumulative count of each order taken.
    cumulative: Vec<Vec<u32>>,
    /// Orders reaching saturation at each transcript count.
    reached: Vec<usize>,
    orders: usize,
}

impl Walk<'_> {
    fn take(&mut self, order: &[usize]) {
        self.seen.iter_mut().for_each(|w| *w = 0);
        let mut total = 0u32;
        for (i, t) in order.iter().enumerate() {
            let mut fresh = 0u32;
            for (seen, word) in self.seen.iter_mut().zip(&self.sets.sets[*t]) {
                fresh += (word & !*seen).count_ones();
                *seen |= word;
            }
            total += fresh;
            self.new[i] = fresh as usize;
            self.cumulative[i].push(total);
        }
        if let Some(at) = guest(&self.new, self.params).reached_at() {
            self.reached[at] += 1;
        }
        self.orders += 1;
    }
}

/// Steele, Lea & Flood's SplitMix64: small, fast, and fixed by its definition.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n ≥ 1), by rejection: `zone` is the largest multiple
    /// of n that fits, so every remainder is equally likely.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next();
            if x < zone {
                return x % n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{Threshold, curve};
    use super::*;

    #[test]
    fn splitmix64_gives_its_published_first_outputs() {
        // The reference outputs of SplitMix64 seeded with 1234567 (Vigna's splitmix64.c).
        let mut rng = SplitMix64(1234567);
        assert_eq!(rng.next(), 6457827717110365317);
        assert_eq!(rng.next(), 3203168211198807973);
        assert_eq!(rng.next(), 9817491932198370423);
    }

    /// Worked example 3: A = {x}, B = {x}, C = {x, y, z}; 3! = 6 orders, all taken.
    ///
    /// | order | cumulative | base 1, run 1, 0 %                          | reached |
    /// |-------|------------|---------------------------------------------|---------|
    /// | A B C | 1 1 3      | base {x}; run B: 0 new, 0/1 ≤ 0             | 2 |
    /// | A C B | 1 3 3      | run C: 2/1 > 0; run B: 0/1                  | 3 |
    /// | B A C | 1 1 3      | run A: 0/1                                  | 2 |
    /// | B C A | 1 3 3      | run C: 2/1; run A: 0/1                      | 3 |
    /// | C A B | 3 3 3      | base {x,y,z}; run A: 0/3                    | 2 |
    /// | C B A | 3 3 3      | run B: 0/3                                  | 2 |
    ///
    /// After 1: values 1 1 1 1 3 3: median (1+1)/2 = 1, band: ⌈0.025·6⌉ = 1st = 1,
    /// ⌈0.975·6⌉ = 6th = 3. After 2: 1 1 3 3 3 3: median (3+3)/2 = 3, band 1–3.
    /// After 3: all 3. Saturated by 1: 0 of 6; by 2: 4 of 6; by 3: 6 of 6.
    #[test]
    fn worked_example_three_takes_every_order_of_three_transcripts() {
        let t = vec![vec![0], vec![0], vec![0, 1, 2]];
        let params = Params::new(1, 1, Threshold::from_basis_points(0)).unwrap();
        let view = order_free(&t, &params, 1_000, 7).unwrap();
        assert!(view.exhaustive);
        assert_eq!(view.orders, 6);
        let rows: Vec<(usize, f64, usize, usize, usize)> = view
            .bands
            .iter()
            .map(|b| (b.transcripts, b.median, b.low, b.high, b.saturated))
            .collect();
        assert_eq!(
            rows,
            [(1, 1.0, 1, 3, 0), (2, 3.0, 1, 3, 4), (3, 3.0, 3, 3, 6)]
        );
        assert_eq!(view.bands[1].share_saturated, 4.0 / 6.0);
        // The same with another seed: exhaustive, so the seed plays no part.
        assert_eq!(
            order_free(&t, &params, 1_000, 99).unwrap().bands,
            view.bands
        );
    }

    /// Worked example 3 again with fewer orders asked for than exist (5 < 6):
    /// random orders, the same for the same seed.
    #[test]
    fn random_orders_depend_on_the_seed_alone() {
        let t = vec![vec![0], vec![0], vec![0, 1, 2], vec![3], vec![1, 4]];
        let params = Params::default();
        let a = order_free(&t, &params, 100, 42).unwrap();
        assert!(!a.exhaustive);
        assert_eq!(a.orders, 100);
        assert_eq!(a, order_free(&t, &params, 100, 42).unwrap());
        // Each transcript has an equal chance to come first: C (3 codes) about a
        // fifth of the time, so the 97.5th percentile after one transcript is 3.
        assert_eq!(a.bands[0].high, 3);
        assert_eq!(a.bands[0].low, 1);
        assert_eq!(a.bands[4].median, 5.0);
        assert_eq!(order_free(&t, &params, 0, 1), Err(ParamError::Permutations));
        assert_eq!(
            order_free(&t, &params, MAX_PERMUTATIONS + 1, 1),
            Err(ParamError::Permutations)
        );
    }

    #[test]
    fn shuffles_are_uniform_over_the_orders() {
        // 4 transcripts with distinct single codes: each of the 24 orders has its
        // own sequence; 24,000 shuffles should give each about 1,000 times.
        let mut rng = SplitMix64(5);
        let mut counts = std::collections::HashMap::new();
        let mut order = [0usize, 1, 2, 3];
        for _ in 0..24_000 {
            for i in (1..4).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                order.swap(i, j);
            }
            *counts.entry(order).or_insert(0usize) += 1;
        }
        assert_eq!(counts.len(), 24);
        assert!(
            counts.values().all(|c| (850..1150).contains(c)),
            "{counts:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn bands_hold_the_median_and_end_at_the_number_of_distinct_codes(
            t in prop::collection::vec(prop::collection::vec(0u32..30, 0..8), 1..10),
            seed in any::<u64>(),
        ) {
            let view = order_free(&t, &Params::default(), 200, seed).unwrap();
            let total = curve(&t).total();
            let last = view.bands.last().unwrap();
            prop_assert_eq!((last.low, last.high, last.median), (total, total, total as f64));
            for b in &view.bands {
                prop_assert!(b.low as f64 <= b.median && b.median <= b.high as f64);
            }
            for w in view.bands.windows(2) {
                prop_assert!(w[0].median <= w[1].median);
                prop_assert!(w[0].low <= w[1].low && w[0].high <= w[1].high);
                prop_assert!(w[0].saturated <= w[1].saturated);
            }
            prop_assert!(last.saturated <= view.orders);
        }
    }
}
