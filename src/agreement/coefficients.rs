//! Coefficients for predefined units (§3): the published formulas over a reliability data
//! matrix, and the shared arithmetic that the per-code statistics of a study reuse.
//!
//! Every coefficient is computed as `1 − D_o / D_e` from disagreement sums that are added
//! up directly (never as `1 − agreement`), so a sparse code whose agreement is close to 1
//! loses no precision to cancellation. Whether a value is undefined is always decided on
//! integer counts before any division (§7).

use std::fmt;

use super::types::{Stat, UndefinedReason};

/// Reliability data for predefined units: `units × coders`, each cell a category index in
/// `0..categories` or `None` for a missing value (§2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReliabilityData {
    categories: u32,
    coders: usize,
    /// Unit-major: unit `u`, coder `i` is at `u * coders + i`.
    cells: Vec<Option<u32>>,
}

/// Reliability data that cannot be built as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataError {
    /// Rows of unequal length.
    RaggedRows,
    /// A value outside `0..categories`.
    CategoryOutOfRange {
        unit: usize,
        coder: usize,
        category: u32,
    },
    /// A contingency table that is not square.
    NotSquare,
    /// Interval or ratio values that are not one finite number per category.
    MetricValues,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RaggedRows => f.write_str("rows of unequal length"),
            Self::CategoryOutOfRange {
                unit,
                coder,
                category,
            } => {
                write!(
                    f,
                    "unit {unit}, coder {coder}: category {category} out of range"
                )
            }
            Self::NotSquare => f.write_str("contingency table is not square"),
            Self::MetricValues => f.write_str("metric needs one finite value per category"),
        }
    }
}

impl std::error::Error for DataError {}

impl ReliabilityData {
    /// One row per unit, one entry per coder.
    pub fn from_units(
        categories: u32,
        coders: usize,
        units: &[Vec<Option<u32>>],
    ) -> Result<Self, DataError> {
        let mut cells = Vec::with_capacity(units.len() * coders);
        for (unit, row) in units.iter().enumerate() {
            if row.len() != coders {
                return Err(DataError::RaggedRows);
            }
            for (coder, &value) in row.iter().enumerate() {
                check_category(categories, unit, coder, value)?;
                cells.push(value);
            }
        }
        Ok(Self {
            categories,
            coders,
            cells,
        })
    }

    /// One row per coder, one entry per unit (Krippendorff's layout).
    pub fn from_coder_rows(categories: u32, rows: &[Vec<Option<u32>>]) -> Result<Self, DataError> {
        let coders = rows.len();
        let units = rows.first().map_or(0, Vec::len);
        if rows.iter().any(|row| row.len() != units) {
            return Err(DataError::RaggedRows);
        }
        let mut cells = Vec::with_capacity(units * coders);
        for unit in 0..units {
            for (coder, row) in rows.iter().enumerate() {
                let value = row[unit];
                check_category(categories, unit, coder, value)?;
                cells.push(value);
            }
        }
        Ok(Self {
            categories,
            coders,
            cells,
        })
    }

    /// Two coders: `table.cell(r, c)` units got category `r` from the first coder and `c`
    /// from the second.
    pub fn from_contingency(table: &ContingencyTable) -> Self {
        let q = table.categories;
        let mut cells = Vec::with_capacity(2 * usize::try_from(table.total()).unwrap_or(0));
        for (i, &n) in table.cells.iter().enumerate() {
            let (row, col) = (index_u32(i / q), index_u32(i % q));
            for _ in 0..n {
                cells.push(Some(row));
                cells.push(Some(col));
            }
        }
        Self {
            categories: index_u32(q),
            coders: 2,
            cells,
        }
    }

    /// Fleiss' layout: one row per unit with the number of coders who chose each category.
    /// Coders are exchangeable there, so each unit's values are laid out over coder slots
    /// `0..` in category order; units with fewer values have missing trailing slots.
    pub fn from_category_counts(categories: u32, counts: &[Vec<u64>]) -> Result<Self, DataError> {
        if counts.iter().any(|row| row.len() != categories as usize) {
            return Err(DataError::RaggedRows);
        }
        let coders = counts
            .iter()
            .map(|row| usize::try_from(row.iter().sum::<u64>()).unwrap_or(usize::MAX))
            .max()
            .unwrap_or(0);
        let mut cells = Vec::with_capacity(counts.len() * coders);
        for row in counts {
            let before = cells.len();
            for (category, &n) in row.iter().enumerate() {
                for _ in 0..n {
                    cells.push(Some(index_u32(category)));
                }
            }
            cells.resize(before + coders, None);
        }
        Ok(Self {
            categories,
            coders,
            cells,
        })
    }

    pub fn categories(&self) -> u32 {
        self.categories
    }

    pub fn coders(&self) -> usize {
        self.coders
    }

    pub fn units(&self) -> usize {
        self.cells.len().checked_div(self.coders).unwrap_or(0)
    }

    pub fn value(&self, unit: usize, coder: usize) -> Option<u32> {
        if coder >= self.coders {
            return None;
        }
        self.cells
            .get(unit * self.coders + coder)
            .copied()
            .flatten()
    }

    /// The two-coder table of `first` against `second`, over the units both coded.
    pub fn contingency_table(&self, first: usize, second: usize) -> ContingencyTable {
        let q = self.categories as usize;
        let mut cells = vec![0; q * q];
        for unit in 0..self.units() {
            if let (Some(r), Some(c)) = (self.value(unit, first), self.value(unit, second)) {
                cells[r as usize * q + c as usize] += 1;
            }
        }
        ContingencyTable {
            categories: q,
            cells,
        }
    }

    /// Each unit as its per-category value counts.
    fn unit_counts(&self) -> Vec<(Vec<u64>, u64)> {
        let q = self.categories as usize;
        (0..self.units())
            .map(|unit| {
                let mut counts = vec![0; q];
                for coder in 0..self.coders {
                    if let Some(c) = self.value(unit, coder) {
                        counts[c as usize] += 1;
                    }
                }
                (counts, 1)
            })
            .collect()
    }
}

fn check_category(
    categories: u32,
    unit: usize,
    coder: usize,
    value: Option<u32>,
) -> Result<(), DataError> {
    match value {
        Some(category) if category >= categories => Err(DataError::CategoryOutOfRange {
            unit,
            coder,
            category,
        }),
        _ => Ok(()),
    }
}

/// Category and table indices are tiny; a category count beyond `u32` is not a thing.
fn index_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// A two-coder `q × q` contingency table: rows the first coder, columns the second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContingencyTable {
    categories: usize,
    cells: Vec<u64>,
}

impl ContingencyTable {
    pub fn from_rows(rows: &[Vec<u64>]) -> Result<Self, DataError> {
        let q = rows.len();
        if rows.iter().any(|row| row.len() != q) {
            return Err(DataError::NotSquare);
        }
        Ok(Self {
            categories: q,
            cells: rows.concat(),
        })
    }

    pub fn categories(&self) -> usize {
        self.categories
    }

    /// `None` outside the table.
    pub fn cell(&self, row: usize, col: usize) -> Option<u64> {
        if row >= self.categories || col >= self.categories {
            return None;
        }
        self.cells.get(row * self.categories + col).copied()
    }

    pub fn total(&self) -> u64 {
        self.cells.iter().sum()
    }

    /// `(n, Σ n_cc, row sums, column sums)`.
    fn margins(&self) -> (u128, u128, Vec<u128>, Vec<u128>) {
        let q = self.categories;
        let mut rows = vec![0u128; q];
        let mut cols = vec![0u128; q];
        let mut diagonal = 0u128;
        for (i, &n) in self.cells.iter().enumerate() {
            let (r, c) = (i / q, i % q);
            rows[r] += u128::from(n);
            cols[c] += u128::from(n);
            if r == c {
                diagonal += u128::from(n);
            }
        }
        (rows.iter().sum(), diagonal, rows, cols)
    }
}

/// Cohen's κ (§3.2) in its integer form `(n·A − S) / (n² − S)`.
pub fn cohen_kappa(table: &ContingencyTable) -> Stat {
    let (n, agree, rows, cols) = table.margins();
    if n == 0 {
        return Stat::Undefined(UndefinedReason::NoPairableUnits);
    }
    if table.categories < 2 {
        return Stat::Undefined(UndefinedReason::FewerThanTwoCategories);
    }
    let chance: u128 = rows.iter().zip(&cols).map(|(r, s)| r * s).sum();
    // S ≤ n² always (Cauchy–Schwarz on the margins); equality iff one shared category.
    let denominator = n * n - chance;
    if denominator == 0 {
        return Stat::Undefined(UndefinedReason::NoVariation);
    }
    let numerator = signed(n * agree) - signed(chance);
    Stat::finite(
        numerator as f64 / denominator as f64,
        UndefinedReason::NoVariation,
    )
}

/// Cohen's κ of a 2×2 table (§3.2, per code): `both`, `only_first`, `only_second`,
/// `neither`.
pub(crate) fn cohen_kappa_2x2(both: u64, only_first: u64, only_second: u64, neither: u64) -> Stat {
    let [a, b, c, d] = [both, only_first, only_second, neither].map(i128::from);
    if a + b + c + d == 0 {
        return Stat::Undefined(UndefinedReason::NoPairableUnits);
    }
    // This is n² − S of the integer form.
    let denominator = (a + b) * (b + d) + (a + c) * (c + d);
    if denominator == 0 {
        return Stat::Undefined(UndefinedReason::NoVariation);
    }
    let numerator = 2 * (a * d - b * c);
    Stat::finite(
        numerator as f64 / denominator as f64,
        UndefinedReason::NoVariation,
    )
}

/// Scott's π (§3.3), reference only: `(4n·A − T) / (4n² − T)`, `T = Σ (r_c + s_c)²`.
pub fn scott_pi(table: &ContingencyTable) -> Stat {
    let (n, agree, rows, cols) = table.margins();
    if n == 0 {
        return Stat::Undefined(UndefinedReason::NoPairableUnits);
    }
    if table.categories < 2 {
        return Stat::Undefined(UndefinedReason::FewerThanTwoCategories);
    }
    let pooled: u128 = rows.iter().zip(&cols).map(|(r, s)| (r + s) * (r + s)).sum();
    let denominator = 4 * n * n - pooled;
    if denominator == 0 {
        return Stat::Undefined(UndefinedReason::NoVariation);
    }
    let numerator = signed(4 * n * agree) - signed(pooled);
    Stat::finite(
        numerator as f64 / denominator as f64,
        UndefinedReason::NoVariation,
    )
}

/// Counts in this module stay far below 2^127 (they are products of two unit counts).
fn signed(x: u128) -> i128 {
    i128::try_from(x).unwrap_or(i128::MAX)
}

/// Percent agreement `P_o` (§3.1): the mean over pairable units of the share of agreeing
/// coder pairs.
pub fn percent_agreement(data: &ReliabilityData) -> Stat {
    Summary::of(data).percent_agreement()
}

/// Brennan–Prediger κ_n with `q = categories` a priori (§3.4); Randolph's κ for 3+ coders.
pub fn brennan_prediger(data: &ReliabilityData) -> Stat {
    Summary::of(data).brennan_prediger()
}

/// Fleiss' κ (§3.5), in Gwet's form for missing values (equal to Fleiss 1971 on
/// complete data).
pub fn fleiss_kappa(data: &ReliabilityData) -> Stat {
    Summary::of(data).fleiss_kappa()
}

/// Fleiss' per-category κ_c (§3.5): Fleiss' κ of `category` against all other categories.
/// On complete data this is algebraically Fleiss' (1971) κ_j formula; with missing values it
/// extends it the way [`fleiss_kappa`] does.
pub fn fleiss_category_kappa(data: &ReliabilityData, category: u32) -> Stat {
    let classes = data.unit_counts().into_iter().map(|(counts, mult)| {
        let total: u64 = counts.iter().sum();
        let hits = counts.get(category as usize).copied().unwrap_or(0);
        ([hits, total - hits], mult)
    });
    Summary::new(2, classes).fleiss_kappa()
}

/// Gwet's AC1 (§3.6), with Gwet's treatment of missing values.
pub fn gwet_ac1(data: &ReliabilityData) -> Stat {
    Summary::of(data).gwet_ac1()
}

/// Krippendorff's observed agreement `A_o = 1 − D_o` (nominal), which weights units by
/// their number of values; not the same as [`percent_agreement`] when that varies.
pub fn krippendorff_observed_agreement(data: &ReliabilityData) -> Stat {
    Summary::of(data).krippendorff_observed_agreement()
}

/// The difference function of Krippendorff's α (§3.7 step 5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric<'a> {
    Nominal,
    /// Categories are ranks in index order.
    Ordinal,
    /// One numeric value per category.
    Interval(&'a [f64]),
    /// One non-negative numeric value per category.
    Ratio(&'a [f64]),
}

/// Krippendorff's α (§3.7) for any number of coders and missing values, via the
/// coincidence matrix. The metric's values must be one finite number per category.
pub fn krippendorff_alpha(data: &ReliabilityData, metric: Metric<'_>) -> Result<Stat, DataError> {
    let q = data.categories as usize;
    if let Metric::Interval(values) | Metric::Ratio(values) = metric
        && (values.len() != q || values.iter().any(|v| !v.is_finite()))
    {
        return Err(DataError::MetricValues);
    }
    let classes = data.unit_counts();
    let summary = Summary::new(q, classes.iter().map(|(c, m)| (c.as_slice(), *m)));
    if metric == Metric::Nominal {
        return Ok(summary.krippendorff_alpha());
    }
    if let Some(reason) = summary.alpha_undefined() {
        return Ok(Stat::Undefined(reason));
    }

    let mut coincidence = vec![0f64; q * q];
    for (counts, mult) in &classes {
        let m: u64 = counts.iter().sum();
        if m < 2 {
            continue;
        }
        let weight = *mult as f64 / (m - 1) as f64;
        for c in 0..q {
            for k in 0..q {
                let pairs = counts[c] * counts[k].saturating_sub(u64::from(c == k));
                coincidence[c * q + k] += pairs as f64 * weight;
            }
        }
    }
    let n = &summary.value_counts;
    let delta = |c: usize, k: usize| -> f64 {
        match metric {
            Metric::Nominal => f64::from(u8::from(c != k)),
            Metric::Ordinal => {
                let (lo, hi) = (c.min(k), c.max(k));
                let between: u128 = n[lo..=hi].iter().sum();
                let d = between as f64 - (n[c] + n[k]) as f64 / 2.0;
                if c == k { 0.0 } else { d * d }
            }
            Metric::Interval(v) => (v[c] - v[k]) * (v[c] - v[k]),
            Metric::Ratio(v) => {
                let sum = v[c] + v[k];
                if sum == 0.0 {
                    0.0
                } else {
                    ((v[c] - v[k]) / sum).powi(2)
                }
            }
        }
    };
    let mut observed = 0.0;
    let mut expected = 0.0;
    for c in 0..q {
        for k in 0..q {
            let d = delta(c, k);
            observed += coincidence[c * q + k] * d;
            expected += (n[c] * n[k]) as f64 * d;
        }
    }
    // Only reachable with metric values that give two distinct categories distance 0.
    if expected <= 0.0 {
        return Ok(Stat::Undefined(UndefinedReason::NoVariation));
    }
    let total = summary.pairable_values as f64;
    Ok(Stat::finite(
        1.0 - (total - 1.0) * observed / expected,
        UndefinedReason::NoVariation,
    ))
}

/// The sums behind every multi-coder coefficient, accumulated over classes of units with
/// identical per-category value counts (a study's per-code data has only a handful of
/// such classes, however many units it has).
#[derive(Debug, Clone)]
pub(crate) struct Summary {
    categories: usize,
    /// `N₁`: units with at least one value.
    with_values: u64,
    /// `N₂`: pairable units (two or more values).
    pairable: u64,
    /// `n..`: values in pairable units.
    pairable_values: u128,
    /// `n_c`: values of each category in pairable units.
    value_counts: Vec<u128>,
    /// `N₁ · π_c = Σ n_uc / m_u` over units with a value (chance term of Fleiss and AC1).
    chance_mass: Vec<f64>,
    /// `Σ (m_u² − Σ_c n_uc²) / (m_u (m_u − 1))` over pairable units: `N₂ (1 − P_o)`.
    pair_disagreement: f64,
    /// `Σ (m_u² − Σ_c n_uc²) / (m_u − 1)` over pairable units: `Σ_{c≠k} o_ck`.
    coincidence_disagreement: f64,
}

impl Summary {
    pub(crate) fn new<C: AsRef<[u64]>>(
        categories: usize,
        classes: impl IntoIterator<Item = (C, u64)>,
    ) -> Self {
        let mut summary = Self {
            categories,
            with_values: 0,
            pairable: 0,
            pairable_values: 0,
            value_counts: vec![0; categories],
            chance_mass: vec![0.0; categories],
            pair_disagreement: 0.0,
            coincidence_disagreement: 0.0,
        };
        for (counts, mult) in classes {
            let counts = counts.as_ref();
            if mult == 0 {
                continue;
            }
            let m: u64 = counts.iter().sum();
            if m == 0 {
                continue;
            }
            summary.with_values += mult;
            for (mass, &n) in summary.chance_mass.iter_mut().zip(counts) {
                *mass += (n as f64 / m as f64) * mult as f64;
            }
            if m < 2 {
                continue;
            }
            summary.pairable += mult;
            summary.pairable_values += u128::from(m) * u128::from(mult);
            for (total, &n) in summary.value_counts.iter_mut().zip(counts) {
                *total += u128::from(n) * u128::from(mult);
            }
            let m2 = u128::from(m) * u128::from(m);
            let same: u128 = counts.iter().map(|&n| u128::from(n) * u128::from(n)).sum();
            let unlike = ((m2 - same) * u128::from(mult)) as f64;
            summary.pair_disagreement += unlike / (m * (m - 1)) as f64;
            summary.coincidence_disagreement += unlike / (m - 1) as f64;
        }
        summary
    }

    fn of(data: &ReliabilityData) -> Self {
        Self::new(data.categories as usize, data.unit_counts())
    }

    /// `1 − P_o`.
    fn observed_disagreement(&self) -> f64 {
        self.pair_disagreement / self.pairable as f64
    }

    fn distinct_pairable_values(&self) -> usize {
        self.value_counts.iter().filter(|&&n| n > 0).count()
    }

    /// `Σ_c π_c (1 − π_c)`, with `1 − π_c` summed from the other categories.
    fn chance_disagreement(&self) -> f64 {
        let n1 = self.with_values as f64;
        let mut sum = 0.0;
        for (c, &mass) in self.chance_mass.iter().enumerate() {
            let others: f64 = self
                .chance_mass
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != c)
                .map(|(_, &m)| m)
                .sum();
            sum += (mass / n1) * (others / n1);
        }
        sum
    }

    pub(crate) fn percent_agreement(&self) -> Stat {
        if self.pairable == 0 {
            return Stat::Undefined(UndefinedReason::NoPairableUnits);
        }
        let agreeing = self.pairable as f64 - self.pair_disagreement;
        Stat::finite(
            agreeing / self.pairable as f64,
            UndefinedReason::NoPairableUnits,
        )
    }

    pub(crate) fn brennan_prediger(&self) -> Stat {
        if self.pairable == 0 {
            return Stat::Undefined(UndefinedReason::NoPairableUnits);
        }
        if self.categories < 2 {
            return Stat::Undefined(UndefinedReason::FewerThanTwoCategories);
        }
        let q = self.categories as f64;
        let value = 1.0 - self.observed_disagreement() * q / (q - 1.0);
        Stat::finite(value, UndefinedReason::FewerThanTwoCategories)
    }

    pub(crate) fn fleiss_kappa(&self) -> Stat {
        if let Some(reason) = self.alpha_undefined() {
            return Stat::Undefined(reason);
        }
        // Two categories occur among pairable values, so both π_c are positive and so is
        // the chance disagreement.
        let value = 1.0 - self.observed_disagreement() / self.chance_disagreement();
        Stat::finite(value, UndefinedReason::NoVariation)
    }

    pub(crate) fn gwet_ac1(&self) -> Stat {
        if self.pairable == 0 {
            return Stat::Undefined(UndefinedReason::NoPairableUnits);
        }
        if self.categories < 2 {
            return Stat::Undefined(UndefinedReason::FewerThanTwoCategories);
        }
        let chance = self.chance_disagreement() / (self.categories - 1) as f64;
        // chance ≤ 1/q < 1, so the denominator is positive.
        let value = (1.0 - self.observed_disagreement() - chance) / (1.0 - chance);
        Stat::finite(value, UndefinedReason::FewerThanTwoCategories)
    }

    /// Why α and Fleiss' κ are undefined, if they are (§3.7 step 6).
    fn alpha_undefined(&self) -> Option<UndefinedReason> {
        if self.pairable == 0 {
            Some(UndefinedReason::NoPairableUnits)
        } else if self.categories < 2 {
            Some(UndefinedReason::FewerThanTwoCategories)
        } else if self.distinct_pairable_values() < 2 {
            Some(UndefinedReason::NoVariation)
        } else {
            None
        }
    }

    pub(crate) fn krippendorff_alpha(&self) -> Stat {
        if let Some(reason) = self.alpha_undefined() {
            return Stat::Undefined(reason);
        }
        let n = self.pairable_values;
        let same: u128 = self.value_counts.iter().map(|&c| c * c).sum();
        // Positive: at least two categories have values.
        let expected = (n * n - same) as f64;
        let value = 1.0 - (n - 1) as f64 * self.coincidence_disagreement / expected;
        Stat::finite(value, UndefinedReason::NoVariation)
    }

    pub(crate) fn krippendorff_observed_agreement(&self) -> Stat {
        if self.pairable == 0 {
            return Stat::Undefined(UndefinedReason::NoPairableUnits);
        }
        let n = self.pairable_values as f64;
        Stat::finite(
            (n - self.coincidence_disagreement) / n,
            UndefinedReason::NoPairableUnits,
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::agreement::fixtures::{assert_stat, load, reliability_data};

    /// Checks every `expected_exact` value of a predefined-units reference case.
    fn check_reference_case(file: &str) {
        let case = load(file);
        let data_block = &case["data"];
        let (data, table) = reliability_data(data_block);
        let categories = data_block["categories"].as_array().expect("categories");
        let numeric: Vec<f64> = categories.iter().filter_map(Value::as_f64).collect();
        let pair_table = || {
            table
                .clone()
                .unwrap_or_else(|| data.contingency_table(0, 1))
        };
        let expected = case["expected_exact"].as_object().expect("expected_exact");
        assert!(!expected.is_empty(), "{file}: nothing to check");
        for (metric, want) in expected {
            let what = format!("{file}: {metric}");
            let got = match metric.as_str() {
                "percent_agreement" => percent_agreement(&data),
                "cohen_kappa" => cohen_kappa(&pair_table()),
                "scott_pi" => scott_pi(&pair_table()),
                "brennan_prediger" => brennan_prediger(&data),
                "fleiss_kappa" => fleiss_kappa(&data),
                "gwet_ac1" => gwet_ac1(&data),
                "krippendorff_observed_agreement" => krippendorff_observed_agreement(&data),
                "krippendorff_alpha_nominal" => {
                    let nominal = krippendorff_alpha(&data, Metric::Nominal).expect("nominal");
                    assert_eq!(nominal, Summary::of(&data).krippendorff_alpha(), "{what}");
                    nominal
                }
                "krippendorff_alpha_ordinal" => {
                    krippendorff_alpha(&data, Metric::Ordinal).expect("ordinal")
                }
                "krippendorff_alpha_interval" => {
                    krippendorff_alpha(&data, Metric::Interval(&numeric)).expect("numeric")
                }
                "krippendorff_alpha_ratio" => {
                    krippendorff_alpha(&data, Metric::Ratio(&numeric)).expect("numeric")
                }
                "fleiss_category_kappa" => {
                    for (label, want) in want.as_object().expect("per category") {
                        let category = categories
                            .iter()
                            .position(|c| c.to_string().as_str() == label.as_str())
                            .expect("known category");
                        let got = fleiss_category_kappa(&data, index_u32(category));
                        assert_stat(got, want, &format!("{what}[{label}]"));
                    }
                    continue;
                }
                other => panic!("{file}: no check for metric {other}"),
            };
            assert_stat(got, want, &what);
        }
    }

    macro_rules! reference_cases {
        ($($name:ident => $file:literal,)*) => {
            $(
                #[test]
                fn $name() {
                    check_reference_case($file);
                }
            )*
        };
    }

    reference_cases! {
        brennan_prediger1981_example1_matches_reference => "brennan_prediger1981_example1.json",
        brennan_prediger1981_example2_matches_reference => "brennan_prediger1981_example2.json",
        cohen1960_example1_below_chance_matches_reference => "cohen1960_example1_below_chance.json",
        cohen1960_example2_matches_reference => "cohen1960_example2.json",
        edge_code_unused_by_both_matches_reference => "edge_code_unused_by_both.json",
        edge_code_used_by_one_coder_only_matches_reference => "edge_code_used_by_one_coder_only.json",
        edge_no_pairable_unit_matches_reference => "edge_no_pairable_unit.json",
        fleiss1971_diagnoses_matches_reference => "fleiss1971_diagnoses.json",
        fleiss_wikipedia_14raters_matches_reference => "fleiss_wikipedia_14raters.json",
        gwet2014_abstractors_3x3_matches_reference => "gwet2014_abstractors_3x3.json",
        gwet_prevalence_paradox_2x2_matches_reference => "gwet_prevalence_paradox_2x2.json",
        krippendorff2004_binary_2coders_matches_reference => "krippendorff2004_binary_2coders.json",
        krippendorff2004_nominal_2coders_matches_reference => "krippendorff2004_nominal_2coders.json",
        krippendorff2004_p246_equal_margins_matches_reference => "krippendorff2004_p246_equal_margins.json",
        krippendorff2004_p246_unequal_margins_matches_reference => "krippendorff2004_p246_unequal_margins.json",
        krippendorff2011_4coders_missing_matches_reference => "krippendorff2011_4coders_missing.json",
        krippendorff2011_nominal_2coders_matches_reference => "krippendorff2011_nominal_2coders.json",
    }

    #[test]
    fn undefined_reasons_follow_the_spec_table() {
        let unused = ReliabilityData::from_coder_rows(2, &[vec![Some(0); 8], vec![Some(0); 8]])
            .expect("valid");
        assert_eq!(
            cohen_kappa(&unused.contingency_table(0, 1)),
            Stat::Undefined(UndefinedReason::NoVariation)
        );
        assert_eq!(
            fleiss_kappa(&unused),
            Stat::Undefined(UndefinedReason::NoVariation)
        );
        assert_eq!(
            krippendorff_alpha(&unused, Metric::Nominal),
            Ok(Stat::Undefined(UndefinedReason::NoVariation))
        );
        assert_eq!(gwet_ac1(&unused), Stat::Value(1.0));

        let single = ReliabilityData::from_coder_rows(1, &[vec![Some(0); 3], vec![Some(0); 3]])
            .expect("valid");
        assert_eq!(percent_agreement(&single), Stat::Value(1.0));
        for stat in [
            brennan_prediger(&single),
            gwet_ac1(&single),
            fleiss_kappa(&single),
        ] {
            assert_eq!(
                stat,
                Stat::Undefined(UndefinedReason::FewerThanTwoCategories)
            );
        }

        let lonely =
            ReliabilityData::from_coder_rows(2, &[vec![Some(1), None], vec![None, Some(0)]])
                .expect("valid");
        for stat in [
            percent_agreement(&lonely),
            gwet_ac1(&lonely),
            fleiss_kappa(&lonely),
        ] {
            assert_eq!(stat, Stat::Undefined(UndefinedReason::NoPairableUnits));
        }
    }

    #[test]
    fn constant_but_different_coders_give_the_spec_values() {
        // §7: A all present, B all absent over N units: PA 0, κ 0, π −1, BP −1, α −(N−1)/N.
        let n = 6;
        let data = ReliabilityData::from_coder_rows(2, &[vec![Some(1); n], vec![Some(0); n]])
            .expect("valid");
        let table = data.contingency_table(0, 1);
        assert_eq!(percent_agreement(&data).value(), Some(0.0));
        assert_eq!(cohen_kappa(&table).value(), Some(0.0));
        assert_eq!(scott_pi(&table).value(), Some(-1.0));
        assert_eq!(brennan_prediger(&data).value(), Some(-1.0));
        let alpha = krippendorff_alpha(&data, Metric::Nominal)
            .expect("nominal")
            .value();
        let want = -((n - 1) as f64) / n as f64;
        assert!(alpha.is_some_and(|a| (a - want).abs() < 1e-12), "{alpha:?}");
    }

    #[test]
    fn one_pairable_unit_with_differing_values_gives_alpha_zero() {
        let data =
            ReliabilityData::from_coder_rows(2, &[vec![Some(0), Some(1)], vec![Some(1), None]])
                .expect("valid");
        assert_eq!(percent_agreement(&data), Stat::Value(0.0));
        assert_eq!(
            krippendorff_alpha(&data, Metric::Nominal),
            Ok(Stat::Value(0.0))
        );
        assert!(cohen_kappa(&data.contingency_table(0, 1)).value().is_some());
    }

    #[test]
    fn malformed_data_is_refused() {
        assert_eq!(
            ReliabilityData::from_coder_rows(2, &[vec![Some(2)]]),
            Err(DataError::CategoryOutOfRange {
                unit: 0,
                coder: 0,
                category: 2
            })
        );
        assert_eq!(
            ReliabilityData::from_coder_rows(2, &[vec![Some(0)], vec![]]),
            Err(DataError::RaggedRows)
        );
        assert_eq!(
            ContingencyTable::from_rows(&[vec![1, 2]]),
            Err(DataError::NotSquare)
        );
        let data =
            ReliabilityData::from_coder_rows(2, &[vec![Some(0)], vec![Some(1)]]).expect("valid");
        assert_eq!(
            krippendorff_alpha(&data, Metric::Interval(&[1.0])),
            Err(DataError::MetricValues)
        );
    }
}
