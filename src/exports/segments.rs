//! Coded segments: one row per live consensus coding and, when asked, per
//! coding of every coder layer the exporter may see.

use futures_util::TryStreamExt;

use super::model::{self, Cell};
use super::sink::Sink;
use super::store;
use crate::coding::blinding::{AgreedCodebook, Viewer};
use crate::error::AppError;
use crate::import::Turn;
use crate::projects::member::Actor;
use crate::state::AppState;

/// The columns before and after the participant's attributes.
const BEFORE: [(&str, f64); 3] = [("layer", 12.0), ("transcript", 24.0), ("participant", 12.0)];
const AFTER: [(&str, f64); 11] = [
    ("speaker", 14.0),
    ("line", 6.0),
    ("start", 8.0),
    ("end", 8.0),
    ("agreed_code", 22.0),
    ("theme_path", 30.0),
    ("coder_code", 20.0),
    ("text", 60.0),
    ("memo", 30.0),
    ("transcript_id", 38.0),
    ("coding_id", 38.0),
];

/// The speaker of the turn holding `offset`, if the transcript has turns.
fn speaker_at(turns: &[Turn], offset: usize) -> Option<&str> {
    let i = turns.partition_point(|t| t.start <= offset);
    let turn = turns.get(i.checked_sub(1)?)?;
    (offset < turn.end).then_some(turn.speaker.as_deref())?
}

pub async fn write(
    state: &AppState,
    actor: &Actor,
    viewer: &Viewer,
    proof: AgreedCodebook,
    coder_layers: bool,
    sink: &mut Sink,
) -> Result<(), AppError> {
    let project = actor.project_id;
    let mut conn = state.db.acquire().await?;
    let variables = store::list_variables(&mut conn, project).await?;
    let values = store::participant_values(&mut conn, project).await?;
    let paths = crate::themes::store::code_paths(&mut conn, project, proof).await?;
    let transcripts = store::list_transcripts(&mut conn, project).await?;
    let layers = if coder_layers {
        viewer.layers_of(transcripts.iter().map(|t| t.id))
    } else {
        viewer.layers_of([])
    };

    let mut headings: Vec<(&str, f64)> = BEFORE.to_vec();
    headings.extend(variables.iter().map(|(_, name)| (name.as_str(), 14.0)));
    headings.extend(AFTER);
    sink.sheet("Coded segments", &headings)?;

    for t in &transcripts {
        let coder_rows = layers.transcripts().contains(&t.id);
        if !t.has_consensus && !coder_rows {
            continue;
        }
        let text = store::get_text(&mut conn, project, t.id).await?;
        let starts = model::line_starts(&text.text);
        let bytes = model::char_bytes(&text.text);
        let mut turns = text.turns.0;
        turns.sort_by_key(|turn| turn.start);
        let attributes: Vec<Cell> = variables
            .iter()
            .map(|(id, _)| {
                t.participant_id
                    .and_then(|p| values.get(&p))
                    .and_then(|v| v.get(id))
                    .map(|v| Cell::text(v.as_str()))
                    .unwrap_or(Cell::Empty)
            })
            .collect();
        // The cells every row of this transcript shares, around its own.
        let row = |layer: &str,
                   start: i32,
                   end: i32,
                   agreed: Option<&str>,
                   path: Option<&Vec<String>>,
                   coder_code: Option<&str>,
                   memo: &str,
                   id: String| {
            let mut cells: Vec<Cell> = vec![
                layer.into(),
                t.title.as_str().into(),
                t.participant.as_deref().into(),
            ];
            cells.extend(attributes.iter().cloned());
            cells.extend([
                speaker_at(&turns, start.max(0) as usize).into(),
                Cell::Int(model::line_of(&starts, start.max(0) as u32) as i64),
                Cell::Int(i64::from(start)),
                Cell::Int(i64::from(end)),
                agreed.into(),
                path.map(|p| model::path_text(p)).into(),
                coder_code.into(),
                model::quote(&text.text, &bytes, start, end).into(),
                memo.into(),
                t.id.to_string().into(),
                id.into(),
            ]);
            cells
        };

        let mut rows = store::stream_consensus(&mut conn, project, t.id, proof);
        while let Some(c) = rows.try_next().await? {
            let cells = row(
                "consensus",
                c.start_offset,
                c.end_offset,
                Some(&c.agreed_code),
                paths.get(&c.agreed_code_id),
                None,
                &c.memo,
                c.id.to_string(),
            );
            sink.row(&cells).await?;
        }
        drop(rows);
        let mut rows = store::stream_coder_codings(&mut conn, project, t.id, &layers);
        while let Some(c) = rows.try_next().await? {
            let cells = row(
                &c.coder,
                c.start_offset,
                c.end_offset,
                c.agreed_code.as_deref(),
                c.agreed_code_id.and_then(|a| paths.get(&a)),
                Some(&c.code),
                &c.memo,
                c.id.to_string(),
            );
            sink.row(&cells).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(speaker: &str, start: usize, end: usize) -> Turn {
        Turn {
            speaker: Some(speaker.to_owned()),
            start,
            end,
            ..Turn::default()
        }
    }

    #[test]
    fn a_segment_belongs_to_the_turn_it_starts_in() {
        let turns = [turn("Interviewer", 0, 10), turn("P01", 11, 30)];
        assert_eq!(speaker_at(&turns, 0), Some("Interviewer"));
        assert_eq!(speaker_at(&turns, 9), Some("Interviewer"));
        assert_eq!(speaker_at(&turns, 10), None, "the line break between turns");
        assert_eq!(speaker_at(&turns, 12), Some("P01"));
        assert_eq!(speaker_at(&turns, 31), None);
        assert_eq!(speaker_at(&[], 3), None);
    }
}
