//! Every SQL query of decisions, comments, the consensus layer and the
//! reconciliation settings.

use serde::Serialize;
use sqlx::PgConnection;
use sqlx::types::Json;
use time::OffsetDateTime;

use super::model::Snapshot;
use crate::db::ids::{
    AgreedCodeId, CommentId, ConsensusCodingId, DecisionId, ProjectId, TranscriptId, UserId,
};
use crate::error::AppError;

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
pub struct Settings {
    pub auto_accept_agreements: bool,
    pub require_rationale: bool,
}

pub async fn settings(conn: &mut PgConnection, project: ProjectId) -> Result<Settings, AppError> {
    Ok(sqlx::query_as!(
        Settings,
        "select auto_accept_agreements, require_rationale from projects where id = $1",
        project as ProjectId
    )
    .fetch_one(conn)
    .await?)
}

pub async fn update_settings(
    conn: &mut PgConnection,
    project: ProjectId,
    settings: Settings,
) -> Result<(), AppError> {
    sqlx::query!(
        "update projects set auto_accept_agreements = $2, require_rationale = $3, updated_at = now() where id = $1",
        project as ProjectId,
        settings.auto_accept_agreements,
        settings.require_rationale
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub id: DecisionId,
    pub transcript_id: TranscriptId,
    pub key: String,
    pub kind: String,
    pub auto: bool,
    pub agreed_code_id: Option<AgreedCodeId>,
    pub rationale: String,
    pub discrepancy: Json<Snapshot>,
    pub supersedes: Option<DecisionId>,
    pub decided_by: UserId,
    pub decided_by_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Every decision on the transcript (or on every transcript of the project), oldest first.
pub async fn list_decisions(
    conn: &mut PgConnection,
    project: ProjectId,
    transcript: Option<TranscriptId>,
) -> Result<Vec<Decision>, AppError> {
    Ok(sqlx::query_as!(
        Decision,
        r#"select d.id as "id: DecisionId", d.transcript_id as "transcript_id: TranscriptId",
                  d.discrepancy_key as key, d.kind, d.auto,
                  d.agreed_code_id as "agreed_code_id: AgreedCodeId", d.rationale,
                  d.discrepancy as "discrepancy: Json<Snapshot>",
                  d.supersedes as "supersedes: DecisionId", d.decided_by as "decided_by: UserId",
                  u.display_name as decided_by_name, d.created_at
             from decisions d
             join users u on u.id = d.decided_by
            where d.project_id = $1 and ($2::uuid is null or d.transcript_id = $2)
            order by d.created_at, d.id"#,
        project as ProjectId,
        transcript.map(|t| t.0)
    )
    .fetch_all(conn)
    .await?)
}

/// One decision of the project, by id.
pub async fn find_decision(
    conn: &mut PgConnection,
    project: ProjectId,
    id: DecisionId,
) -> Result<Option<Decision>, AppError> {
    Ok(sqlx::query_as!(
        Decision,
        r#"select d.id as "id: DecisionId", d.transcript_id as "transcript_id: TranscriptId",
                  d.discrepancy_key as key, d.kind, d.auto,
                  d.agreed_code_id as "agreed_code_id: AgreedCodeId", d.rationale,
                  d.discrepancy as "discrepancy: Json<Snapshot>",
                  d.supersedes as "supersedes: DecisionId", d.decided_by as "decided_by: UserId",
                  u.display_name as decided_by_name, d.created_at
             from decisions d
             join users u on u.id = d.decided_by
            where d.project_id = $1 and d.id = $2"#,
        project as ProjectId,
        id as DecisionId
    )
    .fetch_optional(conn)
    .await?)
}

/// The decision on `key` that nothing supersedes yet, locked until the transaction ends.
pub async fn current_decision(
    conn: &mut PgConnection,
    transcript: TranscriptId,
    key: &str,
) -> Result<Option<(DecisionId, String)>, AppError> {
    Ok(sqlx::query!(
        r#"select d.id as "id: DecisionId", d.kind
             from decisions d
            where d.transcript_id = $1 and d.discrepancy_key = $2
              and not exists (select 1 from decisions n where n.supersedes = d.id)
            for update"#,
        transcript as TranscriptId,
        key
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.id, r.kind)))
}

pub struct NewDecision<'a> {
    pub id: DecisionId,
    pub project: ProjectId,
    pub transcript: TranscriptId,
    pub key: &'a str,
    pub kind: &'a str,
    pub auto: bool,
    pub agreed_code: Option<AgreedCodeId>,
    pub rationale: &'a str,
    pub discrepancy: &'a Snapshot,
    pub supersedes: Option<DecisionId>,
    pub decided_by: UserId,
}

/// Of `keys`, those with any decision on them in `transcript` (each has a
/// first decision, one that supersedes none: the index on those answers).
pub async fn decided_keys(
    conn: &mut PgConnection,
    transcript: TranscriptId,
    keys: &[String],
) -> Result<std::collections::HashSet<String>, AppError> {
    if keys.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    Ok(sqlx::query_scalar!(
        "select discrepancy_key from decisions where transcript_id = $1 and discrepancy_key = any($2) and supersedes is null",
        transcript as TranscriptId,
        keys
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .collect())
}

/// Inserts a decision; `Ok(false)` when another decision took its place first
/// (the first on a discrepancy, or the one superseding the same decision).
pub async fn insert_decision(
    conn: &mut PgConnection,
    new: &NewDecision<'_>,
) -> Result<bool, AppError> {
    let result = sqlx::query!(
        r#"insert into decisions (id, project_id, transcript_id, discrepancy_key, kind, auto, agreed_code_id,
                                  rationale, discrepancy, supersedes, decided_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           on conflict do nothing"#,
        new.id as DecisionId,
        new.project as ProjectId,
        new.transcript as TranscriptId,
        new.key,
        new.kind,
        new.auto,
        new.agreed_code.map(|c| c.0),
        new.rationale,
        Json(new.discrepancy) as _,
        new.supersedes.map(|d| d.0),
        new.decided_by as UserId
    )
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub id: CommentId,
    pub key: String,
    pub author_id: UserId,
    pub author_name: String,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

pub async fn list_comments(
    conn: &mut PgConnection,
    transcript: TranscriptId,
) -> Result<Vec<Comment>, AppError> {
    Ok(sqlx::query_as!(
        Comment,
        r#"select c.id as "id: CommentId", c.discrepancy_key as key, c.author_id as "author_id: UserId",
                  u.display_name as author_name, c.body, c.created_at
             from discrepancy_comments c
             join users u on u.id = c.author_id
            where c.transcript_id = $1
            order by c.created_at, c.id"#,
        transcript as TranscriptId
    )
    .fetch_all(conn)
    .await?)
}

pub async fn insert_comment(
    conn: &mut PgConnection,
    project: ProjectId,
    transcript: TranscriptId,
    key: &str,
    author: UserId,
    body: &str,
) -> Result<Comment, AppError> {
    let id = CommentId::new();
    Ok(sqlx::query_as!(
        Comment,
        r#"with c as (
               insert into discrepancy_comments (id, project_id, transcript_id, discrepancy_key, author_id, body)
               values ($1, $2, $3, $4, $5, $6)
               returning *
           )
           select c.id as "id: CommentId", c.discrepancy_key as key, c.author_id as "author_id: UserId",
                  u.display_name as author_name, c.body, c.created_at
             from c join users u on u.id = c.author_id"#,
        id as CommentId,
        project as ProjectId,
        transcript as TranscriptId,
        key,
        author as UserId,
        body
    )
    .fetch_one(conn)
    .await?)
}

/// A coding of the consensus layer. Serialised in the shape of a coder's
/// coding, so the coding page can open the consensus layer like any other.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConsensusCoding {
    pub id: ConsensusCodingId,
    pub transcript_id: TranscriptId,
    #[serde(rename = "code_id")]
    pub agreed_code_id: AgreedCodeId,
    pub start: i32,
    pub end: i32,
    pub memo: String,
    pub decision_id: Option<DecisionId>,
    #[serde(rename = "coder_id")]
    pub created_by: UserId,
    pub version: i32,
    #[serde(skip)]
    pub deleted: bool,
}

pub async fn list_consensus(
    conn: &mut PgConnection,
    project: ProjectId,
    transcript: Option<TranscriptId>,
) -> Result<Vec<ConsensusCoding>, AppError> {
    Ok(sqlx::query_as!(
        ConsensusCoding,
        r#"select c.id as "id: ConsensusCodingId", c.transcript_id as "transcript_id: TranscriptId",
                  c.agreed_code_id as "agreed_code_id: AgreedCodeId", c.start_offset as start, c.end_offset as end,
                  c.memo, c.decision_id as "decision_id: DecisionId", c.created_by as "created_by: UserId",
                  c.version, false as "deleted!"
             from consensus_codings c
             join transcripts t on t.id = c.transcript_id
            where c.project_id = $1 and ($2::uuid is null or c.transcript_id = $2)
              and c.deleted_at is null and t.deleted_at is null
            order by c.start_offset, c.end_offset, c.id"#,
        project as ProjectId,
        transcript.map(|t| t.0)
    )
    .fetch_all(conn)
    .await?)
}

pub async fn get_consensus(
    conn: &mut PgConnection,
    project: ProjectId,
    id: ConsensusCodingId,
) -> Result<ConsensusCoding, AppError> {
    sqlx::query_as!(
        ConsensusCoding,
        r#"select id as "id: ConsensusCodingId", transcript_id as "transcript_id: TranscriptId",
                  agreed_code_id as "agreed_code_id: AgreedCodeId", start_offset as start, end_offset as end,
                  memo, decision_id as "decision_id: DecisionId", created_by as "created_by: UserId",
                  version, deleted_at is not null as "deleted!"
             from consensus_codings
            where project_id = $1 and id = $2
            for update"#,
        project as ProjectId,
        id as ConsensusCodingId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

pub struct NewConsensus {
    pub id: ConsensusCodingId,
    pub project: ProjectId,
    pub transcript: TranscriptId,
    pub code: AgreedCodeId,
    pub start: i32,
    pub end: i32,
    pub memo: String,
    pub decision: Option<DecisionId>,
    pub created_by: UserId,
}

/// Inserts a consensus coding; `None` when the id is taken already.
pub async fn insert_consensus(
    conn: &mut PgConnection,
    new: &NewConsensus,
) -> Result<Option<ConsensusCoding>, AppError> {
    Ok(sqlx::query_as!(
        ConsensusCoding,
        r#"insert into consensus_codings (id, project_id, transcript_id, agreed_code_id, start_offset, end_offset,
                                          memo, decision_id, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           on conflict (id) do nothing
           returning id as "id: ConsensusCodingId", transcript_id as "transcript_id: TranscriptId",
                     agreed_code_id as "agreed_code_id: AgreedCodeId", start_offset as start, end_offset as end,
                     memo, decision_id as "decision_id: DecisionId", created_by as "created_by: UserId",
                     version, false as "deleted!""#,
        new.id as ConsensusCodingId,
        new.project as ProjectId,
        new.transcript as TranscriptId,
        new.code as AgreedCodeId,
        new.start,
        new.end,
        new.memo,
        new.decision.map(|d| d.0),
        new.created_by as UserId
    )
    .fetch_optional(conn)
    .await?)
}

/// Soft-deletes what a superseded decision made; returns the ids.
pub async fn retire_decision_codings(
    conn: &mut PgConnection,
    decision: DecisionId,
) -> Result<Vec<ConsensusCodingId>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"update consensus_codings set deleted_at = now(), updated_at = now(), version = version + 1
            where decision_id = $1 and deleted_at is null
            returning id as "id: ConsensusCodingId""#,
        decision as DecisionId
    )
    .fetch_all(conn)
    .await?)
}

/// Writes a consensus coding's new state if its version is still `version`.
pub async fn update_consensus(
    conn: &mut PgConnection,
    coding: &ConsensusCoding,
    version: i32,
    deleted: bool,
) -> Result<Option<ConsensusCoding>, AppError> {
    Ok(sqlx::query_as!(
        ConsensusCoding,
        r#"update consensus_codings
              set agreed_code_id = $3, start_offset = $4, end_offset = $5, memo = $6,
                  deleted_at = case when $7 then coalesce(deleted_at, now()) else null end,
                  updated_at = now(), version = version + 1
            where id = $1 and version = $2
            returning id as "id: ConsensusCodingId", transcript_id as "transcript_id: TranscriptId",
                      agreed_code_id as "agreed_code_id: AgreedCodeId", start_offset as start, end_offset as end,
                      memo, decision_id as "decision_id: DecisionId", created_by as "created_by: UserId",
                      version, deleted_at is not null as "deleted!""#,
        coding.id as ConsensusCodingId,
        version,
        coding.agreed_code_id as AgreedCodeId,
        coding.start,
        coding.end,
        coding.memo,
        deleted
    )
    .fetch_optional(conn)
    .await?)
}

/// Moves consensus codings from one agreed code to another (all of the code's
/// when `only` is None); answers the ids moved.
pub async fn move_consensus(
    conn: &mut PgConnection,
    from: AgreedCodeId,
    to: AgreedCodeId,
    only: Option<&[uuid::Uuid]>,
) -> Result<Vec<uuid::Uuid>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"update consensus_codings set agreed_code_id = $2, updated_at = now(), version = version + 1
            where agreed_code_id = $1 and deleted_at is null and ($3::uuid[] is null or id = any($3))
            returning id"#,
        from as AgreedCodeId,
        to as AgreedCodeId,
        only.map(|ids| ids.to_vec()) as Option<Vec<uuid::Uuid>>
    )
    .fetch_all(conn)
    .await?)
}
