//! The few parts of a WordprocessingML file the quote bank writes: headings,
//! paragraphs and tables with a header row, zipped with their content types.
//! Text is escaped; line breaks in a cell become breaks in its paragraph.

use std::io::{Cursor, Write};

use quick_xml::escape::escape;

use crate::error::AppError;

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

#[derive(Default)]
pub struct Document {
    body: String,
}

/// Runs of `text`, its line breaks as `<w:br/>`.
fn runs(text: &str, bold: bool, size: Option<u32>) -> String {
    let mut props = String::new();
    if bold {
        props.push_str("<w:b/>");
    }
    if let Some(half_points) = size {
        props.push_str(&format!("<w:sz w:val=\"{half_points}\"/>"));
    }
    let props = if props.is_empty() {
        String::new()
    } else {
        format!("<w:rPr>{props}</w:rPr>")
    };
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| format!("<w:t xml:space=\"preserve\">{}</w:t>", escape(l)))
        .collect();
    format!("<w:r>{props}{}</w:r>", lines.join("<w:br/>"))
}

impl Document {
    pub fn heading(&mut self, level: u32, text: &str) {
        let size = if level <= 1 { 32 } else { 26 };
        self.body.push_str(&format!(
            "<w:p><w:pPr><w:keepNext/><w:spacing w:before=\"240\" w:after=\"120\"/></w:pPr>{}</w:p>",
            runs(text, true, Some(size))
        ));
    }

    pub fn paragraph(&mut self, text: &str) {
        self.body
            .push_str(&format!("<w:p>{}</w:p>", runs(text, false, None)));
    }

    /// A table with borders; the first row is the header, repeated on each page.
    pub fn table(&mut self, rows: &[Vec<String>], widths: &[u32]) {
        let border = |side: &str| {
            format!("<w:{side} w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"808080\"/>")
        };
        let borders: String = ["top", "left", "bottom", "right", "insideH", "insideV"]
            .iter()
            .map(|s| border(s))
            .collect();
        let grid: String = widths
            .iter()
            .map(|w| format!("<w:gridCol w:w=\"{w}\"/>"))
            .collect();
        self.body.push_str(&format!(
            "<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/><w:tblBorders>{borders}</w:tblBorders></w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
        ));
        for (i, row) in rows.iter().enumerate() {
            let header = i == 0;
            self.body.push_str("<w:tr>");
            if header {
                self.body.push_str("<w:trPr><w:tblHeader/></w:trPr>");
            }
            for (j, cell) in row.iter().enumerate() {
                let width = widths.get(j).copied().unwrap_or(2000);
                self.body.push_str(&format!(
                    "<w:tc><w:tcPr><w:tcW w:w=\"{width}\" w:type=\"dxa\"/></w:tcPr><w:p>{}</w:p></w:tc>",
                    runs(cell, header, None)
                ));
            }
            self.body.push_str("</w:tr>");
        }
        self.body.push_str("</w:tbl><w:p/>");
    }

    pub fn finish(self) -> Result<Vec<u8>, AppError> {
        let fail =
            |e: zip::result::ZipError| AppError::Internal(anyhow::anyhow!("writing the DOCX: {e}"));
        let document = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{}<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1134\" w:right=\"1134\" w:bottom=\"1134\" w:left=\"1134\" w:header=\"567\" w:footer=\"567\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>",
            self.body
        );
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("word/document.xml", document.as_str()),
        ] {
            zip.start_file(name, options).map_err(fail)?;
            zip.write_all(content.as_bytes())
                .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the DOCX: {e}")))?;
        }
        Ok(zip.finish().map_err(fail)?.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_the_package_holds_its_three_parts() {
        let mut doc = Document::default();
        doc.heading(1, "A & B <c>");
        doc.table(
            &[
                vec!["Code".into()],
                vec!["“x” — Nurse, P01\nline two".into()],
            ],
            &[5000],
        );
        let bytes = doc.finish().unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("word/document.xml").unwrap(), &mut xml)
            .unwrap();
        assert!(xml.contains("A &amp; B &lt;c&gt;"));
        assert!(xml.contains("“x” — Nurse, P01</w:t><w:br/>"));
        assert!(archive.by_name("[Content_Types].xml").is_ok());
        assert!(archive.by_name("_rels/.rels").is_ok());
    }
}
