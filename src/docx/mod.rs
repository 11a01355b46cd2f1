//! A small writer of Word documents (.docx, Office Open XML
//! WordprocessingML): a title, headings of four levels, paragraphs of plain,
//! bold and italic runs, tables with a header row, and page breaks. Enough
//! for a codebook, a decision ledger or a methods paragraph that a journal
//! reviewer opens in Word, LibreOffice or Google Docs.
//!
//! Why not a crate: `docx-rs`, the maintained DOCX writer for Rust, is not in
//! the package mirror this project builds from, and the others are
//! unmaintained. The format needs only six small XML parts in a zip, which
//! `quick-xml` (already used to read .docx and REFI-QDA) and `zip` write
//! well: quick-xml escapes every text and attribute, and the document part
//! is written into the zip as it goes, block by block ([`DocxWriter`]), so a
//! long ledger does not have to be held as XML in memory.
//!
//! ```
//! use concord::docx::{Block, Document, Run};
//!
//! let mut doc = Document::new("Codebook", time::macros::date!(2026 - 12 - 04));
//! doc.push(Block::Title("Pain study".into()));
//! doc.push(Block::heading(1, "Burden of care"));
//! doc.push(Block::paragraph([Run::bold("Definition: "), Run::plain("money & time")]));
//! let bytes = doc.to_bytes().unwrap();
//! let blocks = concord::docx::read::blocks(&bytes).unwrap();
//! assert_eq!(blocks[2].text(), "Definition: money & time");
//! ```

pub mod read;
mod xml;

use std::io::{Cursor, Seek, Write};

use time::Date;

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DocxError {
    #[error("writing the document: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing the document's zip: {0}")]
    Zip(#[from] zip::result::ZipError),
}

/// A stretch of text with one formatting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
}

impl Run {
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            bold: false,
            italic: false,
        }
    }

    pub fn bold(text: impl Into<String>) -> Self {
        Self {
            bold: true,
            ..Self::plain(text)
        }
    }

    pub fn italic(text: impl Into<String>) -> Self {
        Self {
            italic: true,
            ..Self::plain(text)
        }
    }
}

/// A paragraph's style beyond the body text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParagraphStyle {
    #[default]
    Normal,
    /// Indented, for a quotation from a transcript.
    Quote,
    /// Smaller grey text, for a note under a table.
    Note,
}

/// One block of the body, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The document's title (style `Title`).
    Title(String),
    /// A heading of level 1 to 4 (styles `Heading1` to `Heading4`).
    Heading {
        level: u8,
        text: String,
    },
    Paragraph {
        style: ParagraphStyle,
        runs: Vec<Run>,
    },
    Table(Table),
    PageBreak,
}

impl Block {
    /// A heading; levels past 4 are written as 4, and 0 as 1, so a deep
    /// theme tree still reads as nested headings.
    pub fn heading(level: usize, text: impl Into<String>) -> Self {
        Self::Heading {
            level: level.clamp(1, 4) as u8,
            text: text.into(),
        }
    }

    pub fn paragraph(runs: impl IntoIterator<Item = Run>) -> Self {
        Self::Paragraph {
            style: ParagraphStyle::Normal,
            runs: runs.into_iter().collect(),
        }
    }

    pub fn text(text: impl Into<String>) -> Self {
        Self::paragraph([Run::plain(text)])
    }

    pub fn styled(style: ParagraphStyle, runs: impl IntoIterator<Item = Run>) -> Self {
        Self::Paragraph {
            style,
            runs: runs.into_iter().collect(),
        }
    }
}

/// A table: a header row (repeated on each page) and rows of cells. Rows
/// shorter than the header are padded with empty cells, longer ones cut.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Vec<Run>>>,
    /// Relative column widths; equal when empty or of the wrong length.
    pub widths: Vec<u32>,
}

impl Table {
    pub fn new(header: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            header: header.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    pub fn widths(mut self, widths: &[u32]) -> Self {
        self.widths = widths.to_vec();
        self
    }

    /// A row of plain texts.
    pub fn row(&mut self, cells: impl IntoIterator<Item = impl Into<String>>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|c| vec![Run::plain(c.into())])
                .collect(),
        );
    }

    /// A row of cells with their own runs.
    pub fn runs_row(&mut self, cells: Vec<Vec<Run>>) {
        self.rows.push(cells);
    }
}

/// What `docProps/core.xml` says of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Properties {
    pub title: String,
    pub created: Date,
}

/// A whole document in memory; [`Document::write`] hands it to a
/// [`DocxWriter`].
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub properties: Properties,
    pub blocks: Vec<Block>,
}

impl Document {
    pub fn new(title: impl Into<String>, created: Date) -> Self {
        Self {
            properties: Properties {
                title: title.into(),
                created,
            },
            blocks: Vec::new(),
        }
    }

    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }

    pub fn write<W: Write + Seek>(&self, out: W) -> Result<W, DocxError> {
        let mut writer = DocxWriter::new(out, &self.properties)?;
        for block in &self.blocks {
            writer.block(block)?;
        }
        writer.finish()
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, DocxError> {
        Ok(self.write(Cursor::new(Vec::new()))?.into_inner())
    }
}

/// Writes a package block by block: the fixed parts first, then
/// `word/document.xml` as the blocks come, closed by [`DocxWriter::finish`].
pub struct DocxWriter<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
}

impl<W: Write + Seek> DocxWriter<W> {
    pub fn new(out: W, properties: &Properties) -> Result<Self, DocxError> {
        let mut zip = zip::ZipWriter::new(out);
        let options = xml::options();
        for (name, part) in [
            ("[Content_Types].xml", xml::CONTENT_TYPES.to_owned()),
            ("_rels/.rels", xml::PACKAGE_RELS.to_owned()),
            ("docProps/core.xml", xml::core(properties)?),
            ("word/styles.xml", xml::STYLES.to_owned()),
            (
                "word/_rels/document.xml.rels",
                xml::DOCUMENT_RELS.to_owned(),
            ),
        ] {
            zip.start_file(name, options)?;
            zip.write_all(part.as_bytes())?;
        }
        zip.start_file("word/document.xml", options)?;
        zip.write_all(xml::DOCUMENT_START.as_bytes())?;
        Ok(Self { zip })
    }

    pub fn block(&mut self, block: &Block) -> Result<(), DocxError> {
        xml::block(&mut self.zip, block)?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<W, DocxError> {
        self.zip.write_all(xml::DOCUMENT_END.as_bytes())?;
        Ok(self.zip.finish()?)
    }
}

/// `text` without the characters XML 1.0 does not allow (C0 controls other
/// than tab, line feed and carriage return; U+FFFE and U+FFFF). Rust strings
/// hold no surrogates, so nothing else is refused.
pub fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    fn allowed(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    }
    if text.chars().all(allowed) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use quick_xml::Reader;
    use quick_xml::events::Event;

    use super::read::{ReadBlock, blocks};
    use super::*;

    fn date() -> Date {
        time::macros::date!(2026 - 12 - 04)
    }

    fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut out = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut out).unwrap();
        out
    }

    /// Every element of `xml` is well formed (quick-xml checks end names).
    fn well_formed(xml: &str) {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        loop {
            match reader.read_event() {
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{e} in {xml}"),
            }
        }
    }

    fn sample() -> Document {
        let mut doc = Document::new("Codebook <draft> & \"final\"", date());
        doc.push(Block::Title("Pain study".into()));
        doc.push(Block::text("Made 2026-12-04"));
        doc.push(Block::PageBreak);
        for level in 1..=6 {
            doc.push(Block::heading(level, format!("Level {level}")));
        }
        doc.push(Block::paragraph([
            Run::bold("Definition: "),
            Run::plain("cost <and> time & \"worry\""),
            Run::italic(" (see below)"),
        ]));
        doc.push(Block::styled(
            ParagraphStyle::Quote,
            [Run::plain("line one\nline\ttwo")],
        ));
        let mut table = Table::new(["Statistic", "Value", "95 % CI"]).widths(&[3, 1, 2]);
        table.row(["α", "0.812", "0.700 to 0.900"]);
        table.row(["short"]);
        table.row(["a", "b", "c", "cut"]);
        doc.push(Block::Table(table));
        doc
    }

    #[test]
    fn the_package_has_every_part_and_each_is_well_formed() {
        let bytes = sample().to_bytes().unwrap();
        let zip = zip::ZipArchive::new(Cursor::new(&bytes[..])).unwrap();
        let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "[Content_Types].xml",
                "_rels/.rels",
                "docProps/core.xml",
                "word/_rels/document.xml.rels",
                "word/document.xml",
                "word/styles.xml",
            ]
        );
        for name in &names {
            well_formed(&part(&bytes, name));
        }
        let types = part(&bytes, "[Content_Types].xml");
        assert!(types.contains("/word/document.xml"));
        assert!(types.contains("wordprocessingml.document.main+xml"));
        let styles = part(&bytes, "word/styles.xml");
        for id in [
            "Title", "Heading1", "Heading2", "Heading3", "Heading4", "Quote", "Note",
        ] {
            assert!(
                styles.contains(&format!("w:styleId=\"{id}\"")),
                "style {id}"
            );
        }
        assert!(styles.contains("w:type=\"table\""));
    }

    #[test]
    fn core_properties_carry_the_title_escaped_and_the_date() {
        let bytes = sample().to_bytes().unwrap();
        let core = part(&bytes, "docProps/core.xml");
        assert!(
            core.contains("<dc:title>Codebook &lt;draft&gt; &amp; &quot;final&quot;</dc:title>"),
            "{core}"
        );
        assert!(core.contains(">2026-12-04T00:00:00Z</dcterms:created>"));
        assert_eq!(read::title(&bytes).unwrap(), "Codebook <draft> & \"final\"");
    }

    #[test]
    fn blocks_read_back_with_their_styles_text_and_tables() {
        let bytes = sample().to_bytes().unwrap();
        let got = blocks(&bytes).unwrap();
        let para = |style: &str, text: &str| ReadBlock::Paragraph {
            style: style.to_owned(),
            text: text.to_owned(),
        };
        assert_eq!(got[0], para("Title", "Pain study"));
        assert_eq!(got[1], para("", "Made 2026-12-04"));
        assert_eq!(got[2], ReadBlock::PageBreak);
        let headings: Vec<&ReadBlock> = got[3..9].iter().collect();
        for (i, h) in headings.iter().enumerate() {
            let level = (i + 1).min(4);
            assert_eq!(
                **h,
                para(&format!("Heading{level}"), &format!("Level {}", i + 1))
            );
        }
        assert_eq!(
            got[9],
            para("", "Definition: cost <and> time & \"worry\" (see below)")
        );
        assert_eq!(got[10], para("Quote", "line one\nline\ttwo"));
        assert_eq!(
            got[11],
            ReadBlock::Table(vec![
                vec!["Statistic".into(), "Value".into(), "95 % CI".into()],
                vec!["α".into(), "0.812".into(), "0.700 to 0.900".into()],
                vec!["short".into(), String::new(), String::new()],
                vec!["a".into(), "b".into(), "c".into()],
            ])
        );
        assert_eq!(got.len(), 12);
    }

    #[test]
    fn runs_keep_bold_and_italic_and_the_header_row_repeats() {
        let bytes = sample().to_bytes().unwrap();
        let doc = part(&bytes, "word/document.xml");
        assert!(
            doc.contains(
                "<w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">Definition: </w:t></w:r>"
            ),
            "{doc}"
        );
        assert!(
            doc.contains("<w:rPr><w:i/></w:rPr><w:t xml:space=\"preserve\"> (see below)</w:t>")
        );
        assert!(doc.contains("<w:trPr><w:tblHeader/></w:trPr>"));
        assert!(doc.contains("<w:br w:type=\"page\"/>"));
        // Widths 3:1:2 of the text width.
        assert!(
            doc.contains(
                "<w:gridCol w:w=\"4513\"/><w:gridCol w:w=\"1504\"/><w:gridCol w:w=\"3008\"/>"
            ),
            "{doc}"
        );
    }

    #[test]
    fn control_characters_are_removed_and_markup_is_escaped() {
        let mut doc = Document::new("t\u{1}itle", date());
        doc.push(Block::text(
            "a\u{0}b\u{7}c\u{1b}[0m\u{FFFF}d </w:t></w:r> & é😀",
        ));
        let mut table = Table::new(["x\u{8}y"]);
        table.row(["<b>\u{c}"]);
        doc.push(Block::Table(table));
        let bytes = doc.to_bytes().unwrap();
        let xml = part(&bytes, "word/document.xml");
        well_formed(&xml);
        well_formed(&part(&bytes, "docProps/core.xml"));
        let got = blocks(&bytes).unwrap();
        assert_eq!(got[0].text(), "abc[0md </w:t></w:r> & é😀");
        assert_eq!(
            got[1],
            ReadBlock::Table(vec![vec!["xy".into()], vec!["<b>".into()]])
        );
        assert_eq!(read::title(&bytes).unwrap(), "title");
        assert_eq!(xml_safe("tab\there\r\n"), "tab\there\r\n");
    }

    #[test]
    fn the_import_reader_reads_what_the_writer_wrote() {
        // An independent reader: the one transcripts are imported with.
        let bytes = sample().to_bytes().unwrap();
        let parsed = crate::import::parse_docx(&bytes, &Default::default()).unwrap();
        assert!(parsed.text.contains("Pain study"), "{}", parsed.text);
        assert!(
            parsed
                .text
                .contains("Definition: cost <and> time & \"worry\" (see below)")
        );
        assert!(parsed.text.contains("0.700 to 0.900"));
    }

    #[test]
    fn an_empty_document_is_still_a_valid_package() {
        let bytes = Document::new("", date()).to_bytes().unwrap();
        well_formed(&part(&bytes, "word/document.xml"));
        assert_eq!(blocks(&bytes).unwrap(), []);
    }
}
