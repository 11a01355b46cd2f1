//! The agreement report as a workbook: an *About* sheet (coders, transcripts
//! compared and left out, the guidance), then one sheet per unit level with
//! the pooled row and one row per agreed code, from the report the
//! Agreement page shows (`compare::report::build`).

use super::model::Cell;
use super::sink::Sink;
use crate::agreement::bootstrap::{self, BootstrapOptions, Interval, Intervals};
use crate::agreement::{Coefficients, Stat, UnitCounts, UnitLevel};
use crate::compare::report::{self, ProjectReport, Scope};
use crate::docx::{Block, Document, ParagraphStyle, Run, Table};
use crate::error::AppError;
use crate::projects::member::Actor;
use crate::state::AppState;

pub const LEVELS: [(UnitLevel, &str); 5] = [
    (UnitLevel::Line, "Line"),
    (UnitLevel::Sentence, "Sentence"),
    (UnitLevel::Paragraph, "Paragraph"),
    (UnitLevel::SpeakerTurn, "Speaker turn"),
    (UnitLevel::Character, "Character"),
];

/// A statistic's value, or why it has none.
fn stat(s: Stat) -> Cell {
    match s {
        Stat::Value(v) => Cell::Number(v),
        Stat::Undefined(reason) => Cell::text(format!("undefined: {reason}")),
    }
}

fn count(n: u64) -> Cell {
    Cell::Int(n as i64)
}

fn headings(report: &ProjectReport) -> Vec<(String, f64)> {
    let two = report.coders.len() == 2;
    let mut h: Vec<(String, f64)> = vec![("code".into(), 28.0), ("units_compared".into(), 10.0)];
    if two {
        for name in ["both", "only_a", "only_b", "neither"] {
            h.push((name.into(), 9.0));
        }
    }
    for c in &report.coders {
        h.push((format!("coded_by {}", c.name), 12.0));
    }
    let kappa = if two { "cohen_kappa" } else { "fleiss_kappa" };
    for name in [
        "percent_agreement",
        kappa,
        "brennan_prediger",
        "krippendorff_alpha",
        "gwet_ac1",
        "binary_u_alpha",
        "unit_warning",
    ] {
        h.push((name.into(), 14.0));
    }
    for (name, _) in ci_stats(two) {
        h.push((format!("{name}_ci_low"), 12.0));
        h.push((format!("{name}_ci_high"), 12.0));
    }
    h.push(("binary_u_alpha_ci_low".into(), 12.0));
    h.push(("binary_u_alpha_ci_high".into(), 12.0));
    h
}

/// Picks one statistic's interval.
type Pick = fn(&Intervals) -> Interval;

/// The statistics given an interval, by their column names, in order.
fn ci_stats(two: bool) -> [(&'static str, Pick); 4] {
    [
        ("percent_agreement", |i| i.percent_agreement),
        (if two { "cohen_kappa" } else { "fleiss_kappa" }, |i| {
            i.cohen_kappa
        }),
        ("krippendorff_alpha", |i| i.krippendorff_alpha),
        ("gwet_ac1", |i| i.gwet_ac1),
    ]
}

/// The pooled row's intervals: a bootstrap over its (unit, code) items,
/// for two coders; why not otherwise.
pub fn pooled_intervals(report: &ProjectReport) -> Result<Intervals, String> {
    if report.coders.len() != 2 {
        return Err(format!(
            "bootstrap intervals are computed for two coders; {} are compared",
            report.coders.len()
        ));
    }
    let table = report
        .report
        .units
        .overall
        .pooled
        .counts
        .table
        .ok_or_else(|| "no units coded by both coders".to_owned())?;
    Ok(bootstrap::intervals(table, &BootstrapOptions::default()))
}

/// One code's intervals: the same bootstrap over its units, for two coders.
pub fn code_intervals(report: &ProjectReport, counts: &UnitCounts) -> Result<Intervals, String> {
    if report.coders.len() != 2 {
        return Err(format!(
            "bootstrap intervals are computed for two coders; {} are compared",
            report.coders.len()
        ));
    }
    let table = counts
        .table
        .ok_or_else(|| "no units coded by both coders".to_owned())?;
    Ok(bootstrap::intervals(table, &BootstrapOptions::default()))
}

/// Each code's |uα interval, in the order of the report's `unitized.overall`
/// (a bootstrap over transcripts, [`crate::agreement::UnitizedAgreement::intervals`]).
pub fn u_alpha_intervals(report: &ProjectReport) -> Vec<Interval> {
    report
        .report
        .unitized
        .intervals(&BootstrapOptions::default())
}

fn interval_cells(interval: Interval) -> [Cell; 2] {
    match interval {
        Interval::Bounds { low, high } => [Cell::Number(low), Cell::Number(high)],
        Interval::Undefined(reason) => [Cell::text(format!("undefined: {reason}")), Cell::Empty],
    }
}

fn ci_cells(two: bool, intervals: &Result<Intervals, String>) -> Vec<Cell> {
    let mut cells = Vec::new();
    for (_, get) in ci_stats(two) {
        match intervals {
            Ok(i) => cells.extend(interval_cells(get(i))),
            Err(why) => {
                cells.push(Cell::text(format!("undefined: {why}")));
                cells.push(Cell::Empty);
            }
        }
    }
    cells
}

fn cells(
    report: &ProjectReport,
    name: &str,
    counts: &UnitCounts,
    co: &Coefficients,
    u_alpha: Option<Stat>,
    warning: &str,
) -> Vec<Cell> {
    let two = report.coders.len() == 2;
    let mut cells = vec![Cell::text(name), count(counts.pairable_units)];
    if two {
        match counts.table {
            Some(t) => cells.extend([t.both, t.only_a, t.only_b, t.neither].map(count)),
            None => cells.extend([Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty]),
        }
    }
    for i in 0..report.coders.len() {
        cells.push(counts.coded_by.get(i).copied().map(count).into());
    }
    let kappa = if two { co.cohen_kappa } else { co.fleiss_kappa };
    cells.extend([
        stat(co.percent_agreement),
        stat(kappa),
        stat(co.brennan_prediger),
        stat(co.krippendorff_alpha_nominal),
        stat(co.gwet_ac1),
        u_alpha.map(stat).unwrap_or(Cell::Empty),
        Cell::text(warning),
    ]);
    cells
}

async fn level_sheet(
    report: &ProjectReport,
    title: &str,
    u_intervals: &[Interval],
    sink: &mut Sink,
) -> Result<(), AppError> {
    let headings = headings(report);
    let refs: Vec<(&str, f64)> = headings.iter().map(|(h, w)| (h.as_str(), *w)).collect();
    sink.sheet(title, &refs)?;
    let table = &report.report.units.overall;
    let warning = table.warning.map(|w| w.reason()).unwrap_or_default();
    let mut pooled = cells(
        report,
        "(pooled)",
        &table.pooled.counts,
        &table.pooled.coefficients,
        None,
        warning,
    );
    let two = report.coders.len() == 2;
    pooled.extend(ci_cells(two, &pooled_intervals(report)));
    // |uα is given per code only.
    pooled.extend([Cell::Empty, Cell::Empty]);
    sink.row(&pooled).await?;
    for c in &table.per_code {
        let at = report
            .report
            .unitized
            .overall
            .iter()
            .position(|u| u.code == c.code);
        let u = at.map(|i| report.report.unitized.overall[i].binary_u_alpha);
        let mut row = cells(
            report,
            report.code_name(c.code),
            &c.counts,
            &c.coefficients,
            u,
            warning,
        );
        row.extend(ci_cells(two, &code_intervals(report, &c.counts)));
        match at.and_then(|i| u_intervals.get(i)) {
            Some(interval) => row.extend(interval_cells(*interval)),
            None => row.extend([Cell::Empty, Cell::Empty]),
        }
        sink.row(&row).await?;
    }
    Ok(())
}

async fn about(actor: &Actor, line: &ProjectReport, sink: &mut Sink) -> Result<(), AppError> {
    sink.sheet("About", &[("item", 28.0), ("value", 80.0)])?;
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let coders = line
        .coders
        .iter()
        .enumerate()
        .map(|(i, c)| match i {
            0 => format!("{} (A)", c.name),
            1 => format!("{} (B)", c.name),
            _ => c.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut rows: Vec<(String, String)> = vec![
        ("project".into(), actor.project.name.clone()),
        ("made".into(), today),
        ("coders".into(), coders),
        ("transcripts compared".into(), line.included.len().to_string()),
        ("agreed codes".into(), line.codes.len().to_string()),
        (
            "unaligned coder codes (left out)".into(),
            line.unaligned_codes.to_string(),
        ),
        (
            "guidance".into(),
            "Krippendorff's α ≥ 0.800: reliable; 0.667 to 0.800: tentative conclusions only (Krippendorff 2004)."
                .into(),
        ),
        (
            "units".into(),
            "One sheet per unit level; units_compared counts the units coded by two or more coders. binary_u_alpha is on characters whatever the sheet's level.".into(),
        ),
        ("confidence intervals".into(), ci_method()),
    ];
    for t in &line.included {
        rows.push(("compared".into(), t.title.clone()));
    }
    for t in &line.excluded {
        rows.push(("left out".into(), format!("{}: {}", t.title, t.reason)));
    }
    for (item, value) in rows {
        sink.row(&[Cell::text(item), Cell::text(value)]).await?;
    }
    Ok(())
}

/// Every level's report, from one load of the layers (the exports need no
/// discrepancy lists).
pub async fn reports(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<(ProjectReport, &'static str)>, AppError> {
    let levels = LEVELS.map(|(level, _)| level);
    let reports = report::build_levels(state, actor, &levels, None, Scope::Statistics).await?;
    Ok(reports.into_iter().zip(LEVELS.map(|(_, t)| t)).collect())
}

pub async fn write(state: &AppState, actor: &Actor, sink: &mut Sink) -> Result<(), AppError> {
    let reports = reports(state, actor).await?;
    about(actor, &reports[0].0, sink).await?;
    // |uα is on characters whatever the level: its intervals serve every sheet.
    let u_intervals = u_alpha_intervals(&reports[0].0);
    for (report, title) in &reports {
        level_sheet(report, title, &u_intervals, sink).await?;
    }
    Ok(())
}

/// How the intervals are made, in the words of the workbook and the DOCX.
pub fn ci_method() -> String {
    format!(
        "95 % percentile bootstrap intervals, {} resamples (seed {}): of the pooled row, its (unit, code) items drawn with replacement (codes within a unit are not resampled together); of each code, its units drawn with replacement; both for two coders only. Of each code's binary_u_alpha, the transcripts coded by two or more coders drawn with replacement (a cluster bootstrap, any number of coders). The mean binary_u_alpha over codes has no interval.",
        bootstrap::RESAMPLES,
        bootstrap::SEED
    )
}

fn num(v: f64) -> String {
    format!("{v:.3}")
}

/// `0.812`, or why not.
pub fn stat_text(s: Stat) -> String {
    match s {
        Stat::Value(v) => num(v),
        Stat::Undefined(reason) => format!("undefined ({reason})"),
    }
}

/// `0.700 to 0.900`, or why not.
pub fn interval_text(i: &Result<Intervals, String>, get: Pick) -> String {
    match i {
        Ok(i) => match get(i) {
            Interval::Bounds { low, high } => format!("{} to {}", num(low), num(high)),
            Interval::Undefined(reason) => format!("undefined: {reason}"),
        },
        Err(why) => format!("undefined: {why}"),
    }
}

/// The reading of α against Krippendorff's (2004) thresholds.
fn guidance(alpha: Stat) -> String {
    match alpha {
        Stat::Value(a) if a >= 0.8 => format!(
            "α = {} meets the 0.800 that Krippendorff (2004) asks for reliable data.",
            num(a)
        ),
        Stat::Value(a) if a >= 0.667 => format!(
            "α = {} is between 0.667 and 0.800: by Krippendorff's (2004) guidance, enough for tentative conclusions only.",
            num(a)
        ),
        Stat::Value(a) => format!(
            "α = {} is below 0.667, the lowest value Krippendorff (2004) accepts even for tentative conclusions.",
            num(a)
        ),
        Stat::Undefined(reason) => format!(
            "α is undefined ({reason}), so the 0.667/0.800 guidance of Krippendorff (2004) cannot be applied."
        ),
    }
}

/// The methods paragraph and its tables: the line level first (the unit of
/// the Agreement page), then every level's pooled α, κ and AC1 with intervals.
pub async fn document(state: &AppState, actor: &Actor) -> Result<Document, AppError> {
    let reports = reports(state, actor).await?;
    let date = time::OffsetDateTime::now_utc().date();
    let mut doc = Document::new(format!("{} — Agreement", actor.project.name), date);
    doc.push(Block::Title(actor.project.name.clone()));
    doc.push(Block::paragraph([Run::bold(
        "Inter-coder agreement: methods paragraph",
    )]));
    doc.push(Block::text(format!("Made {date}")));
    let (line, title) = &reports[0];
    let two = line.coders.len() == 2;
    let table = &line.report.units.overall;
    let co = &table.pooled.coefficients;
    let intervals = pooled_intervals(line);
    let coders = line
        .coders
        .iter()
        .map(|c| c.name.clone())
        .collect::<Vec<_>>()
        .join(" and ");
    let kappa_name = if two { "Cohen's κ" } else { "Fleiss' κ" };
    let kappa = if two { co.cohen_kappa } else { co.fleiss_kappa };
    doc.push(Block::heading(1, "Methods"));
    doc.push(Block::text(format!(
        "{} coders ({coders}) coded {} transcripts independently with {} agreed codes. Agreement on the presence or absence of each code was assessed per {} ({} {}s compared, {} (unit, code) items pooled over codes). Percent agreement was {}; {kappa_name} {} (95 % CI {}); Krippendorff's α {} (95 % CI {}); Gwet's AC1 {} (95 % CI {}). {} Confidence intervals are percentile bootstrap intervals: {}",
        line.coders.len(),
        line.included.len(),
        line.codes.len(),
        title.to_lowercase(),
        table.pairable_units,
        title.to_lowercase(),
        table.pooled.counts.pairable_units,
        stat_text(co.percent_agreement),
        stat_text(kappa),
        interval_text(&intervals, |i| i.cohen_kappa),
        stat_text(co.krippendorff_alpha_nominal),
        interval_text(&intervals, |i| i.krippendorff_alpha),
        stat_text(co.gwet_ac1),
        interval_text(&intervals, |i| i.gwet_ac1),
        guidance(co.krippendorff_alpha_nominal),
        ci_method()
    )));
    doc.push(Block::heading(
        2,
        format!("Table: agreement per {}", title.to_lowercase()),
    ));
    let mut t = Table::new(["Statistic", "Value", "95 % CI"]).widths(&[3, 2, 4]);
    t.row(["Unit".to_owned(), title.to_string(), String::new()]);
    t.row(["Coders".to_owned(), coders.clone(), String::new()]);
    t.row([
        "Transcripts".to_owned(),
        line.included.len().to_string(),
        String::new(),
    ]);
    t.row([
        "Units compared".to_owned(),
        table.pairable_units.to_string(),
        String::new(),
    ]);
    t.row([
        "Items (unit × code)".to_owned(),
        table.pooled.counts.pairable_units.to_string(),
        String::new(),
    ]);
    for (name, stat, get) in [
        (
            "Percent agreement",
            co.percent_agreement,
            (|i: &Intervals| i.percent_agreement) as Pick,
        ),
        (kappa_name, kappa, |i| i.cohen_kappa),
        ("Krippendorff's α", co.krippendorff_alpha_nominal, |i| {
            i.krippendorff_alpha
        }),
        ("Gwet's AC1", co.gwet_ac1, |i| i.gwet_ac1),
    ] {
        t.row([
            name.to_owned(),
            stat_text(stat),
            interval_text(&intervals, get),
        ]);
    }
    let u_alpha = line
        .report
        .unitized
        .overall
        .iter()
        .map(|u| u.binary_u_alpha.value())
        .collect::<Vec<_>>();
    let defined: Vec<f64> = u_alpha.iter().flatten().copied().collect();
    t.row([
        "|uα (characters, mean over codes)".to_owned(),
        if defined.is_empty() {
            "undefined (no code has a defined value)".to_owned()
        } else {
            format!(
                "{} ({} of {} codes)",
                num(defined.iter().sum::<f64>() / defined.len() as f64),
                defined.len(),
                u_alpha.len()
            )
        },
        "not computed".to_owned(),
    ]);
    doc.push(Block::Table(t));
    doc.push(Block::styled(ParagraphStyle::Note, [Run::plain(
        "Guidance: Krippendorff's α ≥ 0.800: reliable; 0.667 to 0.800: tentative conclusions only (Krippendorff 2004). Undefined values say why.",
    )]));
    doc.push(Block::heading(2, "Table: every unit level"));
    let mut levels = Table::new([
        "Unit",
        "Units",
        "Percent agreement",
        kappa_name,
        "Krippendorff's α",
        "Gwet's AC1",
    ])
    .widths(&[2, 1, 2, 2, 2, 2]);
    for (r, title) in &reports {
        let table = &r.report.units.overall;
        let co = &table.pooled.coefficients;
        let i = pooled_intervals(r);
        let kappa = if two { co.cohen_kappa } else { co.fleiss_kappa };
        let with = |s: Stat, get: Pick| format!("{} [{}]", stat_text(s), interval_text(&i, get));
        levels.row([
            title.to_string(),
            table.pairable_units.to_string(),
            with(co.percent_agreement, |i| i.percent_agreement),
            with(kappa, |i| i.cohen_kappa),
            with(co.krippendorff_alpha_nominal, |i| i.krippendorff_alpha),
            with(co.gwet_ac1, |i| i.gwet_ac1),
        ]);
    }
    doc.push(Block::Table(levels));
    Ok(doc)
}
