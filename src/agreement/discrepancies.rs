//! The discrepancy list: one-to-one segment matching between two coders (§6), and the
//! segment agreement per code that falls out of it (§4.3).

use std::cmp::Ordering;

use serde::Serialize;

use super::study::{Prepared, Study};
use super::types::{CodeId, CoderId, InputError, Ratio, Stat, UndefinedReason};

/// What the lead is asked to reconcile, in the order the list is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscrepancyKind {
    /// Same code, identical segments (ratio 1).
    Agreement,
    /// Same code, overlap ratio ≥ θ but < 1.
    Boundary,
    /// Different codes on segments overlapping by ≥ θ: the same span under different codes.
    DifferentCode,
    /// Same code, overlapping below θ (nested or shifted spans).
    PartialOverlap,
    /// Coded by A only.
    OnlyA,
    /// Coded by B only.
    OnlyB,
}

/// One coder's segment: the union of their overlapping spans of one code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub code: CodeId,
    pub start: u32,
    pub end: u32,
    /// Keys of the codings united in this segment, ascending.
    pub codings: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discrepancy {
    pub kind: DiscrepancyKind,
    /// Coder A's segment; absent for `only_b`.
    pub a: Option<Segment>,
    /// Coder B's segment; absent for `only_a`.
    pub b: Option<Segment>,
    /// Intersection over union of the two segments; absent for `only_a` / `only_b`.
    pub overlap: Option<Ratio>,
}

/// Segment agreement of one code (§4.3): pass-1 pairs / (pairs + unmatched A + unmatched B).
/// A segment matched under a different code, or only partially, counts as unmatched here.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SegmentAgreement {
    pub code: CodeId,
    pub matched: u64,
    pub unmatched_a: u64,
    pub unmatched_b: u64,
    /// Undefined (`no_variation`) when neither coder has a segment of the code.
    pub value: Stat,
}

impl SegmentAgreement {
    fn new(code: CodeId, matched: u64, unmatched_a: u64, unmatched_b: u64) -> Self {
        let total = matched + unmatched_a + unmatched_b;
        let value = if total == 0 {
            Stat::Undefined(UndefinedReason::NoVariation)
        } else {
            Stat::finite(matched as f64 / total as f64, UndefinedReason::NoVariation)
        };
        Self {
            code,
            matched,
            unmatched_a,
            unmatched_b,
            value,
        }
    }

    fn add(&mut self, other: &Self) {
        *self = Self::new(
            self.code,
            self.matched + other.matched,
            self.unmatched_a + other.unmatched_a,
            self.unmatched_b + other.unmatched_b,
        );
    }
}

/// Discrepancies of one pair of coders on one transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairDiscrepancies {
    pub coder_a: CoderId,
    pub coder_b: CoderId,
    pub discrepancies: Vec<Discrepancy>,
    /// In the order of the study's codes.
    pub segment_agreement: Vec<SegmentAgreement>,
}

/// Every pair of compared coders who both submitted the transcript, A before B in the
/// order of the compared coders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptDiscrepancies {
    pub pairs: Vec<PairDiscrepancies>,
}

/// Segment agreement of one pair of coders over all transcripts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairSegmentAgreement {
    pub coder_a: CoderId,
    pub coder_b: CoderId,
    pub segment_agreement: Vec<SegmentAgreement>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discrepancies {
    pub match_threshold: Ratio,
    /// Segment agreement summed over transcripts, one entry per pair of compared coders.
    pub overall: Vec<PairSegmentAgreement>,
    /// In input order.
    pub per_transcript: Vec<TranscriptDiscrepancies>,
}

impl Study<'_> {
    /// Matches the segments of every pair of coders on every transcript (§6) with overlap
    /// threshold `threshold`, which must lie in (0, 1].
    pub fn discrepancies(&self, threshold: Ratio) -> Result<Discrepancies, InputError> {
        if threshold.numerator() == 0 || threshold.numerator() > threshold.denominator() {
            return Err(InputError::InvalidThreshold(threshold));
        }
        let coders = self.coders();
        let mut overall = Vec::new();
        for a in 0..coders.len() {
            for b in a + 1..coders.len() {
                overall.push(PairSegmentAgreement {
                    coder_a: coders[a],
                    coder_b: coders[b],
                    segment_agreement: self
                        .codes()
                        .iter()
                        .map(|&code| SegmentAgreement::new(code, 0, 0, 0))
                        .collect(),
                });
            }
        }
        let mut per_transcript = Vec::with_capacity(self.prepared().len());
        for transcript in self.prepared() {
            let mut pairs = Vec::new();
            let mut pair_index = 0;
            for a in 0..coders.len() {
                for b in a + 1..coders.len() {
                    let totals = &mut overall[pair_index];
                    pair_index += 1;
                    if !(transcript.submitted[a] && transcript.submitted[b]) {
                        continue;
                    }
                    let pair = match_pair(self.codes(), transcript, (a, b), threshold, coders);
                    for (total, one) in totals
                        .segment_agreement
                        .iter_mut()
                        .zip(&pair.segment_agreement)
                    {
                        total.add(one);
                    }
                    pairs.push(pair);
                }
            }
            per_transcript.push(TranscriptDiscrepancies { pairs });
        }
        Ok(Discrepancies {
            match_threshold: threshold,
            overall,
            per_transcript,
        })
    }
}

/// A segment during matching: its code's position in the study's codes, its span, its
/// section within the transcript and its position in its coder's list.
#[derive(Debug, Clone, Copy)]
struct Seg {
    code: usize,
    start: u32,
    end: u32,
    index: usize,
    position: usize,
}

/// Holds copies of both segments so that sorting touches one array only.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    a: Seg,
    b: Seg,
    intersection: u32,
    union: u32,
}

fn segments(codes: usize, transcript: &Prepared<'_>, coder: usize) -> Vec<Seg> {
    let mut out = Vec::new();
    for code in 0..codes {
        for (index, section) in transcript.sections(code, coder).iter().enumerate() {
            let position = out.len();
            let (start, end) = (section.span.start, section.span.end);
            out.push(Seg {
                code,
                start,
                end,
                index,
                position,
            });
        }
    }
    out
}

fn match_pair(
    codes: &[CodeId],
    transcript: &Prepared<'_>,
    (coder_a, coder_b): (usize, usize),
    threshold: Ratio,
    coders: &[CoderId],
) -> PairDiscrepancies {
    let segs_a = segments(codes.len(), transcript, coder_a);
    let segs_b = segments(codes.len(), transcript, coder_b);

    // Every overlapping (A, B) pair, by a sweep over starts: a segment pairs with each
    // segment of the other coder that started no later and has not ended yet.
    let mut order: Vec<(u32, bool, usize)> = segs_a
        .iter()
        .enumerate()
        .map(|(i, s)| (s.start, false, i))
        .chain(segs_b.iter().enumerate().map(|(i, s)| (s.start, true, i)))
        .collect();
    order.sort_unstable();
    let mut active_a: Vec<usize> = Vec::new();
    let mut active_b: Vec<usize> = Vec::new();
    let reaches = |intersection: u32, union: u32| {
        u128::from(intersection) * u128::from(threshold.denominator())
            >= u128::from(threshold.numerator()) * u128::from(union)
    };
    // Pass 1: same code, ratio ≥ θ; pass 2: different codes, ratio ≥ θ; pass 3: same code
    // below θ. Other pairs can never be matched.
    let mut passes: [Vec<Candidate>; 3] = Default::default();
    for &(start, from_b, i) in &order {
        let (mine, theirs, other) = if from_b {
            (&mut active_b, &mut active_a, &segs_a)
        } else {
            (&mut active_a, &mut active_b, &segs_b)
        };
        theirs.retain(|&j| other[j].end > start);
        for &j in theirs.iter() {
            let (a, b) = if from_b { (j, i) } else { (i, j) };
            let (x, y) = (segs_a[a], segs_b[b]);
            let intersection = x.end.min(y.end) - x.start.max(y.start);
            let union = x.end.max(y.end) - x.start.min(y.start);
            let pass = match (x.code == y.code, reaches(intersection, union)) {
                (true, true) => 0,
                (false, true) => 1,
                (true, false) => 2,
                (false, false) => continue,
            };
            passes[pass].push(Candidate {
                a: x,
                b: y,
                intersection,
                union,
            });
        }
        mine.push(i);
    }

    let mut used_a = vec![false; segs_a.len()];
    let mut used_b = vec![false; segs_b.len()];
    let mut matched = vec![0u64; codes.len()];
    let mut found = Vec::new();
    for (pass, candidates) in passes.iter_mut().enumerate() {
        // A pair with a segment taken by an earlier pass can never be accepted; dropping it
        // before sorting changes nothing but the work.
        candidates.retain(|c| !used_a[c.a.position] && !used_b[c.b.position]);
        candidates.sort_unstable_by(candidate_order);
        for c in candidates.iter() {
            let (a, b) = (c.a.position, c.b.position);
            if used_a[a] || used_b[b] {
                continue;
            }
            used_a[a] = true;
            used_b[b] = true;
            let kind = match pass {
                0 if c.intersection == c.union => DiscrepancyKind::Agreement,
                0 => DiscrepancyKind::Boundary,
                1 => DiscrepancyKind::DifferentCode,
                _ => DiscrepancyKind::PartialOverlap,
            };
            if pass == 0 {
                matched[c.a.code] += 1;
            }
            found.push((
                kind,
                Some(a),
                Some(b),
                Ratio::new(c.intersection.into(), c.union.into()),
            ));
        }
    }
    let mut total_a = vec![0u64; codes.len()];
    let mut total_b = vec![0u64; codes.len()];
    for (i, seg) in segs_a.iter().enumerate() {
        if !used_a[i] {
            found.push((DiscrepancyKind::OnlyA, Some(i), None, None));
        }
        total_a[seg.code] += 1;
    }
    for (i, seg) in segs_b.iter().enumerate() {
        if !used_b[i] {
            found.push((DiscrepancyKind::OnlyB, None, Some(i), None));
        }
        total_b[seg.code] += 1;
    }

    // Shown by kind, then by code in codebook order, then by position. Each coder's
    // segments are listed in (code, start) order, so their indices sort the same way; the
    // first segment is A's for every kind but `only_b`.
    found.sort_unstable_by_key(|&(kind, a, b, _)| (kind, a.or(b), b));
    let segment = |seg: &Seg, coder: usize| {
        let section = &transcript.sections(seg.code, coder)[seg.index];
        Segment {
            code: codes[seg.code],
            start: seg.start,
            end: seg.end,
            codings: transcript.keys(section).to_vec(),
        }
    };
    let discrepancies = found
        .into_iter()
        .map(|(kind, a, b, overlap)| Discrepancy {
            kind,
            a: a.map(|i| segment(&segs_a[i], coder_a)),
            b: b.map(|i| segment(&segs_b[i], coder_b)),
            overlap,
        })
        .collect();
    let segment_agreement = codes
        .iter()
        .enumerate()
        .map(|(i, &code)| {
            SegmentAgreement::new(
                code,
                matched[i],
                total_a[i] - matched[i],
                total_b[i] - matched[i],
            )
        })
        .collect();
    PairDiscrepancies {
        coder_a: coders[coder_a],
        coder_b: coders[coder_b],
        discrepancies,
        segment_agreement,
    }
}

/// §6 step 3: ratio descending, then A.start, A.end, A.code, B.start, B.end, B.code.
fn candidate_order(x: &Candidate, y: &Candidate) -> Ordering {
    let ratio_x = u64::from(x.intersection) * u64::from(y.union);
    let ratio_y = u64::from(y.intersection) * u64::from(x.union);
    let key = |c: &Candidate| (c.a.start, c.a.end, c.a.code, c.b.start, c.b.end, c.b.code);
    ratio_y.cmp(&ratio_x).then_with(|| key(x).cmp(&key(y)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::{Coding, Span, TranscriptLayers, TranscriptUnits};

    const A: CoderId = CoderId(10);
    const B: CoderId = CoderId(20);
    const X: CodeId = CodeId(1);
    const Y: CodeId = CodeId(2);

    fn coding(coder: CoderId, code: CodeId, start: u32, end: u32, key: u64) -> Coding {
        Coding {
            coder,
            code,
            start,
            end,
            key,
        }
    }

    fn pair_of(codings: &[Coding], threshold: &str) -> PairDiscrepancies {
        let text = "x".repeat(100);
        let units = TranscriptUnits::new(&text, &[]).expect("valid");
        let layers = [TranscriptLayers {
            units: &units,
            submitted: &[A, B],
            codings,
        }];
        let study = Study::new(&[A, B], &[X, Y], &layers).expect("valid");
        let found = study
            .discrepancies(threshold.parse().expect("fraction"))
            .expect("valid");
        found.per_transcript[0].pairs[0].clone()
    }

    /// Kind, A's span, B's span, overlap.
    type Row = (
        DiscrepancyKind,
        Option<(u32, u32)>,
        Option<(u32, u32)>,
        String,
    );

    fn summary(pair: &PairDiscrepancies) -> Vec<Row> {
        pair.discrepancies
            .iter()
            .map(|d| {
                let at = |s: &Option<Segment>| s.as_ref().map(|s| (s.start, s.end));
                (
                    d.kind,
                    at(&d.a),
                    at(&d.b),
                    d.overlap.map_or(String::new(), |r| r.to_string()),
                )
            })
            .collect()
    }

    #[test]
    fn same_span_under_different_codes_is_one_discrepancy() {
        let pair = pair_of(&[coding(A, X, 0, 10, 0), coding(B, Y, 0, 10, 1)], "1/2");
        assert_eq!(
            summary(&pair),
            [(
                DiscrepancyKind::DifferentCode,
                Some((0, 10)),
                Some((0, 10)),
                "1".into()
            )]
        );
        let d = &pair.discrepancies[0];
        assert_eq!(
            (d.a.as_ref().map(|s| s.code), d.b.as_ref().map(|s| s.code)),
            (Some(X), Some(Y))
        );
        // Matched under another code, each segment is unmatched for its own code.
        let x = pair.segment_agreement[0];
        assert_eq!(
            (x.matched, x.unmatched_a, x.unmatched_b, x.value),
            (0, 1, 0, Stat::Value(0.0))
        );
    }

    #[test]
    fn overlap_below_threshold_is_partial_overlap() {
        let pair = pair_of(&[coding(A, X, 0, 10, 0), coding(B, X, 8, 20, 1)], "1/2");
        assert_eq!(
            summary(&pair),
            [(
                DiscrepancyKind::PartialOverlap,
                Some((0, 10)),
                Some((8, 20)),
                "1/10".into()
            )]
        );
        assert_eq!(pair.segment_agreement[0].value, Stat::Value(0.0));
        assert_eq!(
            pair.segment_agreement[1].value,
            Stat::Undefined(UndefinedReason::NoVariation)
        );
    }

    #[test]
    fn matching_is_one_to_one_and_best_ratio_first() {
        // B's touching spans stay two segments; A's segment pairs with the larger overlap.
        let codings = [
            coding(A, X, 0, 10, 0),
            coding(B, X, 0, 6, 1),
            coding(B, X, 6, 10, 2),
        ];
        let pair = pair_of(&codings, "1/2");
        assert_eq!(
            summary(&pair),
            [
                (
                    DiscrepancyKind::Boundary,
                    Some((0, 10)),
                    Some((0, 6)),
                    "3/5".into()
                ),
                (DiscrepancyKind::OnlyB, None, Some((6, 10)), String::new()),
            ]
        );
        let x = pair.segment_agreement[0];
        assert_eq!((x.matched, x.unmatched_a, x.unmatched_b), (1, 0, 1));
    }

    #[test]
    fn a_segment_unites_overlapping_codings_and_lists_their_keys() {
        let codings = [
            coding(A, X, 3, 10, 7),
            coding(A, X, 0, 5, 3),
            coding(B, X, 0, 10, 1),
        ];
        let pair = pair_of(&codings, "1/2");
        let d = &pair.discrepancies[0];
        assert_eq!(d.kind, DiscrepancyKind::Agreement);
        assert_eq!(d.a.as_ref().map(|s| s.codings.clone()), Some(vec![3, 7]));
        assert_eq!(d.b.as_ref().map(|s| s.codings.clone()), Some(vec![1]));
    }

    #[test]
    fn threshold_is_exact_and_validated() {
        // 5/10 is exactly ½: a boundary at θ = ½, a partial overlap just above it.
        let codings = [coding(A, X, 0, 10, 0), coding(B, X, 0, 5, 1)];
        assert_eq!(
            pair_of(&codings, "1/2").discrepancies[0].kind,
            DiscrepancyKind::Boundary
        );
        assert_eq!(
            pair_of(&codings, "501/1000").discrepancies[0].kind,
            DiscrepancyKind::PartialOverlap
        );
        assert_eq!(
            pair_of(&codings, "1").discrepancies[0].kind,
            DiscrepancyKind::PartialOverlap
        );

        let units = TranscriptUnits::new("abc", &[]).expect("valid");
        let layers = [TranscriptLayers {
            units: &units,
            submitted: &[A, B],
            codings: &[],
        }];
        let study = Study::new(&[A, B], &[X], &layers).expect("valid");
        for bad in ["0", "3/2"] {
            let ratio: Ratio = bad.parse().expect("fraction");
            assert_eq!(
                study.discrepancies(ratio),
                Err(InputError::InvalidThreshold(ratio))
            );
        }
    }

    #[test]
    fn pairs_cover_submitted_coders_only() {
        let c = CoderId(30);
        let units = TranscriptUnits::new(&"y".repeat(20), &[]).expect("valid");
        let codings = [coding(A, X, 0, 5, 0), coding(c, X, 0, 5, 1)];
        let both = [TranscriptLayers {
            units: &units,
            submitted: &[A, B, c],
            codings: &codings,
        }];
        let study = Study::new(&[A, B, c], &[X], &both).expect("valid");
        let found = study.discrepancies(Ratio::default()).expect("valid");
        let pairs: Vec<(CoderId, CoderId)> = found.per_transcript[0]
            .pairs
            .iter()
            .map(|p| (p.coder_a, p.coder_b))
            .collect();
        assert_eq!(pairs, [(A, B), (A, c), (B, c)]);

        // C has not submitted: C's coding is blind and no pair with C is formed.
        let blind = [TranscriptLayers {
            units: &units,
            submitted: &[A, B],
            codings: &codings,
        }];
        let study = Study::new(&[A, B, c], &[X], &blind).expect("valid");
        let found = study.discrepancies(Ratio::default()).expect("valid");
        assert_eq!(found.per_transcript[0].pairs.len(), 1);
        assert_eq!(
            found.per_transcript[0].pairs[0].discrepancies[0].kind,
            DiscrepancyKind::OnlyA
        );
        assert_eq!(found.overall.len(), 3);
        assert_eq!(
            found.overall[1].segment_agreement[0].value,
            Stat::Undefined(UndefinedReason::NoVariation)
        );
    }

    #[test]
    fn span_helper_is_half_open() {
        assert_eq!(Span { start: 3, end: 7 }.len(), 4);
        assert!(Span { start: 3, end: 3 }.is_empty());
    }
}
