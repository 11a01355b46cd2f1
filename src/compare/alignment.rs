//! Aligning coders' own codes onto agreed codes: suggestions ranked by how
//! much their spans overlap and how alike their names are, and the actions.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use sqlx::PgConnection;

use super::store::{self, CoderCode};
use crate::codebook::model::AgreedCode;
use crate::codebook::service as codebook;
use crate::coding::blinding::{AllCodebooks, Viewer};
use crate::db::ids::{AgreedCodeId, CodeId, TranscriptId};
use crate::error::{AppError, FieldErrors};
use crate::projects::member::Actor;
use crate::projects::model::Role;
use crate::reconcile::service::{Refile, file_automatic_for};

/// Only leads who are not themselves still coding may see every codebook.
/// A lead blind to nothing, with the proof that lets them read every codebook.
pub async fn require_aligner(conn: &mut PgConnection, actor: &Actor) -> Result<Aligner, AppError> {
    actor.require(&[Role::Lead])?;
    let viewer = Viewer::of(&mut *conn, actor).await?;
    let codebooks = viewer.all_codebooks().map_err(|_| {
        AppError::State("You are still coding a transcript of this project: submit it before seeing the other coders' codes.".into())
    })?;
    Ok(Aligner { viewer, codebooks })
}

pub struct Aligner {
    viewer: Viewer,
    codebooks: AllCodebooks,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub a: CodeId,
    pub b: CodeId,
    /// Characters both codes cover over characters either covers, in all transcripts.
    pub overlap: f64,
    pub name_similarity: f64,
    /// A few passages both codes cover.
    pub quotes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlignmentView {
    pub codes: Vec<CoderCode>,
    pub agreed_codes: Vec<AgreedCode>,
    pub suggestions: Vec<Suggestion>,
}

fn words(name: &str) -> HashSet<String> {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(str::to_owned)
        .collect()
}

/// Word overlap of two names, 1.0 when one contains the other.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    let (la, lb) = (a.trim().to_lowercase(), b.trim().to_lowercase());
    if la == lb {
        return 1.0;
    }
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return 0.0;
    }
    let shared = wa.intersection(&wb).count() as f64;
    let jaccard = shared / wa.union(&wb).count() as f64;
    if shared as usize == wa.len().min(wb.len()) {
        jaccard.max(0.5)
    } else {
        jaccard
    }
}

type Pair = (CodeId, CodeId);
/// Where two codes overlap: a few regions of a transcript.
type Regions = HashMap<Pair, Vec<(TranscriptId, u32, u32)>>;

/// Per pair of codes from different coders: characters covered by both, and
/// per code, characters covered; one sweep over each transcript's boundaries.
pub fn overlaps(
    spans: &[(TranscriptId, CodeId, u32, u32)],
) -> (HashMap<Pair, u64>, HashMap<CodeId, u64>, Regions) {
    let mut by_transcript: BTreeMap<TranscriptId, Vec<(CodeId, u32, u32)>> = BTreeMap::new();
    for &(t, code, start, end) in spans {
        by_transcript.entry(t).or_default().push((code, start, end));
    }
    let mut pair = HashMap::new();
    let mut single = HashMap::new();
    let mut regions: Regions = HashMap::new();
    for (t, list) in by_transcript {
        let mut bounds: Vec<u32> = list.iter().flat_map(|&(_, s, e)| [s, e]).collect();
        bounds.sort_unstable();
        bounds.dedup();
        for window in bounds.windows(2) {
            let (from, to) = (window[0], window[1]);
            let mut covering: Vec<CodeId> = list
                .iter()
                .filter(|&&(_, s, e)| s <= from && to <= e)
                .map(|&(c, _, _)| c)
                .collect();
            covering.sort();
            covering.dedup();
            let width = u64::from(to - from);
            for (i, a) in covering.iter().enumerate() {
                *single.entry(*a).or_insert(0) += width;
                for b in &covering[i + 1..] {
                    *pair.entry((*a, *b)).or_insert(0) += width;
                    let found = regions.entry((*a, *b)).or_default();
                    let count = found.len();
                    match found.last_mut() {
                        Some(last) if last.0 == t && last.2 == from => last.2 = to,
                        _ if count < 3 => found.push((t, from, to)),
                        _ => {}
                    }
                }
            }
        }
    }
    (pair, single, regions)
}

pub async fn view(conn: &mut PgConnection, actor: &Actor) -> Result<AlignmentView, AppError> {
    let aligner = require_aligner(&mut *conn, actor).await?;
    let codes = store::list_coder_codes(&mut *conn, actor.project_id, aligner.codebooks).await?;
    let agreed_codes = crate::codebook::store::list_agreed(&mut *conn, actor.project_id).await?;
    let transcripts = store::transcripts_for_report(&mut *conn, actor.project_id).await?;
    let layers = aligner.viewer.layers_of(transcripts.iter().map(|t| t.id));
    let codings = store::codings_of(&mut *conn, actor.project_id, &layers).await?;
    let spans: Vec<(TranscriptId, CodeId, u32, u32)> = codings
        .iter()
        .map(|c| {
            (
                c.transcript_id,
                c.code_id,
                c.start_offset.max(0) as u32,
                c.end_offset.max(0) as u32,
            )
        })
        .collect();
    let (pair, single, regions) = overlaps(&spans);
    let texts: HashMap<TranscriptId, Vec<char>> = transcripts
        .iter()
        .map(|t| (t.id, t.text.chars().collect()))
        .collect();
    let by_id: HashMap<CodeId, &CoderCode> = codes.iter().map(|c| (c.id, c)).collect();
    let mut suggestions = Vec::new();
    for (i, a) in codes.iter().enumerate() {
        for b in &codes[i + 1..] {
            // Same coder, or a pair already settled: nothing to suggest.
            if a.owner_id == b.owner_id
                || (a.agreed_code_id.is_some() && b.agreed_code_id.is_some())
            {
                continue;
            }
            let key = if a.id < b.id {
                (a.id, b.id)
            } else {
                (b.id, a.id)
            };
            let both = pair.get(&key).copied().unwrap_or(0);
            let either = single.get(&a.id).copied().unwrap_or(0)
                + single.get(&b.id).copied().unwrap_or(0)
                - both;
            let overlap = if either == 0 {
                0.0
            } else {
                both as f64 / either as f64
            };
            let name_similarity = name_similarity(&a.name, &b.name);
            if overlap == 0.0 && name_similarity < 0.5 {
                continue;
            }
            let quotes = regions
                .get(&key)
                .into_iter()
                .flatten()
                .filter_map(|(t, s, e)| {
                    let text = texts.get(t)?;
                    let quote: String = text
                        .get(*s as usize..(*e as usize).min(text.len()))?
                        .iter()
                        .take(200)
                        .collect();
                    Some(quote.trim().to_owned())
                })
                .collect();
            let (a, b) = (by_id[&key.0].id, by_id[&key.1].id);
            suggestions.push(Suggestion {
                a,
                b,
                overlap,
                name_similarity,
                quotes,
            });
        }
    }
    suggestions.sort_by(|x, y| {
        (y.overlap + 0.25 * y.name_similarity)
            .total_cmp(&(x.overlap + 0.25 * x.name_similarity))
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    suggestions.truncate(200);
    Ok(AlignmentView {
        codes,
        agreed_codes,
        suggestions,
    })
}

async fn coder_code(
    conn: &mut PgConnection,
    actor: &Actor,
    codebooks: AllCodebooks,
    id: CodeId,
) -> Result<CoderCode, AppError> {
    store::list_coder_codes(conn, actor.project_id, codebooks)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| AppError::field("code_id", "Not a code of this project."))
}

/// Makes a new agreed code and aligns the given coder codes onto it.
pub async fn create_agreed(
    conn: &mut PgConnection,
    actor: &Actor,
    codes: &[CodeId],
    name: &str,
    definition: &str,
) -> Result<AgreedCode, AppError> {
    let aligner = require_aligner(&mut *conn, actor).await?;
    actor.require_active()?;
    let mut errors = FieldErrors::new();
    let name = crate::coding::model::parse_code_name(&mut errors, name);
    crate::coding::model::check_long_text(&mut errors, "definition", definition);
    if codes.is_empty() {
        errors.add("code_ids", "Choose the codes to align.");
    }
    errors.into_result()?;
    let mut members = Vec::new();
    for id in codes {
        members.push(coder_code(&mut *conn, actor, aligner.codebooks, *id).await?);
    }
    // The first coder code's colour, unless another agreed code has it already.
    let color = members.first().map(|c| c.color.as_str());
    let agreed = codebook::create_named(&mut *conn, actor, &name, definition, color).await?;
    for code in &members {
        codebook::align(&mut *conn, actor, code.id, code.agreed_code_id, &agreed).await?;
    }
    // A change of alignment makes and unmakes agreements on every complete transcript.
    file_automatic_for(&mut *conn, actor, Refile::All).await?;
    Ok(agreed)
}

pub async fn map_onto(
    conn: &mut PgConnection,
    actor: &Actor,
    code: CodeId,
    agreed: AgreedCodeId,
) -> Result<(), AppError> {
    let aligner = require_aligner(&mut *conn, actor).await?;
    actor.require_active()?;
    let code = coder_code(&mut *conn, actor, aligner.codebooks, code).await?;
    let agreed = crate::codebook::store::list_agreed(&mut *conn, actor.project_id)
        .await?
        .into_iter()
        .find(|a| a.id == agreed)
        .ok_or_else(|| AppError::field("agreed_code_id", "Not an agreed code of this project."))?;
    codebook::align(&mut *conn, actor, code.id, code.agreed_code_id, &agreed).await?;
    // A change of alignment makes and unmakes agreements on every complete transcript.
    file_automatic_for(&mut *conn, actor, Refile::All).await?;
    Ok(())
}

pub async fn unalign(conn: &mut PgConnection, actor: &Actor, code: CodeId) -> Result<(), AppError> {
    let aligner = require_aligner(&mut *conn, actor).await?;
    actor.require_active()?;
    let code = coder_code(&mut *conn, actor, aligner.codebooks, code).await?;
    codebook::unalign(&mut *conn, actor, code.id, code.agreed_code_id).await?;
    // A change of alignment makes and unmakes agreements on every complete transcript.
    file_automatic_for(&mut *conn, actor, Refile::All).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_alike_by_shared_words() {
        assert_eq!(name_similarity("Infection risk", "infection risk"), 1.0);
        assert!(
            name_similarity(
                "infection risk",
                "risk of infection in immunocompromised patients"
            ) >= 0.5
        );
        assert_eq!(name_similarity("cost", "paperwork"), 0.0);
    }

    #[test]
    fn overlap_counts_characters_covered_by_both() {
        let t = TranscriptId::new();
        let (a, b) = (CodeId::new(), CodeId::new());
        let key = if a < b { (a, b) } else { (b, a) };
        let (pair, single, regions) = overlaps(&[(t, a, 0, 10), (t, b, 5, 20), (t, a, 30, 35)]);
        assert_eq!(pair[&key], 5);
        assert_eq!(single[&a], 15);
        assert_eq!(single[&b], 15);
        assert_eq!(regions[&key], vec![(t, 5, 10)]);
    }
}
