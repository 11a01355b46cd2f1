//! Unit construction from the canonical text (§4.1, §4.2).

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use super::types::{InputError, Span, UnitLevel};

/// A transcript's unit boundaries at every level, computed once from its canonical text so
/// that reports at several levels do not rescan it. The text is frozen once coded
/// (DESIGN invariant 1), so a caller may also keep this (it serialises) and rebuild it with
/// [`TranscriptUnits::from_parts`] or serde, both of which validate it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawUnits")]
pub struct TranscriptUnits {
    length: u32,
    lines: Vec<Span>,
    sentences: Vec<Span>,
    paragraphs: Vec<Span>,
    /// Empty when the import recorded no speaker turns; paragraphs stand in for them.
    turns: Vec<Span>,
}

#[derive(Deserialize)]
struct RawUnits {
    length: u32,
    lines: Vec<Span>,
    sentences: Vec<Span>,
    paragraphs: Vec<Span>,
    turns: Vec<Span>,
}

impl TryFrom<RawUnits> for TranscriptUnits {
    type Error = InputError;

    fn try_from(raw: RawUnits) -> Result<Self, Self::Error> {
        Self::from_parts(
            raw.length,
            raw.lines,
            raw.sentences,
            raw.paragraphs,
            raw.turns,
        )
    }
}

impl TranscriptUnits {
    /// Scans `text` (canonical: NFC, `\n` line endings). `turns` are the speaker segments
    /// recorded at import, in code points; they may come in any order but must not
    /// overlap. Turns holding only whitespace are not units, as for lines.
    pub fn new(text: &str, turns: &[Span]) -> Result<Self, InputError> {
        let mut lines = Vec::new();
        let mut sentences = Vec::new();
        let mut paragraphs = Vec::new();
        // Prefix counts of non-whitespace code points, only needed to vet the turns.
        let mut solid_prefix: Vec<u32> = Vec::new();
        let need_prefix = !turns.is_empty();
        if need_prefix {
            solid_prefix.reserve(text.len() + 1);
            solid_prefix.push(0);
        }

        let mut position: u32 = 0;
        let mut solid: u32 = 0;
        let mut paragraph: Option<Span> = None;
        for raw_line in text.split('\n') {
            let start = position;
            let mut blank = true;
            for c in raw_line.chars() {
                let is_space = c.is_whitespace();
                blank &= is_space;
                if need_prefix {
                    solid += u32::from(!is_space);
                    solid_prefix.push(solid);
                }
                position = position.checked_add(1).ok_or(InputError::TextTooLong)?;
            }
            let line = Span {
                start,
                end: position,
            };
            if blank {
                paragraphs.extend(paragraph.take());
            } else {
                lines.push(line);
                paragraph = Some(match paragraph {
                    Some(open) => Span {
                        start: open.start,
                        end: line.end,
                    },
                    None => line,
                });
                push_sentences(raw_line, start, &mut sentences);
            }
            // The newline that ended this line is a code point too (the last line has none,
            // corrected after the loop).
            position = position.checked_add(1).ok_or(InputError::TextTooLong)?;
            if need_prefix {
                solid_prefix.push(solid);
            }
        }
        paragraphs.extend(paragraph.take());
        // The loop counted a newline after the last line, which the text does not have.
        let length = position - 1;
        if need_prefix {
            solid_prefix.pop();
        }

        let mut kept_turns = Vec::with_capacity(turns.len());
        for &turn in turns {
            if turn.start >= turn.end || turn.end > length {
                return Err(InputError::InvalidTurn {
                    start: turn.start,
                    end: turn.end,
                    length,
                });
            }
            if solid_prefix[turn.end as usize] > solid_prefix[turn.start as usize] {
                kept_turns.push(turn);
            }
        }
        kept_turns.sort_unstable();
        if let Some(pair) = kept_turns
            .windows(2)
            .find(|pair| pair[0].end > pair[1].start)
        {
            return Err(InputError::InvalidTurn {
                start: pair[1].start,
                end: pair[1].end,
                length,
            });
        }

        Ok(Self {
            length,
            lines,
            sentences,
            paragraphs,
            turns: kept_turns,
        })
    }

    /// Rebuilds the boundaries from stored parts, checking that every list is sorted,
    /// non-overlapping, non-empty per unit and inside `[0, length)`.
    pub fn from_parts(
        length: u32,
        lines: Vec<Span>,
        sentences: Vec<Span>,
        paragraphs: Vec<Span>,
        turns: Vec<Span>,
    ) -> Result<Self, InputError> {
        for (level, units) in [
            (UnitLevel::Line, &lines),
            (UnitLevel::Sentence, &sentences),
            (UnitLevel::Paragraph, &paragraphs),
            (UnitLevel::SpeakerTurn, &turns),
        ] {
            let well_formed = units.iter().all(|u| u.start < u.end && u.end <= length)
                && units.windows(2).all(|pair| pair[0].end <= pair[1].start);
            if !well_formed {
                return Err(InputError::InvalidUnits { level });
            }
        }
        Ok(Self {
            length,
            lines,
            sentences,
            paragraphs,
            turns,
        })
    }

    /// Length of the text in code points.
    pub fn length(&self) -> u32 {
        self.length
    }

    /// The units of a level in text order; `None` for [`UnitLevel::Character`], whose units
    /// are all `length` code points.
    pub fn units(&self, level: UnitLevel) -> Option<&[Span]> {
        match level {
            UnitLevel::Line => Some(&self.lines),
            UnitLevel::Sentence => Some(&self.sentences),
            UnitLevel::Paragraph => Some(&self.paragraphs),
            UnitLevel::SpeakerTurn if self.turns.is_empty() => Some(&self.paragraphs),
            UnitLevel::SpeakerTurn => Some(&self.turns),
            UnitLevel::Character => None,
        }
    }

    pub fn unit_count(&self, level: UnitLevel) -> u32 {
        match self.units(level) {
            Some(units) => count_u32(units.len()),
            None => self.length,
        }
    }

    /// The indices `[first, last)` of the units that `span` shares at least one character
    /// with (§4.1 presence rule); empty when it lies only on blank lines or newlines.
    pub(crate) fn unit_range(&self, level: UnitLevel, span: Span) -> (u32, u32) {
        match self.units(level) {
            None => (span.start, span.end),
            Some(units) => {
                let first = units.partition_point(|u| u.end <= span.start);
                let last = units.partition_point(|u| u.start < span.end);
                let first = count_u32(first);
                (first, count_u32(last).max(first))
            }
        }
    }
}

/// Units are counted in `u32` because the text length is; a unit list is never longer
/// than the text.
fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Appends the sentences of one non-blank line, converting the segmenter's byte offsets to
/// code points and dropping whitespace-only segments.
fn push_sentences(line: &str, line_start: u32, out: &mut Vec<Span>) {
    let mut position = line_start;
    for piece in line.split_sentence_bounds() {
        let mut len: u32 = 0;
        let mut blank = true;
        for c in piece.chars() {
            len += 1;
            blank &= c.is_whitespace();
        }
        if !blank {
            out.push(Span {
                start: position,
                end: position + len,
            });
        }
        position += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An emoji outside the BMP, precomposed accents, a combining dot, a dash, a tab-only
    /// line and a blank line: byte or UTF-16 counting shifts every offset after the emoji.
    const TEXT: &str = "I: Hi 👋. Ça va? Oui.\n\n \t\nP01: Zoë — q\u{307}uite. Done!";

    fn span(start: u32, end: u32) -> Span {
        Span { start, end }
    }

    #[test]
    fn units_are_counted_in_code_points() {
        let units = TranscriptUnits::new(TEXT, &[]).expect("valid");
        assert_eq!(units.length(), 49); // 50 UTF-16 units, 57 bytes
        assert_eq!(
            units.units(UnitLevel::Line),
            Some(&[span(0, 20), span(25, 49)][..])
        );
        assert_eq!(
            units.units(UnitLevel::Paragraph),
            Some(&[span(0, 20), span(25, 49)][..])
        );
        assert_eq!(
            units.units(UnitLevel::Sentence),
            Some(
                &[
                    span(0, 9),
                    span(9, 16),
                    span(16, 20),
                    span(25, 44),
                    span(44, 49)
                ][..]
            )
        );
        // No turns recorded: turns are paragraphs.
        assert_eq!(
            units.units(UnitLevel::SpeakerTurn),
            units.units(UnitLevel::Paragraph)
        );
        assert_eq!(units.unit_count(UnitLevel::Character), 49);
    }

    #[test]
    fn presence_needs_one_shared_character() {
        let units = TranscriptUnits::new(TEXT, &[]).expect("valid");
        // The emoji alone marks its line and its sentence.
        assert_eq!(units.unit_range(UnitLevel::Line, span(6, 7)), (0, 1));
        assert_eq!(units.unit_range(UnitLevel::Sentence, span(6, 7)), (0, 1));
        // A span over the blank lines and newlines only marks nothing, except characters.
        assert_eq!(units.unit_range(UnitLevel::Line, span(20, 25)), (1, 1));
        assert_eq!(units.unit_range(UnitLevel::Paragraph, span(20, 25)), (1, 1));
        assert_eq!(
            units.unit_range(UnitLevel::Character, span(20, 25)),
            (20, 25)
        );
        // A span crossing a boundary marks every unit it touches.
        assert_eq!(units.unit_range(UnitLevel::Sentence, span(15, 17)), (1, 3));
        assert_eq!(units.unit_range(UnitLevel::Line, span(19, 26)), (0, 2));
        // Ending exactly where a unit starts does not touch it.
        assert_eq!(units.unit_range(UnitLevel::Sentence, span(0, 9)), (0, 1));
    }

    #[test]
    fn recorded_turns_replace_paragraphs_and_blank_turns_are_dropped() {
        let turns = [span(25, 49), span(0, 20), span(20, 25)];
        let units = TranscriptUnits::new(TEXT, &turns).expect("valid");
        assert_eq!(
            units.units(UnitLevel::SpeakerTurn),
            Some(&[span(0, 20), span(25, 49)][..])
        );

        let overlapping = [span(0, 30), span(25, 49)];
        assert!(matches!(
            TranscriptUnits::new(TEXT, &overlapping),
            Err(InputError::InvalidTurn { .. })
        ));
        assert!(TranscriptUnits::new(TEXT, &[span(40, 50)]).is_err());
        assert!(TranscriptUnits::new(TEXT, &[span(4, 4)]).is_err());
    }

    #[test]
    fn empty_and_newline_terminated_texts() {
        let empty = TranscriptUnits::new("", &[]).expect("valid");
        assert_eq!(empty.length(), 0);
        assert_eq!(empty.unit_count(UnitLevel::Line), 0);
        let trailing = TranscriptUnits::new("a\nb\n", &[]).expect("valid");
        assert_eq!(trailing.length(), 4);
        assert_eq!(
            trailing.units(UnitLevel::Line),
            Some(&[span(0, 1), span(2, 3)][..])
        );
        assert_eq!(
            trailing.units(UnitLevel::Paragraph),
            Some(&[span(0, 3)][..])
        );
    }

    #[test]
    fn stored_boundaries_round_trip_and_are_validated() {
        let units = TranscriptUnits::new(TEXT, &[span(0, 20)]).expect("valid");
        let json = serde_json::to_string(&units).expect("serialisable");
        let back: TranscriptUnits = serde_json::from_str(&json).expect("valid stored units");
        assert_eq!(back, units);

        let unsorted =
            TranscriptUnits::from_parts(10, vec![span(5, 8), span(0, 3)], vec![], vec![], vec![]);
        assert_eq!(
            unsorted,
            Err(InputError::InvalidUnits {
                level: UnitLevel::Line
            })
        );
        let outside = TranscriptUnits::from_parts(10, vec![], vec![], vec![span(0, 11)], vec![]);
        assert_eq!(
            outside,
            Err(InputError::InvalidUnits {
                level: UnitLevel::Paragraph
            })
        );
        let tampered = json.replace("\"length\":49", "\"length\":3");
        assert!(serde_json::from_str::<TranscriptUnits>(&tampered).is_err());
    }

    #[test]
    fn unit_levels_use_the_spec_names() {
        let names: Vec<String> = UnitLevel::ALL
            .iter()
            .map(|l| serde_json::to_string(l).expect("serialisable"))
            .collect();
        assert_eq!(
            names,
            [
                "\"line\"",
                "\"sentence\"",
                "\"paragraph\"",
                "\"turn\"",
                "\"character\""
            ]
        );
        assert_eq!(UnitLevel::default(), UnitLevel::Line);
    }
}
