//! The transcript as the page shows it: numbered lines, speaker turns, times.

use std::collections::HashMap;

use crate::import::Turn;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineView {
    pub number: usize,
    /// Code-point offset of the line's first character.
    pub start: usize,
    /// The `Name: ` label, on the first line of a turn that has one.
    pub label: String,
    pub body: String,
    pub turn_start: bool,
    /// Stable per speaker, for colouring turns (0 for no speaker).
    pub speaker_index: usize,
    pub time: Option<String>,
}

pub fn format_ms(ms: u64) -> String {
    let secs = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// One pass over the text; turns are in text order and never overlap.
pub fn lines(text: &str, turns: &[Turn]) -> Vec<LineView> {
    let mut speakers: HashMap<&str, usize> = HashMap::new();
    let mut views = Vec::new();
    let mut offset = 0;
    let mut turn_index = 0;
    for (i, line) in text.split('\n').enumerate() {
        let length = line.chars().count();
        while turns.get(turn_index).is_some_and(|t| t.end <= offset) {
            turn_index += 1;
        }
        let turn = turns.get(turn_index).filter(|t| t.start <= offset);
        let turn_start = turn.is_some_and(|t| t.start == offset);
        let speaker_index = match turn.and_then(|t| t.speaker.as_deref()) {
            Some(name) => {
                let next = speakers.len() + 1;
                *speakers.entry(name).or_insert(next)
            }
            None => 0,
        };
        let (label, body) = match turn.filter(|_| turn_start).and_then(|t| t.label_end) {
            Some(label_end) if label_end > offset => {
                let split = line
                    .char_indices()
                    .nth(label_end - offset)
                    .map(|(b, _)| b)
                    .unwrap_or(line.len());
                (line[..split].to_owned(), line[split..].to_owned())
            }
            _ => (String::new(), line.to_owned()),
        };
        let time = turn
            .filter(|_| turn_start)
            .and_then(|t| t.start_ms)
            .map(format_ms);
        views.push(LineView {
            number: i + 1,
            start: offset,
            label,
            body,
            turn_start,
            speaker_index,
            time,
        });
        offset += length + 1;
    }
    views
}

/// A run of a line's body and the codes on it (indices into the page's legend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub codes: Vec<usize>,
}

/// A line with one layer's codings laid over it.
#[derive(Debug, Clone)]
pub struct CodedLine {
    pub line: LineView,
    pub segments: Vec<Segment>,
    /// Codes whose span begins on this line, in span order, without repeats.
    pub starts: Vec<usize>,
}

/// Lays `spans` (`[start, end)` in code points, and a code index) over the
/// lines: each body is cut where a span begins or ends.
pub fn overlay(lines: Vec<LineView>, spans: &[(usize, usize, usize)]) -> Vec<CodedLine> {
    let mut spans: Vec<(usize, usize, usize)> =
        spans.iter().copied().filter(|s| s.0 < s.1).collect();
    spans.sort_unstable();
    // Spans are sorted by start; `first` skips those that end before the line.
    let mut first = 0;
    lines
        .into_iter()
        .map(|line| {
            let line_end = line.start + line.label.chars().count() + line.body.chars().count();
            let body_start = line.start + line.label.chars().count();
            while spans.get(first).is_some_and(|s| s.1 <= line.start) {
                first += 1;
            }
            let mut here: Vec<(usize, usize, usize)> = Vec::new();
            let mut starts = Vec::new();
            for &span in spans[first..].iter().take_while(|s| s.0 <= line_end) {
                if span.1 <= line.start {
                    continue;
                }
                if span.0 >= line.start && !starts.contains(&span.2) {
                    starts.push(span.2);
                }
                if span.0 < line_end && span.1 > body_start {
                    here.push(span);
                }
            }
            let mut cuts = vec![body_start, line_end];
            for s in &here {
                cuts.push(s.0.clamp(body_start, line_end));
                cuts.push(s.1.clamp(body_start, line_end));
            }
            cuts.sort_unstable();
            cuts.dedup();
            let chars: Vec<char> = line.body.chars().collect();
            let segments = cuts
                .windows(2)
                .map(|w| {
                    let mut codes: Vec<usize> = here
                        .iter()
                        .filter(|s| s.0 <= w[0] && s.1 >= w[1])
                        .map(|s| s.2)
                        .collect();
                    codes.sort_unstable();
                    codes.dedup();
                    Segment {
                        text: chars[w[0] - body_start..w[1] - body_start].iter().collect(),
                        codes,
                    }
                })
                .collect();
            CodedLine {
                line,
                segments,
                starts,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_code_point_offsets_labels_and_times() {
        let text = "I: Zoë 👋 hi\nP01: Yes.\nmore";
        let turns = vec![
            Turn {
                speaker: Some("I".into()),
                start: 0,
                end: 11,
                label_end: Some(3),
                start_ms: Some(61_000),
                ..Turn::default()
            },
            Turn {
                speaker: Some("P01".into()),
                start: 12,
                end: 26,
                label_end: Some(17),
                ..Turn::default()
            },
        ];
        let views = lines(text, &turns);
        assert_eq!(views.len(), 3);
        assert_eq!(views[0].label, "I: ");
        assert_eq!(views[0].body, "Zoë 👋 hi");
        assert_eq!(views[0].time.as_deref(), Some("00:01:01"));
        assert_eq!(views[1].start, 12, "emoji count as one code point");
        assert_eq!(views[1].label, "P01: ");
        assert!(views[1].turn_start);
        assert!(!views[2].turn_start);
        assert_eq!(views[2].speaker_index, views[1].speaker_index);
        assert_ne!(views[0].speaker_index, views[1].speaker_index);
    }

    #[test]
    fn overlay_cuts_bodies_at_span_edges_across_lines() {
        let text = "I: abcdef\nghij\n\nklm";
        let turns = vec![Turn {
            speaker: Some("I".into()),
            start: 0,
            end: 9,
            label_end: Some(3),
            ..Turn::default()
        }];
        // Code 0 covers "cdef\ngh", code 1 "de", code 2 the whole last line.
        let coded = overlay(lines(text, &turns), &[(5, 12, 0), (6, 8, 1), (16, 19, 2)]);
        let texts = |i: usize| -> Vec<(String, Vec<usize>)> {
            coded[i]
                .segments
                .iter()
                .map(|s| (s.text.clone(), s.codes.clone()))
                .collect()
        };
        assert_eq!(
            texts(0),
            vec![
                ("ab".into(), vec![]),
                ("c".into(), vec![0]),
                ("de".into(), vec![0, 1]),
                ("f".into(), vec![0]),
            ]
        );
        assert_eq!(coded[0].starts, vec![0, 1]);
        assert_eq!(
            texts(1),
            vec![("gh".into(), vec![0]), ("ij".into(), vec![])]
        );
        assert!(coded[1].starts.is_empty(), "code 0 began on line 1");
        assert_eq!(texts(2), Vec::<(String, Vec<usize>)>::new());
        assert_eq!(texts(3), vec![("klm".into(), vec![2])]);
        assert_eq!(coded[3].starts, vec![2]);
        let plain = overlay(lines("a\nb", &[]), &[]);
        assert_eq!(
            plain[1].segments,
            vec![Segment {
                text: "b".into(),
                codes: vec![]
            }]
        );
    }
}
