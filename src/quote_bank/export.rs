//! The quote bank as files: CSV (one row per current quote) and DOCX (a
//! table per theme). Both hold the current quotes in the page's order;
//! quotes whose source changed are left out until the lead files them again.

use super::service::{QuoteBank, SelectedQuote};
use crate::docx::{Block, Document, Table};
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
/// the hierarchy's order; unplaced codes last), each row a quote. Written
/// with the shared writer of the codebook and ledger exports.
pub fn docx_bytes(bank: &QuoteBank, project: &str) -> Result<Vec<u8>, AppError> {
    docx_document(bank, project, time::OffsetDateTime::now_utc().date())
        .to_bytes()
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("writing the DOCX")))
}

/// The quote bank as blocks: a heading with the project, then a heading
/// and a table (code, attributed quote, source) per theme.
pub fn docx_document(bank: &QuoteBank, project: &str, date: time::Date) -> Document {
    let mut doc = Document::new(format!("{project} — Quote bank"), date);
    doc.push(Block::heading(1, format!("Quote bank: {project}")));
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
        doc.push(Block::text("No quotes are selected yet."));
    }
    for (title, quotes) in sections {
        doc.push(Block::heading(2, title));
        let mut table = Table::new(["Code", "Quote", "Source"]).widths(&[20, 56, 18]);
        for q in quotes {
            table.row([
                q.code_name.clone(),
                q.attributed.clone(),
                format!("{}, line {}", q.transcript_title, q.line),
            ]);
        }
        doc.push(Block::Table(table));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docx::read::{ReadBlock, blocks};
    use crate::quote_bank::model::SourceState;
    use crate::quote_bank::service::{AttributeChoice, Group};

    fn quote(code: &str, attributed: &str, line: usize) -> SelectedQuote {
        SelectedQuote {
            id: Default::default(),
            coding_id: Default::default(),
            code_id: Default::default(),
            code_name: code.to_owned(),
            node_id: None,
            theme_path: Vec::new(),
            transcript_id: Default::default(),
            transcript_title: "P01".to_owned(),
            participant: Some("P01".to_owned()),
            attribute: Some("Nurse".to_owned()),
            line,
            start: 0,
            end: 4,
            original_text: "text".to_owned(),
            publication_text: None,
            text: "text".to_owned(),
            attribution: "— Nurse, P01".to_owned(),
            attributed: attributed.to_owned(),
            position: 0,
            version: 1,
            source: SourceState::Current,
            source_note: "",
            now_code_id: None,
            now_code_name: None,
        }
    }

    fn group(path: &[&str], code: &str, quotes: Vec<SelectedQuote>) -> Group {
        Group {
            code_id: Default::default(),
            code_name: code.to_owned(),
            node_id: None,
            theme_path: path.iter().map(|p| p.to_string()).collect(),
            depth: path.len().saturating_sub(1),
            quotes,
        }
    }

    fn bank(groups: Vec<Group>) -> QuoteBank {
        QuoteBank {
            attribute: AttributeChoice {
                variable_id: None,
                name: Some("Role".to_owned()),
                chosen: false,
                version: 0,
            },
            variables: Vec::new(),
            groups,
            changed: Vec::new(),
        }
    }

    #[test]
    fn the_docx_has_a_heading_and_a_table_per_theme_with_attributed_quotes() {
        let b = bank(vec![
            group(
                &["Risks", "Infection"],
                "Lines",
                vec![quote("Lines", "“A & <b>\nline two” — Nurse, P01", 3)],
            ),
            group(
                &["Risks", "Infection"],
                "Fever",
                vec![quote("Fever", "“Hot” — Nurse, P01", 7)],
            ),
            group(&[], "Other", vec![quote("Other", "“Else” — Nurse, P01", 9)]),
        ]);
        let bytes = docx_bytes(&b, "Pain & care").unwrap();
        assert_eq!(
            crate::docx::read::title(&bytes).unwrap(),
            "Pain & care — Quote bank"
        );
        let got = blocks(&bytes).unwrap();
        let heading = |level: u8, text: &str| ReadBlock::Paragraph {
            style: format!("Heading{level}"),
            text: text.to_owned(),
        };
        let row = |cells: [&str; 3]| cells.map(str::to_owned).to_vec();
        assert_eq!(
            got,
            [
                heading(1, "Quote bank: Pain & care"),
                heading(2, "Risks › Infection"),
                ReadBlock::Table(vec![
                    row(["Code", "Quote", "Source"]),
                    row(["Lines", "“A & <b>\nline two” — Nurse, P01", "P01, line 3"]),
                    row(["Fever", "“Hot” — Nurse, P01", "P01, line 7"]),
                ]),
                heading(2, "Unplaced codes"),
                ReadBlock::Table(vec![
                    row(["Code", "Quote", "Source"]),
                    row(["Other", "“Else” — Nurse, P01", "P01, line 9"]),
                ]),
            ]
        );
    }

    #[test]
    fn an_empty_bank_says_so() {
        let got = blocks(&docx_bytes(&bank(Vec::new()), "Study").unwrap()).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].text(), "Quote bank: Study");
        assert_eq!(got[1].text(), "No quotes are selected yet.");
    }
}
