//! The quote bank as files: CSV (one row per current quote) and DOCX (a
//! table per theme). Both hold the current quotes in the page's order;
//! quotes whose source changed are left out until the lead files them again.

use super::docx;
use super::service::{QuoteBank, SelectedQuote};
use crate::error::AppError;

/// The CSV's columns, in order.
pub const CSV_COLUMNS: [&str; 12] = [
    "theme_path",
    "code",
    "participant",
    "attribute",
    "attributed_quote",
    "publication_text",
    "original_text",
    "transcript",
    "line",
    "start",
    "end",
    "quote_id",
];

fn path_text(q: &SelectedQuote) -> String {
    crate::exports::model::path_text(&q.theme_path)
}

pub fn csv_bytes(bank: &QuoteBank) -> Result<Vec<u8>, AppError> {
    let fail = |e: csv::Error| AppError::Internal(anyhow::Error::new(e).context("writing the CSV"));
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut heading: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
    // The attribute column is named after the attribute chosen.
    if let Some(name) = &bank.attribute.name {
        heading[3] = format!("attribute: {name}");
    }
    out.write_record(&heading).map_err(fail)?;
    for q in bank.current() {
        out.write_record([
            path_text(q),
            q.code_name.clone(),
            q.participant.clone().unwrap_or_default(),
            q.attribute.clone().unwrap_or_default(),
            q.attributed.clone(),
            q.publication_text.clone().unwrap_or_default(),
            q.original_text.clone(),
            q.transcript_title.clone(),
            q.line.to_string(),
            q.start.to_string(),
            q.end.to_string(),
            q.id.to_string(),
        ])
        .map_err(fail)?;
    }
    out.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the CSV: {e}")))
}

/// One DOCX table per theme (the codes placed directly under one node, in
/// the hierarchy's order; unplaced codes last), each row a quote.
pub fn docx_bytes(bank: &QuoteBank, project: &str) -> Result<Vec<u8>, AppError> {
    let mut doc = docx::Document::default();
    doc.heading(1, &format!("Quote bank: {project}"));
    let mut sections: Vec<(String, Vec<&SelectedQuote>)> = Vec::new();
    for group in &bank.groups {
        let title = if group.theme_path.is_empty() {
            "Unplaced codes".to_owned()
        } else {
            group.theme_path.join(" › ")
        };
        match sections.last_mut() {
            Some((last, quotes)) if *last == title => quotes.extend(&group.quotes),
            _ => sections.push((title, group.quotes.iter().collect())),
        }
    }
    if sections.is_empty() {
        doc.paragraph("No quotes are selected yet.");
    }
    for (title, quotes) in sections {
        doc.heading(2, &title);
        let mut rows = vec![vec![
            "Code".to_owned(),
            "Quote".to_owned(),
            "Source".to_owned(),
        ]];
        for q in quotes {
            rows.push(vec![
                q.code_name.clone(),
                q.attributed.clone(),
                format!("{}, line {}", q.transcript_title, q.line),
            ]);
        }
        doc.table(&rows, &[2000, 5600, 1800]);
    }
    doc.finish()
}
