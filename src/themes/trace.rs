//! Traceability both ways: from a consensus quote down to the decision that
//! made it and each coder's original span, and from a coder's coding up to the
//! agreed code and theme it ended in.

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::service::Reader;
use super::{model, store};
use crate::coding::blinding::Viewer;
use crate::db::ids::{
    AgreedCodeId, CodeId, CodingId, ConsensusCodingId, DecisionId, ThemeNodeId, TranscriptId,
    UserId,
};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::reconcile::model::Snapshot;
use sqlx::types::Json;

#[derive(Debug, Clone, Serialize)]
pub struct PathStep {
    pub id: ThemeNodeId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionStep {
    pub id: DecisionId,
    pub kind: String,
    pub auto: bool,
    pub rationale: String,
    pub decided_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    /// Older decisions on the same discrepancy come after the one in force.
    pub in_force: bool,
    /// The discrepancy as the decision saw it (agreement, boundary, ...).
    pub discrepancy_kind: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Original {
    pub coding_id: CodingId,
    pub coder: String,
    pub code_id: CodeId,
    pub code_name: String,
    pub start: i32,
    pub end: i32,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuoteTrace {
    pub coding_id: ConsensusCodingId,
    pub transcript_id: TranscriptId,
    pub transcript_title: String,
    pub start: i32,
    pub end: i32,
    pub text: String,
    pub agreed_code_id: AgreedCodeId,
    pub agreed_code_name: String,
    /// From the top theme down to the code's node; empty while unplaced.
    pub path: Vec<PathStep>,
    /// The decision in force first, then the ones it superseded. Empty when the
    /// lead coded the span directly.
    pub decisions: Vec<DecisionStep>,
    /// Each coder's codings the decision was made from, where the viewer may
    /// see that coder's layer.
    pub originals: Vec<Original>,
    pub originals_hidden: usize,
}

async fn path_of(
    conn: &mut PgConnection,
    reader: Reader,
    code: AgreedCodeId,
) -> Result<Vec<PathStep>, AppError> {
    let nodes = store::list_nodes(conn, reader.project_id, reader.proof).await?;
    let placements = store::list_placements(conn, reader.project_id, reader.proof).await?;
    let Some(node) = placements.iter().find(|p| p.agreed_code_id == code) else {
        return Ok(Vec::new());
    };
    let by_id = nodes.iter().map(|n| (n.id, n)).collect();
    let steps = model::ancestry(&by_id, node.node_id)
        .into_iter()
        .map(|n| PathStep {
            id: n.id,
            name: n.name.clone(),
        })
        .collect();
    Ok(steps)
}

pub async fn quote(
    conn: &mut PgConnection,
    reader: Reader,
    viewer: &Viewer,
    id: ConsensusCodingId,
) -> Result<QuoteTrace, AppError> {
    let row = sqlx::query!(
        r#"select cc.transcript_id as "transcript_id: TranscriptId", t.title,
                  cc.start_offset, cc.end_offset,
                  substr(t.text, cc.start_offset + 1, cc.end_offset - cc.start_offset) as "text!",
                  cc.agreed_code_id as "agreed_code_id: AgreedCodeId", a.name as code_name,
                  cc.decision_id as "decision_id: DecisionId"
             from consensus_codings cc
             join transcripts t on t.id = cc.transcript_id
             join agreed_codes a on a.id = cc.agreed_code_id
            where cc.project_id = $1 and cc.id = $2"#,
        reader.project_id as crate::db::ids::ProjectId,
        id as ConsensusCodingId
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    viewer.require_consensus(row.transcript_id)?;
    let path = path_of(conn, reader, row.agreed_code_id).await?;
    let mut decisions = Vec::new();
    let mut sides: Vec<(UserId, Vec<CodingId>)> = Vec::new();
    let mut next = row.decision_id;
    while let Some(decision) = next {
        let d = sqlx::query!(
            r#"select d.kind, d.auto, d.rationale, u.display_name, d.created_at,
                      d.discrepancy as "discrepancy: Json<Snapshot>",
                      d.supersedes as "supersedes: DecisionId"
                 from decisions d join users u on u.id = d.decided_by
                where d.project_id = $1 and d.id = $2"#,
            reader.project_id as crate::db::ids::ProjectId,
            decision as DecisionId
        )
        .fetch_one(&mut *conn)
        .await?;
        if decisions.is_empty() {
            let snap = &d.discrepancy.0;
            if let Some(a) = &snap.a {
                sides.push((snap.coder_a, a.codings.clone()));
            }
            if let Some(b) = &snap.b {
                sides.push((snap.coder_b, b.codings.clone()));
            }
        }
        decisions.push(DecisionStep {
            id: decision,
            kind: d.kind,
            auto: d.auto,
            rationale: d.rationale,
            decided_by: d.display_name,
            decided_at: d.created_at,
            in_force: decisions.is_empty(),
            discrepancy_kind: d.discrepancy.0.kind.clone(),
        });
        next = d.supersedes;
        if decisions.len() > 1000 {
            break;
        }
    }
    let mut originals = Vec::new();
    let mut hidden = 0;
    for (coder, codings) in sides {
        if !viewer.can_see_layer(row.transcript_id, coder) {
            hidden += codings.len();
            continue;
        }
        let ids: Vec<uuid::Uuid> = codings.iter().map(|c| c.0).collect();
        let rows = sqlx::query!(
            r#"select c.id as "id: CodingId", u.display_name, c.code_id as "code_id: CodeId",
                      k.name as code_name, c.start_offset, c.end_offset,
                      substr(t.text, c.start_offset + 1, c.end_offset - c.start_offset) as "text!"
                 from codings c
                 join users u on u.id = c.coder_id
                 join codes k on k.id = c.code_id
                 join transcripts t on t.id = c.transcript_id
                where c.project_id = $1 and c.id = any($2)
                order by c.start_offset"#,
            reader.project_id as crate::db::ids::ProjectId,
            &ids
        )
        .fetch_all(&mut *conn)
        .await?;
        originals.extend(rows.into_iter().map(|r| Original {
            coding_id: r.id,
            coder: r.display_name,
            code_id: r.code_id,
            code_name: r.code_name,
            start: r.start_offset,
            end: r.end_offset,
            text: r.text,
        }));
    }
    Ok(QuoteTrace {
        coding_id: id,
        transcript_id: row.transcript_id,
        transcript_title: row.title,
        start: row.start_offset,
        end: row.end_offset,
        text: row.text,
        agreed_code_id: row.agreed_code_id,
        agreed_code_name: row.code_name,
        path,
        decisions,
        originals,
        originals_hidden: hidden,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Consensus {
    pub coding_id: ConsensusCodingId,
    pub start: i32,
    pub end: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodingTrace {
    pub coding_id: CodingId,
    pub transcript_id: TranscriptId,
    pub coder: String,
    pub code_id: CodeId,
    pub code_name: String,
    pub start: i32,
    pub end: i32,
    pub text: String,
    /// The agreed code the coder's code is aligned onto (or, in a shared
    /// codebook, none).
    pub agreed_code_id: Option<AgreedCodeId>,
    pub agreed_code_name: Option<String>,
    pub path: Vec<PathStep>,
    /// Consensus codings the decisions made from this coding.
    pub consensus: Vec<Consensus>,
}

pub async fn coding(
    conn: &mut PgConnection,
    member: &Member,
    viewer: &Viewer,
    id: CodingId,
) -> Result<CodingTrace, AppError> {
    let reader = Reader {
        project_id: member.project_id,
        proof: viewer.agreed_codebook()?,
    };
    let row = sqlx::query!(
        r#"select c.transcript_id as "transcript_id: TranscriptId", c.coder_id as "coder_id: UserId",
                  u.display_name, c.code_id as "code_id: CodeId", k.name as code_name,
                  c.start_offset, c.end_offset,
                  substr(t.text, c.start_offset + 1, c.end_offset - c.start_offset) as "text!",
                  al.agreed_code_id as "agreed_code_id?: AgreedCodeId", a.name as "agreed_name?"
             from codings c
             join users u on u.id = c.coder_id
             join codes k on k.id = c.code_id
             join transcripts t on t.id = c.transcript_id
             left join code_alignments al on al.code_id = c.code_id
             left join agreed_codes a on a.id = al.agreed_code_id and a.deleted_at is null
            where c.project_id = $1 and c.id = $2"#,
        member.project_id as crate::db::ids::ProjectId,
        id as CodingId
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    if !viewer.can_see_layer(row.transcript_id, row.coder_id) {
        return Err(AppError::NotFound);
    }
    let consensus = if viewer.require_consensus(row.transcript_id).is_ok() {
        let key = serde_json::json!([id]);
        sqlx::query_as!(
            Consensus,
            r#"select cc.id as "coding_id: ConsensusCodingId", cc.start_offset as start,
                      cc.end_offset as "end"
                 from consensus_codings cc
                 join decisions d on d.id = cc.decision_id
                where cc.project_id = $1 and cc.transcript_id = $2 and cc.deleted_at is null
                  and (d.discrepancy -> 'a' -> 'codings' @> $3
                       or d.discrepancy -> 'b' -> 'codings' @> $3)
                order by cc.start_offset"#,
            member.project_id as crate::db::ids::ProjectId,
            row.transcript_id as TranscriptId,
            key
        )
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };
    let agreed = row.agreed_code_id.filter(|_| row.agreed_name.is_some());
    let path = match agreed {
        Some(code) => path_of(conn, reader, code).await?,
        None => Vec::new(),
    };
    Ok(CodingTrace {
        coding_id: id,
        transcript_id: row.transcript_id,
        coder: row.display_name,
        code_id: row.code_id,
        code_name: row.code_name,
        start: row.start_offset,
        end: row.end_offset,
        text: row.text,
        agreed_code_id: agreed,
        agreed_code_name: row.agreed_name,
        path,
        consensus,
    })
}
