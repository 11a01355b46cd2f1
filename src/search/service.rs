//! Search: the hits in the project's transcripts with the codes the searcher
//! may see at each (blinding, DESIGN.md invariant 3), and the memos they may read.
//!
//! - The consensus layer's agreed codes are shown to whoever may read the agreed
//!   codebook and that transcript's consensus layer.
//! - Everyone who codes a transcript sees their own codes at its hits.
//! - Another coder's layer is never shown.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use unicode_normalization::UnicodeNormalization;

use super::matching;
use super::store;
use crate::coding::blinding::Viewer;
use crate::db::ids::TranscriptId;
use crate::error::AppError;
use crate::memos::store::Filter;
use crate::projects::member::Actor;
use crate::projects::model::Role;

/// Hits shown (and given their codes); the rest are counted.
pub const MAX_HITS: usize = 200;
pub const MAX_MEMOS: i64 = 50;
const CONTEXT: usize = 60;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchParams {
    pub q: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HitCode {
    pub name: String,
    pub color: String,
    /// consensus, or mine (the searcher's own layer).
    pub layer: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub transcript_id: TranscriptId,
    pub transcript: String,
    pub participant: Option<String>,
    pub line: usize,
    /// `[start, end)` in code points of the transcript's text.
    pub start: usize,
    pub end: usize,
    pub before: String,
    pub matched: String,
    pub after: String,
    pub codes: Vec<HitCode>,
    /// The line on the transcript's page.
    pub link: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemoHit {
    pub id: uuid::Uuid,
    pub kind: String,
    pub target_name: Option<String>,
    pub title: String,
    pub author: String,
    pub written_on: String,
    pub before: String,
    pub matched: String,
    pub after: String,
    pub link: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub query: String,
    /// Every hit in the project's transcripts.
    pub total_hits: usize,
    pub transcripts_matched: usize,
    /// The first hits, in import order of the transcripts and text order.
    pub hits: Vec<Hit>,
    /// Whether the consensus layer's codes are shown (else only the searcher's own).
    pub consensus_codes: bool,
    pub memos: Vec<MemoHit>,
}

/// The query, NFC like the texts, or why not.
pub fn check(params: &SearchParams) -> Result<String, AppError> {
    let q: String = params.q.as_deref().unwrap_or("").trim().nfc().collect();
    let n = q.chars().count();
    if n < 2 {
        return Err(AppError::field("q", "Search for at least 2 characters."));
    }
    if n > 200 {
        return Err(AppError::field("q", "Search for at most 200 characters."));
    }
    Ok(q)
}

#[tracing::instrument(skip_all, fields(project_id = %actor.project_id))]
pub async fn search(
    conn: &mut PgConnection,
    actor: &Actor,
    query: &str,
) -> Result<Results, AppError> {
    let project = actor.project_id;
    let viewer = Viewer::of(conn, actor).await?;
    let proof = viewer.agreed_codebook().ok();
    let pattern = matching::like_pattern(query);
    let needle = matching::folded(query);
    let candidates = store::candidates(conn, project, &pattern).await?;

    let mut total = 0;
    let mut matched = 0;
    let mut hits = Vec::new();
    for t in &candidates {
        let chars: Vec<char> = t.text.chars().collect();
        let found = matching::find_all(&chars, &needle);
        if found.is_empty() {
            continue;
        }
        matched += 1;
        total += found.len();
        let starts = matching::line_starts(&chars);
        for (start, end) in found {
            if hits.len() >= MAX_HITS {
                break;
            }
            let (before, text, after) = matching::snippet(&chars, start, end, CONTEXT);
            let line = matching::line_of(&starts, start);
            hits.push(Hit {
                transcript_id: t.id,
                transcript: t.title.clone(),
                participant: t.participant.clone(),
                line,
                start,
                end,
                before,
                matched: text,
                after,
                codes: Vec::new(),
                link: format!("/projects/{project}/transcripts/{}#L{line}", t.id),
            });
        }
    }

    // Codes at the shown hits, each layer only where the viewer may see it.
    let consensus_spans: Vec<(usize, (TranscriptId, usize, usize))> = match proof {
        Some(_) => hits
            .iter()
            .enumerate()
            .filter(|(_, h)| viewer.require_consensus(h.transcript_id).is_ok())
            .map(|(i, h)| (i, (h.transcript_id, h.start, h.end)))
            .collect(),
        None => Vec::new(),
    };
    let mut codes: HashMap<usize, Vec<HitCode>> = HashMap::new();
    if let (Some(proof), false) = (proof, consensus_spans.is_empty()) {
        let spans: Vec<_> = consensus_spans.iter().map(|(_, s)| *s).collect();
        for c in store::consensus_codes_at(conn, project, &spans, proof).await? {
            let at = consensus_spans[(c.hit - 1) as usize].0;
            codes.entry(at).or_default().push(HitCode {
                name: c.name,
                color: c.color,
                layer: "consensus",
            });
        }
    }
    if !hits.is_empty() && actor.role != Role::Reviewer {
        let spans: Vec<_> = hits
            .iter()
            .map(|h| (h.transcript_id, h.start, h.end))
            .collect();
        for c in store::own_codes_at(conn, project, actor.user_id, &spans).await? {
            codes
                .entry((c.hit - 1) as usize)
                .or_default()
                .push(HitCode {
                    name: c.name,
                    color: c.color,
                    layer: "mine",
                });
        }
    }
    for (i, list) in codes {
        hits[i].codes = list;
    }

    // Memos, by the memos' own rules of who reads what.
    let memos = if let Some(visible) = crate::memos::service::visible(actor, &viewer) {
        let filter = Filter {
            pattern: Some(pattern),
            limit: MAX_MEMOS,
            ..Filter::default()
        };
        crate::memos::store::list(conn, project, visible, &filter)
            .await?
            .into_iter()
            .map(|m| {
                let text = format!("{}\n{}", m.title, m.body);
                let chars: Vec<char> = text.chars().collect();
                let (s, e) = matching::find_all(&chars, &needle)
                    .first()
                    .copied()
                    .unwrap_or((0, 0));
                let (before, matched, after) = matching::snippet(&chars, s, e, CONTEXT);
                let link = match (m.kind.as_str(), m.target_id) {
                    ("code", Some(id)) => {
                        format!("/projects/{project}/memos?code={id}#memo-{}", m.id)
                    }
                    ("node", Some(id)) => {
                        format!("/projects/{project}/memos?node={id}#memo-{}", m.id)
                    }
                    (kind, _) => format!("/projects/{project}/memos?kind={kind}#memo-{}", m.id),
                };
                MemoHit {
                    id: m.id,
                    kind: m.kind,
                    target_name: m.target_name,
                    title: m.title,
                    author: m.author,
                    written_on: m.written_on,
                    before,
                    matched,
                    after,
                    link,
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    Ok(Results {
        query: query.to_owned(),
        total_hits: total,
        transcripts_matched: matched,
        hits,
        consensus_codes: proof.is_some(),
        memos,
    })
}
