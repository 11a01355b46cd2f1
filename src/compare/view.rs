//! The report as the pages show it: formatted cells, the chart, discrepancies.

use crate::agreement::{
    AgreementTable, Coefficients, Discrepancy, DiscrepancyKind, MIN_UNITS_PER_TRANSCRIPT, Segment,
    Stat, UndefinedReason, UnitCounts, UnitWarning,
};

use super::report::ProjectReport;

pub struct Cell {
    pub text: String,
    /// Why a value is undefined, or why it says little, shown on hover.
    pub title: String,
    /// For sorting: the number, or empty.
    pub sort: String,
    /// A value over too few units (the table's warning applies to it).
    pub marked: bool,
}

fn reason(r: UndefinedReason) -> &'static str {
    match r {
        UndefinedReason::NoPairableUnits => "undefined: no unit was coded by two coders",
        UndefinedReason::NoVariation => {
            "undefined: every unit has the same value, so chance agreement is total"
        }
        UndefinedReason::FewerThanTwoCategories => "undefined: fewer than two categories",
        UndefinedReason::FewerThanTwoCoders => "undefined: fewer than two coders",
        UndefinedReason::MoreThanTwoCoders => "undefined: Cohen's κ compares two coders",
        UndefinedReason::NoDefinedCodes => "undefined: no code has a defined value",
        UndefinedReason::OverlappingValuesInDomain => "undefined: codes of the domain overlap",
    }
}

pub fn stat(s: Stat) -> Cell {
    match s {
        Stat::Value(v) => Cell {
            text: format!("{v:.3}"),
            title: String::new(),
            sort: format!("{v}"),
            marked: false,
        },
        Stat::Undefined(r) => Cell {
            text: "–".into(),
            title: reason(r).into(),
            sort: String::new(),
            marked: false,
        },
    }
}

/// A value of a table with a warning: marked, and the hover says why.
fn marked(cell: Cell, warning: &UnitWarning) -> Cell {
    let why = format!("over too few units: {}", warning_text(warning));
    Cell {
        title: if cell.title.is_empty() {
            why
        } else {
            format!("{}; {why}", cell.title)
        },
        marked: true,
        ..cell
    }
}

fn count(n: u64) -> Cell {
    Cell {
        text: n.to_string(),
        title: String::new(),
        sort: n.to_string(),
        marked: false,
    }
}

fn blank() -> Cell {
    Cell {
        text: String::new(),
        title: String::new(),
        sort: String::new(),
        marked: false,
    }
}

/// What a table's warning means, in a sentence the page and the hover share.
fn warning_text(warning: &UnitWarning) -> String {
    match *warning {
        UnitWarning::TooFewUnits {
            pairable_units,
            transcripts,
            minimum,
        } => {
            let in_all = if transcripts > 1 {
                format!(" ({minimum} in all)")
            } else {
                String::new()
            };
            format!(
                "only {pairable_units} unit(s) in {transcripts} transcript(s) are compared, \
                 fewer than {MIN_UNITS_PER_TRANSCRIPT} per transcript{in_all}"
            )
        }
        UnitWarning::CodesInEveryUnit { pairable_units, .. } => format!(
            "every code used is present in each of the {pairable_units} unit(s) compared, so \
             the figures say only whether the coders used a code, not where"
        ),
    }
}

/// The warning shown above a table whose values rest on too few units.
pub fn warning(report: &ProjectReport, transcript: Option<usize>) -> Option<String> {
    let table = table_of(report, transcript)?;
    let warning = table.warning.as_ref()?;
    Some(format!(
        "At the {} level these figures say little: {}. Values marked * rest on these units \
         and may be 1 or 0 by chance; choose a smaller unit.",
        super::report::level_name(report.level),
        warning_text(warning)
    ))
}

fn table_of(report: &ProjectReport, transcript: Option<usize>) -> Option<&AgreementTable> {
    let units = &report.report.units;
    match transcript {
        Some(i) => units.per_transcript.get(i),
        None => Some(&units.overall),
    }
}

/// Whether the 2×2 columns (both, only A, only B, neither) apply: exactly two coders.
fn two_coders(report: &ProjectReport) -> bool {
    report.coders.len() == 2
}

pub struct Row {
    pub name: String,
    pub color: String,
    pub pooled: bool,
    pub cells: Vec<Cell>,
}

/// A column heading: short enough for the table to fit a 1440 px screen, with the
/// full name on hover.
pub struct Header {
    pub text: String,
    pub title: String,
    /// A coder's name, which may wrap; the other headings stay on one line.
    pub coder: bool,
}

fn header(text: &str, title: &str) -> Header {
    Header {
        text: text.to_owned(),
        title: title.to_owned(),
        coder: false,
    }
}

pub fn headers(report: &ProjectReport) -> Vec<Header> {
    let mut h = vec![header(
        "Units",
        "Units compared (coded by two or more coders)",
    )];
    if two_coders(report) {
        let (a, b) = (&report.coders[0].name, &report.coders[1].name);
        h.extend([
            header("Both", "Units both coders coded"),
            header("Only A", &format!("Units only {a} (A) coded")),
            header("Only B", &format!("Units only {b} (B) coded")),
            header("Neither", "Units neither coder coded"),
        ]);
    }
    for c in &report.coders {
        h.push(Header {
            text: c.name.clone(),
            title: format!("Units {} coded", c.name),
            coder: true,
        });
    }
    let kappa = if two_coders(report) {
        header("Cohen κ", "Cohen's κ")
    } else {
        header("Fleiss κ", "Fleiss' κ")
    };
    h.extend([
        header("Agreement", "Percent agreement"),
        kappa,
        header("BP κ", "Brennan–Prediger κ"),
        header("α", "Krippendorff's α (nominal)"),
        header("AC1", "Gwet's AC1"),
        header("|uα", "Krippendorff's binary unitized α, on characters"),
    ]);
    h
}

fn cells(
    counts: &UnitCounts,
    co: &Coefficients,
    u_alpha: Option<Stat>,
    coders: usize,
    warning: Option<&UnitWarning>,
) -> Vec<Cell> {
    let mut cells = vec![count(counts.pairable_units)];
    if coders == 2 {
        match counts.table {
            Some(t) => cells.extend([
                count(t.both),
                count(t.only_a),
                count(t.only_b),
                count(t.neither),
            ]),
            None => cells.extend((0..4).map(|_| blank())),
        }
    }
    for i in 0..coders {
        cells.push(
            counts
                .coded_by
                .get(i)
                .copied()
                .map(count)
                .unwrap_or_else(blank),
        );
    }
    let kappa = if coders == 2 {
        co.cohen_kappa
    } else {
        co.fleiss_kappa
    };
    // The unit-level values; |uα is on the characters and keeps no mark.
    let values = [
        co.percent_agreement,
        kappa,
        co.brennan_prediger,
        co.krippendorff_alpha_nominal,
        co.gwet_ac1,
    ];
    cells.extend(values.into_iter().map(|value| match warning {
        Some(warning) => marked(stat(value), warning),
        None => stat(value),
    }));
    cells.push(u_alpha.map(stat).unwrap_or_else(blank));
    cells
}

/// The pooled row first, then each agreed code. `transcript` picks one
/// included transcript's table instead of the pooled one.
pub fn rows(report: &ProjectReport, transcript: Option<usize>) -> Vec<Row> {
    let units = &report.report.units;
    let table = match transcript {
        Some(i) => &units.per_transcript[i],
        None => &units.overall,
    };
    let unitized = match transcript {
        Some(i) => report
            .report
            .unitized
            .per_transcript
            .get(i)
            .map(Vec::as_slice)
            .unwrap_or(&[]),
        None => report.report.unitized.overall.as_slice(),
    };
    let n = report.coders.len();
    let warning = table.warning.as_ref();
    let mut rows = vec![Row {
        name: "All codes (pooled)".into(),
        color: String::new(),
        pooled: true,
        cells: cells(
            &table.pooled.counts,
            &table.pooled.coefficients,
            None,
            n,
            warning,
        ),
    }];
    for c in &table.per_code {
        let info = &report.codes[c.code.0 as usize];
        let u = unitized
            .iter()
            .find(|u| u.code == c.code)
            .map(|u| u.binary_u_alpha);
        rows.push(Row {
            name: info.name.clone(),
            color: info.color.clone(),
            pooled: false,
            cells: cells(&c.counts, &c.coefficients, u, n, warning),
        });
    }
    rows
}

pub struct Bar {
    pub name: String,
    pub y: u32,
    pub width: u32,
    pub label: String,
    pub color: String,
}

pub struct Chart {
    pub height: u32,
    pub bars: Vec<Bar>,
    /// x of the 0.667 and 0.800 guidance lines.
    pub low: u32,
    pub high: u32,
    pub width: u32,
    pub left: u32,
}

/// Krippendorff's α per code as horizontal bars from 0 to 1.
pub fn chart(report: &ProjectReport, transcript: Option<usize>) -> Chart {
    let (left, width) = (220u32, 420u32);
    let table = match transcript {
        Some(i) => &report.report.units.per_transcript[i],
        None => &report.report.units.overall,
    };
    let bars: Vec<Bar> = table
        .per_code
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let info = &report.codes[c.code.0 as usize];
            let alpha = c.coefficients.krippendorff_alpha_nominal;
            let value = alpha.value().unwrap_or(0.0).clamp(0.0, 1.0);
            Bar {
                name: info.name.chars().take(30).collect(),
                y: 24 + i as u32 * 20,
                width: (value * f64::from(width)).round() as u32,
                label: alpha
                    .value()
                    .map(|v| format!("{v:.3}"))
                    .unwrap_or_else(|| "undefined".into()),
                color: info.color.clone(),
            }
        })
        .collect();
    let x = |v: f64| left + (v * f64::from(width)).round() as u32;
    Chart {
        height: 30 + bars.len() as u32 * 20,
        bars,
        low: x(0.667),
        high: x(0.8),
        width,
        left,
    }
}

/// One pair of coders' discrepancies in a transcript, grouped by kind.
pub struct PairView {
    /// "Ada (A) and Ben (B)".
    pub heading: String,
    pub groups: Vec<DiscrepancyView>,
}

pub struct DiscrepancyView {
    pub kind: &'static str,
    pub label: &'static str,
    pub entries: Vec<Entry>,
}

pub struct Entry {
    pub line: usize,
    pub a: String,
    pub b: String,
    pub overlap: String,
}

/// The group a discrepancy is listed in: its kind, and for a partial overlap whether
/// the two segments carry the same code.
fn kind_label(d: &Discrepancy) -> (&'static str, &'static str) {
    match d.kind {
        DiscrepancyKind::Agreement => ("agreement", "Agreements"),
        DiscrepancyKind::Boundary => ("boundary", "Same code, different boundaries"),
        DiscrepancyKind::DifferentCode => ("different_code", "Same span, different codes"),
        DiscrepancyKind::PartialOverlap => match (&d.a, &d.b) {
            (Some(a), Some(b)) if a.code == b.code => {
                ("partial_overlap_same_code", "Partly overlapping, same code")
            }
            _ => ("partial_overlap", "Partly overlapping, different codes"),
        },
        DiscrepancyKind::OnlyA => ("only_a", "Coded by A only"),
        DiscrepancyKind::OnlyB => ("only_b", "Coded by B only"),
    }
}

/// Every pair of coders' discrepancies in one transcript (one pair for two coders).
pub fn discrepancies(report: &ProjectReport, transcript: usize) -> Vec<PairView> {
    let Some(found) = report.report.discrepancies.per_transcript.get(transcript) else {
        return Vec::new();
    };
    let describe = |s: &Option<Segment>| {
        s.as_ref()
            .map(|s| format!("{} [{}–{})", report.code_name(s.code), s.start, s.end))
            .unwrap_or_default()
    };
    let mut pairs = Vec::new();
    for pair in &found.pairs {
        let mut groups: Vec<DiscrepancyView> = Vec::new();
        for d in &pair.discrepancies {
            let (kind, label) = kind_label(d);
            let start = d.a.as_ref().or(d.b.as_ref()).map(|s| s.start).unwrap_or(0);
            let entry = Entry {
                line: report.line_of(transcript, start),
                a: describe(&d.a),
                b: describe(&d.b),
                overlap: d
                    .overlap
                    .map(|r| format!("{:.0}%", r.as_f64() * 100.0))
                    .unwrap_or_default(),
            };
            match groups.iter_mut().find(|g| g.kind == kind) {
                Some(group) => group.entries.push(entry),
                None => groups.push(DiscrepancyView {
                    kind,
                    label,
                    entries: vec![entry],
                }),
            }
        }
        pairs.push(PairView {
            heading: format!(
                "{} (A) and {} (B)",
                report.coder_name(pair.coder_a),
                report.coder_name(pair.coder_b)
            ),
            groups,
        });
    }
    pairs
}

/// A compared coder as the page names them: separator before, name, and "(A)"/"(B)"
/// only when there are exactly two (with more, A and B would name nothing on the
/// pooled page).
pub struct Compared {
    pub before: &'static str,
    pub name: String,
    pub role: &'static str,
}

pub fn compared(report: &ProjectReport) -> Vec<Compared> {
    let n = report.coders.len();
    report
        .coders
        .iter()
        .enumerate()
        .map(|(i, c)| Compared {
            before: match i {
                0 => "",
                i if i + 1 == n => " and ",
                _ => ", ",
            },
            name: c.name.clone(),
            role: match (n, i) {
                (2, 0) => " (A)",
                (2, _) => " (B)",
                _ => "",
            },
        })
        .collect()
}

/// "Mean α 0.667 over 2 of 3 codes": each macro mean with how many codes it averages.
pub fn macro_means(report: &ProjectReport, transcript: Option<usize>) -> Vec<String> {
    let Some(table) = table_of(report, transcript) else {
        return Vec::new();
    };
    let m = &table.macro_mean;
    let kappa = if two_coders(report) {
        ("Cohen κ", &m.cohen_kappa)
    } else {
        ("Fleiss κ", &m.fleiss_kappa)
    };
    let mark = if table.warning.is_some() { " *" } else { "" };
    [
        ("Agreement", &m.percent_agreement),
        ("Krippendorff α", &m.krippendorff_alpha_nominal),
        kappa,
    ]
    .into_iter()
    .map(|(name, mean)| {
        let value = mean
            .value
            .map(|v| format!("{v:.3}"))
            .unwrap_or_else(|| "undefined".into());
        format!(
            "{name}: mean {value}{mark} over {} of {} codes",
            mean.codes_defined, mean.codes_total
        )
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::{CodeId, Ratio};

    fn segment(code: u32) -> Option<Segment> {
        Some(Segment {
            code: CodeId(code),
            start: 0,
            end: 10,
            codings: vec![0],
        })
    }

    #[test]
    fn a_partial_overlap_is_labelled_by_whether_the_codes_are_the_same() {
        let overlap = |a, b| Discrepancy {
            kind: DiscrepancyKind::PartialOverlap,
            a: segment(a),
            b: segment(b),
            overlap: Ratio::new(1, 4),
        };
        assert_eq!(
            kind_label(&overlap(1, 1)),
            ("partial_overlap_same_code", "Partly overlapping, same code")
        );
        assert_eq!(
            kind_label(&overlap(1, 2)),
            ("partial_overlap", "Partly overlapping, different codes")
        );
    }

    #[test]
    fn a_marked_value_says_why_on_hover_and_keeps_its_number() {
        let warning = UnitWarning::TooFewUnits {
            pairable_units: 4,
            transcripts: 4,
            minimum: 40,
        };
        let cell = marked(stat(Stat::Value(1.0)), &warning);
        assert!(cell.marked);
        assert_eq!((cell.text.as_str(), cell.sort.as_str()), ("1.000", "1"));
        assert!(
            cell.title
                .contains("only 4 unit(s) in 4 transcript(s) are compared")
        );
        let undefined = marked(
            stat(Stat::Undefined(UndefinedReason::NoVariation)),
            &warning,
        );
        assert!(undefined.title.starts_with("undefined: every unit"));
        assert!(undefined.title.contains("over too few units"));
    }
}
