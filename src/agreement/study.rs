//! A study: the compared coders' layers on one or more transcripts, prepared once, and the
//! presence/absence statistics per code over fixed units (§3.8, §4).

use std::collections::HashMap;

use serde::Serialize;

use super::coefficients::{Summary, cohen_kappa_2x2};
use super::intervals::{coverage, covered, intersection, push_merged};
use super::types::{CodeId, CoderId, Coding, InputError, Span, Stat, UndefinedReason, UnitLevel};
use super::units::TranscriptUnits;
use super::warnings::UnitWarning;

/// One transcript's input: its unit boundaries, the coders who submitted a layer, and the
/// codings. Codings of coders who are not compared or have not submitted (their layer is
/// still blind, DESIGN invariant 3) and codings of codes outside the reported set (not yet
/// aligned, §3.8) are ignored; every coding must still lie inside the text.
#[derive(Debug, Clone, Copy)]
pub struct TranscriptLayers<'a> {
    pub units: &'a TranscriptUnits,
    pub submitted: &'a [CoderId],
    pub codings: &'a [Coding],
}

/// The compared coders' layers, validated and prepared: per transcript, code and coder, the
/// coder's spans of that code united into sections (overlapping spans merge, touching ones
/// stay apart, §5.1, §6).
#[derive(Debug, Clone)]
pub struct Study<'a> {
    coders: Vec<CoderId>,
    codes: Vec<CodeId>,
    transcripts: Vec<Prepared<'a>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Prepared<'a> {
    pub(crate) units: &'a TranscriptUnits,
    /// Per compared coder.
    pub(crate) submitted: Vec<bool>,
    /// Sections of (code, coder) are `sections[offsets[g]..offsets[g + 1]]`,
    /// `g = code * coders + coder`.
    offsets: Vec<usize>,
    sections: Vec<Section>,
    keys: Vec<u64>,
}

/// A maximal union of one coder's overlapping spans of one code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Section {
    pub(crate) span: Span,
    keys: (usize, usize),
}

impl Prepared<'_> {
    pub(crate) fn sections(&self, code: usize, coder: usize) -> &[Section] {
        let coders = self.submitted.len();
        let group = code * coders + coder;
        &self.sections[self.offsets[group]..self.offsets[group + 1]]
    }

    /// The keys of the codings a section unites, ascending.
    pub(crate) fn keys(&self, section: &Section) -> &[u64] {
        &self.keys[section.keys.0..section.keys.1]
    }

    pub(crate) fn submitted_count(&self) -> usize {
        self.submitted.iter().filter(|&&s| s).count()
    }
}

impl<'a> Study<'a> {
    /// `coders` are the coders compared (their order fixes "A" and "B" and the order of
    /// per-coder counts); `codes` the agreed codes reported, in display order, including
    /// codes nobody used.
    pub fn new(
        coders: &[CoderId],
        codes: &[CodeId],
        transcripts: &[TranscriptLayers<'a>],
    ) -> Result<Self, InputError> {
        let mut coder_index = HashMap::with_capacity(coders.len());
        for (i, &coder) in coders.iter().enumerate() {
            if coder_index.insert(coder, i).is_some() {
                return Err(InputError::DuplicateCoder(coder));
            }
        }
        let mut code_index = HashMap::with_capacity(codes.len());
        for (i, &code) in codes.iter().enumerate() {
            if code_index.insert(code, i).is_some() {
                return Err(InputError::DuplicateCode(code));
            }
        }
        let prepared = transcripts
            .iter()
            .enumerate()
            .map(|(t, layers)| {
                prepare(
                    t,
                    layers,
                    coders.len(),
                    codes.len(),
                    &coder_index,
                    &code_index,
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            coders: coders.to_vec(),
            codes: codes.to_vec(),
            transcripts: prepared,
        })
    }

    pub fn coders(&self) -> &[CoderId] {
        &self.coders
    }

    pub fn codes(&self) -> &[CodeId] {
        &self.codes
    }

    pub(crate) fn prepared(&self) -> &[Prepared<'a>] {
        &self.transcripts
    }

    /// Presence/absence statistics per code over the units of `level`, for all
    /// transcripts pooled (§3.8) and per transcript (input order).
    pub fn unit_agreement(&self, level: UnitLevel) -> UnitAgreement {
        let coders = self.coders.len();
        let mut overall = vec![BinaryTally::new(coders); self.codes.len()];
        let mut overall_units = Tally::default();
        let mut scratch = Scratch::new(coders);
        let mut per_transcript = Vec::with_capacity(self.transcripts.len());
        for transcript in &self.transcripts {
            let units = Tally::of(transcript, level);
            overall_units.add(units);
            let tallies: Vec<BinaryTally> = (0..self.codes.len())
                .map(|code| tally_code(transcript, code, level, &mut scratch))
                .collect();
            for (total, tally) in overall.iter_mut().zip(&tallies) {
                total.add(tally);
            }
            per_transcript.push(self.table(units, &tallies));
        }
        UnitAgreement {
            level,
            coders: self.coders.clone(),
            overall: self.table(overall_units, &overall),
            per_transcript,
        }
    }

    fn table(&self, units: Tally, tallies: &[BinaryTally]) -> AgreementTable {
        let mut pooled = BinaryTally::new(self.coders.len());
        let per_code: Vec<CodeAgreement> = self
            .codes
            .iter()
            .zip(tallies)
            .map(|(&code, tally)| {
                pooled.add(tally);
                CodeAgreement {
                    code,
                    counts: tally.counts(),
                    coefficients: tally.coefficients(),
                }
            })
            .collect();
        let macro_mean = MacroMeans::of(&per_code);
        let warning = UnitWarning::check(
            units.pairable,
            units.transcripts,
            tallies.iter().map(BinaryTally::present_units),
        );
        AgreementTable {
            units: units.units,
            pairable_units: units.pairable,
            warning,
            per_code,
            pooled: Pooled {
                counts: pooled.counts(),
                coefficients: pooled.coefficients(),
            },
            macro_mean,
        }
    }
}

fn prepare<'a>(
    transcript: usize,
    layers: &TranscriptLayers<'a>,
    coders: usize,
    codes: usize,
    coder_index: &HashMap<CoderId, usize>,
    code_index: &HashMap<CodeId, usize>,
) -> Result<Prepared<'a>, InputError> {
    let mut submitted = vec![false; coders];
    for coder in layers.submitted {
        if let Some(&i) = coder_index.get(coder) {
            submitted[i] = true;
        }
    }
    let length = layers.units.length();
    let mut rows = Vec::with_capacity(layers.codings.len());
    for coding in layers.codings {
        if coding.start >= coding.end || coding.end > length {
            return Err(InputError::InvalidSpan {
                transcript,
                key: coding.key,
                start: coding.start,
                end: coding.end,
                length,
            });
        }
        let Some(&coder) = coder_index.get(&coding.coder) else {
            continue;
        };
        let Some(&code) = code_index.get(&coding.code) else {
            continue;
        };
        if submitted[coder] {
            rows.push((code, coder, coding.start, coding.end, coding.key));
        }
    }
    // Sorting on every field makes the sections independent of the input order.
    rows.sort_unstable();

    let groups = codes * coders;
    let mut offsets = Vec::with_capacity(groups + 1);
    let mut sections: Vec<Section> = Vec::new();
    let mut keys = Vec::with_capacity(rows.len());
    let mut rows = rows.into_iter().peekable();
    for group in 0..groups {
        let first = sections.len();
        offsets.push(first);
        while let Some(&(code, coder, start, end, key)) = rows.peek() {
            if code * coders + coder != group {
                break;
            }
            rows.next();
            let group_started = sections.len() > first;
            match sections.last_mut() {
                Some(last) if group_started && start < last.span.end => {
                    last.span.end = last.span.end.max(end);
                    last.keys.1 += 1;
                }
                _ => sections.push(Section {
                    span: Span { start, end },
                    keys: (keys.len(), keys.len() + 1),
                }),
            }
            keys.push(key);
        }
        for section in &sections[first..] {
            keys[section.keys.0..section.keys.1].sort_unstable();
        }
    }
    offsets.push(sections.len());
    Ok(Prepared {
        units: layers.units,
        submitted,
        offsets,
        sections,
        keys,
    })
}

/// Unit counts of one table: units at the level, those with two or more layers, and
/// the transcripts that have such units.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    units: u64,
    pairable: u64,
    transcripts: u64,
}

impl Tally {
    fn of(transcript: &Prepared<'_>, level: UnitLevel) -> Self {
        let units = u64::from(transcript.units.unit_count(level));
        let pairable = if transcript.submitted_count() >= 2 {
            units
        } else {
            0
        };
        Self {
            units,
            pairable,
            transcripts: u64::from(pairable > 0),
        }
    }

    fn add(&mut self, other: Self) {
        self.units += other.units;
        self.pairable += other.pairable;
        self.transcripts += other.transcripts;
    }
}

struct Scratch {
    lists: Vec<Vec<(u32, u32)>>,
    events: Vec<(u32, i32)>,
    depth: Vec<u64>,
}

impl Scratch {
    fn new(coders: usize) -> Self {
        Self {
            lists: vec![Vec::new(); coders],
            events: Vec::new(),
            depth: vec![0; coders + 1],
        }
    }
}

/// The per-code counts of one transcript at one level: the coders' sections mapped to unit
/// indices, then how many units each number of coders marked present.
fn tally_code(
    transcript: &Prepared<'_>,
    code: usize,
    level: UnitLevel,
    scratch: &mut Scratch,
) -> BinaryTally {
    let coders = transcript.submitted.len();
    let units = u64::from(transcript.units.unit_count(level));
    let mut tally = BinaryTally::new(coders);
    let values = transcript.submitted_count();
    tally.units = units;
    if values >= 2 {
        tally.pairable = units;
    }
    for (coder, list) in scratch.lists.iter_mut().enumerate() {
        list.clear();
        if !transcript.submitted[coder] {
            continue;
        }
        for section in transcript.sections(code, coder) {
            let (first, last) = transcript.units.unit_range(level, section.span);
            if first < last {
                push_merged(list, (first, last));
            }
        }
        tally.coded_by[coder] = covered(list);
    }
    scratch.depth.iter_mut().for_each(|d| *d = 0);
    if let [first, second] = scratch.lists.as_slice() {
        // Two coders, the common case: one merge pass instead of sorting events.
        let both = intersection(first, second);
        scratch.depth[1] = tally.coded_by[0] + tally.coded_by[1] - 2 * both;
        scratch.depth[2] = both;
    } else {
        let lists: Vec<&[(u32, u32)]> = scratch.lists.iter().map(Vec::as_slice).collect();
        coverage(&lists, &mut scratch.events, &mut scratch.depth);
    }
    let marked: u64 = scratch.depth.iter().sum();
    scratch.depth[0] = units - marked;
    for (present, &count) in scratch.depth.iter().enumerate().take(values + 1) {
        tally.hist[values * (coders + 1) + present] += count;
    }
    if coders == 2 && values == 2 {
        let both = scratch.depth[2];
        let only_a = tally.coded_by[0] - both;
        let only_b = tally.coded_by[1] - both;
        tally.table = [both, only_a, only_b, units - both - only_a - only_b];
    }
    tally
}

/// Presence/absence counts of one code (or of all codes pooled), in a form that adds up
/// across transcripts and codes.
#[derive(Debug, Clone)]
struct BinaryTally {
    coders: usize,
    units: u64,
    pairable: u64,
    /// `hist[m * (coders + 1) + k]`: units with `m` values of which `k` are "present".
    hist: Vec<u64>,
    coded_by: Vec<u64>,
    /// Two coders, over units both submitted: both, only A, only B, neither.
    table: [u64; 4],
}

impl BinaryTally {
    fn new(coders: usize) -> Self {
        Self {
            coders,
            units: 0,
            pairable: 0,
            hist: vec![0; (coders + 1) * (coders + 1)],
            coded_by: vec![0; coders],
            table: [0; 4],
        }
    }

    fn add(&mut self, other: &Self) {
        self.units += other.units;
        self.pairable += other.pairable;
        self.hist
            .iter_mut()
            .zip(&other.hist)
            .for_each(|(a, b)| *a += b);
        self.coded_by
            .iter_mut()
            .zip(&other.coded_by)
            .for_each(|(a, b)| *a += b);
        self.table
            .iter_mut()
            .zip(&other.table)
            .for_each(|(a, b)| *a += b);
    }

    fn summary(&self) -> Summary {
        let width = self.coders + 1;
        let classes = self
            .hist
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(i, &n)| {
                let (values, present) = (i / width, i % width);
                ([(values - present) as u64, present as u64], n)
            });
        Summary::new(2, classes)
    }

    /// Units with two or more values in which at least one coder marked the code present.
    fn present_units(&self) -> u64 {
        let width = self.coders + 1;
        self.hist
            .iter()
            .enumerate()
            .filter(|&(i, _)| i / width >= 2 && i % width >= 1)
            .map(|(_, &n)| n)
            .sum()
    }

    fn coefficients(&self) -> Coefficients {
        let summary = self.summary();
        let [both, only_a, only_b, neither] = self.table;
        let cohen_kappa = match self.coders {
            2 => cohen_kappa_2x2(both, only_a, only_b, neither),
            0 | 1 => Stat::Undefined(UndefinedReason::FewerThanTwoCoders),
            _ => Stat::Undefined(UndefinedReason::MoreThanTwoCoders),
        };
        Coefficients {
            percent_agreement: summary.percent_agreement(),
            cohen_kappa,
            fleiss_kappa: summary.fleiss_kappa(),
            brennan_prediger: summary.brennan_prediger(),
            gwet_ac1: summary.gwet_ac1(),
            krippendorff_alpha_nominal: summary.krippendorff_alpha(),
        }
    }

    fn counts(&self) -> UnitCounts {
        let [both, only_a, only_b, neither] = self.table;
        UnitCounts {
            units: self.units,
            pairable_units: self.pairable,
            coded_by: self.coded_by.clone(),
            table: (self.coders == 2).then_some(TwoByTwo {
                both,
                only_a,
                only_b,
                neither,
            }),
        }
    }
}

/// Presence/absence statistics at one unit level.
#[derive(Debug, Clone, Serialize)]
pub struct UnitAgreement {
    pub level: UnitLevel,
    /// The compared coders; per-coder counts follow this order, and "A"/"B" are the first two.
    pub coders: Vec<CoderId>,
    /// All transcripts pooled: the headline figures (§3.8).
    pub overall: AgreementTable,
    /// The drill-down, in input order.
    pub per_transcript: Vec<AgreementTable>,
}

/// Per-code and overall statistics over one set of units.
#[derive(Debug, Clone, Serialize)]
pub struct AgreementTable {
    /// Units at this level.
    pub units: u64,
    /// Units with values from at least two coders.
    pub pairable_units: u64,
    /// Set when this table's values (per code, pooled, means) rest on too few units to
    /// mean much; they are reported all the same.
    pub warning: Option<UnitWarning>,
    /// In the order of the study's codes, codes nobody used included.
    pub per_code: Vec<CodeAgreement>,
    /// Every (unit, code) pair as one item (§3.8).
    pub pooled: Pooled,
    /// Means of the defined per-code values.
    pub macro_mean: MacroMeans,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeAgreement {
    pub code: CodeId,
    pub counts: UnitCounts,
    pub coefficients: Coefficients,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pooled {
    /// Counted in (unit, code) items.
    pub counts: UnitCounts,
    pub coefficients: Coefficients,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitCounts {
    pub units: u64,
    pub pairable_units: u64,
    /// Units each coder marked present, in the order of the compared coders.
    pub coded_by: Vec<u64>,
    /// The 2×2 table when exactly two coders are compared (units both submitted).
    pub table: Option<TwoByTwo>,
}

/// `a`, `b`, `c`, `d` of §2: A is the first compared coder, B the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TwoByTwo {
    pub both: u64,
    pub only_a: u64,
    pub only_b: u64,
    pub neither: u64,
}

/// The coefficients of one code (present/absent, `q = 2`) or of the pooled items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Coefficients {
    pub percent_agreement: Stat,
    /// Defined for exactly two coders (`more_than_two_coders` otherwise).
    pub cohen_kappa: Stat,
    /// For any number of coders; the one shown instead of Cohen's κ for three or more
    /// (§1). With two coders it equals Scott's π.
    pub fleiss_kappa: Stat,
    pub brennan_prediger: Stat,
    pub gwet_ac1: Stat,
    pub krippendorff_alpha_nominal: Stat,
}

/// The macro mean of one coefficient: shown as "value, k of K codes" (§3.8); undefined
/// codes are left out, never counted as 0 or 1. Its `value` and `undefined_reason` have
/// the shape of a [`Stat`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MacroMean {
    /// `None` when no code has a defined value.
    pub value: Option<f64>,
    /// Set exactly when `value` is `None`: the undefined codes' common reason, or
    /// `no_defined_codes` when their reasons differ or there are no codes.
    pub undefined_reason: Option<UndefinedReason>,
    pub codes_defined: usize,
    pub codes_total: usize,
    pub undefined_codes: Vec<CodeId>,
}

impl MacroMean {
    fn of<'c>(stats: impl Iterator<Item = (CodeId, Stat)> + 'c) -> Self {
        let mut sum = 0.0;
        let mut codes_defined = 0;
        let mut codes_total = 0;
        let mut undefined_codes = Vec::new();
        let mut reasons = Vec::new();
        for (code, stat) in stats {
            codes_total += 1;
            match stat {
                Stat::Value(v) => {
                    sum += v;
                    codes_defined += 1;
                }
                Stat::Undefined(reason) => {
                    undefined_codes.push(code);
                    reasons.push(reason);
                }
            }
        }
        let value = (codes_defined > 0).then(|| sum / codes_defined as f64);
        let undefined_reason = value.is_none().then(|| match reasons.as_slice() {
            [first, rest @ ..] if rest.iter().all(|r| r == first) => *first,
            _ => UndefinedReason::NoDefinedCodes,
        });
        Self {
            value,
            undefined_reason,
            codes_defined,
            codes_total,
            undefined_codes,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MacroMeans {
    pub percent_agreement: MacroMean,
    pub cohen_kappa: MacroMean,
    pub fleiss_kappa: MacroMean,
    pub brennan_prediger: MacroMean,
    pub gwet_ac1: MacroMean,
    pub krippendorff_alpha_nominal: MacroMean,
}

impl MacroMeans {
    fn of(per_code: &[CodeAgreement]) -> Self {
        let each = |pick: fn(&Coefficients) -> Stat| {
            MacroMean::of(
                per_code
                    .iter()
                    .map(move |c| (c.code, pick(&c.coefficients))),
            )
        };
        Self {
            percent_agreement: each(|c| c.percent_agreement),
            cohen_kappa: each(|c| c.cohen_kappa),
            fleiss_kappa: each(|c| c.fleiss_kappa),
            brennan_prediger: each(|c| c.brennan_prediger),
            gwet_ac1: each(|c| c.gwet_ac1),
            krippendorff_alpha_nominal: each(|c| c.krippendorff_alpha_nominal),
        }
    }
}
