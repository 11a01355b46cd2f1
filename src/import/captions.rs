//! Caption files (.vtt, .srt) as exported by Teams, Zoom, YouTube and
//! transcription services.

use std::collections::HashMap;

use super::canonical::{canonicalize, normalize};
use super::text::{LabelRule, decode_text, find_label};
use super::{CueTime, Encoding, ImportError, ImportOptions, ParsedTranscript, Turn, line_spans};

/// Which caption format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    WebVtt,
    SubRip,
}

/// Parses a WebVTT caption file (the header line `WEBVTT` is required).
///
/// Speakers come from voice tags (`<v Ana Souza>`, as Teams writes them) or
/// a `Name: ` prefix on the caption (as Zoom writes them; a name must label
/// at least two captions). Consecutive captions of one speaker merge into
/// one turn that keeps each caption's place and times; each turn is one line
/// `Speaker: text` of the text. Captions without a speaker are one turn
/// each. A caption line repeating the last line of the caption before (as
/// rolling auto-captions do) is kept once. Other tags, entities, NOTE,
/// STYLE and REGION blocks, cue identifiers and cue settings
/// (`align:start position:0%`) are dropped, and listed in `not_kept`.
pub fn parse_vtt(
    bytes: &[u8],
    encoding: Option<Encoding>,
) -> Result<ParsedTranscript, ImportError> {
    let options = ImportOptions {
        encoding,
        ..ImportOptions::default()
    };
    parse_captions(bytes, &options, Format::WebVtt)
}

/// Parses a SubRip caption file, with the same speaker and merging rules
/// as [`parse_vtt`].
pub fn parse_srt(
    bytes: &[u8],
    encoding: Option<Encoding>,
) -> Result<ParsedTranscript, ImportError> {
    let options = ImportOptions {
        encoding,
        ..ImportOptions::default()
    };
    parse_captions(bytes, &options, Format::SubRip)
}

pub(crate) fn parse_captions(
    bytes: &[u8],
    options: &ImportOptions,
    format: Format,
) -> Result<ParsedTranscript, ImportError> {
    let (decoded, encoding) = decode_text(bytes, options.encoding)?;
    let text = normalize(&decoded);
    let lines: Vec<&str> = text.split('\n').collect();
    let mut from = 0;
    if format == Format::WebVtt {
        let header = lines.first().copied().unwrap_or_default();
        let after = header
            .strip_prefix("WEBVTT")
            .ok_or(ImportError::MissingWebvttHeader)?;
        if !(after.is_empty() || after.starts_with([' ', '\t'])) {
            return Err(ImportError::MissingWebvttHeader);
        }
        from = 1;
    }
    let mut dropped = Dropped::default();
    let cues = read_cues(&lines, from, format, &mut dropped)?;
    let mut parsed = build_transcript(cues, options, &mut dropped)?;
    parsed.encoding = Some(encoding);
    parsed.not_kept = dropped.describe();
    Ok(parsed)
}

/// What a caption file had that the transcript leaves out.
#[derive(Debug, Default)]
struct Dropped {
    identifiers: usize,
    settings: usize,
    blocks: usize,
    markup: bool,
    repeated_lines: usize,
    repeated_captions: usize,
}

impl Dropped {
    fn describe(&self) -> Vec<String> {
        let mut items = Vec::new();
        if self.settings > 0 {
            items.push(format!(
                "the cue settings (position, alignment, size) of {} caption(s)",
                self.settings
            ));
        }
        if self.identifiers > 0 {
            items.push(format!(
                "{} cue identifier(s) and numbers",
                self.identifiers
            ));
        }
        if self.blocks > 0 {
            items.push(format!(
                "{} NOTE, STYLE or REGION block(s) (comments and styling for players)",
                self.blocks
            ));
        }
        if self.markup {
            items.push(
                "styling markup (italics, colours, karaoke timestamps inside captions)".to_owned(),
            );
        }
        if self.repeated_lines > 0 {
            items.push(format!(
                "{} caption line(s) that repeat the line before, as rolling auto-captions do ({} caption(s) had nothing else and were merged into the one before)",
                self.repeated_lines, self.repeated_captions
            ));
        }
        items
    }
}

#[derive(Debug)]
struct Cue {
    start_ms: u64,
    end_ms: u64,
    payload: Vec<String>,
}

/// Reads the cues from line index `from` on.
///
/// A cue is an optional identifier line, a timing line and payload lines up
/// to a blank line. Two things real files do are tolerated: a timing line
/// straight after a payload with no blank line before it (YouTube), and, in
/// SubRip, a blank line inside a caption. In WebVTT a line of spaces belongs
/// to the payload, as the standard says, unless a cue follows it.
fn read_cues(
    lines: &[&str],
    from: usize,
    format: Format,
    dropped: &mut Dropped,
) -> Result<Vec<Cue>, ImportError> {
    let webvtt = format == Format::WebVtt;
    let blank = |i: usize| lines.get(i).is_none_or(|l| l.trim().is_empty());
    let is_timing = |i: usize| lines.get(i).is_some_and(|l| l.contains("-->"));
    let mut cues: Vec<Cue> = Vec::new();
    let mut i = from;
    if webvtt {
        // The header block runs to the first blank line.
        while i < lines.len() && !blank(i) {
            i += 1;
        }
    }
    while i < lines.len() {
        if blank(i) {
            i += 1;
            continue;
        }
        if webvtt
            && ["NOTE", "STYLE", "REGION"]
                .iter()
                .any(|k| is_keyword_line(lines[i], k))
        {
            dropped.blocks += 1;
            while i < lines.len() && !blank(i) {
                i += 1;
            }
            continue;
        }
        let timing = if is_timing(i) {
            i
        } else if !blank(i + 1) && is_timing(i + 1) {
            dropped.identifiers += 1;
            i + 1
        } else {
            let end = (i..lines.len()).find(|&k| blank(k)).unwrap_or(lines.len());
            let suspect = (i..end.min(i + 2)).find(|&k| looks_like_timing_attempt(lines[k]));
            match (suspect, cues.last_mut()) {
                (None, Some(previous)) => {
                    // SubRip writers sometimes leave a blank line inside a caption.
                    previous
                        .payload
                        .extend(lines[i..end].iter().map(|l| (*l).to_owned()));
                    i = end;
                    continue;
                }
                (suspect, _) => {
                    let at = suspect.unwrap_or(i);
                    return Err(ImportError::MissingCueTiming {
                        line: at + 1,
                        found: lines[at].trim().to_owned(),
                    });
                }
            }
        };
        let (start_ms, end_ms, settings) = parse_timing(lines[timing], timing + 1, webvtt)?;
        if !settings.is_empty() {
            dropped.settings += 1;
        }
        let mut j = timing + 1;
        let mut payload: Vec<String> = Vec::new();
        while j < lines.len() && !is_timing(j) {
            let line = lines[j];
            if line.is_empty() || (!webvtt && blank(j)) {
                break;
            }
            if blank(j) {
                let cue_follows = is_timing(j + 1) || (!blank(j + 1) && is_timing(j + 2));
                if cue_follows || blank(j + 1) {
                    break;
                }
            }
            payload.push(line.to_owned());
            j += 1;
        }
        // A number just before a timing line is the next SubRip cue's index.
        if !webvtt
            && is_timing(j)
            && payload.last().is_some_and(|l| {
                !l.trim().is_empty() && l.trim().bytes().all(|b| b.is_ascii_digit())
            })
        {
            payload.pop();
            j -= 1;
        }
        cues.push(Cue {
            start_ms,
            end_ms,
            payload,
        });
        i = j;
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

/// A cue setting: `align:start` is `("align", "start")`.
type Setting = (String, String);

/// Start, end and settings of `start --> end [settings]`.
///
/// Settings are `name:value` words (`align:start`, `position:50%,middle`);
/// SubRip files sometimes carry `X1:… Y1:…` coordinates in the same place.
/// Words that are not settings are ignored, as players ignore them.
fn parse_timing(
    line: &str,
    line_number: usize,
    webvtt: bool,
) -> Result<(u64, u64, Vec<Setting>), ImportError> {
    let (start, rest) = line.split_once("-->").unwrap_or((line, ""));
    let mut words = rest.split_whitespace();
    let end = words.next().unwrap_or_default();
    let start_ms =
        parse_timestamp(start.trim(), webvtt).ok_or_else(|| invalid(line_number, start))?;
    let end_ms = parse_timestamp(end, webvtt).ok_or_else(|| invalid(line_number, end))?;
    let settings = words
        .filter_map(|word| word.split_once(':'))
        .filter(|(name, value)| !name.is_empty() && !value.is_empty())
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    // A cue ending before it starts is a slip of the captioner; its start is
    // the reliable part.
    Ok((start_ms, end_ms.max(start_ms), settings))
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

/// A stretch of one caption spoken by one voice, line by line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    speaker: Option<String>,
    /// Cleaned caption lines, none empty.
    lines: Vec<String>,
    start_ms: u64,
    end_ms: u64,
}

impl Segment {
    fn text(&self) -> String {
        self.lines.join(" ")
    }
}

/// Splits a caption into voice segments, dropping other markup.
fn segments(cue: &Cue, markup: &mut bool) -> Vec<Segment> {
    let payload = cue.payload.join("\n");
    let mut segments = Vec::new();
    let mut speaker: Option<String> = None;
    let mut text = String::new();
    let mut rest = payload.as_str();
    let mut flush = |speaker: &Option<String>, text: &mut String| {
        let lines: Vec<String> = text
            .split('\n')
            .map(clean)
            .filter(|l| !l.is_empty())
            .collect();
        if !lines.is_empty() {
            segments.push(Segment {
                speaker: speaker.clone(),
                lines,
                start_ms: cue.start_ms,
                end_ms: cue.end_ms,
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
                    } else {
                        *markup = true;
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
                Some(close) => {
                    *markup = true;
                    rest = &rest[close + 1..];
                }
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

/// Collapses whitespace to single spaces, after normalising: removing tags
/// can leave a base letter next to a combining mark that the original
/// normalisation kept apart.
fn clean(text: &str) -> String {
    normalize(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Drops caption lines that repeat the last lines of the caption before
/// (of the same voice): rolling auto-captions show each line twice, once
/// new at the bottom and once moved up, and YouTube adds 10 ms captions
/// that only repeat. A caption left with nothing lengthens the one before.
fn drop_repeated_lines(segments: Vec<Segment>, dropped: &mut Dropped) -> Vec<Segment> {
    let mut kept: Vec<Segment> = Vec::with_capacity(segments.len());
    let mut previous: Option<Segment> = None;
    for segment in segments {
        let shown = segment.clone();
        let mut segment = segment;
        if let Some(before) = previous.as_ref().filter(|b| b.speaker == segment.speaker) {
            let most = before.lines.len().min(segment.lines.len());
            let overlap = (1..=most)
                .rev()
                .find(|&k| before.lines[before.lines.len() - k..] == segment.lines[..k])
                .unwrap_or(0);
            if overlap > 0 {
                dropped.repeated_lines += overlap;
                segment.lines.drain(..overlap);
            }
        }
        if segment.lines.is_empty() {
            dropped.repeated_captions += 1;
            if let Some(last) = kept.last_mut() {
                last.end_ms = last.end_ms.max(segment.end_ms);
            }
        } else {
            kept.push(segment);
        }
        previous = Some(shown);
    }
    kept
}

/// One turn being built: its speaker and the segments merged into it.
struct TurnDraft {
    speaker: Option<String>,
    segments: Vec<Segment>,
}

fn build_transcript(
    cues: Vec<Cue>,
    options: &ImportOptions,
    dropped: &mut Dropped,
) -> Result<ParsedTranscript, ImportError> {
    let mut markup = false;
    let mut segments: Vec<Segment> = cues
        .iter()
        .flat_map(|cue| segments(cue, &mut markup))
        .collect();
    dropped.markup = markup;
    if segments.is_empty() {
        return Err(ImportError::NoCaptions);
    }
    for segment in &mut segments {
        if segment
            .speaker
            .as_deref()
            .is_some_and(|s| options.is_not_speaker(s))
        {
            segment.speaker = None;
        }
    }
    let warnings = apply_prefix_speakers(&mut segments, options);
    let segments = drop_repeated_lines(segments, dropped);

    let mut drafts: Vec<TurnDraft> = Vec::new();
    for segment in segments {
        match drafts.last_mut() {
            Some(last) if last.speaker.is_some() && last.speaker == segment.speaker => {
                last.segments.push(segment);
            }
            _ => drafts.push(TurnDraft {
                speaker: segment.speaker.clone(),
                segments: vec![segment],
            }),
        }
    }
    let mut text = String::new();
    let mut turns = Vec::with_capacity(drafts.len());
    let mut offset = 0;
    for (i, draft) in drafts.iter().enumerate() {
        if i > 0 {
            text.push('\n');
            offset += 1;
        }
        let start = offset;
        let mut label_end = None;
        if let Some(speaker) = &draft.speaker {
            text.push_str(speaker);
            text.push_str(": ");
            offset += speaker.chars().count() + 2;
            label_end = Some(offset);
        }
        let mut cues = Vec::with_capacity(draft.segments.len());
        for (k, segment) in draft.segments.iter().enumerate() {
            if k > 0 {
                text.push(' ');
                offset += 1;
            }
            let piece = segment.text();
            let cue_start = offset;
            offset += piece.chars().count();
            text.push_str(&piece);
            cues.push(CueTime {
                start: cue_start,
                end: offset,
                start_ms: segment.start_ms,
                end_ms: segment.end_ms,
            });
        }
        turns.push(Turn {
            speaker: draft.speaker.clone(),
            start,
            end: offset,
            label_end: label_end.map(|l: usize| l.min(offset)),
            start_ms: cues.first().map(|c| c.start_ms),
            end_ms: cues.iter().map(|c| c.end_ms).max(),
            cues,
        });
    }
    let canonical = canonicalize(&text);
    if canonical.text != text {
        // Cannot happen while every piece went through `normalize`; one
        // turn per line, without times, is still better than wrong offsets.
        let turns = line_spans(&canonical.text)
            .into_iter()
            .filter(|line| line.start < line.end)
            .map(|line| Turn {
                start: line.start,
                end: line.end,
                ..Turn::default()
            })
            .collect();
        return Ok(ParsedTranscript::new(canonical, turns, warnings));
    }
    Ok(ParsedTranscript::new(canonical, turns, warnings))
}

/// Takes `Name: ` prefixes as speakers on captions without a voice tag.
///
/// When most captions start with a name, as in Zoom's files, every name is
/// a speaker, except one that occurs once while others repeat ("Note: ...").
/// When few do, as in subtitles, a name must label at least two captions:
/// "Digo: ..." opening one sentence of a Spanish film is not a speaker.
/// Names the researcher said are not speakers stay text.
fn apply_prefix_speakers(segments: &mut [Segment], options: &ImportOptions) -> Vec<String> {
    let labels: Vec<Option<(String, String)>> = segments
        .iter()
        .map(|segment| {
            if segment.speaker.is_some() {
                return None;
            }
            let first = segment.lines.first()?;
            let label = find_label(first, LabelRule::Caption)?;
            if options.is_not_speaker(&label.speaker) {
                return None;
            }
            let speech: String = first.chars().skip(label.label_chars).collect();
            Some((label.speaker, speech))
        })
        .collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (speaker, _) in labels.iter().flatten() {
        *counts.entry(speaker.to_lowercase()).or_default() += 1;
    }
    let untagged = segments.iter().filter(|s| s.speaker.is_none()).count();
    let labelled = labels.iter().flatten().count();
    let mostly_labelled = labelled * 2 >= untagged;
    let any_repeated = counts.values().any(|&n| n >= 2);
    let mut ignored: Vec<String> = Vec::new();
    for (segment, label) in segments.iter_mut().zip(labels) {
        let Some((speaker, speech)) = label else {
            continue;
        };
        let count = counts.get(&speaker.to_lowercase()).copied().unwrap_or(0);
        if count < 2 && (any_repeated || !mostly_labelled) {
            let quoted = format!("'{speaker}:'");
            if !ignored.contains(&quoted) {
                ignored.push(quoted);
            }
        } else if !speech.is_empty() || segment.lines.len() > 1 {
            segment.speaker = Some(speaker);
            if speech.is_empty() {
                segment.lines.remove(0);
            } else {
                segment.lines[0] = speech;
            }
        }
    }
    if ignored.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "{} looked like a speaker name but labels only one caption, so it was kept as caption text.",
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
    fn merged_turns_keep_each_captions_place_and_times() {
        let parsed = parse_vtt(TEAMS.as_bytes(), None).unwrap();
        let first = &parsed.turns[0];
        assert_eq!(first.end_ms, Some(6_000));
        let cues: Vec<(String, u64, u64)> = first
            .cues
            .iter()
            .map(|c| {
                (
                    parsed
                        .text
                        .chars()
                        .skip(c.start)
                        .take(c.end - c.start)
                        .collect(),
                    c.start_ms,
                    c.end_ms,
                )
            })
            .collect();
        assert_eq!(
            cues,
            [
                ("Hello and welcome.".to_owned(), 1_250, 4_000),
                ("Shall we start?".to_owned(), 4_500, 6_000)
            ]
        );
        assert!(
            parsed.not_kept.iter().any(|n| n.contains("cue settings")),
            "{:?}",
            parsed.not_kept
        );
    }

    #[test]
    fn cue_settings_are_parsed_apart_from_the_times() {
        let (start, end, settings) = parse_timing(
            "00:05:04.080 --> 00:05:05.069 align:start position:0%",
            1,
            true,
        )
        .unwrap();
        assert_eq!((start, end), (304_080, 305_069));
        assert_eq!(
            settings,
            [
                ("align".to_owned(), "start".to_owned()),
                ("position".to_owned(), "0%".to_owned())
            ]
        );
    }

    #[test]
    fn cues_without_blank_lines_between_them_are_still_apart() {
        let srt =
            "1\n00:00:01,000 --> 00:00:02,000\nFirst\n2\n00:00:02,000 --> 00:00:03,000\nSecond\n";
        let parsed = parse_srt(srt.as_bytes(), None).unwrap();
        assert_eq!(parsed.text, "First\nSecond");
        assert_eq!(parsed.turns[1].start_ms, Some(2_000));
        // A line of spaces between WebVTT cues, as hand-edited files have.
        let vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\nOne\n   \n2\n00:02.000 --> 00:03.000\nTwo\n";
        let parsed = parse_vtt(vtt.as_bytes(), None).unwrap();
        assert_eq!(parsed.text, "One\nTwo");
    }

    #[test]
    fn rolling_captions_are_kept_once() {
        let vtt = "WEBVTT\n\n00:00.000 --> 00:02.000\nhey guys welcome\n\n00:02.000 --> 00:02.010\nhey guys welcome\n\n00:02.010 --> 00:04.000\nhey guys welcome\nto the show\n\n00:04.000 --> 00:06.000\nto the show\ntoday we talk\n";
        let parsed = parse_vtt(vtt.as_bytes(), None).unwrap();
        assert_eq!(parsed.text, "hey guys welcome\nto the show\ntoday we talk");
        assert_eq!(parsed.turns[0].end_ms, Some(2_010));
        assert!(
            parsed
                .not_kept
                .iter()
                .any(|n| n.starts_with("3 caption line(s)"))
        );
    }

    #[test]
    fn names_on_most_captions_are_speakers_even_when_each_occurs_once() {
        let srt = "1\n00:00:01,000 --> 00:00:03,000\nInterviewer: Hello.\n\n2\n00:00:03,500 --> 00:00:06,000\nP02: Hi there.\n";
        let parsed = parse_srt(srt.as_bytes(), None).unwrap();
        assert_eq!(
            parsed.speakers(),
            [("Interviewer".to_owned(), 1), ("P02".to_owned(), 1)]
        );
    }

    #[test]
    fn prefix_speakers_the_importer_drops_stay_text() {
        let vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\nAna: Hi.\n\n00:02.000 --> 00:03.000\nDigo: yes.\n\n00:03.000 --> 00:04.000\nAna: Go on.\n\n00:04.000 --> 00:05.000\nDigo: no.\n";
        let options = ImportOptions {
            not_speakers: vec!["DIGO".to_owned()],
            ..ImportOptions::default()
        };
        let parsed = parse_captions(vtt.as_bytes(), &options, Format::WebVtt).unwrap();
        assert_eq!(parsed.text, "Ana: Hi.\nDigo: yes.\nAna: Go on.\nDigo: no.");
        let speakers: Vec<_> = parsed.turns.iter().map(|t| t.speaker.as_deref()).collect();
        assert_eq!(speakers, [Some("Ana"), None, Some("Ana"), None]);
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
        let utf8 = parse_vtt(TEAMS.as_bytes(), None).unwrap();
        assert_eq!((&parsed.text, &parsed.turns), (&utf8.text, &utf8.turns));
        assert_eq!(parsed.encoding, Some(Encoding::UTF_16LE));
    }

    #[test]
    fn a_blank_line_inside_an_srt_caption_continues_it() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nP01: first part\n\nsecond part\n\n2\n00:00:02,000 --> 00:00:03,000\nP01: more\n";
        let parsed = parse_srt(srt.as_bytes(), None).unwrap();
        assert_eq!(parsed.text, "P01: first part second part more");
    }
}
