//! An element tree read from XML text, refusing everything REFI-QDA files
//! never need and attackers do: a document type declaration (and so every
//! entity, internal or external), references to undefined entities, and
//! documents nested deeper than any project.
//!
//! The tree borrows its names, attribute values and text from the XML text
//! wherever no entity or line break had to be replaced, and keeps every
//! element, attribute and piece of text in three flat lists: a project of
//! 100,000 codings is a few large allocations rather than millions of small
//! ones.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::RefiError;

/// Deeper than any real project (codes nest a dozen levels at most), shallow
/// enough that walking the tree recursively can't exhaust the stack.
const MAX_DEPTH: usize = 256;

/// No element, attribute or piece of text.
const NONE: u32 = u32::MAX;

/// A parsed document: its elements in document order, the root first.
#[derive(Debug)]
pub(crate) struct Document<'a> {
    nodes: Vec<Node<'a>>,
    attributes: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Each element's text after its first piece (text, CDATA, character
    /// references), chained per element.
    pieces: Vec<Piece<'a>>,
}

#[derive(Debug)]
struct Node<'a> {
    /// The local name: REFI-QDA has one namespace per file, and producers
    /// differ in how they prefix it.
    name: Cow<'a, str>,
    /// 1-based line of the start tag, for messages.
    line: usize,
    /// The element's attributes, `attributes[first_attribute..end_attribute]`.
    first_attribute: u32,
    end_attribute: u32,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
    /// The first piece of the element's own text.
    text: Cow<'a, str>,
    /// Further pieces, in `pieces`.
    first_piece: u32,
    last_piece: u32,
}

#[derive(Debug)]
struct Piece<'a> {
    text: Cow<'a, str>,
    next: u32,
}

impl<'a> Document<'a> {
    pub fn root(&self) -> Element<'_> {
        Element {
            document: self,
            index: 0,
        }
    }

    fn push_text(&mut self, node: u32, text: Cow<'a, str>) {
        if text.is_empty() {
            return;
        }
        let node = &mut self.nodes[node as usize];
        if node.text.is_empty() && node.first_piece == NONE {
            node.text = text;
            return;
        }
        let index = self.pieces.len() as u32;
        self.pieces.push(Piece { text, next: NONE });
        match node.last_piece {
            NONE => node.first_piece = index,
            last => self.pieces[last as usize].next = index,
        }
        node.last_piece = index;
    }
}

/// One element of a [`Document`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Element<'d> {
    document: &'d Document<'d>,
    index: u32,
}

impl<'d> Element<'d> {
    fn node(self) -> &'d Node<'d> {
        &self.document.nodes[self.index as usize]
    }

    /// The local name, without its namespace prefix.
    pub fn name(self) -> &'d str {
        &self.node().name
    }

    /// 1-based line of the start tag.
    pub fn line(self) -> usize {
        self.node().line
    }

    /// Where the element is in its document, for [`Element::at`].
    pub fn index(self) -> u32 {
        self.index
    }

    /// The element at `index` of the same document.
    pub fn at(self, index: u32) -> Element<'d> {
        Element {
            document: self.document,
            index,
        }
    }

    pub fn attr(self, name: &str) -> Option<&'d str> {
        let node = self.node();
        self.document.attributes[node.first_attribute as usize..node.end_attribute as usize]
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| &**v)
    }

    pub fn children(self) -> impl Iterator<Item = Element<'d>> {
        let mut next = self.node().first_child;
        std::iter::from_fn(move || {
            if next == NONE {
                return None;
            }
            let child = self.at(next);
            next = child.node().next_sibling;
            Some(child)
        })
    }

    pub fn children_named(self, name: &str) -> impl Iterator<Item = Element<'d>> {
        self.children().filter(move |c| c.name() == name)
    }

    pub fn child(self, name: &str) -> Option<Element<'d>> {
        self.children().find(|c| c.name() == name)
    }

    /// The element's own text (its character data and CDATA, not its children's).
    pub fn text(self) -> Cow<'d, str> {
        let node = self.node();
        if node.first_piece == NONE {
            return Cow::Borrowed(&node.text);
        }
        let mut text = node.text.clone().into_owned();
        let mut next = node.first_piece;
        while next != NONE {
            let piece = &self.document.pieces[next as usize];
            text.push_str(&piece.text);
            next = piece.next;
        }
        Cow::Owned(text)
    }

    /// The text of the first child called `name`, when it has any.
    pub fn child_text(self, name: &str) -> Option<Cow<'d, str>> {
        self.child(name)
            .map(Element::text)
            .filter(|t| !t.trim().is_empty())
    }
}

/// Decodes a file's bytes as XML text: UTF-8 (a byte-order mark is skipped)
/// or UTF-16 with a byte-order mark.
pub(crate) fn decode<'b>(bytes: &'b [u8], file: &str) -> Result<Cow<'b, str>, RefiError> {
    let (encoding, bom) = encoding_rs::Encoding::for_bom(bytes).unwrap_or((encoding_rs::UTF_8, 0));
    let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
    if had_errors {
        return Err(RefiError::NotUtf8 { file: file.into() });
    }
    Ok(text)
}

/// `part` as a slice of `xml` when it lies inside it (what the reader hands
/// out unchanged does), else a copy of it.
fn borrowed<'a>(xml: &'a str, part: &str) -> Cow<'a, str> {
    let base = xml.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    if at >= base && at + part.len() <= base + xml.len() {
        let start = at - base;
        if let Some(slice) = xml.get(start..start + part.len()) {
            return Cow::Borrowed(slice);
        }
    }
    Cow::Owned(part.to_owned())
}

fn borrowed_cow<'a>(xml: &'a str, value: Cow<'_, str>) -> Cow<'a, str> {
    match value {
        Cow::Borrowed(s) => borrowed(xml, s),
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// Parses `xml` into a document.
pub(crate) fn parse<'a>(xml: &'a str, file: &str) -> Result<Document<'a>, RefiError> {
    let mut reader = Reader::from_str(xml);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.allow_unmatched_ends = false;
    let line_of = |offset: u64| {
        let offset = (offset as usize).min(xml.len());
        xml.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    };
    let invalid = |offset: u64, detail: String| RefiError::InvalidXml {
        file: file.into(),
        line: line_of(offset),
        detail,
    };
    // Lines counted as the reader moves on (positions only grow), not from
    // the start of the file for every element, which is quadratic.
    let mut counted = (0usize, 1usize);
    let mut line_at = |offset: u64| {
        let offset = (offset as usize).min(xml.len());
        if offset >= counted.0 {
            counted.1 += xml.as_bytes()[counted.0..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            counted.0 = offset;
            counted.1
        } else {
            line_of(offset as u64)
        }
    };
    let mut document = Document {
        nodes: Vec::new(),
        attributes: Vec::new(),
        pieces: Vec::new(),
    };
    // The open elements, innermost last.
    let mut stack: Vec<u32> = Vec::new();
    let mut has_root = false;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| invalid(reader.error_position(), e.to_string()))?;
        match event {
            Event::DocType(_) => {
                return Err(RefiError::Doctype {
                    file: file.into(),
                    line: line_of(position),
                });
            }
            Event::Start(start) | Event::Empty(start) if has_root && stack.is_empty() => {
                return Err(invalid(
                    position,
                    format!(
                        "a second root element <{}> after the first one ended",
                        start.local_name().as_ref()
                    ),
                ));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(invalid(
                        position,
                        format!("elements are nested more than {MAX_DEPTH} deep"),
                    ));
                }
                let index = element(&mut document, xml, &start, line_at(position), stack.last())
                    .map_err(|detail| invalid(position, detail))?;
                has_root = true;
                stack.push(index);
            }
            Event::Empty(start) => {
                element(&mut document, xml, &start, line_at(position), stack.last())
                    .map_err(|detail| invalid(position, detail))?;
                has_root = true;
            }
            Event::End(_) => {
                // check_end_names has made sure the names match.
                if stack.pop().is_none() {
                    return Err(invalid(position, "an end tag without a start tag".into()));
                }
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                match stack.last() {
                    Some(&current) => {
                        document.push_text(current, borrowed_cow(xml, content));
                    }
                    None if content.trim().is_empty() => {}
                    None => return Err(invalid(position, "text outside the root element".into())),
                }
            }
            Event::CData(data) => {
                if let Some(&current) = stack.last() {
                    let data = data.into_inner();
                    document.push_text(current, borrowed_cow(xml, data));
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*reference {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => {
                            return Err(RefiError::Entity {
                                file: file.into(),
                                line: line_of(position),
                                name: other.to_owned(),
                            });
                        }
                    },
                    Err(error) => return Err(invalid(position, error.to_string())),
                };
                if let Some(&current) = stack.last() {
                    document.push_text(current, Cow::Owned(resolved.to_string()));
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(&open) = stack.last() {
        return Err(invalid(
            xml.len() as u64,
            format!(
                "the file ends before <{}> is closed",
                document.nodes[open as usize].name
            ),
        ));
    }
    if !has_root {
        return Err(invalid(0, "there is no root element".into()));
    }
    Ok(document)
}

/// Adds the element `start` as the last child of `parent` (the root when
/// there is none); its index.
fn element<'a>(
    document: &mut Document<'a>,
    xml: &'a str,
    start: &BytesStart<'_>,
    line: usize,
    parent: Option<&u32>,
) -> Result<u32, String> {
    let name = borrowed(xml, start.local_name().as_ref());
    let first_attribute = document.attributes.len() as u32;
    for attribute in start.attributes().with_checks(true) {
        let attribute = attribute.map_err(|e| format!("in <{name}>: {e}"))?;
        let key = attribute.key;
        // Namespace declarations and xsi: attributes say nothing about the data.
        if key.as_namespace_binding().is_some() || key.prefix().is_some() {
            continue;
        }
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| match e {
                quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(
                    _,
                    entity,
                )) => {
                    format!("<{name}> uses the undefined entity &{entity};")
                }
                other => format!("in <{name}>: {other}"),
            })?;
        document.attributes.push((
            borrowed(xml, key.local_name().as_ref()),
            borrowed_cow(xml, value),
        ));
    }
    let index = document.nodes.len() as u32;
    document.nodes.push(Node {
        name,
        line,
        first_attribute,
        end_attribute: document.attributes.len() as u32,
        first_child: NONE,
        last_child: NONE,
        next_sibling: NONE,
        text: Cow::Borrowed(""),
        first_piece: NONE,
        last_piece: NONE,
    });
    if let Some(&parent) = parent {
        match document.nodes[parent as usize].last_child {
            NONE => document.nodes[parent as usize].first_child = index,
            last => document.nodes[last as usize].next_sibling = index,
        }
        document.nodes[parent as usize].last_child = index;
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_attributes_and_text_are_read() {
        let document = parse(
            "<?xml version=\"1.0\"?>\n<a:Root xmlns:a=\"urn:x\" k=\"v &amp; w\">\n  <a:Child n=\"1\">x &lt; y<![CDATA[ & z]]></a:Child><Empty/>\n</a:Root>",
            "t.xml",
        )
        .unwrap();
        let root = document.root();
        assert_eq!(root.name(), "Root");
        assert_eq!(root.attr("k"), Some("v & w"));
        let children: Vec<Element> = root.children().collect();
        assert_eq!(children.len(), 2);
        assert_eq!(children[0].text(), "x < y & z");
        assert_eq!(children[0].line(), 3);
        assert_eq!(children[0].attr("n"), Some("1"));
        assert_eq!(children[1].name(), "Empty");
        assert_eq!(root.text(), "\n  \n");
    }

    #[test]
    fn every_element_knows_its_line_in_a_long_file() {
        let mut xml = String::from("<Root>\n");
        for i in 0..2000 {
            xml.push_str(&format!("<C i=\"{i}\"/>\n<D>\n</D>\n"));
        }
        xml.push_str("</Root>");
        let document = parse(&xml, "t.xml").unwrap();
        for (j, c) in document.root().children().enumerate() {
            // Each <C> and <D> pair takes three lines from line 2 on.
            let expected = 2 + 3 * (j / 2) + j % 2;
            assert_eq!(c.line(), expected, "{} {j}", c.name());
        }
    }

    #[test]
    fn a_doctype_is_refused_before_any_entity_is_read() {
        let xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE lol [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>\n<Project>&lol2;</Project>";
        let error = parse(xml, "project.qde").unwrap_err();
        assert_eq!(
            error,
            RefiError::Doctype {
                file: "project.qde".into(),
                line: 2
            }
        );
        assert!(error.to_string().contains("DOCTYPE"), "{error}");
    }

    #[test]
    fn undefined_entities_are_refused_in_text_and_attributes() {
        let error = parse("<Project>&xxe;</Project>", "p.qde").unwrap_err();
        assert!(
            matches!(error, RefiError::Entity { ref name, .. } if name == "xxe"),
            "{error}"
        );
        let error = parse("<Project name=\"&xxe;\"/>", "p.qde").unwrap_err();
        assert!(error.to_string().contains("&xxe;"), "{error}");
    }

    #[test]
    fn malformed_xml_names_the_line() {
        let error = parse("<Project>\n<Codes>\n</Project>", "p.qde").unwrap_err();
        assert!(
            matches!(error, RefiError::InvalidXml { line: 3, .. }),
            "{error:?}"
        );
        let error = parse("<Project>\n<Codes>", "p.qde").unwrap_err();
        assert!(error.to_string().contains("<Codes>"), "{error}");
        assert!(parse("", "p.qde").is_err());
        assert!(parse("<a/><b/>", "p.qde").is_err());
        assert!(parse("<a x=\"1\" x=\"2\"/>", "p.qde").is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let xml = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(
            parse(&xml, "p.qde")
                .unwrap_err()
                .to_string()
                .contains("nested")
        );
    }

    #[test]
    fn utf16_with_a_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "<a>é</a>".encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        assert_eq!(decode(&bytes, "x").unwrap(), "<a>é</a>");
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>", "x").unwrap(), "<a/>");
        assert!(decode(b"<a>\xFF</a>", "x").is_err());
    }
}
