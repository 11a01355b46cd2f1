//! Plain-text transcripts (.txt, .md), and the decoding and speaker-label
//! rules the other formats share.

use std::collections::HashMap;
use std::ops::Range;

use super::canonical::{canonicalize, normalize};
use super::encoding::{from_bom, guess_legacy};
use super::{Encoding, ImportError, ImportOptions, ParsedTranscript, Span, Turn, line_spans};

/// Speaker labels longer than this are taken for prose that happens to
/// contain a colon.
const MAX_LABEL_CHARS: usize = 40;

/// At most this many "looks like a label but isn't" warnings are listed.
const MAX_LABEL_WARNINGS: usize = 5;

/// Parses a plain-text transcript.
///
/// A line starting with a short speaker label (`Interviewer:`, `P01:`,
/// `Dr Smith:`, `I:`, up to four words each starting with a capital or a
/// digit, optionally after a `[00:01:23]` timestamp) starts a turn, and the
/// lines after it continue that turn until the next label. A label that
/// occurs only once while others repeat is taken for prose ("Note: ...") and
/// reported in the warnings. Without labels, each blank-line separated
/// paragraph is one turn with no speaker. Blank lines at the very start and
/// end of the file are dropped.
pub fn parse_text(
    bytes: &[u8],
    encoding: Option<Encoding>,
) -> Result<ParsedTranscript, ImportError> {
    parse_text_with(
        bytes,
        &ImportOptions {
            encoding,
            ..ImportOptions::default()
        },
    )
}

/// [`parse_text`] with every option.
pub(crate) fn parse_text_with(
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ParsedTranscript, ImportError> {
    let (decoded, encoding) = decode_text(bytes, options.encoding)?;
    let canonical = canonicalize(&trim_blank_edges(&normalize(&decoded)));
    if canonical.text.is_empty() {
        return Err(ImportError::Empty);
    }
    let lines = line_spans(&canonical.text);
    let paragraphs = blank_separated_paragraphs(&canonical.text);
    let (turns, warnings) = build_turns(
        &canonical.text,
        &lines,
        &paragraphs,
        &TurnHints::default(),
        LabelRule::Transcript,
        options,
    );
    let mut parsed = ParsedTranscript::new(canonical, turns, warnings);
    parsed.encoding = Some(encoding);
    Ok(parsed)
}

/// Parses a Markdown transcript.
///
/// The Markdown source is kept as the text, since it is written to be read
/// as it is and rendering it would lose what coders may want to code;
/// speaker labels may be emphasised (`**Interviewer:**`, `__P01__:`).
/// Otherwise exactly as [`parse_text`].
pub fn parse_markdown(
    bytes: &[u8],
    encoding: Option<Encoding>,
) -> Result<ParsedTranscript, ImportError> {
    parse_text(bytes, encoding)
}

/// Decodes a text upload, returning the text and the encoding used.
///
/// With `choice` `None`: a byte-order mark (UTF-8, UTF-16 or UTF-32) says
/// the encoding; UTF-16 without a mark is recognised by its pattern of zero
/// bytes; valid UTF-8 is read as such. Anything else gives
/// [`ImportError::EncodingChoiceNeeded`] with the likeliest encoding, since a
/// wrong guess would freeze garbled text: the researcher sees the text
/// decoded that way and confirms it. With a choice, the bytes are read that
/// way, and bytes that are not valid in it are an error.
pub fn decode_text(
    bytes: &[u8],
    choice: Option<Encoding>,
) -> Result<(String, Encoding), ImportError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty);
    }
    if bytes.starts_with(b"%PDF-") {
        return Err(ImportError::Pdf);
    }
    let encoding = match choice {
        Some(encoding) => encoding,
        None => detect_encoding(bytes)?,
    };
    if !encoding.is_wide() && bytes.contains(&0) {
        return Err(ImportError::Binary);
    }
    let text = match encoding.decode(bytes) {
        Ok(text) => text,
        Err(prefix) => {
            let line = line_at(prefix.as_bytes(), prefix.len());
            return Err(if choice.is_some() || encoding != Encoding::UTF_8 {
                ImportError::InvalidEncoding { encoding, line }
            } else {
                ImportError::EncodingChoiceNeeded {
                    line,
                    suggestion: guess_legacy(bytes),
                }
            });
        }
    };
    check_is_text(&text)?;
    Ok((text, encoding))
}

/// Decodes with the encoding the file itself says or that its bytes show
/// (see [`decode_text`]), else with the likeliest guess; for previews only,
/// never for storing. The flag says whether it was a guess.
pub fn decode_for_preview(bytes: &[u8]) -> Result<(String, Encoding, bool), ImportError> {
    match decode_text(bytes, None) {
        Ok((text, encoding)) => Ok((text, encoding, false)),
        Err(ImportError::EncodingChoiceNeeded { suggestion, .. }) => {
            let (text, encoding) = decode_text(bytes, Some(suggestion))?;
            Ok((text, encoding, true))
        }
        Err(error) => Err(error),
    }
}

fn detect_encoding(bytes: &[u8]) -> Result<Encoding, ImportError> {
    if let Some(encoding) = from_bom(bytes) {
        Ok(encoding)
    } else if bytes.contains(&0) {
        utf16_without_bom(bytes).ok_or(ImportError::Binary)
    } else {
        Ok(Encoding::UTF_8)
    }
}

/// Text in a Latin script saved as UTF-16 without a byte-order mark has a
/// zero in every other byte; binary data does not keep to that pattern.
fn utf16_without_bom(bytes: &[u8]) -> Option<Encoding> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let sample = &bytes[..bytes.len().min(4096)];
    let pairs = sample.len() / 2;
    let zeros_at = |parity: usize| {
        sample
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    if odd * 10 >= pairs * 9 && even * 10 <= pairs {
        Some(Encoding::UTF_16LE)
    } else if even * 10 >= pairs * 9 && odd * 10 <= pairs {
        Some(Encoding::UTF_16BE)
    } else {
        None
    }
}

/// Rejects decoded text that is blank or mostly control characters.
fn check_is_text(text: &str) -> Result<(), ImportError> {
    let mut visible = 0usize;
    let mut controls = 0usize;
    for c in text.chars() {
        if c.is_whitespace() || c == '\u{FEFF}' {
            continue;
        }
        visible += 1;
        if c.is_control() {
            controls += 1;
        }
    }
    if visible == 0 {
        Err(ImportError::Empty)
    } else if controls * 10 > visible {
        Err(ImportError::Binary)
    } else {
        Ok(())
    }
}

/// The 1-based line of byte `position`, counting CRLF, LF and lone CR as
/// line ends, as editors do.
fn line_at(bytes: &[u8], position: usize) -> usize {
    let before = &bytes[..position.min(bytes.len())];
    let mut line = 1;
    for (i, &b) in before.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && before.get(i + 1) != Some(&b'\n')) {
            line += 1;
        }
    }
    line
}

/// Drops whitespace-only lines at the start, and all whitespace at the end,
/// of normalised text; the first line keeps its indentation.
pub(crate) fn trim_blank_edges(text: &str) -> String {
    let trimmed_end = text.trim_end();
    let first_visible = trimmed_end
        .find(|c: char| !c.is_whitespace())
        .unwrap_or(trimmed_end.len());
    let line_start = trimmed_end[..first_visible]
        .rfind('\n')
        .map_or(0, |newline| newline + 1);
    trimmed_end[line_start..].to_owned()
}

/// Line-index ranges of the blocks of non-blank lines.
fn blank_separated_paragraphs(text: &str) -> Vec<Range<usize>> {
    let mut paragraphs = Vec::new();
    let mut start = None;
    let mut count = 0;
    for (i, line) in text.split('\n').enumerate() {
        count = i + 1;
        match (line.trim().is_empty(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                paragraphs.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        paragraphs.push(s..count);
    }
    paragraphs
}

/// How strict speaker-label detection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LabelRule {
    /// Typed transcripts: up to four words, none starting with a lower-case
    /// letter, so that prose like "the thing is: ..." is not a label.
    Transcript,
    /// Zoom captions put the display name before every cue, as people typed
    /// it ("ana de souza: ..."), so case is not required.
    Caption,
}

impl LabelRule {
    fn max_words(self) -> usize {
        match self {
            LabelRule::Transcript => 4,
            LabelRule::Caption => 5,
        }
    }
}

/// A speaker label at the start of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LabelMatch {
    pub speaker: String,
    /// Code points from the line start to where the speech begins.
    pub label_chars: usize,
    pub start_ms: Option<u64>,
}

/// Recognises `Name: `, `**Name:** `, `**Name**: ` and, for transcripts, a
/// leading `[hh:mm:ss]`, `(hh:mm:ss)` or `hh:mm:ss` timestamp before them.
pub(crate) fn find_label(line: &str, rule: LabelRule) -> Option<LabelMatch> {
    let mut rest = line.trim_start_matches([' ', '\t']);
    let mut start_ms = None;
    if rule == LabelRule::Transcript
        && let Some((ms, after)) = leading_timestamp(rest)
    {
        start_ms = Some(ms);
        rest = after.trim_start_matches([' ', '\t']);
    }
    let emphasis = ["**", "__"].into_iter().find(|e| rest.starts_with(e));
    if let Some(marker) = emphasis {
        rest = &rest[marker.len()..];
    }
    let colon = rest.find([':', '\u{FF1A}'])?;
    let mut name = &rest[..colon];
    let colon_len = rest[colon..].chars().next().map_or(1, char::len_utf8);
    let mut after = &rest[colon + colon_len..];
    if let Some(marker) = emphasis {
        if let Some(inner) = name.strip_suffix(marker) {
            name = inner;
        } else if let Some(tail) = after.strip_prefix(marker) {
            after = tail;
        } else {
            return None;
        }
    }
    // Text after a full-width colon needs no space: Chinese and Japanese
    // write none.
    let fullwidth = rest[colon..].starts_with('\u{FF1A}');
    if !(fullwidth || after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let speech = after.trim_start_matches([' ', '\t']);
    if !looks_like_speaker(name, rule) {
        return None;
    }
    let label_bytes = line.len() - speech.len();
    Some(LabelMatch {
        speaker: name.split_whitespace().collect::<Vec<_>>().join(" "),
        label_chars: line[..label_bytes].chars().count(),
        start_ms,
    })
}

/// Whether `name` could be the name in a speaker label.
pub(crate) fn looks_like_speaker(name: &str, rule: LabelRule) -> bool {
    // Surname particles are lower case even in a capitalised name.
    const PARTICLES: &[&str] = &[
        "al", "bin", "da", "de", "del", "della", "der", "di", "du", "la", "le", "van", "von",
    ];
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_LABEL_CHARS
        || !name.chars().any(char::is_alphabetic)
        || name.chars().any(|c| ",;!?\"“”«»<>[]{}|=*+@\\".contains(c))
    {
        return false;
    }
    let lower = name.to_lowercase();
    if lower.contains("http") || lower.contains("www.") {
        return false;
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.len() > rule.max_words() {
        return false;
    }
    match rule {
        LabelRule::Caption => true,
        LabelRule::Transcript => words.iter().enumerate().all(|(i, word)| {
            let starts_lower = word.chars().next().is_some_and(char::is_lowercase);
            !starts_lower || (i > 0 && i + 1 < words.len() && PARTICLES.contains(word))
        }),
    }
}

/// `[01:02:03]`, `(01:02)`, `1:02:03.5` and the like at the start of `text`,
/// followed by whitespace; returns milliseconds and what follows.
fn leading_timestamp(text: &str) -> Option<(u64, &str)> {
    let (inner, after) = if let Some(body) = text.strip_prefix('[') {
        let close = body.find(']')?;
        (&body[..close], &body[close + 1..])
    } else if let Some(body) = text.strip_prefix('(') {
        let close = body.find(')')?;
        (&body[..close], &body[close + 1..])
    } else {
        let end = text.find([' ', '\t'])?;
        (&text[..end], &text[end..])
    };
    if !after.starts_with([' ', '\t']) {
        return None;
    }
    let (clock, fraction) = match inner.split_once(['.', ',']) {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (inner, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut seconds = 0u64;
    for part in &parts {
        seconds = seconds * 60 + part.parse::<u64>().ok()?;
    }
    let millis = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 3 && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{f:0<3}").parse::<u64>().ok()?
        }
        Some(_) => return None,
    };
    Some((seconds * 1000 + millis, after))
}

/// Line indexes with a known role, for [`build_turns`].
#[derive(Debug, Clone, Default)]
pub(crate) struct TurnHints {
    /// Labels on these lines are taken however rarely their name occurs.
    pub certain_lines: Vec<usize>,
    /// These lines start a turn without a speaker even after a label (the
    /// notes at the end of a document are not the last speaker's words).
    pub breaks: Vec<usize>,
}

/// Splits canonical text into turns.
///
/// `paragraphs` are line-index ranges that are one turn each when the text
/// has no speaker labels (and before the first label when it has some).
/// Names the researcher said are not speakers are left as text.
pub(crate) fn build_turns(
    text: &str,
    lines: &[Span],
    paragraphs: &[Range<usize>],
    hints: &TurnHints,
    rule: LabelRule,
    options: &ImportOptions,
) -> (Vec<Turn>, Vec<String>) {
    let line_texts: Vec<&str> = text.split('\n').collect();
    let labels: Vec<Option<LabelMatch>> = line_texts
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if hints.breaks.contains(&i) {
                return None;
            }
            find_label(l, rule).filter(|label| !options.is_not_speaker(&label.speaker))
        })
        .collect();
    let certain_lines = &hints.certain_lines;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for label in labels.iter().flatten() {
        *counts.entry(label.speaker.to_lowercase()).or_default() += 1;
    }
    let any_repeated = counts.values().any(|&n| n >= 2);
    let mut warnings = Vec::new();
    let mut ignored = Vec::new();
    let accepted: Vec<Option<&LabelMatch>> = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let label = label.as_ref()?;
            let count = counts
                .get(&label.speaker.to_lowercase())
                .copied()
                .unwrap_or(0);
            if any_repeated && count < 2 && !certain_lines.contains(&i) {
                ignored.push(format!("'{}:' on line {}", label.speaker, i + 1));
                None
            } else {
                Some(label)
            }
        })
        .collect();
    if !ignored.is_empty() {
        let mut listed = ignored[..ignored.len().min(MAX_LABEL_WARNINGS)].join(", ");
        if ignored.len() > MAX_LABEL_WARNINGS {
            listed.push_str(&format!(" and {} more", ignored.len() - MAX_LABEL_WARNINGS));
        }
        warnings.push(format!(
            "{listed} looked like a speaker label but occurs only once, so it was kept as text of the turn before."
        ));
    }

    let is_blank = |i: usize| line_texts.get(i).is_none_or(|l| l.trim().is_empty());
    let first_label = accepted
        .iter()
        .position(Option::is_some)
        .unwrap_or(lines.len());
    let mut starts: Vec<usize> = paragraphs
        .iter()
        .filter_map(|p| (p.start..p.end.min(first_label)).find(|&i| !is_blank(i)))
        .collect();
    starts.extend((0..accepted.len()).filter(|&i| accepted[i].is_some()));
    starts.extend(hints.breaks.iter().copied().filter(|&i| !is_blank(i)));
    starts.sort_unstable();
    starts.dedup();

    let mut turns = Vec::with_capacity(starts.len());
    for (k, &first) in starts.iter().enumerate() {
        let next = starts.get(k + 1).copied().unwrap_or(lines.len());
        let last = (first..next).rev().find(|&i| !is_blank(i)).unwrap_or(first);
        let (Some(start_line), Some(end_line)) = (lines.get(first), lines.get(last)) else {
            continue;
        };
        let label = accepted.get(first).copied().flatten();
        turns.push(Turn {
            speaker: label.map(|l| l.speaker.clone()),
            start: start_line.start,
            end: end_line.end,
            label_end: label.map(|l| start_line.start + l.label_chars),
            start_ms: label.and_then(|l| l.start_ms),
            ..Turn::default()
        });
    }
    (turns, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(text: &str, start: usize, end: usize) -> String {
        text.chars().skip(start).take(end - start).collect()
    }

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut bytes = Vec::new();
        let units = (if bom { "\u{FEFF}" } else { "" })
            .encode_utf16()
            .chain(text.encode_utf16());
        for unit in units {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        bytes
    }

    #[test]
    fn labelled_lines_start_turns_and_unlabelled_lines_continue_them() {
        let parsed = parse_text(
            b"Interviewer: How did you start?\nP01: In 2010.\nIt was hard.\n\nI: Why?\nDr Smith: Because.\n",
            None,
        )
        .unwrap();
        let speakers: Vec<_> = parsed.turns.iter().map(|t| t.speaker.as_deref()).collect();
        assert_eq!(
            speakers,
            [
                Some("Interviewer"),
                Some("P01"),
                Some("I"),
                Some("Dr Smith")
            ]
        );
        let p01 = &parsed.turns[1];
        assert_eq!(
            slice(&parsed.text, p01.start, p01.end),
            "P01: In 2010.\nIt was hard."
        );
        assert_eq!(
            slice(&parsed.text, p01.label_end.unwrap(), p01.end),
            "In 2010.\nIt was hard."
        );
        assert_eq!(
            parsed.text.chars().last(),
            Some('.'),
            "trailing newline dropped"
        );
        assert_eq!(parsed.lines.len(), 6);
        assert!(parsed.warnings.is_empty());
    }

    #[test]
    fn without_labels_each_paragraph_is_a_turn() {
        let parsed = parse_text(
            b"\n\nFirst paragraph\nwraps here.\n\n\nSecond one.\n\n",
            None,
        )
        .unwrap();
        assert_eq!(parsed.text, "First paragraph\nwraps here.\n\n\nSecond one.");
        let spans: Vec<_> = parsed
            .turns
            .iter()
            .map(|t| {
                (
                    t.speaker.clone(),
                    slice(&parsed.text, t.start, t.end),
                    t.label_end,
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                (None, "First paragraph\nwraps here.".to_string(), None),
                (None, "Second one.".to_string(), None)
            ]
        );
    }

    #[test]
    fn text_before_the_first_label_becomes_unlabelled_turns() {
        let parsed = parse_text(
            b"Interview 3, 12 May\n\nInterviewer: Hello.\nP03: Hi.\nInterviewer: Bye.\nP03: Bye.",
            None,
        )
        .unwrap();
        assert_eq!(parsed.turns.len(), 5);
        assert_eq!(parsed.turns[0].speaker, None);
        assert_eq!(
            slice(&parsed.text, parsed.turns[0].start, parsed.turns[0].end),
            "Interview 3, 12 May"
        );
    }

    #[test]
    fn a_one_off_label_among_repeated_ones_is_kept_as_text_with_a_warning() {
        let parsed = parse_text(
            b"I: Tell me.\nP01: Well.\nNote: the phone rang.\nI: Go on.\nP01: Done.",
            None,
        )
        .unwrap();
        assert_eq!(parsed.turns.len(), 4);
        assert_eq!(
            slice(&parsed.text, parsed.turns[1].start, parsed.turns[1].end),
            "P01: Well.\nNote: the phone rang."
        );
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].contains("'Note:' on line 3"),
            "{:?}",
            parsed.warnings
        );
    }

    #[test]
    fn names_the_importer_drops_are_not_speakers() {
        let options = ImportOptions {
            not_speakers: vec!["Digo".to_owned()],
            ..ImportOptions::default()
        };
        let parsed =
            parse_text_with(b"I: Hello.\nDigo: so.\nI: Yes.\nDigo: no.", &options).unwrap();
        let speakers: Vec<_> = parsed.turns.iter().map(|t| t.speaker.as_deref()).collect();
        assert_eq!(speakers, [Some("I"), Some("I")]);
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    }

    #[test]
    fn prose_with_a_colon_is_not_a_label() {
        for line in [
            "The thing is: it was hard",
            "At 10:30 we met",
            "See https://example.org: it's there",
            "Yes, well: maybe",
            "A very long sentence with many words: indeed",
            "Time:10",
        ] {
            assert_eq!(find_label(line, LabelRule::Transcript), None, "{line}");
        }
    }

    #[test]
    fn labels_come_in_several_shapes() {
        let cases = [
            ("P01: yes", "P01", 5, None),
            ("**Interviewer:** So", "Interviewer", 17, None),
            ("__P02__: no", "P02", 9, None),
            ("Dr. van der Berg:\tWell", "Dr. van der Berg", 18, None),
            ("[00:01:23] Nurse A: Right", "Nurse A", 20, Some(83_000)),
            ("(1:02) I:", "I", 9, Some(62_000)),
            ("Zoë: 👋 hi", "Zoë", 5, None),
            ("受访者：是的", "受访者", 4, None),
        ];
        for (line, speaker, label_chars, start_ms) in cases {
            let label = find_label(line, LabelRule::Transcript).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(label.speaker, speaker, "{line}");
            assert_eq!(label.label_chars, label_chars, "{line}");
            assert_eq!(label.start_ms, start_ms, "{line}");
        }
    }

    #[test]
    fn offsets_count_code_points_after_emoji_and_accents() {
        let parsed = parse_text("P01: Zoë 👋\nP02: Hi\nP01: Ok\nP02: Ok".as_bytes(), None).unwrap();
        let second = &parsed.turns[1];
        // "P01: Zoë 👋" is 10 code points (15 bytes, 11 UTF-16 units).
        assert_eq!(second.start, 11);
        assert_eq!(second.label_end, Some(16));
        assert_eq!(slice(&parsed.text, second.start, second.end), "P02: Hi");
    }

    #[test]
    fn nfd_input_is_composed_before_offsets_are_counted() {
        let parsed = parse_text(
            "P01: Zoe\u{0308}\r\nP02: Yes\r\nP01: A\r\nP02: B".as_bytes(),
            None,
        )
        .unwrap();
        assert_eq!(parsed.text, "P01: Zoë\nP02: Yes\nP01: A\nP02: B");
        assert_eq!(parsed.turns[1].start, 9);
        assert_eq!(parsed.char_count, parsed.text.chars().count());
    }

    #[test]
    fn crlf_and_cr_files_hash_like_lf_files() {
        let lf = parse_text(b"P01: a\nP02: b", None).unwrap();
        let crlf = parse_text(b"P01: a\r\nP02: b\r\n", None).unwrap();
        let cr = parse_text(b"P01: a\rP02: b\r", None).unwrap();
        assert_eq!(lf.sha256, crlf.sha256);
        assert_eq!(lf.sha256, cr.sha256);
        assert_eq!(lf, cr);
    }

    #[test]
    fn utf16_with_a_bom_is_decoded_in_both_byte_orders() {
        let text = "P01: Zoë 👋\r\nP02: ok";
        for big_endian in [false, true] {
            let (decoded, encoding) = decode_text(&utf16(text, big_endian, true), None).unwrap();
            assert_eq!(decoded, text);
            let expected = if big_endian {
                Encoding::UTF_16BE
            } else {
                Encoding::UTF_16LE
            };
            assert_eq!(encoding, expected);
            let parsed = parse_text(&utf16(text, big_endian, true), None).unwrap();
            assert_eq!(parsed.text, "P01: Zoë 👋\nP02: ok");
        }
    }

    #[test]
    fn utf16_without_a_bom_is_recognised() {
        let (decoded, encoding) =
            decode_text(&utf16("Interviewer: hello", false, false), None).unwrap();
        assert_eq!(
            (decoded.as_str(), encoding),
            ("Interviewer: hello", Encoding::UTF_16LE)
        );
        let (_, encoding) = decode_text(&utf16("Interviewer: hello", true, false), None).unwrap();
        assert_eq!(encoding, Encoding::UTF_16BE);
    }

    #[test]
    fn malformed_utf16_is_an_error_naming_the_line() {
        let mut bytes = utf16("a\nb\n", false, true);
        bytes.extend([0x00, 0xD8, 0x41, 0x00]); // lone high surrogate
        assert_eq!(
            decode_text(&bytes, None),
            Err(ImportError::InvalidEncoding {
                encoding: Encoding::UTF_16LE,
                line: 3
            })
        );
    }

    #[test]
    fn utf8_bom_is_stripped() {
        let parsed = parse_text(b"\xEF\xBB\xBFP01: hi", None).unwrap();
        assert_eq!(parsed.text, "P01: hi");
    }

    #[test]
    fn windows_1252_needs_an_explicit_choice() {
        let bytes = b"Interviewer: Hello\r\nP01: Caf\xE9 \x93quoted\x94";
        let error = parse_text(bytes, None).unwrap_err();
        assert_eq!(
            error,
            ImportError::EncodingChoiceNeeded {
                line: 2,
                suggestion: Encoding::WINDOWS_1252
            }
        );
        assert!(error.to_string().contains("windows-1252"), "{error}");
        let parsed = parse_text(bytes, Some(Encoding::WINDOWS_1252)).unwrap();
        assert_eq!(parsed.text, "Interviewer: Hello\nP01: Café “quoted”");
        assert_eq!(
            parse_text(bytes, Some(Encoding::UTF_8)),
            Err(ImportError::InvalidEncoding {
                encoding: Encoding::UTF_8,
                line: 2
            })
        );
    }

    #[test]
    fn empty_and_blank_files_are_errors() {
        for bytes in [
            &b""[..],
            b"   \r\n\t\n",
            b"\xEF\xBB\xBF\n",
            &utf16(" \n", false, true),
        ] {
            let error = parse_text(bytes, None).unwrap_err();
            assert_eq!(error, ImportError::Empty, "{bytes:?}");
            assert_eq!(error.to_string(), "The file is empty.");
        }
    }

    #[test]
    fn binary_files_are_errors() {
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01";
        assert_eq!(parse_text(png, None), Err(ImportError::Binary));
        let controls: Vec<u8> = (1u8..=8).cycle().take(200).collect();
        assert_eq!(parse_text(&controls, None), Err(ImportError::Binary));
        assert_eq!(
            parse_text(b"hello\x00world", Some(Encoding::WINDOWS_1252)),
            Err(ImportError::Binary)
        );
        assert_eq!(parse_text(b"%PDF-1.7\n...", None), Err(ImportError::Pdf));
    }

    #[test]
    fn stray_control_characters_are_dropped_not_fatal() {
        let parsed =
            parse_text(b"P01: a long enough line of ordinary text\x07 here", None).unwrap();
        assert_eq!(parsed.text, "P01: a long enough line of ordinary text here");
    }

    #[test]
    fn markdown_keeps_its_source_and_finds_emphasised_labels() {
        let parsed = parse_markdown(
            b"# Interview P04\n\n**Interviewer:** Hello.\n\n**P04:** Hi *there*.\n",
            None,
        )
        .unwrap();
        assert_eq!(
            parsed.text,
            "# Interview P04\n\n**Interviewer:** Hello.\n\n**P04:** Hi *there*."
        );
        let speakers: Vec<_> = parsed.turns.iter().map(|t| t.speaker.as_deref()).collect();
        assert_eq!(speakers, [None, Some("Interviewer"), Some("P04")]);
        let p04 = &parsed.turns[2];
        assert_eq!(
            slice(&parsed.text, p04.label_end.unwrap(), p04.end),
            "Hi *there*."
        );
    }

    #[test]
    fn turns_are_ordered_and_disjoint_and_cover_every_non_blank_line() {
        let parsed = parse_text(b"Title\n\nI: a\n\nb\nP1: c\n  \nI: d\nP1: e", None).unwrap();
        for pair in parsed.turns.windows(2) {
            assert!(pair[0].end < pair[1].start);
        }
        for (line, line_text) in parsed.lines.iter().zip(parsed.text.split('\n')) {
            if !line_text.trim().is_empty() {
                assert!(
                    parsed
                        .turns
                        .iter()
                        .any(|t| t.start <= line.start && line.end <= t.end)
                );
            }
        }
    }
}
