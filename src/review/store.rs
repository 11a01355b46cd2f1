//! Every SQL query of review rounds, comments and sign-offs.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::db::ids::{ProjectId, UserId};
use crate::error::AppError;
use crate::projects::model::Role;

#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub id: uuid::Uuid,
    pub number: i32,
    pub message: String,
    pub due_on: Option<String>,
    #[serde(skip)]
    pub snapshot: serde_json::Value,
    pub created_by_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub reviewers: Vec<UserId>,
    pub signed_off: i64,
    pub open_comments: i64,
}

pub async fn roles_of(
    conn: &mut PgConnection,
    project: ProjectId,
    users: &[UserId],
) -> Result<HashMap<UserId, Role>, AppError> {
    let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
    let rows = sqlx::query!(
        r#"select user_id as "user_id: UserId", role from project_members
            where project_id = $1 and user_id = any($2)"#,
        project as ProjectId,
        &ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r.user_id, Role::parse(&r.role)?)))
        .collect())
}

/// Each example coding's attribution: "Nurse, P05" (the participant's Role
/// when the project has such a variable, and pseudonym).
pub async fn attributions(
    conn: &mut PgConnection,
    project: ProjectId,
    codings: &[uuid::Uuid],
) -> Result<HashMap<uuid::Uuid, String>, AppError> {
    if codings.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query!(
        r#"select cc.id, p.label as "label?",
                  (select pv.value from participant_values pv join variables v on v.id = pv.variable_id
                    where pv.participant_id = p.id and lower(v.name) = 'role' and v.deleted_at is null
                    limit 1) as "role?"
             from consensus_codings cc
             join transcripts t on t.id = cc.transcript_id
             left join participants p on p.id = t.participant_id
            where cc.project_id = $1 and cc.id = any($2)"#,
        project as ProjectId,
        codings
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let who = [r.role, r.label]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            (r.id, who)
        })
        .collect())
}

pub async fn insert_round(
    conn: &mut PgConnection,
    project: ProjectId,
    message: &str,
    due_on: Option<&str>,
    snapshot: &serde_json::Value,
    by: UserId,
    reviewers: &[UserId],
) -> Result<Round, AppError> {
    let id = uuid::Uuid::now_v7();
    sqlx::query!(
        r#"insert into review_rounds (id, project_id, number, message, due_on, snapshot, created_by)
           values ($1, $2,
                   (select coalesce(max(number), 0) + 1 from review_rounds where project_id = $2),
                   $3, $4::text::date, $5, $6)"#,
        id,
        project as ProjectId,
        message,
        due_on,
        snapshot,
        by as UserId
    )
    .execute(&mut *conn)
    .await?;
    let ids: Vec<uuid::Uuid> = reviewers.iter().map(|u| u.0).collect();
    sqlx::query!(
        r#"insert into review_round_reviewers (round_id, project_id, user_id)
           select $1, $2, u from unnest($3::uuid[]) u on conflict do nothing"#,
        id,
        project as ProjectId,
        &ids
    )
    .execute(&mut *conn)
    .await?;
    round(conn, project, id).await?.ok_or(AppError::NotFound)
}

pub async fn rounds(conn: &mut PgConnection, project: ProjectId) -> Result<Vec<Round>, AppError> {
    rounds_where(conn, project, None).await
}

/// The project's rounds, newest first, or only round `id`.
async fn rounds_where(
    conn: &mut PgConnection,
    project: ProjectId,
    id: Option<uuid::Uuid>,
) -> Result<Vec<Round>, AppError> {
    Ok(sqlx::query_as!(
        Round,
        r#"select r.id, r.number, r.message, r.due_on::text as due_on, r.snapshot,
                  u.display_name as created_by_name, r.created_at, r.closed_at,
                  array(select rr.user_id from review_round_reviewers rr where rr.round_id = r.id
                        order by rr.user_id) as "reviewers!: Vec<UserId>",
                  (select count(*) from review_signoffs s where s.round_id = r.id) as "signed_off!",
                  (select count(*) from review_comments c where c.round_id = r.id and c.status = 'open') as "open_comments!"
             from review_rounds r join users u on u.id = r.created_by
            where r.project_id = $1 and ($2::uuid is null or r.id = $2)
            order by r.number desc"#,
        project as ProjectId,
        id
    )
    .fetch_all(conn)
    .await?)
}

pub async fn round(
    conn: &mut PgConnection,
    project: ProjectId,
    id: uuid::Uuid,
) -> Result<Option<Round>, AppError> {
    Ok(rounds_where(conn, project, Some(id)).await?.pop())
}

pub async fn close(
    conn: &mut PgConnection,
    project: ProjectId,
    id: uuid::Uuid,
) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        "update review_rounds set closed_at = now() where project_id = $1 and id = $2 and closed_at is null",
        project as ProjectId,
        id
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub id: uuid::Uuid,
    pub author_id: UserId,
    pub author: String,
    pub target_kind: String,
    pub target_id: Option<uuid::Uuid>,
    pub body: String,
    pub status: String,
    pub reply: String,
    pub replied_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub version: i32,
}

pub async fn insert_comment(
    conn: &mut PgConnection,
    project: ProjectId,
    round: uuid::Uuid,
    author: UserId,
    kind: &str,
    target: Option<uuid::Uuid>,
    body: &str,
) -> Result<Comment, AppError> {
    let id = uuid::Uuid::now_v7();
    sqlx::query!(
        r#"insert into review_comments (id, project_id, round_id, author_id, target_kind, target_id, body)
           values ($1, $2, $3, $4, $5, $6, $7)"#,
        id,
        project as ProjectId,
        round,
        author as UserId,
        kind,
        target,
        body
    )
    .execute(&mut *conn)
    .await?;
    comment(conn, project, round, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn comments(
    conn: &mut PgConnection,
    project: ProjectId,
    round: uuid::Uuid,
) -> Result<Vec<Comment>, AppError> {
    comments_where(conn, project, round, None).await
}

/// A round's comments, oldest first, or only comment `id`.
async fn comments_where(
    conn: &mut PgConnection,
    project: ProjectId,
    round: uuid::Uuid,
    id: Option<uuid::Uuid>,
) -> Result<Vec<Comment>, AppError> {
    Ok(sqlx::query_as!(
        Comment,
        r#"select c.id, c.author_id as "author_id: UserId", a.display_name as author, c.target_kind,
                  c.target_id, c.body, c.status, c.reply, r.display_name as "replied_by?",
                  c.created_at, c.version
             from review_comments c
             join users a on a.id = c.author_id
             left join users r on r.id = c.replied_by
            where c.project_id = $1 and c.round_id = $2 and ($3::uuid is null or c.id = $3)
            order by c.created_at, c.id"#,
        project as ProjectId,
        round,
        id
    )
    .fetch_all(conn)
    .await?)
}

pub async fn comment(
    conn: &mut PgConnection,
    project: ProjectId,
    round: uuid::Uuid,
    id: uuid::Uuid,
) -> Result<Option<Comment>, AppError> {
    Ok(comments_where(conn, project, round, Some(id)).await?.pop())
}

/// Sets status and reply if the version matches; the comment after, or None.
pub async fn answer(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    status: &str,
    reply: &str,
    by: UserId,
    version: i32,
) -> Result<Option<Comment>, AppError> {
    let row = sqlx::query!(
        r#"update review_comments
              set status = $2, reply = $3, replied_by = $4, replied_at = now(), version = version + 1
            where id = $1 and version = $5
           returning project_id as "project_id: ProjectId", round_id"#,
        id,
        status,
        reply,
        by as UserId,
        version
    )
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => comment(conn, r.project_id, r.round_id, id).await,
        None => Ok(None),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Signoff {
    pub user_id: UserId,
    pub reviewer: String,
    pub verdict: String,
    pub note: String,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
}

pub async fn upsert_signoff(
    conn: &mut PgConnection,
    project: ProjectId,
    round: uuid::Uuid,
    user: UserId,
    verdict: &str,
    note: &str,
) -> Result<(), AppError> {
    sqlx::query!(
        r#"insert into review_signoffs (round_id, project_id, user_id, verdict, note)
           values ($1, $2, $3, $4, $5)
           on conflict (round_id, user_id) do update
              set verdict = excluded.verdict, note = excluded.note, signed_at = now()"#,
        round,
        project as ProjectId,
        user as UserId,
        verdict,
        note
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn signoffs(
    conn: &mut PgConnection,
    project: ProjectId,
    round: uuid::Uuid,
) -> Result<Vec<Signoff>, AppError> {
    Ok(sqlx::query_as!(
        Signoff,
        r#"select s.user_id as "user_id: UserId", u.display_name as reviewer, s.verdict, s.note, s.signed_at
             from review_signoffs s join users u on u.id = s.user_id
            where s.project_id = $1 and s.round_id = $2
            order by s.signed_at"#,
        project as ProjectId,
        round
    )
    .fetch_all(conn)
    .await?)
}

pub async fn names(
    conn: &mut PgConnection,
    users: &[UserId],
) -> Result<Vec<(UserId, String)>, AppError> {
    let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
    Ok(sqlx::query!(
        r#"select id as "id: UserId", display_name from users where id = any($1) order by display_name"#,
        &ids
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.display_name))
    .collect())
}
