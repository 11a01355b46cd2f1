//! A small element tree read from XML text, refusing everything REFI-QDA files
//! never need and attackers do: a document type declaration (and so every
//! entity, internal or external), references to undefined entities, and
//! documents nested deeper than any project.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::RefiError;

/// Deeper than any real project (codes nest a dozen levels at most), shallow
/// enough that walking the tree recursively can't exhaust the stack.
const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    /// The local name: REFI-QDA has one namespace per file, and producers
    /// differ in how they prefix it.
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The element's own text (its character data and CDATA, not its children's).
    pub text: String,
    /// 1-based line of the start tag, for messages.
    pub line: usize,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child called `name`, when it has any.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.as_str())
            .filter(|t| !t.trim().is_empty())
    }
}

/// Decodes a file's bytes as XML text: UTF-8 (a byte-order mark is skipped)
/// or UTF-16 with a byte-order mark.
pub(crate) fn decode(bytes: &[u8], file: &str) -> Result<String, RefiError> {
    let (encoding, bom) = encoding_rs::Encoding::for_bom(bytes).unwrap_or((encoding_rs::UTF_8, 0));
    let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
    if had_errors {
        return Err(RefiError::NotUtf8 { file: file.into() });
    }
    Ok(text.into_owned())
}

/// Parses `xml` into its root element.
pub(crate) fn parse(xml: &str, file: &str) -> Result<Element, RefiError> {
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
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
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
            Event::Start(start) | Event::Empty(start) if root.is_some() && stack.is_empty() => {
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
                let element = element(&start, line_at(position))
                    .map_err(|detail| invalid(position, detail))?;
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = element(&start, line_at(position))
                    .map_err(|detail| invalid(position, detail))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                // check_end_names has made sure the names match.
                let Some(done) = stack.pop() else {
                    return Err(invalid(position, "an end tag without a start tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                match stack.last_mut() {
                    Some(current) => current.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return Err(invalid(position, "text outside the root element".into())),
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&data);
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
                if let Some(current) = stack.last_mut() {
                    current.text.push(resolved);
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(invalid(
            xml.len() as u64,
            format!("the file ends before <{}> is closed", open.name),
        ));
    }
    root.ok_or_else(|| invalid(0, "there is no root element".into()))
}

fn element(start: &BytesStart<'_>, line: usize) -> Result<Element, String> {
    let name = start.local_name().as_ref().to_owned();
    let mut attributes = Vec::new();
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
        attributes.push((key.local_name().as_ref().to_owned(), value.into_owned()));
    }
    Ok(Element {
        name,
        attributes,
        children: Vec::new(),
        text: String::new(),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_attributes_and_text_are_read() {
        let root = parse(
            "<?xml version=\"1.0\"?>\n<a:Root xmlns:a=\"urn:x\" k=\"v &amp; w\">\n  <a:Child n=\"1\">x &lt; y<![CDATA[ & z]]></a:Child><Empty/>\n</a:Root>",
            "t.xml",
        )
        .unwrap();
        assert_eq!(root.name, "Root");
        assert_eq!(root.attr("k"), Some("v & w"));
        assert_eq!(root.children.len(), 2);
        assert_eq!(root.children[0].text, "x < y & z");
        assert_eq!(root.children[0].line, 3);
    }

    #[test]
    fn every_element_knows_its_line_in_a_long_file() {
        let mut xml = String::from("<Root>\n");
        for i in 0..2000 {
            xml.push_str(&format!("<C i=\"{i}\"/>\n<D>\n</D>\n"));
        }
        xml.push_str("</Root>");
        let root = parse(&xml, "t.xml").unwrap();
        for (j, c) in root.children.iter().enumerate() {
            // Each <C> and <D> pair takes three lines from line 2 on.
            let expected = 2 + 3 * (j / 2) + j % 2;
            assert_eq!(c.line, expected, "{} {j}", c.name);
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
