//! Every SQL query of peer debriefings.

use serde::Serialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::db::ids::{AgreedCodeId, ProjectId, ThemeNodeId, UserId};
use crate::error::AppError;

/// A member or a linked node or code, by id and name.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Named {
    pub id: uuid::Uuid,
    pub name: String,
    /// A node or code deleted since the session.
    pub deleted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Debriefing {
    pub id: uuid::Uuid,
    /// `YYYY-MM-DD`.
    pub held_on: String,
    pub title: String,
    pub notes: String,
    pub decisions: String,
    pub attendees: Vec<Named>,
    pub guests: Vec<String>,
    pub nodes: Vec<Named>,
    pub codes: Vec<Named>,
    pub created_by_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: i32,
}

/// The fields a session record is written with.
pub struct Fields<'a> {
    pub held_on: &'a str,
    pub title: &'a str,
    pub notes: &'a str,
    pub decisions: &'a str,
    pub guests: &'a [String],
}

pub async fn insert(
    conn: &mut PgConnection,
    project: ProjectId,
    id: uuid::Uuid,
    fields: &Fields<'_>,
    by: UserId,
) -> Result<(), AppError> {
    sqlx::query!(
        r#"insert into debriefings (id, project_id, held_on, title, notes, decisions, guests, created_by)
           values ($1, $2, $3::text::date, $4, $5, $6, $7, $8)"#,
        id,
        project as ProjectId,
        fields.held_on,
        fields.title,
        fields.notes,
        fields.decisions,
        fields.guests,
        by as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// False when `version` is not the current one (a stale write).
pub async fn update(
    conn: &mut PgConnection,
    project: ProjectId,
    id: uuid::Uuid,
    version: i32,
    fields: &Fields<'_>,
) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        r#"update debriefings
              set held_on = $4::text::date, title = $5, notes = $6, decisions = $7, guests = $8,
                  updated_at = now(), version = version + 1
            where project_id = $1 and id = $2 and version = $3"#,
        project as ProjectId,
        id,
        version,
        fields.held_on,
        fields.title,
        fields.notes,
        fields.decisions,
        fields.guests
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Replaces the session's attendees and links.
pub async fn set_people_and_links(
    conn: &mut PgConnection,
    project: ProjectId,
    id: uuid::Uuid,
    attendees: &[UserId],
    nodes: &[ThemeNodeId],
    codes: &[AgreedCodeId],
) -> Result<(), AppError> {
    let users: Vec<uuid::Uuid> = attendees.iter().map(|u| u.0).collect();
    let nodes: Vec<uuid::Uuid> = nodes.iter().map(|n| n.0).collect();
    let codes: Vec<uuid::Uuid> = codes.iter().map(|c| c.0).collect();
    // Two statements: a statement's CTEs share one snapshot, so rows deleted in
    // one CTE still clash with the unique indexes for an insert in another.
    sqlx::query!(
        r#"with gone as (
               delete from debriefing_attendees where debriefing_id = $2 and project_id = $1
           )
           delete from debriefing_links where debriefing_id = $2 and project_id = $1"#,
        project as ProjectId,
        id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"with people as (
               insert into debriefing_attendees (debriefing_id, project_id, user_id)
               select $2, $1, u from unnest($3::uuid[]) u
           )
           insert into debriefing_links (debriefing_id, project_id, node_id, agreed_code_id)
           select $2, $1, n, null from unnest($4::uuid[]) n
           union all
           select $2, $1, null, c from unnest($5::uuid[]) c"#,
        project as ProjectId,
        id,
        &users,
        &nodes,
        &codes
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The project's sessions, newest first, or only session `id`.
pub async fn list(
    conn: &mut PgConnection,
    project: ProjectId,
    id: Option<uuid::Uuid>,
) -> Result<Vec<Debriefing>, AppError> {
    let rows = sqlx::query!(
        r#"select d.id, d.held_on::text as "held_on!", d.title, d.notes, d.decisions, d.guests,
                  u.display_name as created_by_name, d.created_at, d.updated_at, d.version,
                  coalesce((select jsonb_agg(jsonb_build_object('id', a.user_id, 'name', au.display_name, 'deleted', false)
                                             order by lower(au.display_name))
                              from debriefing_attendees a join users au on au.id = a.user_id
                             where a.debriefing_id = d.id), '[]') as "attendees!",
                  coalesce((select jsonb_agg(jsonb_build_object('id', n.id, 'name', n.name, 'deleted', n.deleted_at is not null)
                                             order by lower(n.name))
                              from debriefing_links l join theme_nodes n on n.id = l.node_id
                             where l.debriefing_id = d.id), '[]') as "nodes!",
                  coalesce((select jsonb_agg(jsonb_build_object('id', c.id, 'name', c.name, 'deleted', c.deleted_at is not null)
                                             order by lower(c.name))
                              from debriefing_links l join agreed_codes c on c.id = l.agreed_code_id
                             where l.debriefing_id = d.id), '[]') as "codes!"
             from debriefings d join users u on u.id = d.created_by
            where d.project_id = $1 and ($2::uuid is null or d.id = $2)
            order by d.held_on desc, d.created_at desc"#,
        project as ProjectId,
        id
    )
    .fetch_all(conn)
    .await?;
    let named = |v: serde_json::Value| -> Vec<Named> {
        v.as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| {
                        Some(Named {
                            id: i["id"].as_str()?.parse().ok()?,
                            name: i["name"].as_str()?.to_owned(),
                            deleted: i["deleted"].as_bool().unwrap_or(false),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(rows
        .into_iter()
        .map(|r| Debriefing {
            id: r.id,
            held_on: r.held_on,
            title: r.title,
            notes: r.notes,
            decisions: r.decisions,
            attendees: named(r.attendees),
            guests: r.guests,
            nodes: named(r.nodes),
            codes: named(r.codes),
            created_by_name: r.created_by_name,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
        .collect())
}

/// One session a node or code was discussed in.
#[derive(Debug, Clone, Serialize)]
pub struct Discussed {
    pub debriefing_id: uuid::Uuid,
    pub held_on: String,
    pub node_id: Option<uuid::Uuid>,
    pub agreed_code_id: Option<uuid::Uuid>,
}

/// Every link of every session of the project, newest session first.
pub async fn discussed(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<Vec<Discussed>, AppError> {
    Ok(sqlx::query_as!(
        Discussed,
        r#"select d.id as debriefing_id, d.held_on::text as "held_on!", l.node_id, l.agreed_code_id
             from debriefing_links l join debriefings d on d.id = l.debriefing_id
            where l.project_id = $1
            order by d.held_on desc, d.created_at desc"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}
