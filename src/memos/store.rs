//! Every SQL query of memos.

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::db::ids::{ProjectId, UserId};
use crate::error::AppError;

#[derive(Debug, Clone, Serialize)]
pub struct Memo {
    pub id: uuid::Uuid,
    /// project, code, node or journal.
    pub kind: String,
    /// The agreed code or theme node it is on.
    pub target_id: Option<uuid::Uuid>,
    pub target_name: Option<String>,
    pub author_id: UserId,
    pub author: String,
    /// `YYYY-MM-DD`.
    pub written_on: String,
    pub title: String,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: i32,
}

/// Which memos a reader may see: their own journal always; the others'
/// journals and the analytic memos only with the right.
#[derive(Debug, Clone, Copy)]
pub struct Visible {
    pub me: UserId,
    pub journals: bool,
    pub analytic: bool,
}

/// What to list: every visible memo, or those of one kind, target or author.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub id: Option<uuid::Uuid>,
    pub kind: Option<String>,
    pub target: Option<uuid::Uuid>,
    pub author: Option<UserId>,
    /// A substring of the title or body (ILIKE pattern, escaped).
    pub pattern: Option<String>,
    pub limit: i64,
}

pub async fn list(
    conn: &mut PgConnection,
    project: ProjectId,
    visible: Visible,
    filter: &Filter,
) -> Result<Vec<Memo>, AppError> {
    Ok(sqlx::query_as!(
        Memo,
        r#"select m.id, m.kind, coalesce(m.agreed_code_id, m.node_id) as target_id,
                  coalesce(c.name, n.name) as target_name,
                  m.author_id as "author_id: UserId", u.display_name as author,
                  m.written_on::text as "written_on!", m.title, m.body, m.created_at, m.updated_at, m.version
             from memos m
             join users u on u.id = m.author_id
             left join agreed_codes c on c.id = m.agreed_code_id
             left join theme_nodes n on n.id = m.node_id
            where m.project_id = $1 and m.deleted_at is null
              and ((m.kind = 'journal' and (m.author_id = $2 or $3))
                   or (m.kind <> 'journal' and $4))
              and ($5::uuid is null or m.id = $5)
              and ($6::text is null or m.kind = $6)
              and ($7::uuid is null or m.agreed_code_id = $7 or m.node_id = $7)
              and ($8::uuid is null or m.author_id = $8)
              and ($9::text is null or m.body ilike $9 or m.title ilike $9)
            order by m.written_on desc, m.created_at desc
            limit $10"#,
        project as ProjectId,
        visible.me as UserId,
        visible.journals,
        visible.analytic,
        filter.id,
        filter.kind,
        filter.target,
        filter.author as Option<UserId>,
        filter.pattern,
        filter.limit
    )
    .fetch_all(conn)
    .await?)
}

pub struct NewMemo<'a> {
    pub id: uuid::Uuid,
    pub kind: &'a str,
    pub agreed_code_id: Option<uuid::Uuid>,
    pub node_id: Option<uuid::Uuid>,
    pub written_on: &'a str,
    pub title: &'a str,
    pub body: &'a str,
}

pub async fn insert(
    conn: &mut PgConnection,
    project: ProjectId,
    memo: &NewMemo<'_>,
    author: UserId,
) -> Result<(), AppError> {
    sqlx::query!(
        r#"insert into memos (id, project_id, kind, agreed_code_id, node_id, author_id, written_on, title, body)
           values ($1, $2, $3, $4, $5, $6, $7::text::date, $8, $9)"#,
        memo.id,
        project as ProjectId,
        memo.kind,
        memo.agreed_code_id,
        memo.node_id,
        author as UserId,
        memo.written_on,
        memo.title,
        memo.body
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// False when `version` is stale.
pub async fn update(
    conn: &mut PgConnection,
    project: ProjectId,
    id: uuid::Uuid,
    version: i32,
    written_on: &str,
    title: &str,
    body: &str,
) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        r#"update memos set written_on = $4::text::date, title = $5, body = $6,
                  updated_at = now(), version = version + 1
            where project_id = $1 and id = $2 and version = $3 and deleted_at is null"#,
        project as ProjectId,
        id,
        version,
        written_on,
        title,
        body
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn delete(
    conn: &mut PgConnection,
    project: ProjectId,
    id: uuid::Uuid,
) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        "update memos set deleted_at = now() where project_id = $1 and id = $2 and deleted_at is null",
        project as ProjectId,
        id
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
