//! REFI-QDA selection offsets, mapped onto Concord's (DESIGN invariant 2).
//!
//! The standard counts Unicode code points of the plain-text file, but tools
//! differ: NVivo for Windows counts UTF-16 code units (an emoji is 2), some
//! count a CRLF line break as one character, and Concord's canonical text has
//! `\n` only, no byte-order mark, no control characters and NFC. A source's
//! text is read once into a [`SourceText`], which maps an offset under any
//! [`Convention`] onto a code-point offset of the canonical text.

use serde::Serialize;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::import::{Canonical, canonicalize};

/// How a producer counted `startPosition` and `endPosition`. A leading
/// byte-order mark is never counted (no tool does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Convention {
    /// Unicode code points of the file's text, CRLF as 2 (the standard, §10.2).
    CodePoints,
    /// UTF-16 code units, CRLF as 2 (NVivo for Windows).
    Utf16Units,
    /// Code points with a CRLF line break counted as 1.
    CrlfAsOne,
}

impl Convention {
    pub const ALL: [Convention; 3] = [
        Convention::CodePoints,
        Convention::Utf16Units,
        Convention::CrlfAsOne,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Convention::CodePoints => "Unicode code points, a CRLF line break counted as 2",
            Convention::Utf16Units => "UTF-16 code units, a CRLF line break counted as 2",
            Convention::CrlfAsOne => "Unicode code points, a CRLF line break counted as 1",
        }
    }

    /// What the producer is known to write, before looking at its offsets.
    pub fn for_origin(origin: Option<&str>) -> Convention {
        let origin = origin.unwrap_or_default().to_lowercase();
        if origin.contains("nvivo") && !origin.contains("mac") {
            Convention::Utf16Units
        } else {
            Convention::CodePoints
        }
    }
}

/// A source's text as the file has it and in canonical form, with the map
/// between the two.
#[derive(Debug, Clone)]
pub struct SourceText {
    pub canonical: Canonical,
    /// The file's text began with a byte-order mark (not counted by any convention).
    pub had_bom: bool,
    pub has_crlf: bool,
    pub has_astral: bool,
    /// For each char boundary of the file's text, the canonical offset.
    char_map: Vec<u32>,
    /// The file's text, without its byte-order mark.
    raw: Vec<char>,
}

impl SourceText {
    /// Reads text decoded from a source file.
    pub fn new(decoded: &str) -> SourceText {
        let had_bom = decoded.starts_with('\u{FEFF}');
        let raw: Vec<char> = decoded
            .strip_prefix('\u{FEFF}')
            .unwrap_or(decoded)
            .chars()
            .collect();
        let (text, char_map) = canonical_with_map(&raw);
        let canonical = canonicalize(&text);
        // `canonical_with_map` mirrors `normalize` step by step; should they
        // ever differ, the plain canonical text wins and offsets go through
        // an identity map clamped to it (never out of range).
        let char_map = if canonical.text == text {
            char_map
        } else {
            let len = canonical.char_count as u32;
            (0..=raw.len() as u32).map(|i| i.min(len)).collect()
        };
        SourceText {
            canonical,
            had_bom,
            has_crlf: raw.windows(2).any(|w| w == ['\r', '\n']),
            has_astral: raw.iter().any(|c| (*c as u32) > 0xFFFF),
            char_map,
            raw,
        }
    }

    /// Whether the conventions can disagree on this text at all.
    pub fn is_ambiguous(&self) -> bool {
        self.has_crlf || self.has_astral
    }

    /// The length of the file's text under `convention`.
    pub fn len_in(&self, convention: Convention) -> usize {
        let mut units = 0;
        for (i, c) in self.raw.iter().enumerate() {
            units += self.units_of(i, *c, convention);
        }
        units
    }

    fn units_of(&self, index: usize, c: char, convention: Convention) -> usize {
        match convention {
            Convention::CodePoints => 1,
            Convention::Utf16Units => c.len_utf16(),
            Convention::CrlfAsOne => {
                if c == '\n' && index > 0 && self.raw[index - 1] == '\r' {
                    0
                } else {
                    1
                }
            }
        }
    }

    /// The canonical code-point offset of each offset `0..=len_in(convention)`,
    /// `None` where an offset falls inside a character (half an emoji).
    pub fn offset_map(&self, convention: Convention) -> Vec<Option<u32>> {
        let mut map = Vec::with_capacity(self.raw.len() + 1);
        for (i, c) in self.raw.iter().enumerate() {
            let units = self.units_of(i, *c, convention);
            if units > 0 {
                map.push(Some(self.char_map[i]));
            }
            for _ in 1..units {
                map.push(None);
            }
        }
        map.push(Some(self.char_map[self.raw.len()]));
        map
    }
}

/// Concord's normalisation (`import::canonical::normalize`), one character at
/// a time, recording where each character boundary of `raw` lands.
fn canonical_with_map(raw: &[char]) -> (String, Vec<u32>) {
    // Step 1: line breaks, control characters and stray marks, char by char.
    let mut unified: Vec<char> = Vec::with_capacity(raw.len());
    let mut unified_at = Vec::with_capacity(raw.len() + 1);
    let mut i = 0;
    while i < raw.len() {
        unified_at.push(unified.len());
        let c = raw[i];
        match c {
            '\r' => {
                unified.push('\n');
                if raw.get(i + 1) == Some(&'\n') {
                    // The LF of a CRLF adds nothing: its boundary is the CR's end.
                    i += 1;
                    unified_at.push(unified.len());
                }
            }
            '\u{0085}' | '\u{2028}' | '\u{2029}' | '\u{000B}' | '\u{000C}' => unified.push('\n'),
            '\t' | '\n' => unified.push(c),
            c if c.is_control() => {}
            '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}' => {}
            c => unified.push(c),
        }
        i += 1;
    }
    unified_at.push(unified.len());

    // Step 2: NFC, in runs that each start at an ASCII character. An ASCII
    // character is never changed by NFC, never composes with what precedes
    // it and blocks reordering, so NFC of the whole is the runs' NFC joined.
    let mut text = String::with_capacity(unified.len());
    let mut nfc_at = vec![0u32; unified.len() + 1];
    let mut out = 0u32;
    let mut start = 0;
    while start < unified.len() {
        let mut end = start + 1;
        while end < unified.len() && !unified[end].is_ascii() {
            end += 1;
        }
        if end == start + 1 && unified[start].is_ascii() {
            // The common case, a lone ASCII character: NFC leaves it alone.
            text.push(unified[start]);
            nfc_at[start] = out;
            out += 1;
            start = end;
            continue;
        }
        let chars = &unified[start..end];
        let len = if is_nfc_quick(chars.iter().copied()) == IsNormalized::Yes {
            text.extend(chars);
            chars.len() as u32
        } else {
            let before = text.len();
            text.extend(chars.iter().copied().nfc());
            text[before..].chars().count() as u32
        };
        if len as usize == end - start {
            for (k, slot) in nfc_at[start..end].iter_mut().enumerate() {
                *slot = out + k as u32;
            }
        } else {
            // Characters merged: an offset inside the run goes to its start.
            for slot in &mut nfc_at[start..end] {
                *slot = out;
            }
        }
        out += len;
        start = end;
    }
    nfc_at[unified.len()] = out;
    let char_map = unified_at.iter().map(|&u| nfc_at[u]).collect();
    (text, char_map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn slice(text: &str, start: u32, end: u32) -> String {
        text.chars()
            .skip(start as usize)
            .take((end - start) as usize)
            .collect()
    }

    #[test]
    fn plain_text_maps_to_itself_under_every_convention() {
        let source = SourceText::new("Hello\nworld");
        assert!(!source.is_ambiguous());
        for convention in Convention::ALL {
            let map = source.offset_map(convention);
            assert_eq!(map.len(), 12);
            assert!(map.iter().enumerate().all(|(i, m)| *m == Some(i as u32)));
        }
    }

    #[test]
    fn crlf_counted_as_two_or_one_lands_on_the_same_text() {
        let source = SourceText::new("ab\r\ncd\r\nef");
        assert_eq!(source.canonical.text, "ab\ncd\nef");
        // "cd" is [4, 6) counting CRLF as 2, [3, 5) counting it as 1.
        let two = source.offset_map(Convention::CodePoints);
        let one = source.offset_map(Convention::CrlfAsOne);
        let text = &source.canonical.text;
        assert_eq!(slice(text, two[4].unwrap(), two[6].unwrap()), "cd");
        assert_eq!(slice(text, one[3].unwrap(), one[5].unwrap()), "cd");
        assert_eq!(source.len_in(Convention::CodePoints), 10);
        assert_eq!(source.len_in(Convention::CrlfAsOne), 8);
    }

    #[test]
    fn utf16_units_count_an_emoji_twice_and_never_split_it() {
        let source = SourceText::new("\u{FEFF}a👋b");
        assert!(source.had_bom);
        let map = source.offset_map(Convention::Utf16Units);
        assert_eq!(map, vec![Some(0), Some(1), None, Some(2), Some(3)]);
        let points = source.offset_map(Convention::CodePoints);
        assert_eq!(points, vec![Some(0), Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn decomposed_accents_are_composed_and_offsets_follow() {
        // "Zoe" + combining diaeresis, then " ok": canonical "Zoë ok".
        let source = SourceText::new("Zoe\u{0308} ok");
        assert_eq!(source.canonical.text, "Zoë ok");
        let map = source.offset_map(Convention::CodePoints);
        let text = &source.canonical.text;
        assert_eq!(slice(text, map[0].unwrap(), map[4].unwrap()), "Zoë");
        assert_eq!(slice(text, map[5].unwrap(), map[7].unwrap()), "ok");
    }

    #[test]
    fn control_characters_dropped_shift_later_offsets() {
        let source = SourceText::new("a\u{7}bc");
        let map = source.offset_map(Convention::CodePoints);
        assert_eq!(
            slice(&source.canonical.text, map[2].unwrap(), map[4].unwrap()),
            "bc"
        );
    }

    #[test]
    fn origins_give_their_known_convention() {
        assert_eq!(
            Convention::for_origin(Some("NVivo for Windows 12.6")),
            Convention::Utf16Units
        );
        assert_eq!(
            Convention::for_origin(Some("NVivo for Mac 15.0.0")),
            Convention::CodePoints
        );
        assert_eq!(
            Convention::for_origin(Some("MAXQDA 24")),
            Convention::CodePoints
        );
        assert_eq!(Convention::for_origin(None), Convention::CodePoints);
    }

    proptest! {
        #[test]
        fn the_mapped_text_is_always_the_canonical_text(text in "(a|é|e\u{301}|\u{301}|👋|\r\n|\r|\n|\t|\u{7}|\u{FEFF}|\u{2028}|한|\u{1100}\u{1161}|[ -~]{1,4})*") {
            let source = SourceText::new(&text);
            let (mapped, char_map) = canonical_with_map(&text.strip_prefix('\u{FEFF}').unwrap_or(&text).chars().collect::<Vec<_>>());
            prop_assert_eq!(&mapped, &source.canonical.text);
            prop_assert!(char_map.windows(2).all(|w| w[0] <= w[1]));
            for convention in Convention::ALL {
                let map = source.offset_map(convention);
                prop_assert_eq!(map.len(), source.len_in(convention) + 1);
                prop_assert_eq!(map.last().copied().flatten(), Some(source.canonical.char_count as u32));
            }
        }

        #[test]
        fn any_string_maps_without_panicking(text in any::<String>()) {
            let source = SourceText::new(&text);
            for convention in Convention::ALL {
                let map = source.offset_map(convention);
                prop_assert!(map.iter().flatten().all(|&o| o as usize <= source.canonical.char_count));
            }
        }
    }
}
