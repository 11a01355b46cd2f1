//! Caption files (.vtt, .srt) as exported by Teams, Zoom and transcription
//! services.

use std::collections::HashMap;

use super::canonical::{canonicalize, normalize};
use super::text::{LabelRule, decode_text, find_label};
use super::{Encoding, ImportError, ParsedTranscript, Turn, line_spans};

/// Parses a WebVTT caption file (the header line `WEBVTT` is required).
///
/// Speakers come from voice tags (`<v Ana Souza>`, as Teams writes them) or
/// a `Name: ` prefix on the caption (as Zoom writes them). Consecutive
/// captions of one speaker merge into one turn that keeps the first
/// caption's start time; each turn is one line `Speaker: text` of the text.
/// Captions without a speaker are one turn each. Other tags, entities, NOTE,
/// STYLE and REGION blocks, cue identifiers and cue settings are dropped.
pub fn parse_vtt(
    bytes: &[u8],
    encoding: Option<Encoding>,
) -> Result<ParsedTranscript, ImportError> {
    let (decoded, _) = decode_text(bytes, encoding)?;
    let text = normalize(&decoded);
    let lines: Vec<&str> = text.split('\n').collect();
    let header = lines.first().copied().unwrap_or_default();
    let after = header
        .strip_prefix("WEBVTT")
        .ok_or(ImportError::MissingWebvttHeader)?;
    if !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return Err(ImportError::MissingWebvttHeader);
    }
    let cues = read_cues(&lines, 1, true)?;
    build_transcript(cues)
}

/// Parses a SubRip caption file, with the same speaker and merging rules
/// as [`parse_vtt`].
pub fn parse_srt(
    bytes: &[u8],
    encoding: Option<Encoding>,
) -> Result<ParsedTranscript, ImportError> {
    let (decoded, _) = decode_text(bytes, encoding)?;
    let text = normalize(&decoded);
    let lines: Vec<&str> = text.split('\n').collect();
    let cues = read_cues(&lines, 0, false)?;
    build_transcript(cues)
}

#[derive(Debug)]
struct Cue {
    start_ms: u64,
    payload: Vec<String>,
}

/// Reads the blank-line separated blocks from line index `from` on.
fn read_cues(lines: &[&str], from: usize, webvtt: bool) -> Result<Vec<Cue>, ImportError> {
    let mut cues: Vec<Cue> = Vec::new();
    let mut i = from;
    if webvtt {
        // The header block runs to the first blank line.
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
    }
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
        let block = &lines[start..i];
        if webvtt
            && ["NOTE", "STYLE", "REGION"]
                .iter()
                .any(|k| is_keyword_line(block[0], k))
        {
            continue;
        }
        // The timing is the first line, or the second after a cue identifier.
        let timing = block.iter().take(2).position(|l| l.contains("-->"));
        let Some(timing) = timing else {
            let suspect = block
                .iter()
                .take(2)
                .position(|l| looks_like_timing_attempt(l));
            match (suspect, cues.last_mut()) {
                (None, Some(previous)) => {
                    // SRT writers sometimes leave a blank line inside a caption.
                    previous
                        .payload
                        .extend(block.iter().map(|l| (*l).to_owned()));
                    continue;
                }
                (suspect, _) => {
                    let at = suspect.unwrap_or(0);
                    return Err(ImportError::MissingCueTiming {
                        line: start + at + 1,
                        found: block[at].trim().to_owned(),
                    });
                }
            }
        };
        let line_number = start + timing + 1;
        let start_ms = parse_timing(block[timing], line_number, webvtt)?;
        cues.push(Cue {
            start_ms,
            payload: block[timing + 1..]
                .iter()
                .map(|l| (*l).to_owned())
                .collect(),
        });
    }
    Ok(cues)
}

fn is_keyword_line(line: &str, keyword: &str) -> bool {
    line.strip_prefix(keyword)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// A line that starts like a timestamp but has no `-->`: a damaged timing
/// line rather than caption text.
fn looks_like_timing_attempt(line: &str) -> bool {
    let line = line.trim();
    line.starts_with(|c: char| c.is_ascii_digit())
        && line.contains(':')
        && line
            .chars()
            .all(|c| c.is_ascii_digit() || " :.,->\t".contains(c))
}

/// The start time of `start --> end [settings]`; the end is checked too.
fn parse_timing(line: &str, line_number: usize, webvtt: bool) -> Result<u64, ImportError> {
    let (start, rest) = line.split_once("-->").unwrap_or((line, ""));
    let end = rest.split_whitespace().next().unwrap_or_default();
    let start_ms =
        parse_timestamp(start.trim(), webvtt).ok_or_else(|| invalid(line_number, start))?;
    parse_timestamp(end, webvtt).ok_or_else(|| invalid(line_number, end))?;
    Ok(start_ms)
}

fn invalid(line: usize, value: &str) -> ImportError {
    ImportError::InvalidTimestamp {
        line,
        value: value.trim().to_owned(),
    }
}

/// `hh:mm:ss.mmm` or `mm:ss.mmm` (WebVTT), `hh:mm:ss,mmm` (SubRip).
///
/// Either decimal separator is accepted in both formats, since tools mix
/// them up and the meaning is never in doubt; the digits are checked strictly.
fn parse_timestamp(value: &str, webvtt: bool) -> Option<u64> {
    let (clock, millis) = value.rsplit_once(['.', ','])?;
    if millis.len() != 3 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let (hours, minutes, seconds) = match parts[..] {
        [h, m, s] => (h, m, s),
        [m, s] if webvtt => ("0", m, s),
        _ => return None,
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours)
        || minutes.len() != 2
        || seconds.len() != 2
        || !digits(minutes)
        || !digits(seconds)
    {
        return None;
    }
    let (hours, minutes, seconds) = (
        hours.parse::<u64>().ok()?,
        minutes.parse::<u64>().ok()?,
        seconds.parse::<u64>().ok()?,
    );
    if minutes > 59 || seconds > 59 {
        return None;
    }
    let millis: u64 = millis.parse().ok()?;
    Some(((hours * 60 + minutes) * 60 + seconds) * 1000 + millis)
}

/// A stretch of one caption spoken by one voice.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    speaker: Option<String>,
    text: String,
    start_ms: u64,
}

/// Splits a caption into voice segments, dropping other markup.
fn segments(cue: &Cue) -> Vec<Segment> {
    let payload = cue.payload.join("\n");
    let mut segments = Vec::new();
    let mut speaker: Option<String> = None;
    let mut text = String::new();
    let mut rest = payload.as_str();
    let mut flush = |speaker: &Option<String>, text: &mut String| {
        let cleaned = clean(text);
        if !cleaned.is_empty() {
            segments.push(Segment {
                speaker: speaker.clone(),
                text: cleaned,
                start_ms: cue.start_ms,
            });
        }
        text.clear();
    };
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => match rest.find('>') {
                Some(close) => {
                    let tag = rest[1..close].trim();
                    if let Some(annotation) = tag
                        .strip_prefix('v')
                        .filter(|a| a.is_empty() || a.starts_with(['.', ' ', '\t']))
                    {
                        flush(&speaker, &mut text);
                        let name = annotation.split_once([' ', '\t']).map_or("", |(_, n)| n);
                        let name = clean(name);
                        speaker = (!name.is_empty()).then_some(name);
                    } else if tag == "/v" {
                        flush(&speaker, &mut text);
                        speaker = None;
                    }
                    rest = &rest[close + 1..];
                }
                None => {
                    text.push('<');
                    rest = &rest[1..];
                }
            },
            // SubRip files from some editors carry ASS overrides like {\an8}.
            '{' if rest.starts_with("{\\") => match rest.find('}') {
                Some(close) => rest = &rest[close + 1..],
                None => {
                    text.push('{');
                    rest = &rest[1..];
                }
            },
            '&' => {
                let (decoded, len) = entity(rest);
                text.push_str(decoded);
                rest = &rest[len..];
            }
            c => {
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    flush(&speaker, &mut text);
    segments
}

/// Decodes the HTML entity at the start of `text` (which starts with `&`),
/// returning its text and the bytes it used; an unknown one is kept as is.
fn entity(text: &str) -> (&str, usize) {
    const NAMED: &[(&str, &str)] = &[
        ("&amp;", "&"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&apos;", "'"),
        ("&nbsp;", " "),
        ("&lrm;", ""),
        ("&rlm;", ""),
    ];
    for (name, value) in NAMED {
        if text.starts_with(name) {
            return (value, name.len());
        }
    }
    ("&", 1)
}

/// Collapses whitespace (caption line breaks included) to single spaces,
/// after normalising: removing tags can leave a base letter next to a
/// combining mark that the original normalisation kept apart.
fn clean(text: &str) -> String {
    normalize(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn build_transcript(cues: Vec<Cue>) -> Result<ParsedTranscript, ImportError> {
    let mut segments: Vec<Segment> = cues.iter().flat_map(segments).collect();
    if segments.is_empty() {
        return Err(ImportError::NoCaptions);
    }
    let warnings = apply_prefix_speakers(&mut segments);

    let mut turns: Vec<Segment> = Vec::new();
    for segment in segments {
        match turns.last_mut() {
            Some(last) if last.speaker.is_some() && last.speaker == segment.speaker => {
                last.text.push(' ');
                last.text.push_str(&segment.text);
            }
            _ => turns.push(segment),
        }
    }
    let lines: Vec<String> = turns
        .iter()
        .map(|turn| match &turn.speaker {
            Some(speaker) => format!("{speaker}: {}", turn.text),
            None => turn.text.clone(),
        })
        .collect();
    let canonical = canonicalize(&lines.join("\n"));
    let spans = line_spans(&canonical.text);
    let turns = turns
        .iter()
        .zip(&spans)
        .map(|(turn, span)| Turn {
            speaker: turn.speaker.clone(),
            start: span.start,
            end: span.end,
            label_end: turn
                .speaker
                .as_ref()
                .map(|s| (span.start + s.chars().count() + 2).min(span.end)),
            start_ms: Some(turn.start_ms),
        })
        .collect();
    Ok(ParsedTranscript::new(canonical, turns, warnings))
}

/// Takes `Name: ` prefixes as speakers on captions without a voice tag.
/// As in typed transcripts, a name that occurs once while others repeat is
/// taken for speech ("Note: ...") and reported.
fn apply_prefix_speakers(segments: &mut [Segment]) -> Vec<String> {
    let labels: Vec<Option<(String, String)>> = segments
        .iter()
        .map(|segment| {
            if segment.speaker.is_some() {
                return None;
            }
            let label = find_label(&segment.text, LabelRule::Caption)?;
            let speech: String = segment.text.chars().skip(label.label_chars).collect();
            Some((label.speaker, speech))
        })
        .collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (speaker, _) in labels.iter().flatten() {
        *counts.entry(speaker.to_lowercase()).or_default() += 1;
    }
    let any_repeated = counts.values().any(|&n| n >= 2);
    let mut ignored = Vec::new();
    for (segment, label) in segments.iter_mut().zip(labels) {
        let Some((speaker, speech)) = label else {
            continue;
        };
        let count = counts.get(&speaker.to_lowercase()).copied().unwrap_or(0);
        if any_repeated && count < 2 {
            ignored.push(format!("'{speaker}:'"));
        } else if !speech.is_empty() {
            segment.speaker = Some(speaker);
            segment.text = speech;
        }
    }
    if ignored.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "{} looked like a speaker name but occurs only once, so it was kept as caption text.",
            ignored.join(", ")
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn_lines(parsed: &ParsedTranscript) -> Vec<(Option<&str>, String, Option<u64>)> {
        parsed
            .turns
            .iter()
            .map(|t| {
                (
                    t.speaker.as_deref(),
                    parsed
                        .text
                        .chars()
                        .skip(t.start)
                        .take(t.end - t.start)
                        .collect(),
                    t.start_ms,
                )
            })
            .collect()
    }

    const TEAMS: &str = "WEBVTT\r\n\r\nNOTE exported from Teams\r\nsecond note line\r\n\r\nSTYLE\r\n::cue { color: red }\r\n\r\n0c1a/12-0\r\n00:00:01.250 --> 00:00:04.000 align:start position:10%\r\n<v Ana Souza>Hello and <i>welcome</i>.</v>\r\n\r\n0c1a/13-0\r\n00:00:04.500 --> 00:00:06.000\r\n<v Ana Souza>Shall we start?</v>\r\n\r\n0c1a/14-0\r\n01:02.000 --> 01:05.000\r\n<v.loud P01>Yes &amp; no &lt;laughs&gt;</v>\r\n\r\n00:01:06.000 --> 00:01:08.000\r\n<v Ana Souza><c.yellow>OK</c> then</v>\r\n";

    #[test]
    fn teams_voice_tags_become_merged_speaker_turns() {
        let parsed = parse_vtt(TEAMS.as_bytes(), None).unwrap();
        assert_eq!(
            parsed.text,
            "Ana Souza: Hello and welcome. Shall we start?\nP01: Yes & no <laughs>\nAna Souza: OK then"
        );
        assert_eq!(
            turn_lines(&parsed),
            [
                (
                    Some("Ana Souza"),
                    "Ana Souza: Hello and welcome. Shall we start?".to_owned(),
                    Some(1_250)
                ),
                (
                    Some("P01"),
                    "P01: Yes & no <laughs>".to_owned(),
                    Some(62_000)
                ),
                (
                    Some("Ana Souza"),
                    "Ana Souza: OK then".to_owned(),
                    Some(66_000)
                ),
            ]
        );
        let first = &parsed.turns[0];
        assert_eq!(first.label_end, Some(11));
        assert!(parsed.warnings.is_empty());
    }

    #[test]
    fn zoom_name_prefixes_become_speakers() {
        let vtt = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\nmaria lópez: Hi everyone.\n\n2\n00:00:02.500 --> 00:00:03.000\nmaria lópez: Thanks for coming.\n\n3\n00:00:03.000 --> 00:00:05.000\nDr Okafor: Glad to be here:\nreally.\n\n4\n00:00:05.000 --> 00:00:06.000\nDr Okafor: Yes.\n";
        let parsed = parse_vtt(vtt.as_bytes(), None).unwrap();
        assert_eq!(
            parsed.text,
            "maria lópez: Hi everyone. Thanks for coming.\nDr Okafor: Glad to be here: really. Yes."
        );
        assert_eq!(parsed.turns[1].start_ms, Some(3_000));
        assert_eq!(parsed.turns[1].start, 45);
        assert_eq!(parsed.turns[1].label_end, Some(56));
    }

    #[test]
    fn srt_with_prefixes_tags_and_emoji() {
        let srt = "1\r\n00:00:01,000 --> 00:00:02,500\r\nZoë: Hello 👋\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\n<i>P02:</i> {\\an8}Hi\r\n\r\n3\r\n00:00:04,000 --> 00:00:05,000\r\nZoë: Bye\r\n\r\n4\r\n00:00:05,000 --> 00:00:06,000\r\nP02: Bye\r\n";
        let parsed = parse_srt(srt.as_bytes(), None).unwrap();
        assert_eq!(parsed.text, "Zoë: Hello 👋\nP02: Hi\nZoë: Bye\nP02: Bye");
        // "Zoë: Hello 👋" is 12 code points, so the next turn starts at 13.
        assert_eq!(parsed.turns[1].start, 13);
        assert_eq!(parsed.turns[1].label_end, Some(18));
        assert_eq!(parsed.turns[1].start_ms, Some(3_000));
    }

    #[test]
    fn captions_without_speakers_are_one_turn_each() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nFirst line\nwraps.\n\n2\n00:00:02,000 --> 00:00:03,000\nSecond.\n";
        let parsed = parse_srt(srt.as_bytes(), None).unwrap();
        assert_eq!(parsed.text, "First line wraps.\nSecond.");
        assert_eq!(parsed.turns.len(), 2);
        assert!(
            parsed
                .turns
                .iter()
                .all(|t| t.speaker.is_none() && t.label_end.is_none())
        );
    }

    #[test]
    fn a_one_off_prefix_is_kept_as_text_with_a_warning() {
        let vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\n<v A>One</v>\n\n00:02.000 --> 00:03.000\nB: two\n\n00:03.000 --> 00:04.000\nB: three\n\n00:04.000 --> 00:05.000\nSo: four\n";
        let parsed = parse_vtt(vtt.as_bytes(), None).unwrap();
        assert_eq!(parsed.text, "A: One\nB: two three\nSo: four");
        assert_eq!(parsed.turns[2].speaker, None);
        assert_eq!(parsed.warnings.len(), 1);
    }

    #[test]
    fn decomposed_accents_split_by_tags_are_composed() {
        let vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Zoe\u{0308}>Cafe<i>\u{0301}</i></v>\n";
        let parsed = parse_vtt(vtt.as_bytes(), None).unwrap();
        assert_eq!(parsed.text, "Zoë: Café");
        assert_eq!(parsed.char_count, 9);
    }

    #[test]
    fn malformed_timestamps_name_the_line() {
        let srt =
            "1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:01:6,000 --> 00:01:08,000\nThere\n";
        let error = parse_srt(srt.as_bytes(), None).unwrap_err();
        assert_eq!(
            error,
            ImportError::InvalidTimestamp {
                line: 6,
                value: "00:01:6,000".into()
            }
        );
        assert_eq!(
            error.to_string(),
            "Line 6: '00:01:6,000' is not a valid timestamp."
        );

        let vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:61.000\nHi\n";
        assert_eq!(
            parse_vtt(vtt.as_bytes(), None),
            Err(ImportError::InvalidTimestamp {
                line: 3,
                value: "00:00:61.000".into()
            })
        );
        let srt_without_hours = "1\n01:02,000 --> 01:03,000\nHi\n";
        assert!(matches!(
            parse_srt(srt_without_hours.as_bytes(), None),
            Err(ImportError::InvalidTimestamp { line: 2, .. })
        ));
        let missing_arrow = "WEBVTT\n\n1\n00:00:01.000 00:00:02.000\nHi\n";
        assert_eq!(
            parse_vtt(missing_arrow.as_bytes(), None),
            Err(ImportError::MissingCueTiming {
                line: 4,
                found: "00:00:01.000 00:00:02.000".into()
            })
        );
    }

    #[test]
    fn timestamps_parse_to_milliseconds() {
        assert_eq!(parse_timestamp("01:02:03.456", true), Some(3_723_456));
        assert_eq!(parse_timestamp("02:03.456", true), Some(123_456));
        assert_eq!(parse_timestamp("100:00:00,000", false), Some(360_000_000));
        for bad in [
            "1:2:3.456",
            "00:00:01.45",
            "00:00:01",
            "aa:00:01.000",
            "00:60:00.000",
            "",
        ] {
            assert_eq!(parse_timestamp(bad, true), None, "{bad}");
        }
    }

    #[test]
    fn a_vtt_needs_its_header_and_some_captions() {
        let no_header = "1\n00:00:01.000 --> 00:00:02.000\nHi\n";
        assert_eq!(
            parse_vtt(no_header.as_bytes(), None),
            Err(ImportError::MissingWebvttHeader)
        );
        assert_eq!(
            parse_vtt(b"WEBVTTX\n", None),
            Err(ImportError::MissingWebvttHeader)
        );
        assert_eq!(
            parse_vtt(b"\xEF\xBB\xBFWEBVTT - title\n\nNOTE only\n", None),
            Err(ImportError::NoCaptions)
        );
        assert_eq!(parse_srt(b"", None), Err(ImportError::Empty));
        assert!(
            parse_srt(b"just some words\n", None)
                .unwrap_err()
                .to_string()
                .contains("caption timing")
        );
    }

    #[test]
    fn utf16_captions_are_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in TEAMS.encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        let parsed = parse_vtt(&bytes, None).unwrap();
        assert_eq!(parsed, parse_vtt(TEAMS.as_bytes(), None).unwrap());
    }

    #[test]
    fn a_blank_line_inside_an_srt_caption_continues_it() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nP01: first part\n\nsecond part\n\n2\n00:00:02,000 --> 00:00:03,000\nP01: more\n";
        let parsed = parse_srt(srt.as_bytes(), None).unwrap();
        assert_eq!(parsed.text, "P01: first part second part more");
    }
}
