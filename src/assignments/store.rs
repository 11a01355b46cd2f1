//! Every SQL query of assignments.

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::model::AssignmentState;
use crate::db::ids::{AssignmentId, ProjectId, TranscriptId, UserId};
use crate::error::AppError;

#[derive(Debug, Clone, Serialize)]
pub struct Assignment {
    pub id: AssignmentId,
    pub transcript_id: TranscriptId,
    pub user_id: UserId,
    pub state: AssignmentState,
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssignmentRow {
    #[serde(flatten)]
    pub assignment: Assignment,
    pub transcript_title: String,
    pub user_name: String,
}

pub async fn find_for(
    conn: &mut PgConnection,
    project_id: ProjectId,
    transcript_id: TranscriptId,
    user_id: UserId,
) -> Result<Option<Assignment>, AppError> {
    Ok(sqlx::query_as!(
        Assignment,
        r#"select id as "id: AssignmentId", transcript_id as "transcript_id: TranscriptId", user_id as "user_id: UserId",
                  state as "state: AssignmentState", submitted_at, version
             from assignments
            where project_id = $1 and transcript_id = $2 and user_id = $3"#,
        project_id as ProjectId,
        transcript_id as TranscriptId,
        user_id as UserId
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn get(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: AssignmentId,
) -> Result<Assignment, AppError> {
    sqlx::query_as!(
        Assignment,
        r#"select id as "id: AssignmentId", transcript_id as "transcript_id: TranscriptId", user_id as "user_id: UserId",
                  state as "state: AssignmentState", submitted_at, version
             from assignments
            where project_id = $1 and id = $2"#,
        project_id as ProjectId,
        id as AssignmentId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// Every assignment of the project, or only `user`'s.
pub async fn list(
    conn: &mut PgConnection,
    project_id: ProjectId,
    user: Option<UserId>,
) -> Result<Vec<AssignmentRow>, AppError> {
    let rows = sqlx::query!(
        r#"select a.id as "id: AssignmentId", a.transcript_id as "transcript_id: TranscriptId", a.user_id as "user_id: UserId",
                  a.state as "state: AssignmentState", a.submitted_at, a.version, t.title, u.display_name
             from assignments a
             join transcripts t on t.id = a.transcript_id
             join users u on u.id = a.user_id
            where a.project_id = $1 and ($2::uuid is null or a.user_id = $2) and t.deleted_at is null
            order by lower(t.title), lower(u.display_name)"#,
        project_id as ProjectId,
        user as Option<UserId>
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AssignmentRow {
            assignment: Assignment {
                id: r.id,
                transcript_id: r.transcript_id,
                user_id: r.user_id,
                state: r.state,
                submitted_at: r.submitted_at,
                version: r.version,
            },
            transcript_title: r.title,
            user_name: r.display_name,
        })
        .collect())
}

/// The new assignment, or None when that person has it already.
pub async fn insert(
    conn: &mut PgConnection,
    project_id: ProjectId,
    transcript_id: TranscriptId,
    user_id: UserId,
) -> Result<Option<AssignmentId>, AppError> {
    let id = AssignmentId::new();
    let done = sqlx::query!(
        "insert into assignments (id, project_id, transcript_id, user_id) values ($1, $2, $3, $4)
         on conflict (transcript_id, user_id) do nothing",
        id as AssignmentId,
        project_id as ProjectId,
        transcript_id as TranscriptId,
        user_id as UserId
    )
    .execute(conn)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

pub async fn set_state(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: AssignmentId,
    state: AssignmentState,
) -> Result<Assignment, AppError> {
    sqlx::query_as!(
        Assignment,
        r#"update assignments
              set state = $3,
                  submitted_at = case when $3 = 'submitted' then now() else null end,
                  updated_at = now(), version = version + 1
            where project_id = $1 and id = $2
        returning id as "id: AssignmentId", transcript_id as "transcript_id: TranscriptId", user_id as "user_id: UserId",
                  state as "state: AssignmentState", submitted_at, version"#,
        project_id as ProjectId,
        id as AssignmentId,
        state as AssignmentState
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

pub async fn delete(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: AssignmentId,
) -> Result<(), AppError> {
    sqlx::query!(
        "delete from assignments where project_id = $1 and id = $2",
        project_id as ProjectId,
        id as AssignmentId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The spans of every live coding (under a live code) on `transcripts`, by
/// layer: read through the layer index, one transcript after another.
pub async fn layer_spans(
    conn: &mut PgConnection,
    project_id: ProjectId,
    transcripts: &[TranscriptId],
) -> Result<Vec<(TranscriptId, UserId, i32, i32)>, AppError> {
    let ids: Vec<uuid::Uuid> = transcripts.iter().map(|t| t.0).collect();
    let rows = sqlx::query!(
        r#"select c.transcript_id as "transcript_id: TranscriptId", c.coder_id as "coder_id: UserId", c.start_offset, c.end_offset
             from codings c
            where c.project_id = $1 and c.transcript_id = any($2) and c.deleted_at is null
              and c.code_id not in (select k.id from codes k where k.project_id = $1 and k.deleted_at is not null)"#,
        project_id as ProjectId,
        &ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.transcript_id, r.coder_id, r.start_offset, r.end_offset))
        .collect())
}

pub async fn transcript_texts(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<(TranscriptId, String)>, AppError> {
    let rows = sqlx::query!(
        r#"select id as "id: TranscriptId", text from transcripts where project_id = $1 and deleted_at is null"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.text)).collect())
}

/// One of the caller's assignments, across projects, for the home page.
pub struct MyAssignment {
    pub project_id: ProjectId,
    pub project_name: String,
    pub transcript_id: TranscriptId,
    pub transcript_title: String,
    pub state: AssignmentState,
    pub text: String,
}

pub async fn list_for_user(
    conn: &mut PgConnection,
    user_id: UserId,
) -> Result<Vec<MyAssignment>, AppError> {
    Ok(sqlx::query_as!(
        MyAssignment,
        r#"select p.id as "project_id: ProjectId", p.name as project_name, t.id as "transcript_id: TranscriptId",
                  t.title as transcript_title, a.state as "state: AssignmentState", t.text
             from assignments a
             join projects p on p.id = a.project_id
             join project_members m on m.project_id = p.id and m.user_id = a.user_id
             join transcripts t on t.id = a.transcript_id
            where a.user_id = $1 and t.deleted_at is null and p.archived_at is null
            order by a.state = 'submitted', lower(p.name), lower(t.title)"#,
        user_id as UserId
    )
    .fetch_all(conn)
    .await?)
}

pub async fn user_spans(
    conn: &mut PgConnection,
    user_id: UserId,
) -> Result<Vec<(TranscriptId, i32, i32)>, AppError> {
    let rows = sqlx::query!(
        r#"select c.transcript_id as "transcript_id: TranscriptId", c.start_offset, c.end_offset
             from codings c
             join codes k on k.id = c.code_id
            where c.coder_id = $1 and c.deleted_at is null and k.deleted_at is null"#,
        user_id as UserId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.transcript_id, r.start_offset, r.end_offset))
        .collect())
}

/// Locks every assignment of a transcript, in one order, until the end of the
/// transaction: writes that decide on the transcript's completeness (a submit,
/// a withdrawal) take turns. Coding goes on meanwhile (a coding's key check
/// on its assignment takes a weaker lock).
pub async fn lock_transcript(
    conn: &mut PgConnection,
    project: ProjectId,
    transcript: TranscriptId,
) -> Result<(), AppError> {
    sqlx::query!(
        "select id from assignments where project_id = $1 and transcript_id = $2 order by id for no key update",
        project as ProjectId,
        transcript as TranscriptId
    )
    .fetch_all(conn)
    .await?;
    Ok(())
}
