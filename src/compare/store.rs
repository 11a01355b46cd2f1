//! Every SQL query of the coder codes an alignment reads and of the layers a
//! report reads (agreed codes and alignments are `crate::codebook::store`'s).

use serde::Serialize;
use sqlx::PgConnection;
use sqlx::types::Json;

use crate::coding::blinding::{AllCodebooks, LayersOf};
use crate::db::ids::{AgreedCodeId, CodeId, CodingId, ProjectId, TranscriptId, UserId};
use crate::error::AppError;
use crate::import::Turn;

/// A coder's code with what it is aligned to, for the alignment page.
#[derive(Debug, Clone, Serialize)]
pub struct CoderCode {
    pub id: CodeId,
    pub owner_id: Option<UserId>,
    pub owner_name: Option<String>,
    pub name: String,
    pub definition: String,
    pub color: String,
    pub codings: i64,
    pub agreed_code_id: Option<AgreedCodeId>,
}

/// Every codebook's codes, with their use and alignment.
pub async fn list_coder_codes(
    conn: &mut PgConnection,
    project_id: ProjectId,
    _: AllCodebooks,
) -> Result<Vec<CoderCode>, AppError> {
    Ok(sqlx::query_as!(
        CoderCode,
        r#"select k.id as "id: CodeId", k.owner_id as "owner_id: UserId", u.display_name as "owner_name?", k.name,
                  k.definition, k.color,
                  (select count(*) from codings c where c.code_id = k.id and c.deleted_at is null) as "codings!",
                  a.agreed_code_id as "agreed_code_id?: AgreedCodeId"
             from codes k
             left join users u on u.id = k.owner_id
             left join code_alignments a on a.code_id = k.id
            where k.project_id = $1 and k.deleted_at is null
            order by lower(u.display_name), lower(k.name)"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// A transcript with who was asked to code it and who has submitted.
pub struct TranscriptForReport {
    pub id: TranscriptId,
    pub title: String,
    pub text: String,
    pub turns: Json<Vec<Turn>>,
    pub assigned: Vec<UserId>,
    pub submitted: Vec<UserId>,
}

/// A live transcript's title, who was asked to code it and who has
/// submitted: what decides whether it is compared, without its text.
pub struct TranscriptCoders {
    pub id: TranscriptId,
    pub title: String,
    pub assigned: Vec<UserId>,
    pub submitted: Vec<UserId>,
}

/// The live transcripts of the project, or only `only`: a decision on one
/// transcript reads one, not the whole project's.
pub async fn transcript_coders(
    conn: &mut PgConnection,
    project_id: ProjectId,
    only: Option<TranscriptId>,
) -> Result<Vec<TranscriptCoders>, AppError> {
    Ok(sqlx::query_as!(
        TranscriptCoders,
        r#"select t.id as "id: TranscriptId", t.title,
                  coalesce(array_agg(a.user_id order by a.user_id) filter (where a.user_id is not null), '{}') as "assigned!: Vec<UserId>",
                  coalesce(array_agg(a.user_id order by a.user_id) filter (where a.state = 'submitted'), '{}') as "submitted!: Vec<UserId>"
             from transcripts t
             left join assignments a on a.transcript_id = t.id
            where t.project_id = $1 and t.deleted_at is null and ($2::uuid is null or t.id = $2)
            group by t.id
            order by lower(t.title)"#,
        project_id as ProjectId,
        only.map(|t| t.0)
    )
    .fetch_all(conn)
    .await?)
}

/// `transcripts` with their texts and turns, in the same order: only those
/// a report compares are read.
pub async fn with_texts(
    conn: &mut PgConnection,
    project_id: ProjectId,
    transcripts: Vec<TranscriptCoders>,
) -> Result<Vec<TranscriptForReport>, AppError> {
    if transcripts.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<uuid::Uuid> = transcripts.iter().map(|t| t.id.0).collect();
    let rows = sqlx::query!(
        r#"select id as "id: TranscriptId", text, turns as "turns: Json<Vec<Turn>>"
             from transcripts
            where project_id = $1 and id = any($2)"#,
        project_id as ProjectId,
        &ids
    )
    .fetch_all(conn)
    .await?;
    let mut texts: std::collections::HashMap<TranscriptId, (String, Json<Vec<Turn>>)> = rows
        .into_iter()
        .map(|r| (r.id, (r.text, r.turns)))
        .collect();
    Ok(transcripts
        .into_iter()
        .filter_map(|t| {
            let (text, turns) = texts.remove(&t.id)?;
            Some(TranscriptForReport {
                id: t.id,
                title: t.title,
                text,
                turns,
                assigned: t.assigned,
                submitted: t.submitted,
            })
        })
        .collect())
}

/// Every live transcript of the project with its text.
pub async fn transcripts_for_report(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<TranscriptForReport>, AppError> {
    let transcripts = transcript_coders(&mut *conn, project_id, None).await?;
    with_texts(conn, project_id, transcripts).await
}

/// Live transcripts every coder assigned to has submitted (or with no coder
/// assigned): those whose consensus layer may be counted.
pub async fn complete_transcripts(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<TranscriptId>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select t.id as "id!: TranscriptId"
             from transcripts t
             left join assignments a on a.transcript_id = t.id
            where t.project_id = $1 and t.deleted_at is null
            group by t.id
           having count(a.user_id) = count(a.user_id) filter (where a.state = 'submitted')"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// Every member ever assigned in the project, in the order of their first
/// assignment: its time, then its id (ids are time-ordered, so coders assigned in one
/// request keep the request's order). This order makes coder "A" and "B".
pub async fn coders_in_assignment_order(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<UserId>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select user_id as "user_id!: UserId"
             from (select distinct on (user_id) user_id, created_at, id
                     from assignments
                    where project_id = $1
                    order by user_id, created_at, id) first
            order by created_at, id"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// Live codings of the given transcripts, with their code and that code's owner.
pub struct LayerCoding {
    pub id: CodingId,
    pub transcript_id: TranscriptId,
    pub coder_id: UserId,
    pub code_id: CodeId,
    pub start_offset: i32,
    pub end_offset: i32,
}

/// Every coder's codings of the transcripts the proof names. Codings of
/// deleted codes are left out by a `not in` over the (few) deleted codes
/// rather than by a join: without table statistics (right after a bulk
/// import) the planner ran the join as a nested loop that read the layer
/// index once per code, 1.3 s for 72,000 codings against 40 ms.
pub async fn codings_of(
    conn: &mut PgConnection,
    project_id: ProjectId,
    layers: &LayersOf,
) -> Result<Vec<LayerCoding>, AppError> {
    let ids: Vec<uuid::Uuid> = layers.transcripts().iter().map(|t| t.0).collect();
    Ok(sqlx::query_as!(
        LayerCoding,
        r#"select c.id as "id: CodingId", c.transcript_id as "transcript_id: TranscriptId", c.coder_id as "coder_id: UserId",
                  c.code_id as "code_id: CodeId", c.start_offset, c.end_offset
             from codings c
            where c.project_id = $1 and c.transcript_id = any($2) and c.deleted_at is null
              and c.code_id not in (select k.id from codes k where k.project_id = $1 and k.deleted_at is not null)"#,
        project_id as ProjectId,
        &ids
    )
    .fetch_all(conn)
    .await?)
}
