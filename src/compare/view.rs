//! The report as the pages show it: formatted cells, the chart, discrepancies.

use crate::agreement::{Coefficients, DiscrepancyKind, Stat, UndefinedReason, UnitCounts};

use super::report::ProjectReport;

pub struct Cell {
    pub text: String,
    /// Why a value is undefined, shown on hover.
    pub title: String,
    /// For sorting: the number, or empty.
    pub sort: String,
}

fn reason(r: UndefinedReason) -> &'static str {
    match r {
        UndefinedReason::NoPairableUnits => "undefined: no unit was coded by two coders",
        UndefinedReason::NoVariation => {
            "undefined: every unit has the same value, so chance agreement is total"
        }
        UndefinedReason::FewerThanTwoCategories => "undefined: fewer than two categories",
        UndefinedReason::FewerThanTwoCoders => "undefined: fewer than two coders",
        UndefinedReason::OverlappingValuesInDomain => "undefined: codes of the domain overlap",
    }
}

pub fn stat(s: Stat) -> Cell {
    match s {
        Stat::Value(v) => Cell {
            text: format!("{v:.3}"),
            title: String::new(),
            sort: format!("{v}"),
        },
        Stat::Undefined(r) => Cell {
            text: "–".into(),
            title: reason(r).into(),
            sort: String::new(),
        },
    }
}

fn count(n: u64) -> Cell {
    Cell {
        text: n.to_string(),
        title: String::new(),
        sort: n.to_string(),
    }
}

fn blank() -> Cell {
    Cell {
        text: String::new(),
        title: String::new(),
        sort: String::new(),
    }
}

pub struct Row {
    pub name: String,
    pub color: String,
    pub pooled: bool,
    pub cells: Vec<Cell>,
}

pub fn headers(report: &ProjectReport) -> Vec<String> {
    let mut h = vec![
        "Units".to_owned(),
        "Both".into(),
        "Only A".into(),
        "Only B".into(),
        "Neither".into(),
    ];
    for c in &report.coders {
        h.push(format!("Coded by {}", c.name));
    }
    let kappa = if report.coders.len() > 2 {
        "Fleiss κ"
    } else {
        "Cohen κ"
    };
    h.extend([
        "Agreement".to_owned(),
        kappa.to_owned(),
        "Brennan–Prediger κ".into(),
        "Krippendorff α".into(),
        "Gwet AC1".into(),
        "|uα".into(),
    ]);
    h
}

fn cells(
    counts: &UnitCounts,
    co: &Coefficients,
    u_alpha: Option<Stat>,
    coders: usize,
) -> Vec<Cell> {
    let mut cells = vec![count(counts.pairable_units)];
    match counts.table {
        Some(t) => cells.extend([
            count(t.both),
            count(t.only_a),
            count(t.only_b),
            count(t.neither),
        ]),
        None => cells.extend((0..4).map(|_| blank())),
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
    let kappa = co
        .cohen_kappa
        .or(co.fleiss_kappa)
        .map(stat)
        .unwrap_or_else(blank);
    cells.extend([
        stat(co.percent_agreement),
        kappa,
        stat(co.brennan_prediger),
        stat(co.krippendorff_alpha_nominal),
        stat(co.gwet_ac1),
    ]);
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
    let mut rows = vec![Row {
        name: "All codes (pooled)".into(),
        color: String::new(),
        pooled: true,
        cells: cells(&table.pooled.counts, &table.pooled.coefficients, None, n),
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
            cells: cells(&c.counts, &c.coefficients, u, n),
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

fn kind_label(kind: DiscrepancyKind) -> (&'static str, &'static str) {
    match kind {
        DiscrepancyKind::Agreement => ("agreement", "Agreements"),
        DiscrepancyKind::Boundary => ("boundary", "Same code, different boundaries"),
        DiscrepancyKind::DifferentCode => ("different_code", "Same span, different codes"),
        DiscrepancyKind::PartialOverlap => {
            ("partial_overlap", "Partly overlapping, different codes")
        }
        DiscrepancyKind::OnlyA => ("only_a", "Coded by A only"),
        DiscrepancyKind::OnlyB => ("only_b", "Coded by B only"),
    }
}

/// The first pair of coders' discrepancies in one transcript, grouped by kind.
pub fn discrepancies(report: &ProjectReport, transcript: usize) -> Vec<DiscrepancyView> {
    let Some(pair) = report
        .report
        .discrepancies
        .per_transcript
        .get(transcript)
        .and_then(|t| t.pairs.first())
    else {
        return Vec::new();
    };
    let mut groups: Vec<DiscrepancyView> = Vec::new();
    for d in &pair.discrepancies {
        let (kind, label) = kind_label(d.kind);
        let start = d.a.as_ref().or(d.b.as_ref()).map(|s| s.start).unwrap_or(0);
        let describe = |s: &Option<crate::agreement::Segment>| {
            s.as_ref()
                .map(|s| format!("{} [{}–{})", report.code_name(s.code), s.start, s.end))
                .unwrap_or_default()
        };
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
    groups
}

/// "Mean α 0.667 over 2 of 3 codes": each macro mean with how many codes it averages.
pub fn macro_means(report: &ProjectReport, transcript: Option<usize>) -> Vec<String> {
    let table = match transcript {
        Some(i) => &report.report.units.per_transcript[i],
        None => &report.report.units.overall,
    };
    let m = &table.macro_mean;
    let kappa = m
        .cohen_kappa
        .as_ref()
        .map(|k| ("Cohen κ", k))
        .or(m.fleiss_kappa.as_ref().map(|k| ("Fleiss κ", k)));
    let mut lines = Vec::new();
    for (name, mean) in [
        ("Agreement", Some(&m.percent_agreement)),
        ("Krippendorff α", Some(&m.krippendorff_alpha_nominal)),
    ]
    .into_iter()
    .chain(kappa.map(|(n, k)| (n, Some(k))))
    {
        let Some(mean) = mean else { continue };
        let value = mean
            .value
            .map(|v| format!("{v:.3}"))
            .unwrap_or_else(|| "undefined".into());
        lines.push(format!(
            "{name}: mean {value} over {} of {} codes",
            mean.codes_defined, mean.codes_total
        ));
    }
    lines
}
