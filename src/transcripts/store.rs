//! Every SQL query of transcripts.

use sqlx::PgConnection;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::db::ids::{ParticipantId, ProjectId, TranscriptId, UserId};
use crate::error::AppError;
use crate::import::{Metadata, Turn};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Transcript {
    pub id: TranscriptId,
    pub participant_id: Option<ParticipantId>,
    pub participant_label: Option<String>,
    pub title: String,
    pub file_name: String,
    pub source_kind: String,
    pub encoding: Option<String>,
    pub text: String,
    pub sha256: String,
    pub char_count: i32,
    pub word_count: i32,
    pub turns: Json<Vec<Turn>>,
    pub warnings: Json<Vec<String>>,
    pub metadata: Json<Metadata>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TranscriptSummary {
    pub id: TranscriptId,
    pub title: String,
    pub file_name: String,
    pub participant_id: Option<ParticipantId>,
    pub participant_label: Option<String>,
    pub word_count: i32,
    pub char_count: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
}

/// Live transcripts, or with `deleted` the ones in the bin.
pub async fn list_transcripts(
    conn: &mut PgConnection,
    project_id: ProjectId,
    deleted: bool,
) -> Result<Vec<TranscriptSummary>, AppError> {
    Ok(sqlx::query_as!(
        TranscriptSummary,
        r#"select t.id as "id: TranscriptId", t.title, t.file_name, t.participant_id as "participant_id: ParticipantId",
                  p.label as "participant_label?", t.word_count, t.char_count, t.created_at, t.version, t.deleted_at
             from transcripts t
             left join participants p on p.id = t.participant_id
            where t.project_id = $1 and (t.deleted_at is not null) = $2
            order by lower(coalesce(p.label, t.title)), lower(t.title)"#,
        project_id as ProjectId,
        deleted
    )
    .fetch_all(conn)
    .await?)
}

/// A transcript, deleted or not (the caller decides what a deleted one allows).
pub async fn get_transcript(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: TranscriptId,
) -> Result<Transcript, AppError> {
    sqlx::query_as!(
        Transcript,
        r#"select t.id as "id: TranscriptId", t.participant_id as "participant_id: ParticipantId",
                  p.label as "participant_label?", t.title, t.file_name, t.source_kind, t.encoding, t.text, t.sha256,
                  t.char_count, t.word_count, t.turns as "turns: Json<Vec<Turn>>",
                  t.warnings as "warnings: Json<Vec<String>>", t.metadata as "metadata: Json<Metadata>",
                  t.created_at, t.version, t.deleted_at
             from transcripts t
             left join participants p on p.id = t.participant_id
            where t.project_id = $1 and t.id = $2"#,
        project_id as ProjectId,
        id as TranscriptId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// Whether a coding points into the transcript's text: one of a coder's layer or
/// of the consensus layer, deleted or not (a deleted one can be restored). Then
/// the text is frozen (invariant 1); the `transcripts_text_frozen` trigger
/// refuses a change on the same condition.
pub async fn text_is_frozen(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: TranscriptId,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select exists (select 1 from codings where project_id = $1 and transcript_id = $2)
               or exists (select 1 from consensus_codings where project_id = $1 and transcript_id = $2)
               as "frozen!""#,
        project_id as ProjectId,
        id as TranscriptId
    )
    .fetch_one(conn)
    .await?)
}

/// The title of a live transcript holding exactly this text.
pub async fn find_duplicate(
    conn: &mut PgConnection,
    project_id: ProjectId,
    sha256: &str,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar!(
        "select title from transcripts where project_id = $1 and sha256 = $2 and deleted_at is null limit 1",
        project_id as ProjectId,
        sha256
    )
    .fetch_optional(conn)
    .await?)
}

pub struct NewTranscript<'a> {
    pub participant_id: Option<ParticipantId>,
    pub title: &'a str,
    pub file_name: &'a str,
    pub source_kind: &'a str,
    pub encoding: Option<&'a str>,
    pub text: &'a str,
    pub sha256: &'a str,
    pub char_count: i32,
    pub word_count: i32,
    pub turns: &'a [Turn],
    pub warnings: &'a [String],
    pub metadata: &'a Metadata,
    pub created_by: Option<UserId>,
}

pub async fn insert_transcript(
    conn: &mut PgConnection,
    project_id: ProjectId,
    new: NewTranscript<'_>,
) -> Result<TranscriptId, AppError> {
    let id = TranscriptId::new();
    sqlx::query!(
        r#"insert into transcripts (id, project_id, participant_id, title, file_name, source_kind, encoding, text,
                                    sha256, char_count, word_count, turns, warnings, metadata, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"#,
        id as TranscriptId,
        project_id as ProjectId,
        new.participant_id as Option<ParticipantId>,
        new.title,
        new.file_name,
        new.source_kind,
        new.encoding,
        new.text,
        new.sha256,
        new.char_count,
        new.word_count,
        Json(new.turns) as _,
        Json(new.warnings) as _,
        Json(new.metadata) as _,
        new.created_by as Option<UserId>
    )
    .execute(conn)
    .await?;
    Ok(id)
}

pub struct TextChange<'a> {
    pub text: &'a str,
    pub sha256: &'a str,
    pub char_count: i32,
    pub word_count: i32,
    pub turns: &'a [Turn],
    /// The metadata fitted to the new text (comment spans no longer apply).
    pub metadata: &'a Metadata,
}

/// False when `version` is stale.
pub async fn update_transcript(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: TranscriptId,
    title: &str,
    participant_id: Option<ParticipantId>,
    text: Option<TextChange<'_>>,
    version: i32,
) -> Result<bool, AppError> {
    let (new_text, sha, chars, words, turns, metadata) = match &text {
        Some(t) => (
            Some(t.text),
            Some(t.sha256),
            Some(t.char_count),
            Some(t.word_count),
            Some(Json(t.turns)),
            Some(Json(t.metadata)),
        ),
        None => (None, None, None, None, None, None),
    };
    let done = sqlx::query!(
        r#"update transcripts
              set title = $3, participant_id = $4,
                  text = coalesce($5, text), sha256 = coalesce($6, sha256),
                  char_count = coalesce($7, char_count), word_count = coalesce($8, word_count),
                  turns = coalesce($9, turns), metadata = coalesce($11, metadata),
                  updated_at = now(), version = version + 1
            where project_id = $1 and id = $2 and version = $10 and deleted_at is null"#,
        project_id as ProjectId,
        id as TranscriptId,
        title,
        participant_id as Option<ParticipantId>,
        new_text,
        sha,
        chars,
        words,
        turns as _,
        version,
        metadata as _
    )
    .execute(conn)
    .await;
    // Coded text is refused by `transcripts_text_frozen` (error::CONSTRAINTS).
    Ok(done?.rows_affected() == 1)
}

pub async fn set_deleted(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: TranscriptId,
    deleted: bool,
) -> Result<bool, AppError> {
    let done = sqlx::query!(
        r#"update transcripts
              set deleted_at = case when $3 then now() else null end, updated_at = now(), version = version + 1
            where project_id = $1 and id = $2 and (deleted_at is null) = $3"#,
        project_id as ProjectId,
        id as TranscriptId,
        deleted
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Participant labels of the project, for matching file names.
pub async fn participant_labels(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<(ParticipantId, String)>, AppError> {
    let rows = sqlx::query!(
        r#"select id as "id: ParticipantId", label from participants where project_id = $1 and deleted_at is null"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.label)).collect())
}
