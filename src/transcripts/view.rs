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
}
