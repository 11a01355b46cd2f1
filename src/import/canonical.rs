//! The one normalisation every imported text goes through (DESIGN invariant 1).

use serde::Serialize;
use sha2::{Digest, Sha256};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// Text in Concord's canonical form, with what is stored beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Canonical {
    pub text: String,
    /// Lower-case hex SHA-256 of the UTF-8 bytes of `text`.
    pub sha256: String,
    /// Length of `text` in Unicode code points, the unit of every offset.
    pub char_count: usize,
}

/// Brings `text` into canonical form and hashes it.
///
/// Every importer calls this last, so two files with the same words give the
/// same text and hash whatever their encoding, line endings or normal form.
pub fn canonicalize(text: &str) -> Canonical {
    let text = normalize(text);
    let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let char_count = text.chars().count();
    Canonical {
        text,
        sha256,
        char_count,
    }
}

/// The text transformation of [`canonicalize`], without the hash.
///
/// Importers that assemble text from pieces (captions, docx paragraphs) run
/// each piece through this first, so that offsets they compute while
/// assembling stay valid: the transformation is idempotent and never merges
/// characters across the `\n`, `: ` and ` ` that pieces are joined with.
pub(crate) fn normalize(text: &str) -> String {
    let mut unified = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                unified.push('\n');
            }
            // Every other line terminator Unicode knows, so that a line in
            // Concord is a line wherever the text is shown.
            '\u{0085}' | '\u{2028}' | '\u{2029}' | '\u{000B}' | '\u{000C}' => unified.push('\n'),
            '\t' | '\n' => unified.push(c),
            // Control characters are invisible, and XML 1.0 forbids the C0
            // ones, which would make a REFI-QDA export of this text invalid.
            c if c.is_control() => {}
            // U+FEFF is a byte-order mark at the start and, anywhere else, an
            // invisible leftover of files pasted together; U+FFFE/U+FFFF are
            // not characters and XML forbids them.
            '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}' => {}
            c => unified.push(c),
        }
    }
    // Most text is already composed; the quick check says so in one pass
    // without building a second copy.
    if is_nfc_quick(unified.chars()) == IsNormalized::Yes {
        return unified;
    }
    unified.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crlf_and_lone_cr_become_lf() {
        assert_eq!(canonicalize("a\r\nb\rc\n").text, "a\nb\nc\n");
    }

    #[test]
    fn nfd_input_is_composed_and_counted_in_code_points() {
        let canonical = canonicalize("Zoe\u{0308} 👋");
        assert_eq!(canonical.text, "Zoë 👋");
        assert_eq!(canonical.char_count, 5);
    }

    #[test]
    fn byte_order_marks_are_stripped() {
        assert_eq!(canonicalize("\u{FEFF}hel\u{FEFF}lo").text, "hello");
    }

    #[test]
    fn control_characters_are_dropped_but_tabs_kept() {
        assert_eq!(canonicalize("a\u{0007}b\tc\u{0000}").text, "ab\tc");
    }

    #[test]
    fn hash_is_of_the_canonical_bytes() {
        // SHA-256 of "abc", FIPS 180-2 appendix B.1.
        assert_eq!(
            canonicalize("abc").sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(canonicalize("a\r\nb").sha256, canonicalize("a\nb").sha256);
    }

    proptest! {
        #[test]
        fn canonicalize_is_idempotent(text in any::<String>()) {
            let once = canonicalize(&text);
            let twice = canonicalize(&once.text);
            prop_assert_eq!(&once, &twice);
        }

        #[test]
        fn normalized_pieces_join_without_change(a in any::<String>(), b in any::<String>()) {
            for joint in ["\n", ": ", " "] {
                let joined = format!("{}{joint}{}", normalize(&a), normalize(&b));
                prop_assert_eq!(normalize(&joined), joined);
            }
        }
    }
}
