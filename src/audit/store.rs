use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::db::ids::{ProjectId, UserId};
use crate::error::AppError;

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<UserId>,
    pub actor_name: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<uuid::Uuid>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Newest first; `limit + 1` rows are read so the caller knows whether a next page exists.
pub async fn list_project_events(
    conn: &mut PgConnection,
    project_id: ProjectId,
    offset: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, AppError> {
    Ok(sqlx::query_as!(
        AuditEntry,
        r#"select e.id, e.actor_id as "actor_id: UserId", u.display_name as "actor_name?", e.action,
                  e.entity_type, e.entity_id, e.before, e.after, e.created_at
             from audit_events e
             left join users u on u.id = e.actor_id
            where e.project_id = $1
            order by e.id desc
            offset $2
            limit $3"#,
        project_id as ProjectId,
        offset,
        limit + 1
    )
    .fetch_all(conn)
    .await?)
}
