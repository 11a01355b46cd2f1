//! A table as a CSV or XLSX file: first the lines that say what it counts and
//! which filter it has, an empty row, then the heading and the rows.

use anyhow::Context;
use rust_xlsxwriter::{Format, Workbook};

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Number(f64),
    Empty,
}

#[derive(Debug, Clone)]
pub struct Sheet {
    /// The worksheet's name (at most 31 characters, none of `[]:*?/\`).
    pub name: String,
    pub notes: Vec<String>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A text a spreadsheet would run as a formula gets a leading quote.
fn guard(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn number(n: f64) -> String {
    crate::participants::model::format_number(n)
}

pub fn to_csv(sheet: &Sheet) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for note in &sheet.notes {
        out.write_record([guard(note)])?;
    }
    out.write_record([""])?;
    out.write_record(sheet.header.iter().map(|h| guard(h)))?;
    for row in &sheet.rows {
        out.write_record(row.iter().map(|c| match c {
            Cell::Text(t) => guard(t),
            Cell::Int(n) => n.to_string(),
            Cell::Number(n) => number(*n),
            Cell::Empty => String::new(),
        }))?;
    }
    out.into_inner().context("finishing the CSV")
}

pub fn to_xlsx(sheet: &Sheet) -> anyhow::Result<Vec<u8>> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = workbook.add_worksheet();
    ws.set_name(&sheet.name).context("naming the worksheet")?;
    let mut r: u32 = 0;
    for note in &sheet.notes {
        ws.write_string(r, 0, note)?;
        r += 1;
    }
    r += 1;
    for (c, h) in sheet.header.iter().enumerate() {
        ws.write_string_with_format(r, c as u16, h, &bold)?;
    }
    for row in &sheet.rows {
        r += 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) => {
                    ws.write_string(r, c, t)?;
                }
                Cell::Int(n) => {
                    ws.write_number(r, c, *n as f64)?;
                }
                Cell::Number(n) => {
                    ws.write_number(r, c, *n)?;
                }
                Cell::Empty => {}
            }
        }
    }
    workbook.save_to_buffer().context("writing the workbook")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_states_the_notes_first_and_guards_formulas() {
        let sheet = Sheet {
            name: "T".into(),
            notes: vec!["Filter: at least 2".into()],
            header: vec!["Code".into(), "n".into(), "%".into()],
            rows: vec![vec![
                Cell::Text("=cmd".into()),
                Cell::Int(3),
                Cell::Number(75.0),
            ]],
        };
        let text = String::from_utf8(to_csv(&sheet).unwrap()).unwrap();
        assert_eq!(text, "Filter: at least 2\n\"\"\nCode,n,%\n'=cmd,3,75\n");
        let xlsx = to_xlsx(&sheet).unwrap();
        assert_eq!(&xlsx[..2], b"PK");
    }
}
