//! Writing REFI-QDA XML: escaping, and the codebook (`.qdc`) both exports share.

use std::fmt::Write;

use super::model::Code;
use super::reader::is_rgb;

/// `text` as XML character data: escaped, and without the characters XML 1.0
/// cannot hold (C0 controls other than tab and line breaks, U+FFFE, U+FFFF),
/// which canonical text never has but names typed elsewhere might.
pub(crate) fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A CR would be read back as a line feed.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if !allowed(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// `value` as an attribute value in double quotes: line breaks and tabs as
/// character references, since a reader normalises literal ones to spaces.
pub(crate) fn attr(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if !allowed(c) => {}
            c => out.push(c),
        }
    }
    out
}

fn allowed(c: char) -> bool {
    (!c.is_control() || matches!(c, '\t' | '\n' | '\r')) && !matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// A colour REFI-QDA accepts (`#RRGGBB` or `#RGB`), or none.
pub(crate) fn color(value: &str) -> Option<&str> {
    let value = value.trim();
    is_rgb(value).then_some(value)
}

/// One `<Code>` and its children, indented by `depth`.
pub(crate) fn code(out: &mut String, code: &Code, depth: usize) {
    code_with_notes(out, code, depth, &std::collections::HashMap::new());
}

/// [`code`], with a `<NoteRef>` to each note `notes` holds for a code.
pub(crate) fn code_with_notes(
    out: &mut String,
    code: &Code,
    depth: usize,
    notes: &std::collections::HashMap<uuid::Uuid, Vec<uuid::Uuid>>,
) {
    let refs = notes.get(&code.guid).map(Vec::as_slice).unwrap_or(&[]);
    let indent = "  ".repeat(depth);
    let _ = write!(
        out,
        "{indent}<Code guid=\"{}\" name=\"{}\" isCodable=\"{}\"",
        code.guid,
        attr(&code.name),
        code.is_codable
    );
    if let Some(color) = code.color.as_deref().and_then(color) {
        let _ = write!(out, " color=\"{color}\"");
    }
    if code.description.is_none() && code.children.is_empty() && refs.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    if let Some(description) = &code.description {
        let _ = writeln!(
            out,
            "{indent}  <Description>{}</Description>",
            text(description)
        );
    }
    for note in refs {
        let _ = writeln!(out, "{indent}  <NoteRef targetGUID=\"{note}\"/>");
    }
    for child in &code.children {
        code_with_notes(out, child, depth + 1, notes);
    }
    let _ = writeln!(out, "{indent}</Code>");
}

/// A whole `.qdc`: `codes` must not be empty (`<Codes>` needs a code).
pub fn codebook(codes: &[Code], origin: &str) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = writeln!(
        out,
        "<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\" origin=\"{}\">",
        attr(origin)
    );
    out.push_str("  <Codes>\n");
    for c in codes {
        code(&mut out, c, 2);
    }
    out.push_str("  </Codes>\n</CodeBook>\n");
    out
}

/// An agreed code's Description: its definition, then each criterion under
/// its heading, as other tools have only this one text field.
pub fn code_description(
    definition: &str,
    inclusion: &str,
    exclusion: &str,
    example: &str,
) -> Option<String> {
    let mut parts = Vec::new();
    if !definition.trim().is_empty() {
        parts.push(definition.trim().to_owned());
    }
    for (heading, value) in [
        ("Inclusion", inclusion),
        ("Exclusion", exclusion),
        ("Example", example),
    ] {
        if !value.trim().is_empty() {
            parts.push(format!("{heading}: {}", value.trim()));
        }
    }
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refi::{ReadOptions, read};

    fn code(name: &str, guid: u128, children: Vec<Code>) -> Code {
        Code {
            guid: uuid::Uuid::from_u128(guid),
            name: name.into(),
            is_codable: children.is_empty(),
            color: Some("#a1b2c3".into()),
            description: code_description(
                &format!("What {name} means\nover two lines & more"),
                "when <said>",
                "",
                "\"quoted\"",
            ),
            children,
        }
    }

    #[test]
    fn a_codebook_reads_back_as_written() {
        let codes = vec![
            code(
                "Work & home",
                1,
                vec![code(
                    "Night \"shifts\"\n",
                    2,
                    vec![code("Sleep", 3, vec![])],
                )],
            ),
            Code {
                color: Some("#12345678".into()),
                description: None,
                ..code("Unplaced", 4, vec![])
            },
        ];
        let xml = codebook(&codes, "Concord 0.1");
        let back = read("c.qdc", xml.as_bytes(), &ReadOptions::default()).unwrap();
        let mut expected = codes.clone();
        expected[1].color = None; // not a REFI-QDA colour: left out
        assert_eq!(back.codes, expected);
        assert_eq!(back.origin.as_deref(), Some("Concord 0.1"));
    }

    #[test]
    fn characters_xml_cannot_hold_are_dropped() {
        assert_eq!(text("a\u{1}b\u{FFFF}c\r\n"), "abc&#13;\n");
        assert_eq!(attr("x\ny\t\"z\""), "x&#10;y&#9;&quot;z&quot;");
    }

    #[test]
    fn the_description_holds_each_criterion_under_its_heading() {
        assert_eq!(
            code_description("Def", "In", " ", "Ex").as_deref(),
            Some("Def\n\nInclusion: In\n\nExample: Ex")
        );
        assert_eq!(code_description("", "", "", ""), None);
    }
}
