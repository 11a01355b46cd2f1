//! The codebook: one row per live agreed code, from the same entries (and
//! so the same counts) as the consensus codebook page.

use super::model::{self, Cell};
use super::sink::Sink;
use super::store;
use crate::coding::blinding::AgreedCodebook;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::reconcile::consensus;
use crate::state::AppState;

const HEADINGS: [(&str, f64); 13] = [
    ("agreed_code", 24.0),
    ("theme_path", 30.0),
    ("definition", 50.0),
    ("inclusion", 40.0),
    ("exclusion", 40.0),
    ("example", 40.0),
    ("codings", 9.0),
    ("transcripts", 11.0),
    ("participants", 12.0),
    ("participants_of", 14.0),
    ("coder_codes", 40.0),
    ("color", 9.0),
    ("agreed_code_id", 38.0),
];

pub async fn write(
    state: &AppState,
    member: &Member,
    proof: AgreedCodebook,
    sink: &mut Sink,
) -> Result<(), AppError> {
    let entries = consensus::codebook(state, member).await?;
    let mut conn = state.db.acquire().await?;
    let paths = crate::themes::store::code_paths(&mut conn, member.project_id, proof).await?;
    let of = store::count_reconciled_participants(&mut conn, member.project_id, proof).await?;
    drop(conn);
    // Placed codes first, in the order of their paths; unplaced ones after.
    let mut rows: Vec<(String, &consensus::Entry)> = entries
        .iter()
        .map(|e| {
            let path = paths
                .get(&e.code.id)
                .map(|p| model::path_text(p))
                .unwrap_or_default();
            (path, e)
        })
        .collect();
    rows.sort_by_cached_key(|(path, e)| {
        (
            path.is_empty(),
            path.to_lowercase(),
            e.code.name.to_lowercase(),
        )
    });
    sink.sheet("Codebook", &HEADINGS)?;
    for (path, e) in rows {
        let coder_codes = e
            .coder_codes
            .iter()
            .map(|c| format!("{}: {}", c.coder, c.name))
            .collect::<Vec<_>>()
            .join("; ");
        let cells = [
            Cell::text(e.code.name.as_str()),
            Cell::text(path),
            Cell::text(e.code.definition.as_str()),
            Cell::text(e.code.inclusion.as_str()),
            Cell::text(e.code.exclusion.as_str()),
            Cell::text(e.code.example.as_str()),
            Cell::Int(e.codings),
            Cell::Int(e.transcripts),
            Cell::Int(e.participants),
            Cell::text(format!("{} of {of}", e.participants)),
            Cell::text(coder_codes),
            Cell::text(e.code.color.as_str()),
            Cell::text(e.code.id.to_string()),
        ];
        sink.row(&cells).await?;
    }
    Ok(())
}
