//! The whole report for one unit level: the presence/absence statistics of [`study`], the
//! unitized α of [`unitized`] and the discrepancy list of [`discrepancies`], composed. This
//! is the top of the module graph; the parts it composes do not import each other, only
//! the prepared [`Study`] they all read.
//!
//! [`study`]: super::study
//! [`unitized`]: super::unitized
//! [`discrepancies`]: super::discrepancies

use serde::{Deserialize, Serialize};

use super::discrepancies::Discrepancies;
use super::study::{Study, TranscriptLayers, UnitAgreement};
use super::types::{CodeId, CoderId, InputError, Ratio, UnitLevel};
use super::unitized::UnitizedAgreement;

/// The project settings that shape a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    #[serde(default)]
    pub level: UnitLevel,
    /// θ for segment matching (§6), as a fraction of the union; default `1/2`.
    #[serde(default)]
    pub match_threshold: Ratio,
}

/// Everything the agreement page shows for one unit level.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub units: UnitAgreement,
    pub unitized: UnitizedAgreement,
    pub discrepancies: Discrepancies,
}

/// Computes the whole report in one call; see [`Study`] to compute parts, or several unit
/// levels, without preparing the layers again.
pub fn report(
    coders: &[CoderId],
    codes: &[CodeId],
    transcripts: &[TranscriptLayers<'_>],
    options: &Options,
) -> Result<Report, InputError> {
    Study::new(coders, codes, transcripts)?.report(options)
}

impl Study<'_> {
    pub fn report(&self, options: &Options) -> Result<Report, InputError> {
        Ok(Report {
            units: self.unit_agreement(options.level),
            unitized: self.unitized_agreement(),
            discrepancies: self.discrepancies(options.match_threshold)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::agreement::fixtures::{assert_stat, load};
    use crate::agreement::{
        Coding, Coefficients, Discrepancy, DiscrepancyKind, Segment, Span, Stat, TranscriptUnits,
        TwoByTwo, UndefinedReason, UnitWarning,
    };
    use std::collections::HashMap;

    /// A synthetic span case of §9, as the module's input.
    struct SpanCase {
        case: Value,
        units: TranscriptUnits,
        coders: Vec<CoderId>,
        codes: Vec<CodeId>,
        codings: Vec<Coding>,
    }

    impl SpanCase {
        fn load(file: &str) -> Self {
            let case = load(file);
            let text = case["text"].as_str().expect("text");
            let units = TranscriptUnits::new(text, &[]).expect("canonical text");
            let names = |field: &str| -> Vec<String> {
                case[field]
                    .as_array()
                    .expect("names")
                    .iter()
                    .map(|v| v.as_str().expect("name").to_owned())
                    .collect()
            };
            let (coder_names, code_names) = (names("coders"), names("codes"));
            let index = |list: &[String], name: &Value| {
                let name = name.as_str().expect("name");
                u32::try_from(list.iter().position(|n| n == name).expect("known name"))
                    .expect("small")
            };
            let offset = |v: &Value| u32::try_from(v.as_u64().expect("offset")).expect("small");
            let codings = case["codings"]
                .as_array()
                .expect("codings")
                .iter()
                .enumerate()
                .map(|(key, c)| Coding {
                    coder: CoderId(index(&coder_names, &c["coder"])),
                    code: CodeId(index(&code_names, &c["code"])),
                    start: offset(&c["start"]),
                    end: offset(&c["end"]),
                    key: key as u64,
                })
                .collect();
            let ids = |n: usize| (0..n).map(|i| u32::try_from(i).expect("small"));
            Self {
                coders: ids(coder_names.len()).map(CoderId).collect(),
                codes: ids(code_names.len()).map(CodeId).collect(),
                units,
                codings,
                case,
            }
        }

        fn code_index(&self, name: &str) -> usize {
            self.case["codes"]
                .as_array()
                .expect("codes")
                .iter()
                .position(|n| n.as_str() == Some(name))
                .unwrap_or_else(|| panic!("unknown code {name}"))
        }

        fn study(&self) -> Study<'_> {
            let layers = [TranscriptLayers {
                units: &self.units,
                submitted: &self.coders,
                codings: &self.codings,
            }];
            Study::new(&self.coders, &self.codes, &layers).expect("valid case")
        }

        fn threshold(&self) -> Ratio {
            self.case["match_threshold"]
                .as_str()
                .expect("threshold")
                .parse()
                .expect("fraction")
        }
    }

    fn level(name: &str) -> UnitLevel {
        match name {
            "char" => UnitLevel::Character,
            "line" => UnitLevel::Line,
            "paragraph" => UnitLevel::Paragraph,
            other => panic!("unknown level {other}"),
        }
    }

    fn coefficient(c: &Coefficients, metric: &str) -> Stat {
        match metric {
            "percent_agreement" => c.percent_agreement,
            "cohen_kappa" => c.cohen_kappa,
            "brennan_prediger" => c.brennan_prediger,
            "krippendorff_alpha_nominal" => c.krippendorff_alpha_nominal,
            other => panic!("no check for metric {other}"),
        }
    }

    fn check_span_case(file: &str) {
        let case = SpanCase::load(file);
        let text = case.case["text"].as_str().expect("text");

        // Offsets are code points: lengths and quotes must line up exactly.
        assert_eq!(
            Some(u64::from(case.units.length())),
            case.case["text_length_code_points"].as_u64()
        );
        for (coding, raw) in case
            .codings
            .iter()
            .zip(case.case["codings"].as_array().expect("codings"))
        {
            let quote: String = text
                .chars()
                .skip(coding.start as usize)
                .take((coding.end - coding.start) as usize)
                .collect();
            assert_eq!(
                Some(quote.as_str()),
                raw["quote"].as_str(),
                "{file}: quote of {}",
                coding.key
            );
        }
        for (name, level) in [
            ("line", UnitLevel::Line),
            ("paragraph", UnitLevel::Paragraph),
        ] {
            let want: Vec<Span> = case.case["units"][name]
                .as_array()
                .expect("units")
                .iter()
                .map(|pair| Span {
                    start: u32::try_from(pair[0].as_u64().expect("start")).expect("small"),
                    end: u32::try_from(pair[1].as_u64().expect("end")).expect("small"),
                })
                .collect();
            assert_eq!(
                case.units.units(level),
                Some(want.as_slice()),
                "{file}: {name} units"
            );
        }

        let study = case.study();
        let by_level: HashMap<&str, UnitAgreement> = ["char", "line", "paragraph"]
            .into_iter()
            .map(|name| (name, study.unit_agreement(level(name))))
            .collect();
        let discrepancies = study
            .discrepancies(case.threshold())
            .expect("valid threshold");
        let pair = &discrepancies.per_transcript[0].pairs[0];
        let unitized = study.unitized_agreement();
        let exact = &case.case["expected_exact"];
        let mut checked = 0;

        for (code_name, metrics) in exact["per_code"].as_object().expect("per_code") {
            let code = case.code_index(code_name);
            for (key, want) in metrics.as_object().expect("metrics") {
                let (level_name, metric) = key.split_once('.').expect("level.metric");
                let got = if level_name == "segment" {
                    assert_eq!(metric, "percent_agreement");
                    pair.segment_agreement[code].value
                } else {
                    let table = &by_level[level_name].overall;
                    coefficient(&table.per_code[code].coefficients, metric)
                };
                assert_stat(got, want, &format!("{file}: {code_name} {key}"));
                checked += 1;
            }
        }
        for (key, want) in exact["pooled"].as_object().expect("pooled") {
            let (level_name, metric) = key.split_once('.').expect("level.metric");
            let got = coefficient(&by_level[level_name].overall.pooled.coefficients, metric);
            assert_stat(got, want, &format!("{file}: pooled {key}"));
            checked += 1;
        }
        for (key, want) in exact["unitized"].as_object().expect("unitized") {
            let (subject, metric) = key.rsplit_once('.').expect("subject.metric");
            let got = if let Some(domain) = subject.strip_prefix("domain:") {
                let codes: Vec<CodeId> = case.case["domains"][domain]
                    .as_array()
                    .expect("domain codes")
                    .iter()
                    .map(|name| case.codes[case.code_index(name.as_str().expect("name"))])
                    .collect();
                let alpha = study.domain_agreement(&codes).overall;
                match metric {
                    "u_alpha" => alpha.u_alpha,
                    "binary_u_alpha" => alpha.binary_u_alpha,
                    other => panic!("no check for {other}"),
                }
            } else {
                assert_eq!(metric, "binary_u_alpha");
                unitized.overall[case.code_index(subject)].binary_u_alpha
            };
            assert_stat(got, want, &format!("{file}: unitized {key}"));
            checked += 1;
        }
        assert!(checked > 50, "{file}: only {checked} values checked");

        let want: Vec<Value> = case.case["expected"]["discrepancies"]
            .as_array()
            .expect("list")
            .clone();
        let got: Vec<Value> = pair
            .discrepancies
            .iter()
            .map(|d| as_reference(d, &case))
            .collect();
        assert_eq!(got, want, "{file}: discrepancies");
    }

    /// A discrepancy in the reference data's notation.
    fn as_reference(d: &Discrepancy, case: &SpanCase) -> Value {
        let code_name = |seg: &Segment| case.case["codes"][seg.code.0 as usize].clone();
        let kind = serde_json::to_value(d.kind).expect("kind");
        let mut out = serde_json::Map::new();
        out.insert("kind".into(), kind);
        let primary = d.a.as_ref().or(d.b.as_ref()).expect("a segment");
        match (d.kind, &d.a, &d.b) {
            (DiscrepancyKind::DifferentCode, Some(a), Some(b)) => {
                out.insert("code_a".into(), code_name(a));
                out.insert("code_b".into(), code_name(b));
            }
            _ => {
                out.insert("code".into(), code_name(primary));
            }
        }
        if let Some(a) = &d.a {
            out.insert("a".into(), serde_json::to_value(&a.codings).expect("keys"));
        }
        if let Some(b) = &d.b {
            out.insert("b".into(), serde_json::to_value(&b.codings).expect("keys"));
        }
        if let Some(overlap) = d.overlap {
            out.insert("overlap".into(), Value::String(overlap.to_string()));
        }
        Value::Object(out)
    }

    #[test]
    fn span_case1_boundary_only_matches_reference() {
        check_span_case("span_case1_boundary_only.json");
    }

    #[test]
    fn span_case2_one_coder_only_matches_reference() {
        check_span_case("span_case2_one_coder_only.json");
    }

    #[test]
    fn span_case4_sparse_prevalence_matches_reference() {
        check_span_case("span_case4_sparse_prevalence.json");
    }

    const ANA: CoderId = CoderId(1);
    const BEN: CoderId = CoderId(2);
    const CAM: CoderId = CoderId(3);
    const TRUST: CodeId = CodeId(4);
    const COST: CodeId = CodeId(5);

    fn coding(coder: CoderId, code: CodeId, start: u32, end: u32, key: u64) -> Coding {
        Coding {
            coder,
            code,
            start,
            end,
            key,
        }
    }

    const FOUR_LINES: &str = "one line\ntwo line\n\nthree line\nfour line";

    #[test]
    fn code_nobody_used_is_reported_with_undefined_values() {
        let units = TranscriptUnits::new(FOUR_LINES, &[]).expect("valid");
        let codings = [coding(ANA, TRUST, 0, 3, 0), coding(BEN, TRUST, 1, 4, 1)];
        let layers = [TranscriptLayers {
            units: &units,
            submitted: &[ANA, BEN],
            codings: &codings,
        }];
        let study = Study::new(&[ANA, BEN], &[TRUST, COST], &layers).expect("valid");
        let lines = study.unit_agreement(UnitLevel::Line).overall;
        assert_eq!(lines.per_code.len(), 2);
        let cost = &lines.per_code[1];
        assert_eq!(cost.code, COST);
        assert_eq!(cost.coefficients.percent_agreement, Stat::Value(1.0));
        assert_eq!(cost.coefficients.brennan_prediger, Stat::Value(1.0));
        assert_eq!(cost.coefficients.gwet_ac1, Stat::Value(1.0));
        let undefined = Stat::Undefined(UndefinedReason::NoVariation);
        assert_eq!(cost.coefficients.cohen_kappa, undefined);
        assert_eq!(cost.coefficients.krippendorff_alpha_nominal, undefined);
        assert_eq!(
            cost.counts.table,
            Some(TwoByTwo {
                both: 0,
                only_a: 0,
                only_b: 0,
                neither: 4
            })
        );

        // TRUST: both coded line 1 of 4, so κ = 1; the macro mean counts TRUST only.
        let kappa = &lines.macro_mean.cohen_kappa;
        assert_eq!(
            (kappa.value, kappa.codes_defined, kappa.codes_total),
            (Some(1.0), 1, 2)
        );
        assert_eq!(kappa.undefined_reason, None);
        assert_eq!(kappa.undefined_codes, [COST]);
        assert_eq!(
            study.unitized_agreement().overall[1].binary_u_alpha,
            undefined
        );

        let json = serde_json::to_value(&lines).expect("serialisable");
        assert_eq!(
            json["per_code"][1]["coefficients"]["cohen_kappa"],
            serde_json::json!({"value": null, "undefined_reason": "no_variation"})
        );
        assert_eq!(
            json["per_code"][1]["coefficients"]["fleiss_kappa"],
            serde_json::json!({"value": null, "undefined_reason": "no_variation"}),
            "every coefficient has the one shape, whatever the number of coders"
        );
    }

    #[test]
    fn a_layer_not_submitted_is_missing_not_absent() {
        let units = TranscriptUnits::new(FOUR_LINES, &[]).expect("valid");
        let first = [coding(ANA, TRUST, 0, 3, 0), coding(BEN, TRUST, 1, 4, 1)];
        // Ben's coding here belongs to a layer still in progress: blind, so ignored.
        let second = [coding(ANA, TRUST, 9, 12, 2), coding(BEN, TRUST, 20, 25, 3)];
        let layers = [
            TranscriptLayers {
                units: &units,
                submitted: &[ANA, BEN],
                codings: &first,
            },
            TranscriptLayers {
                units: &units,
                submitted: &[ANA],
                codings: &second,
            },
        ];
        let study = Study::new(&[ANA, BEN], &[TRUST], &layers).expect("valid");
        let lines = study.unit_agreement(UnitLevel::Line);
        let trust = &lines.overall.per_code[0].counts;
        assert_eq!((trust.units, trust.pairable_units), (8, 4));
        assert_eq!(trust.coded_by, [2, 1]);
        assert_eq!(
            trust.table,
            Some(TwoByTwo {
                both: 1,
                only_a: 0,
                only_b: 0,
                neither: 3
            })
        );
        assert_eq!(lines.per_transcript[1].pairable_units, 0);
        assert_eq!(
            lines.per_transcript[1].per_code[0]
                .coefficients
                .percent_agreement,
            Stat::Undefined(UndefinedReason::NoPairableUnits)
        );
        let found = study.discrepancies(Ratio::default()).expect("valid");
        assert!(found.per_transcript[1].pairs.is_empty());
    }

    /// Twelve lines and no blank line: one paragraph.
    const ONE_PARAGRAPH: &str = "l01\nl02\nl03\nl04\nl05\nl06\nl07\nl08\nl09\nl10\nl11\nl12";

    #[test]
    fn a_level_with_one_unit_per_transcript_carries_a_warning() {
        let units = TranscriptUnits::new(ONE_PARAGRAPH, &[]).expect("valid");
        // Both coders code line 1 in both transcripts, Ben line 3 as well in the second.
        let first = [coding(ANA, TRUST, 0, 3, 0), coding(BEN, TRUST, 0, 3, 1)];
        let second = [
            coding(ANA, TRUST, 0, 3, 2),
            coding(BEN, TRUST, 0, 3, 3),
            coding(BEN, COST, 8, 11, 4),
        ];
        let layers = [
            TranscriptLayers {
                units: &units,
                submitted: &[ANA, BEN],
                codings: &first,
            },
            TranscriptLayers {
                units: &units,
                submitted: &[ANA, BEN],
                codings: &second,
            },
        ];
        let study = Study::new(&[ANA, BEN], &[TRUST, COST], &layers).expect("valid");
        let paragraphs = study.unit_agreement(UnitLevel::Paragraph);
        assert_eq!(
            paragraphs.overall.warning,
            Some(UnitWarning::TooFewUnits {
                pairable_units: 2,
                transcripts: 2,
                minimum: 20
            })
        );
        // The figures are still there: α is 1 over two units, which is why it warns.
        let trust = &paragraphs.overall.per_code[0].coefficients;
        assert_eq!(trust.percent_agreement, Stat::Value(1.0));
        for table in &paragraphs.per_transcript {
            assert_eq!(
                table.warning.map(|w| w.reason()),
                Some("too_few_units"),
                "one paragraph in each transcript"
            );
        }
        let json = serde_json::to_value(&paragraphs.overall).expect("json");
        assert_eq!(json["warning"]["reason"], "too_few_units");

        let lines = study.unit_agreement(UnitLevel::Line);
        assert_eq!(lines.overall.warning, None, "24 lines in two transcripts");
        assert_eq!(lines.per_transcript[0].warning, None);
        let json = serde_json::to_value(&lines.overall).expect("json");
        assert_eq!(json["warning"], Value::Null);
    }

    #[test]
    fn codes_present_in_every_unit_carry_a_warning() {
        let units = TranscriptUnits::new(ONE_PARAGRAPH, &[]).expect("valid");
        let whole = u32::try_from(ONE_PARAGRAPH.chars().count()).expect("short");
        // Ana codes the whole text, Ben all but the last line: every line has the code.
        let codings = [
            coding(ANA, TRUST, 0, whole, 0),
            coding(BEN, TRUST, 0, 43, 1),
        ];
        let layers = [TranscriptLayers {
            units: &units,
            submitted: &[ANA, BEN],
            codings: &codings,
        }];
        let study = Study::new(&[ANA, BEN], &[TRUST, COST], &layers).expect("valid");
        let lines = study.unit_agreement(UnitLevel::Line).overall;
        assert_eq!(
            lines.warning,
            Some(UnitWarning::CodesInEveryUnit {
                pairable_units: 12,
                codes: 1
            }),
            "COST, used by nobody, does not count"
        );
        // One line without the code, and the warning goes.
        let codings = [coding(ANA, TRUST, 0, 43, 0), coding(BEN, TRUST, 0, 43, 1)];
        let layers = [TranscriptLayers {
            units: &units,
            submitted: &[ANA, BEN],
            codings: &codings,
        }];
        let study = Study::new(&[ANA, BEN], &[TRUST], &layers).expect("valid");
        assert_eq!(study.unit_agreement(UnitLevel::Line).overall.warning, None);
    }

    #[test]
    fn three_coders_get_fleiss_instead_of_cohen() {
        let units = TranscriptUnits::new(FOUR_LINES, &[]).expect("valid");
        let codings = [
            coding(ANA, TRUST, 0, 3, 0),
            coding(BEN, TRUST, 0, 3, 1),
            coding(CAM, TRUST, 9, 12, 2),
        ];
        let layers = [TranscriptLayers {
            units: &units,
            submitted: &[ANA, BEN, CAM],
            codings: &codings,
        }];
        let study = Study::new(&[ANA, BEN, CAM], &[TRUST], &layers).expect("valid");
        let trust = &study.unit_agreement(UnitLevel::Line).overall.per_code[0];
        assert_eq!(
            trust.coefficients.cohen_kappa,
            Stat::Undefined(UndefinedReason::MoreThanTwoCoders)
        );
        assert!(trust.coefficients.fleiss_kappa.value().is_some());
        let means = &study.unit_agreement(UnitLevel::Line).overall.macro_mean;
        assert_eq!(
            (means.cohen_kappa.value, means.cohen_kappa.undefined_reason),
            (None, Some(UndefinedReason::MoreThanTwoCoders)),
            "a mean of undefined values says why"
        );
        assert_eq!(trust.counts.table, None);
        assert_eq!(trust.counts.coded_by, [1, 1, 1]);
    }

    #[test]
    fn invalid_input_is_refused() {
        let units = TranscriptUnits::new("short", &[]).expect("valid");
        for bad in [coding(ANA, TRUST, 2, 9, 41), coding(ANA, TRUST, 3, 3, 41)] {
            let codings = [bad];
            let layers = [TranscriptLayers {
                units: &units,
                submitted: &[ANA],
                codings: &codings,
            }];
            assert!(matches!(
                Study::new(&[ANA, BEN], &[TRUST], &layers),
                Err(InputError::InvalidSpan {
                    transcript: 0,
                    key: 41,
                    ..
                })
            ));
        }
        assert_eq!(
            Study::new(&[ANA, ANA], &[TRUST], &[]).err(),
            Some(InputError::DuplicateCoder(ANA))
        );
        assert_eq!(
            Study::new(&[ANA], &[COST, COST], &[]).err(),
            Some(InputError::DuplicateCode(COST))
        );
    }

    #[test]
    fn options_default_to_lines_and_half_the_union() {
        let options: Options = serde_json::from_str("{}").expect("defaults");
        assert_eq!(
            options,
            Options {
                level: UnitLevel::Line,
                match_threshold: Ratio::default()
            }
        );
        let options: Options =
            serde_json::from_str(r#"{"level": "turn", "match_threshold": "2/3"}"#).expect("valid");
        assert_eq!(options.level, UnitLevel::SpeakerTurn);
        assert_eq!(options.match_threshold.to_string(), "2/3");
    }

    mod properties {
        use proptest::prelude::*;
        use proptest::sample::Index;

        use super::*;
        use crate::agreement::coefficients::Metric;
        use crate::agreement::{
            ReliabilityData, brennan_prediger, cohen_kappa, fleiss_kappa, gwet_ac1,
            krippendorff_alpha, percent_agreement,
        };

        /// Pieces with multi-byte code points, combining marks, blank lines and sentence ends.
        const PIECES: [&str; 13] = [
            "a", "é", "👋", " ", "—", "Zoë", "\n", "\n\n", ". ", "? ", "x\u{301}", "Bo", "\t",
        ];

        #[derive(Debug, Clone)]
        struct Case {
            coders: usize,
            codes: usize,
            transcripts: Vec<Transcript>,
        }

        #[derive(Debug, Clone)]
        struct Transcript {
            text: String,
            submitted: Vec<bool>,
            /// (coder, code, start, length) before fitting to the text.
            codings: Vec<(usize, usize, Index, u32)>,
        }

        fn transcript(
            coders: usize,
            codes: usize,
            max_len: u32,
        ) -> impl Strategy<Value = Transcript> {
            (
                prop::collection::vec(prop::sample::select(PIECES.to_vec()), 1..40),
                prop::collection::vec(prop::bool::weighted(0.8), coders),
                prop::collection::vec((0..coders, 0..codes, any::<Index>(), 1..max_len), 0..14),
            )
                .prop_map(|(pieces, submitted, codings)| Transcript {
                    text: pieces.concat(),
                    submitted,
                    codings,
                })
        }

        fn case(
            coders: std::ops::RangeInclusive<usize>,
            max_len: u32,
        ) -> impl Strategy<Value = Case> {
            (coders, 1..=3usize).prop_flat_map(move |(coders, codes)| {
                prop::collection::vec(transcript(coders, codes, max_len), 1..=2).prop_map(
                    move |transcripts| Case {
                        coders,
                        codes,
                        transcripts,
                    },
                )
            })
        }

        /// The case as the module's input: units, submitted coders and codings per transcript.
        struct Built {
            coders: Vec<CoderId>,
            codes: Vec<CodeId>,
            units: Vec<TranscriptUnits>,
            submitted: Vec<Vec<CoderId>>,
            codings: Vec<Vec<Coding>>,
        }

        impl Built {
            fn new(case: &Case) -> Self {
                let coders: Vec<CoderId> =
                    (0..case.coders).map(|i| CoderId(100 + i as u32)).collect();
                let codes: Vec<CodeId> =
                    (0..case.codes).map(|i| CodeId(7 * i as u32 + 3)).collect();
                let mut key = 0;
                let mut built = Self {
                    coders,
                    codes,
                    units: vec![],
                    submitted: vec![],
                    codings: vec![],
                };
                for t in &case.transcripts {
                    let units = TranscriptUnits::new(&t.text, &[]).expect("valid text");
                    let length = units.length();
                    built.submitted.push(
                        t.submitted
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| **s)
                            .map(|(i, _)| built.coders[i])
                            .collect(),
                    );
                    built.codings.push(
                        t.codings
                            .iter()
                            .map(|&(coder, code, start, len)| {
                                let start = start.index(length as usize) as u32;
                                key += 1;
                                Coding {
                                    coder: built.coders[coder],
                                    code: built.codes[code],
                                    start,
                                    end: (start + len).min(length),
                                    key,
                                }
                            })
                            .collect(),
                    );
                    built.units.push(units);
                }
                built
            }

            fn layers(&self) -> Vec<TranscriptLayers<'_>> {
                (0..self.units.len())
                    .map(|t| TranscriptLayers {
                        units: &self.units[t],
                        submitted: &self.submitted[t],
                        codings: &self.codings[t],
                    })
                    .collect()
            }

            fn study(&self) -> Study<'_> {
                Study::new(&self.coders, &self.codes, &self.layers()).expect("valid case")
            }

            /// The reliability matrix of `codes`, built unit by unit with the §4.1 presence
            /// rule written out directly.
            fn matrix(&self, level: UnitLevel, codes: &[CodeId]) -> ReliabilityData {
                let mut rows = Vec::new();
                for &code in codes {
                    for (t, units) in self.units.iter().enumerate() {
                        let spans: Vec<Span> = match units.units(level) {
                            Some(spans) => spans.to_vec(),
                            None => (0..units.length())
                                .map(|x| Span {
                                    start: x,
                                    end: x + 1,
                                })
                                .collect(),
                        };
                        for unit in spans {
                            rows.push(
                                self.coders
                                    .iter()
                                    .map(|coder| {
                                        self.submitted[t].contains(coder).then(|| {
                                            u32::from(self.codings[t].iter().any(|c| {
                                                c.coder == *coder
                                                    && c.code == code
                                                    && c.start < unit.end
                                                    && unit.start < c.end
                                            }))
                                        })
                                    })
                                    .collect(),
                            );
                        }
                    }
                }
                ReliabilityData::from_units(2, self.coders.len(), &rows).expect("binary")
            }
        }

        fn same(got: Stat, want: Stat) -> bool {
            match (got, want) {
                (Stat::Value(a), Stat::Value(b)) => (a - b).abs() <= 1e-9,
                _ => got == want,
            }
        }

        fn check_against_matrix(
            c: &Coefficients,
            data: &ReliabilityData,
            coders: usize,
        ) -> Result<(), TestCaseError> {
            prop_assert!(
                same(c.percent_agreement, percent_agreement(data)),
                "PA {:?}",
                c
            );
            prop_assert!(
                same(c.brennan_prediger, brennan_prediger(data)),
                "BP {:?}",
                c
            );
            prop_assert!(same(c.gwet_ac1, gwet_ac1(data)), "AC1 {:?}", c);
            let alpha = krippendorff_alpha(data, Metric::Nominal).expect("nominal");
            prop_assert!(
                same(c.krippendorff_alpha_nominal, alpha),
                "α {:?} vs {:?}",
                c,
                alpha
            );
            match coders {
                2 => {
                    let kappa = cohen_kappa(&data.contingency_table(0, 1));
                    prop_assert!(same(c.cohen_kappa, kappa), "κ {:?} vs {:?}", c, kappa);
                }
                _ => prop_assert_eq!(
                    c.cohen_kappa,
                    Stat::Undefined(UndefinedReason::MoreThanTwoCoders)
                ),
            }
            let kappa = fleiss_kappa(data);
            prop_assert!(same(c.fleiss_kappa, kappa), "Fleiss {:?}", c);
            Ok(())
        }

        fn report_json(built: &Built) -> Value {
            let study = built.study();
            let levels: Vec<UnitAgreement> = UnitLevel::ALL
                .iter()
                .map(|&l| study.unit_agreement(l))
                .collect();
            serde_json::json!({
                "levels": levels,
                "unitized": study.unitized_agreement(),
                "domain": study.domain_agreement(&built.codes),
                "discrepancies": study.discrepancies(Ratio::default()).expect("valid"),
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]

            #[test]
            fn statistics_equal_the_unit_by_unit_reliability_matrix(case in case(2..=4, 25)) {
                let built = Built::new(&case);
                let study = built.study();
                for level in UnitLevel::ALL {
                    let table = study.unit_agreement(level).overall;
                    for (i, code) in built.codes.iter().enumerate() {
                        let data = built.matrix(level, &[*code]);
                        check_against_matrix(&table.per_code[i].coefficients, &data, case.coders)?;
                    }
                    let pooled = built.matrix(level, &built.codes);
                    check_against_matrix(&table.pooled.coefficients, &pooled, case.coders)?;
                    prop_assert_eq!(table.pooled.counts.units, pooled.units() as u64);
                }
            }

            #[test]
            fn identical_layers_give_one_or_undefined_never_less(case in case(2..=2, 25)) {
                let mut built = Built::new(&case);
                for (t, codings) in built.codings.iter_mut().enumerate() {
                    let copies: Vec<Coding> = codings
                        .iter()
                        .map(|c| Coding { coder: built.coders[1 - built.coders.iter().position(|x| *x == c.coder).expect("known")], key: c.key + 1000, ..*c })
                        .collect();
                    codings.extend(copies);
                    built.submitted[t] = built.coders.clone();
                }
                let study = built.study();
                let perfect = |s: Stat| s.value().is_none_or(|v| v == 1.0);
                for level in UnitLevel::ALL {
                    let table = study.unit_agreement(level).overall;
                    for c in table.per_code.iter().map(|c| &c.coefficients).chain([&table.pooled.coefficients]) {
                        prop_assert!(perfect(c.krippendorff_alpha_nominal), "{:?}", c);
                        prop_assert!(perfect(c.cohen_kappa) && perfect(c.fleiss_kappa), "{:?}", c);
                        prop_assert!(perfect(c.gwet_ac1) && perfect(c.brennan_prediger), "{:?}", c);
                        prop_assert!(perfect(c.percent_agreement), "{:?}", c);
                    }
                }
                for code in study.unitized_agreement().overall {
                    prop_assert!(perfect(code.binary_u_alpha), "{:?}", code);
                }
                let found = study.discrepancies(Ratio::default()).expect("valid");
                for pair in found.per_transcript.iter().flat_map(|t| &t.pairs) {
                    prop_assert!(pair.discrepancies.iter().all(|d| d.kind == DiscrepancyKind::Agreement));
                }
            }

            #[test]
            fn swapping_coders_changes_no_statistic(case in case(2..=3, 25)) {
                let built = Built::new(&case);
                let mut swapped = Built::new(&case);
                swapped.coders.reverse();
                let (one, other) = (built.study(), swapped.study());
                for level in UnitLevel::ALL {
                    let (a, b) = (one.unit_agreement(level).overall, other.unit_agreement(level).overall);
                    for (x, y) in a.per_code.iter().chain([&a.per_code[0]]).zip(b.per_code.iter().chain([&b.per_code[0]])) {
                        prop_assert_eq!(x.coefficients, y.coefficients);
                        let mut reversed = y.counts.coded_by.clone();
                        reversed.reverse();
                        prop_assert_eq!(&x.counts.coded_by, &reversed);
                    }
                    prop_assert_eq!(a.pooled.coefficients, b.pooled.coefficients);
                    prop_assert_eq!(a.macro_mean, b.macro_mean);
                }
                prop_assert_eq!(
                    serde_json::to_value(one.unitized_agreement()).expect("json"),
                    serde_json::to_value(other.unitized_agreement()).expect("json")
                );
            }

            #[test]
            fn swapping_two_coders_mirrors_the_discrepancy_list(case in case(2..=2, 25)) {
                let built = Built::new(&case);
                let mut swapped = Built::new(&case);
                swapped.coders.reverse();
                let one = built.study().discrepancies(Ratio::default()).expect("valid");
                let other = swapped.study().discrepancies(Ratio::default()).expect("valid");
                for (x, y) in one.per_transcript.iter().zip(&other.per_transcript) {
                    let mirror = |d: &Discrepancy| {
                        let kind = match d.kind {
                            DiscrepancyKind::OnlyA => DiscrepancyKind::OnlyB,
                            DiscrepancyKind::OnlyB => DiscrepancyKind::OnlyA,
                            kind => kind,
                        };
                        (kind, d.b.clone(), d.a.clone(), d.overlap)
                    };
                    let as_tuple = |d: &Discrepancy| (d.kind, d.a.clone(), d.b.clone(), d.overlap);
                    let mut left: Vec<_> = x.pairs.iter().flat_map(|p| &p.discrepancies).map(mirror).collect();
                    let mut right: Vec<_> = y.pairs.iter().flat_map(|p| &p.discrepancies).map(as_tuple).collect();
                    let key = |t: &(DiscrepancyKind, Option<Segment>, Option<Segment>, Option<Ratio>)| {
                        (t.0, t.1.as_ref().map(|s| (s.code, s.start)), t.2.as_ref().map(|s| (s.code, s.start)))
                    };
                    left.sort_by_key(key);
                    right.sort_by_key(key);
                    prop_assert_eq!(left, right);
                }
            }

            #[test]
            fn results_do_not_depend_on_the_order_of_codings(case in case(2..=3, 25), seed in any::<u64>()) {
                let built = Built::new(&case);
                let mut shuffled = Built::new(&case);
                let mut state = seed | 1;
                for codings in &mut shuffled.codings {
                    for i in (1..codings.len()).rev() {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        codings.swap(i, (state >> 33) as usize % (i + 1));
                    }
                }
                prop_assert_eq!(report_json(&built), report_json(&shuffled));
            }

            #[test]
            fn unitized_alpha_of_one_character_codings_is_character_alpha(case in case(2..=4, 2)) {
                // Codings of length 1 make every unit one character long (§5.4).
                let built = Built::new(&case);
                let study = built.study();
                let characters = study.unit_agreement(UnitLevel::Character).overall;
                for (code, unitized) in characters.per_code.iter().zip(study.unitized_agreement().overall) {
                    prop_assert!(
                        same(unitized.binary_u_alpha, code.coefficients.krippendorff_alpha_nominal),
                        "{:?} vs {:?}", unitized, code.coefficients
                    );
                }
            }

            #[test]
            fn lines_and_paragraphs_are_found_in_code_points(
                pieces in prop::collection::vec(prop::sample::select(PIECES.to_vec()), 0..60)
            ) {
                let text = pieces.concat();
                let units = TranscriptUnits::new(&text, &[]).expect("valid");
                let chars: Vec<char> = text.chars().collect();
                prop_assert_eq!(units.length() as usize, chars.len());
                let mut lines = Vec::new();
                let mut start = 0;
                for (i, &c) in chars.iter().chain(['\n'].iter()).enumerate() {
                    if c == '\n' {
                        if chars[start..i].iter().any(|c| !c.is_whitespace()) {
                            lines.push(Span { start: start as u32, end: i as u32 });
                        }
                        start = i + 1;
                    }
                }
                prop_assert_eq!(units.units(UnitLevel::Line), Some(lines.as_slice()));
                // Sentences tile the non-blank lines' visible characters, each inside one line.
                let sentences = units.units(UnitLevel::Sentence).expect("sentences");
                for s in sentences {
                    prop_assert!(lines.iter().any(|l| l.start <= s.start && s.end <= l.end));
                }
                let visible = |spans: &[Span]| -> usize {
                    spans.iter().map(|s| chars[s.start as usize..s.end as usize].iter().filter(|c| !c.is_whitespace()).count()).sum()
                };
                prop_assert_eq!(visible(sentences), visible(&lines));
                let paragraphs = units.units(UnitLevel::Paragraph).expect("paragraphs");
                prop_assert_eq!(visible(paragraphs), visible(&lines));
            }
        }
    }
}
