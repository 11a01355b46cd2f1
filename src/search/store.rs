//! Every SQL query of project search.

use sqlx::PgConnection;

use crate::coding::blinding::AgreedCodebook;
use crate::db::ids::{ProjectId, TranscriptId, UserId};
use crate::error::AppError;

pub struct Candidate {
    pub id: TranscriptId,
    pub title: String,
    pub participant: Option<String>,
    pub text: String,
}

/// The project's live transcripts whose text contains `pattern` (an ILIKE
/// pattern; the trigram index `transcripts_text_trgm_idx` finds them), in
/// import order.
pub async fn candidates(
    conn: &mut PgConnection,
    project: ProjectId,
    pattern: &str,
) -> Result<Vec<Candidate>, AppError> {
    Ok(sqlx::query_as!(
        Candidate,
        r#"select t.id as "id: TranscriptId", t.title, p.label as "participant?", t.text
             from transcripts t
             left join participants p on p.id = t.participant_id
            where t.project_id = $1 and t.deleted_at is null and t.text ilike $2
            order by t.created_at, t.id"#,
        project as ProjectId,
        pattern
    )
    .fetch_all(conn)
    .await?)
}

/// A code applied over (part of) hit number `hit`.
pub struct CodeAt {
    pub hit: i64,
    pub name: String,
    pub color: String,
}

/// The agreed codes of the consensus layer over each span (transcript, start,
/// end), numbered from 1 in the order given.
pub async fn consensus_codes_at(
    conn: &mut PgConnection,
    project: ProjectId,
    spans: &[(TranscriptId, usize, usize)],
    _: AgreedCodebook,
) -> Result<Vec<CodeAt>, AppError> {
    let (ts, ss, es) = columns(spans);
    Ok(sqlx::query_as!(
        CodeAt,
        r#"select distinct h.i as "hit!", ac.name, ac.color
             from unnest($2::uuid[], $3::int[], $4::int[]) with ordinality as h(t, s, e, i)
             join consensus_codings cc
               on cc.transcript_id = h.t and cc.start_offset < h.e and cc.end_offset > h.s
              and cc.deleted_at is null and cc.project_id = $1
             join agreed_codes ac on ac.id = cc.agreed_code_id and ac.deleted_at is null
            order by 1, 2"#,
        project as ProjectId,
        &ts,
        &ss,
        &es
    )
    .fetch_all(conn)
    .await?)
}

/// The codes of `coder`'s own layer over each span.
pub async fn own_codes_at(
    conn: &mut PgConnection,
    project: ProjectId,
    coder: UserId,
    spans: &[(TranscriptId, usize, usize)],
) -> Result<Vec<CodeAt>, AppError> {
    let (ts, ss, es) = columns(spans);
    Ok(sqlx::query_as!(
        CodeAt,
        r#"select distinct h.i as "hit!", k.name, k.color
             from unnest($3::uuid[], $4::int[], $5::int[]) with ordinality as h(t, s, e, i)
             join codings c
               on c.transcript_id = h.t and c.coder_id = $2 and c.start_offset < h.e and c.end_offset > h.s
              and c.deleted_at is null and c.project_id = $1
             join codes k on k.id = c.code_id and k.deleted_at is null
            order by 1, 2"#,
        project as ProjectId,
        coder as UserId,
        &ts,
        &ss,
        &es
    )
    .fetch_all(conn)
    .await?)
}

fn columns(spans: &[(TranscriptId, usize, usize)]) -> (Vec<uuid::Uuid>, Vec<i32>, Vec<i32>) {
    let clamp = |v: usize| i32::try_from(v).unwrap_or(i32::MAX);
    (
        spans.iter().map(|s| s.0.0).collect(),
        spans.iter().map(|s| clamp(s.1)).collect(),
        spans.iter().map(|s| clamp(s.2)).collect(),
    )
}
