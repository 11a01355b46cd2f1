//! The agreement report as `/api/v1` answers it: the report with every coding a
//! discrepancy points at given by its coding id, not by the statistics module's key.

use serde::Serialize;

use super::report::ProjectReport;
use crate::agreement::{
    CodeId, CoderId, Discrepancy, DiscrepancyKind, PairSegmentAgreement, Ratio, Segment,
    SegmentAgreement, UnitAgreement, UnitizedAgreement,
};
use crate::db::ids::CodingId;

#[derive(Serialize)]
pub struct AgreementJson<'a> {
    #[serde(flatten)]
    base: &'a ProjectReport,
    report: ReportJson<'a>,
}

#[derive(Serialize)]
struct ReportJson<'a> {
    units: &'a UnitAgreement,
    unitized: &'a UnitizedAgreement,
    discrepancies: DiscrepanciesJson<'a>,
}

#[derive(Serialize)]
struct DiscrepanciesJson<'a> {
    match_threshold: Ratio,
    overall: &'a [PairSegmentAgreement],
    per_transcript: Vec<TranscriptJson<'a>>,
}

#[derive(Serialize)]
struct TranscriptJson<'a> {
    pairs: Vec<PairJson<'a>>,
}

#[derive(Serialize)]
struct PairJson<'a> {
    coder_a: CoderId,
    coder_b: CoderId,
    discrepancies: Vec<DiscrepancyJson>,
    segment_agreement: &'a [SegmentAgreement],
}

#[derive(Serialize)]
struct DiscrepancyJson {
    kind: DiscrepancyKind,
    a: Option<SegmentJson>,
    b: Option<SegmentJson>,
    /// Intersection over union, exact: `"21/25"` (the reconciliation API's form too).
    overlap: Option<Ratio>,
}

#[derive(Serialize)]
struct SegmentJson {
    code: CodeId,
    start: u32,
    end: u32,
    /// The codings united in this segment.
    codings: Vec<CodingId>,
}

impl<'a> AgreementJson<'a> {
    pub fn new(report: &'a ProjectReport) -> Self {
        let segment = |s: &Option<Segment>| {
            s.as_ref().map(|s| SegmentJson {
                code: s.code,
                start: s.start,
                end: s.end,
                codings: s
                    .codings
                    .iter()
                    .filter_map(|&key| report.codings.get(key as usize).copied())
                    .collect(),
            })
        };
        let discrepancy = |d: &Discrepancy| DiscrepancyJson {
            kind: d.kind,
            a: segment(&d.a),
            b: segment(&d.b),
            overlap: d.overlap,
        };
        let found = &report.report.discrepancies;
        Self {
            base: report,
            report: ReportJson {
                units: &report.report.units,
                unitized: &report.report.unitized,
                discrepancies: DiscrepanciesJson {
                    match_threshold: found.match_threshold,
                    overall: &found.overall,
                    per_transcript: found
                        .per_transcript
                        .iter()
                        .map(|t| TranscriptJson {
                            pairs: t
                                .pairs
                                .iter()
                                .map(|p| PairJson {
                                    coder_a: p.coder_a,
                                    coder_b: p.coder_b,
                                    discrepancies: p
                                        .discrepancies
                                        .iter()
                                        .map(discrepancy)
                                        .collect(),
                                    segment_agreement: &p.segment_agreement,
                                })
                                .collect(),
                        })
                        .collect(),
                },
            },
        }
    }
}
