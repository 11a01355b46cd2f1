//! Every query of the REFI-QDA exports. Each reads what the agreed codebook
//! builds on, so each takes the viewer's [`AgreedCodebook`] proof.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::coding::blinding::AgreedCodebook;
use crate::db::ids::{AgreedCodeId, ProjectId};
use crate::error::AppError;

#[derive(Debug, Clone)]
pub(crate) struct AgreedCodeRow {
    pub id: AgreedCodeId,
    pub name: String,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub color: String,
}

#[derive(Debug, Clone)]
/// In sibling order.
pub(crate) struct ThemeNodeRow {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub definition: String,
    pub memo: String,
    pub color: String,
}

#[derive(Debug, Clone)]
pub(crate) struct PlacementRow {
    pub agreed_code_id: AgreedCodeId,
    pub node_id: Uuid,
}

/// Live agreed codes, merged ones left out (their codings moved to the code
/// they were merged into).
pub(crate) async fn list_agreed_codes(
    conn: &mut PgConnection,
    project: ProjectId,
    _proof: AgreedCodebook,
) -> Result<Vec<AgreedCodeRow>, AppError> {
    Ok(sqlx::query_as!(
        AgreedCodeRow,
        r#"select id as "id: AgreedCodeId", name, definition, inclusion, exclusion, example, color
             from agreed_codes
            where project_id = $1 and deleted_at is null and merged_into is null
            order by lower(name), id"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

pub(crate) async fn list_theme_nodes(
    conn: &mut PgConnection,
    project: ProjectId,
    _proof: AgreedCodebook,
) -> Result<Vec<ThemeNodeRow>, AppError> {
    Ok(sqlx::query_as!(
        ThemeNodeRow,
        r#"select id, parent_id, name, definition, memo, color
             from theme_nodes
            where project_id = $1 and deleted_at is null
            order by position, lower(name), id"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// Placements of live codes under live nodes.
pub(crate) async fn list_placements(
    conn: &mut PgConnection,
    project: ProjectId,
    _proof: AgreedCodebook,
) -> Result<Vec<PlacementRow>, AppError> {
    Ok(sqlx::query_as!(
        PlacementRow,
        r#"select p.agreed_code_id as "agreed_code_id: AgreedCodeId", p.node_id
             from theme_placements p
             join theme_nodes n on n.id = p.node_id and n.deleted_at is null
             join agreed_codes a on a.id = p.agreed_code_id
                                and a.deleted_at is null and a.merged_into is null
            where p.project_id = $1
            order by p.position, p.agreed_code_id"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}
