//! Reads back what [`super::DocxWriter`] writes, for tests and for checking
//! an export: the body's paragraphs with their style and text, page breaks,
//! and tables as rows of cell texts. Empty paragraphs without a style are
//! skipped (they only space blocks apart). Not a general DOCX reader: the
//! import has that (`crate::import::parse_docx`).

use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// One block of the body as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadBlock {
    /// Its style id (`""` for Normal) and its text, breaks as `\n`, tabs as `\t`.
    Paragraph {
        style: String,
        text: String,
    },
    /// Rows of cells, the header row first; a cell's paragraphs joined by `\n`.
    Table(Vec<Vec<String>>),
    PageBreak,
}

impl ReadBlock {
    /// A paragraph's text, or a table's cells joined by tabs and rows by line feeds.
    pub fn text(&self) -> String {
        match self {
            Self::Paragraph { text, .. } => text.clone(),
            Self::Table(rows) => rows
                .iter()
                .map(|r| r.join("\t"))
                .collect::<Vec<_>>()
                .join("\n"),
            Self::PageBreak => String::new(),
        }
    }

    pub fn style(&self) -> &str {
        match self {
            Self::Paragraph { style, .. } => style,
            _ => "",
        }
    }

    pub fn rows(&self) -> &[Vec<String>] {
        match self {
            Self::Table(rows) => rows,
            _ => &[],
        }
    }
}

fn part(bytes: &[u8], name: &str) -> Result<String, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut entry = zip.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    let mut out = String::new();
    entry
        .read_to_string(&mut out)
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(out)
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Text and entity references into `out`.
fn push_ref(out: &mut String, name: &str) -> Result<(), String> {
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        n if n.starts_with("#x") => u32::from_str_radix(&n[2..], 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| format!("bad reference &{n};"))?,
        n if n.starts_with('#') => n[1..]
            .parse()
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| format!("bad reference &{n};"))?,
        n => return Err(format!("unknown entity &{n};")),
    };
    out.push(c);
    Ok(())
}

/// The `dc:title` of `docProps/core.xml`.
pub fn title(bytes: &[u8]) -> Result<String, String> {
    let xml = part(bytes, "docProps/core.xml")?;
    let mut reader = Reader::from_str(&xml);
    let (mut inside, mut out) = (false, String::new());
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) if e.name().as_ref() == "dc:title" => inside = true,
            Event::End(e) if e.name().as_ref() == "dc:title" => return Ok(out),
            Event::Text(t) if inside => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if inside => push_ref(&mut out, &r.xml10_content())?,
            Event::Eof => return Err("no dc:title".into()),
            _ => {}
        }
    }
}

/// Every block of `word/document.xml`'s body, in order.
pub fn blocks(bytes: &[u8]) -> Result<Vec<ReadBlock>, String> {
    let xml = part(bytes, "word/document.xml")?;
    let mut reader = Reader::from_str(&xml);
    reader.config_mut().check_end_names = true;
    let mut out = Vec::new();
    // The paragraph being read: its style, text and whether it breaks the page.
    let mut para: Option<(String, String, bool)> = None;
    let mut in_text = false;
    let mut table: Option<Vec<Vec<String>>> = None;
    let mut cell: Option<Vec<String>> = None;
    let mut depth = 0usize; // of w:tbl
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "w:tbl" => {
                depth += 1;
                if depth == 1 {
                    table = Some(Vec::new());
                }
            }
            Event::End(e) if e.name().as_ref() == "w:tbl" => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && let Some(rows) = table.take()
                {
                    out.push(ReadBlock::Table(rows));
                }
            }
            Event::Start(e) => match e.name().as_ref() {
                "w:tr" if depth == 1 => {
                    if let Some(rows) = table.as_mut() {
                        rows.push(Vec::new());
                    }
                }
                "w:tc" if depth == 1 => cell = Some(Vec::new()),
                "w:p" => para = Some((String::new(), String::new(), false)),
                "w:t" => in_text = true,
                _ => {}
            },
            Event::Empty(e) => match e.name().as_ref() {
                "w:pStyle" => {
                    if let Some(p) = para.as_mut() {
                        p.0 = attr(&e, "w:val").unwrap_or_default();
                    }
                }
                "w:br" => {
                    if let Some(p) = para.as_mut() {
                        if attr(&e, "w:type").as_deref() == Some("page") {
                            p.2 = true;
                        } else {
                            p.1.push('\n');
                        }
                    }
                }
                "w:tab" => {
                    if let Some(p) = para.as_mut() {
                        p.1.push('\t');
                    }
                }
                "w:p" => {
                    if let Some(c) = cell.as_mut() {
                        c.push(String::new());
                    }
                }
                _ => {}
            },
            Event::Text(t) if in_text => {
                if let Some(p) = para.as_mut() {
                    p.1.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) if in_text => {
                if let Some(p) = para.as_mut() {
                    push_ref(&mut p.1, &r.xml10_content())?;
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "w:t" => in_text = false,
                "w:p" => {
                    let Some((style, text, page)) = para.take() else {
                        continue;
                    };
                    if let Some(c) = cell.as_mut() {
                        c.push(text);
                    } else if page && text.is_empty() {
                        out.push(ReadBlock::PageBreak);
                    } else if !(style.is_empty() && text.is_empty()) {
                        out.push(ReadBlock::Paragraph { style, text });
                    }
                }
                "w:tc" if depth == 1 => {
                    if let (Some(c), Some(rows)) = (cell.take(), table.as_mut())
                        && let Some(row) = rows.last_mut()
                    {
                        row.push(c.join("\n"));
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}
