use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::db::ids::{ProjectId, TranscriptId, UserId};
use crate::error::AppError;

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<UserId>,
    pub actor_name: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<uuid::Uuid>,
    pub transcript_id: Option<TranscriptId>,
    /// The transcript's title now.
    pub transcript_title: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Which events to read; every part is optional. Times are `[from, until)`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<UserId>,
    /// An entity type (`coding`) or an action (`coding.created`).
    pub kind: Option<String>,
    pub transcript: Option<TranscriptId>,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

/// Where in the filtered log to read: `offset` for numbered pages, `before_id`
/// to walk the whole log in chunks (the CSV).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub before_id: Option<i64>,
    pub offset: i64,
    pub limit: i64,
}

/// Newest first; `limit + 1` rows are read so the caller knows whether more follow.
/// The page, its JSON twin and the CSV all read through this one query.
pub async fn list_project_events(
    conn: &mut PgConnection,
    project_id: ProjectId,
    filter: &Filter,
    window: Window,
) -> Result<Vec<AuditEntry>, AppError> {
    Ok(sqlx::query_as!(
        AuditEntry,
        r#"select e.id, e.actor_id as "actor_id: UserId", u.display_name as "actor_name?", e.action,
                  e.entity_type, e.entity_id, e.transcript_id as "transcript_id: TranscriptId",
                  t.title as "transcript_title?", e.before, e.after, e.created_at
             from audit_events e
             left join users u on u.id = e.actor_id
             left join transcripts t on t.id = e.transcript_id and t.project_id = e.project_id
            where e.project_id = $1
              and ($2::uuid is null or e.actor_id = $2)
              and ($3::text is null or e.action = $3 or e.entity_type = $3)
              and ($4::uuid is null or e.transcript_id = $4)
              and ($5::timestamptz is null or e.created_at >= $5)
              and ($6::timestamptz is null or e.created_at < $6)
              and ($7::bigint is null or e.id < $7)
            order by e.id desc
            offset $8
            limit $9"#,
        project_id as ProjectId,
        filter.actor as Option<UserId>,
        filter.kind.as_deref(),
        filter.transcript as Option<TranscriptId>,
        filter.from,
        filter.until,
        window.before_id,
        window.offset,
        window.limit + 1
    )
    .fetch_all(conn)
    .await?)
}

/// The names of whatever these ids are in the project (people anywhere):
/// users, the project, transcripts, participants, variables, codes, agreed
/// codes, and codings, consensus codings, assignments and decisions by what
/// they are of.
pub async fn names(
    conn: &mut PgConnection,
    project_id: ProjectId,
    ids: &[uuid::Uuid],
) -> Result<Vec<(uuid::Uuid, String)>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query!(
        r#"select id as "id!", name as "name!" from (
               select id, display_name as name from users where id = any($2)
               union all
               select id, name from projects where id = $1 and id = any($2)
               union all
               select id, title from transcripts where project_id = $1 and id = any($2)
               union all
               select id, label from participants where project_id = $1 and id = any($2)
               union all
               select id, name from variables where project_id = $1 and id = any($2)
               union all
               select id, name from codes where project_id = $1 and id = any($2)
               union all
               select id, name from agreed_codes where project_id = $1 and id = any($2)
               union all
               select c.id, k.name
                 from codings c
                 join codes k on k.id = c.code_id
                where c.project_id = $1 and c.id = any($2)
               union all
               select c.id, a.name
                 from consensus_codings c
                 join agreed_codes a on a.id = c.agreed_code_id
                where c.project_id = $1 and c.id = any($2)
               union all
               select a.id, u.display_name || ' on ' || t.title
                 from assignments a
                 join users u on u.id = a.user_id
                 join transcripts t on t.id = a.transcript_id
                where a.project_id = $1 and a.id = any($2)
               union all
               select d.id, replace(d.kind, '_', ' ') || coalesce(' as ' || a.name, '')
                 from decisions d
                 left join agreed_codes a on a.id = d.agreed_code_id
                where d.project_id = $1 and d.id = any($2)
           ) named"#,
        project_id as ProjectId,
        ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// Everyone who changed something in the project, by name: the choices of the person filter.
pub async fn list_actors(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<(UserId, String)>, AppError> {
    let rows = sqlx::query!(
        r#"select u.id as "id: UserId", u.display_name
             from users u
            where exists (select 1 from audit_events e where e.project_id = $1 and e.actor_id = u.id)
               or exists (select 1 from project_members m where m.project_id = $1 and m.user_id = u.id)
            order by lower(u.display_name), u.id"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.display_name)).collect())
}

/// Every transcript of the project, deleted ones too: the choices of the transcript filter.
pub async fn list_transcripts(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<(TranscriptId, String)>, AppError> {
    let rows = sqlx::query!(
        r#"select id as "id: TranscriptId", title
             from transcripts
            where project_id = $1
            order by lower(title), id"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.title)).collect())
}

pub async fn user_exists(conn: &mut PgConnection, id: UserId) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select exists (select 1 from users where id = $1) as "exists!""#,
        id as UserId
    )
    .fetch_one(conn)
    .await?)
}
