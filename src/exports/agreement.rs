//! The agreement report as a workbook: an *About* sheet (coders, transcripts
//! compared and left out, the guidance), then one sheet per unit level with
//! the pooled row and one row per agreed code, from the report the
//! Agreement page shows (`compare::report::build`).

use super::model::Cell;
use super::sink::Sink;
use crate::agreement::{Coefficients, Stat, UnitCounts, UnitLevel};
use crate::compare::report::{self, ProjectReport};
use crate::error::AppError;
use crate::projects::member::Member;
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
    h
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

async fn level_sheet(report: &ProjectReport, title: &str, sink: &mut Sink) -> Result<(), AppError> {
    let headings = headings(report);
    let refs: Vec<(&str, f64)> = headings.iter().map(|(h, w)| (h.as_str(), *w)).collect();
    sink.sheet(title, &refs)?;
    let table = &report.report.units.overall;
    let warning = table.warning.map(|w| w.reason()).unwrap_or_default();
    sink.row(&cells(
        report,
        "(pooled)",
        &table.pooled.counts,
        &table.pooled.coefficients,
        None,
        warning,
    ))
    .await?;
    for c in &table.per_code {
        let u = report
            .report
            .unitized
            .overall
            .iter()
            .find(|u| u.code == c.code)
            .map(|u| u.binary_u_alpha);
        sink.row(&cells(
            report,
            report.code_name(c.code),
            &c.counts,
            &c.coefficients,
            u,
            warning,
        ))
        .await?;
    }
    Ok(())
}

async fn about(member: &Member, line: &ProjectReport, sink: &mut Sink) -> Result<(), AppError> {
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
        ("project".into(), member.project.name.clone()),
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

pub async fn write(state: &AppState, member: &Member, sink: &mut Sink) -> Result<(), AppError> {
    let mut reports = Vec::new();
    for (level, title) in LEVELS {
        reports.push((report::build(state, member, level, None).await?, title));
    }
    about(member, &reports[0].0, sink).await?;
    for (report, title) in &reports {
        level_sheet(report, title, sink).await?;
    }
    Ok(())
}
