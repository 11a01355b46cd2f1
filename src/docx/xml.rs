//! The XML of each part. The fixed parts are constants; the document's
//! blocks and the core properties go through quick-xml's writer, which
//! escapes every text and attribute value.

use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::{Block, ParagraphStyle, Properties, Run, Table, xml_safe};

/// The text width of an A4 page with 2.54 cm margins, in twentieths of a point.
const TEXT_WIDTH: u32 = 11906 - 2 * 1440;

pub(super) fn options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
}

pub(super) const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"#;

pub(super) const PACKAGE_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#;

pub(super) const DOCUMENT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;

pub(super) const DOCUMENT_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>"#;

/// The last section's page: A4, 2.54 cm margins.
pub(super) const DOCUMENT_END: &str = r#"<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr></w:body></w:document>"#;

/// Normal, Title, Heading1–4, Quote, Note and the table style, with the
/// names Word gives its built-in styles so they map onto the user's own.
pub(super) const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="Calibri" w:cs="Calibri"/><w:sz w:val="22"/><w:szCs w:val="22"/><w:lang w:val="en-GB"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:spacing w:before="2400" w:after="240"/></w:pPr><w:rPr><w:sz w:val="52"/><w:szCs w:val="52"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="360" w:after="120"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:sz w:val="32"/><w:szCs w:val="32"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="280" w:after="80"/><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:b/><w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Heading3"><w:name w:val="heading 3"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="240" w:after="60"/><w:outlineLvl w:val="2"/></w:pPr><w:rPr><w:b/><w:sz w:val="24"/><w:szCs w:val="24"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Heading4"><w:name w:val="heading 4"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="200" w:after="40"/><w:outlineLvl w:val="3"/></w:pPr><w:rPr><w:b/><w:i/><w:sz w:val="22"/><w:szCs w:val="22"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Quote"><w:name w:val="Quote"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:ind w:left="567" w:right="567"/></w:pPr><w:rPr><w:i/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Note"><w:name w:val="Note"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:rPr><w:color w:val="595959"/><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr></w:style><w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style><w:style w:type="table" w:styleId="ConcordTable"><w:name w:val="Concord Table"/><w:basedOn w:val="TableNormal"/><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr><w:rPr><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="808080"/><w:left w:val="single" w:sz="4" w:space="0" w:color="808080"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="808080"/><w:right w:val="single" w:sz="4" w:space="0" w:color="808080"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="808080"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="808080"/></w:tblBorders></w:tblPr><w:tblStylePr w:type="firstRow"><w:rPr><w:b/></w:rPr><w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="E7E6E6"/></w:tcPr></w:tblStylePr></w:style></w:styles>"#;

/// `docProps/core.xml`: the title, and the date as midnight UTC.
pub(super) fn core(p: &Properties) -> std::io::Result<String> {
    let mut w = Writer::new(Vec::new());
    w.write_event(Event::Decl(BytesDecl::new(
        "1.0",
        Some("UTF-8"),
        Some("yes"),
    )))?;
    w.create_element("cp:coreProperties")
        .with_attributes([
            (
                "xmlns:cp",
                "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
            ),
            ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
            ("xmlns:dcterms", "http://purl.org/dc/terms/"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        ])
        .write_inner_content(|w| {
            w.create_element("dc:title")
                .write_text_content(BytesText::new(&xml_safe(&p.title)))?;
            w.create_element("dc:creator")
                .write_text_content(BytesText::new("Concord"))?;
            let when = format!("{}T00:00:00Z", p.created);
            for name in ["dcterms:created", "dcterms:modified"] {
                w.create_element(name)
                    .with_attribute(("xsi:type", "dcterms:W3CDTF"))
                    .write_text_content(BytesText::new(&when))?;
            }
            Ok(())
        })?;
    String::from_utf8(w.into_inner()).map_err(std::io::Error::other)
}

fn start<W: Write>(w: &mut Writer<W>, name: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))
}

fn end<W: Write>(w: &mut Writer<W>, name: &str) -> std::io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn empty<W: Write>(w: &mut Writer<W>, name: &str, attrs: &[(&str, &str)]) -> std::io::Result<()> {
    w.write_event(Event::Empty(
        BytesStart::new(name).with_attributes(attrs.iter().copied()),
    ))
}

/// A run; line feeds become line breaks and tabs tabs, as Word keeps them.
fn run<W: Write>(w: &mut Writer<W>, r: &Run) -> std::io::Result<()> {
    let text = xml_safe(&r.text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    start(w, "w:r")?;
    if r.bold || r.italic {
        start(w, "w:rPr")?;
        if r.bold {
            empty(w, "w:b", &[])?;
        }
        if r.italic {
            empty(w, "w:i", &[])?;
        }
        end(w, "w:rPr")?;
    }
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            empty(w, "w:br", &[])?;
        }
        for (j, piece) in line.split('\t').enumerate() {
            if j > 0 {
                empty(w, "w:tab", &[])?;
            }
            if !piece.is_empty() {
                w.create_element("w:t")
                    .with_attribute(("xml:space", "preserve"))
                    .write_text_content(BytesText::new(piece))?;
            }
        }
    }
    end(w, "w:r")
}

fn paragraph<W: Write>(
    w: &mut Writer<W>,
    style: Option<&str>,
    runs: &[Run],
) -> std::io::Result<()> {
    start(w, "w:p")?;
    if let Some(style) = style {
        start(w, "w:pPr")?;
        empty(w, "w:pStyle", &[("w:val", style)])?;
        end(w, "w:pPr")?;
    }
    for r in runs {
        run(w, r)?;
    }
    end(w, "w:p")
}

/// Column widths in twips from relative weights (equal when they don't fit).
fn grid(table: &Table, columns: usize) -> Vec<u32> {
    let weights: Vec<u32> = if table.widths.len() == columns && table.widths.iter().any(|&x| x > 0)
    {
        table.widths.clone()
    } else {
        vec![1; columns]
    };
    let total: u32 = weights.iter().sum();
    weights.iter().map(|x| TEXT_WIDTH * x / total).collect()
}

fn table<W: Write>(w: &mut Writer<W>, t: &Table) -> std::io::Result<()> {
    let columns = if t.header.is_empty() {
        t.rows.iter().map(Vec::len).max().unwrap_or(0).max(1)
    } else {
        t.header.len()
    };
    let widths = grid(t, columns);
    start(w, "w:tbl")?;
    start(w, "w:tblPr")?;
    empty(w, "w:tblStyle", &[("w:val", "ConcordTable")])?;
    empty(w, "w:tblW", &[("w:w", "5000"), ("w:type", "pct")])?;
    empty(
        w,
        "w:tblLook",
        &[
            ("w:val", "04A0"),
            ("w:firstRow", if t.header.is_empty() { "0" } else { "1" }),
            ("w:lastRow", "0"),
            ("w:firstColumn", "0"),
            ("w:lastColumn", "0"),
            ("w:noHBand", "1"),
            ("w:noVBand", "1"),
        ],
    )?;
    end(w, "w:tblPr")?;
    start(w, "w:tblGrid")?;
    for width in &widths {
        empty(w, "w:gridCol", &[("w:w", &width.to_string())])?;
    }
    end(w, "w:tblGrid")?;
    let cell = |w: &mut Writer<W>, width: u32, runs: &[Run]| -> std::io::Result<()> {
        start(w, "w:tc")?;
        start(w, "w:tcPr")?;
        empty(
            w,
            "w:tcW",
            &[("w:w", &width.to_string()), ("w:type", "dxa")],
        )?;
        end(w, "w:tcPr")?;
        // A cell must hold a paragraph, even an empty one.
        paragraph(w, None, runs)?;
        end(w, "w:tc")
    };
    if !t.header.is_empty() {
        start(w, "w:tr")?;
        start(w, "w:trPr")?;
        empty(w, "w:tblHeader", &[])?;
        end(w, "w:trPr")?;
        for (i, width) in widths.iter().enumerate() {
            let text = t.header.get(i).cloned().unwrap_or_default();
            cell(w, *width, &[Run::bold(text)])?;
        }
        end(w, "w:tr")?;
    }
    for row in &t.rows {
        start(w, "w:tr")?;
        empty_row_props(w)?;
        for (i, width) in widths.iter().enumerate() {
            cell(w, *width, row.get(i).map(Vec::as_slice).unwrap_or_default())?;
        }
        end(w, "w:tr")?;
    }
    end(w, "w:tbl")?;
    // Word joins two tables that touch; an empty paragraph keeps them apart.
    paragraph(w, None, &[])
}

/// A row is not split across pages.
fn empty_row_props<W: Write>(w: &mut Writer<W>) -> std::io::Result<()> {
    start(w, "w:trPr")?;
    empty(w, "w:cantSplit", &[])?;
    end(w, "w:trPr")
}

pub(super) fn block<W: Write>(out: W, b: &Block) -> std::io::Result<()> {
    let mut w = Writer::new(out);
    match b {
        Block::Title(text) => paragraph(&mut w, Some("Title"), &[Run::plain(text.as_str())]),
        Block::Heading { level, text } => {
            let style = format!("Heading{}", (*level).clamp(1, 4));
            paragraph(&mut w, Some(&style), &[Run::plain(text.as_str())])
        }
        Block::Paragraph { style, runs } => {
            let style = match style {
                ParagraphStyle::Normal => None,
                ParagraphStyle::Quote => Some("Quote"),
                ParagraphStyle::Note => Some("Note"),
            };
            paragraph(&mut w, style, runs)
        }
        Block::Table(t) => table(&mut w, t),
        Block::PageBreak => {
            start(&mut w, "w:p")?;
            start(&mut w, "w:r")?;
            empty(&mut w, "w:br", &[("w:type", "page")])?;
            end(&mut w, "w:r")?;
            end(&mut w, "w:p")
        }
    }
}
