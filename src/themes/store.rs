//! Every SQL query of the theme hierarchy. Reads of what is built on the agreed
//! codebook take the [`AgreedCodebook`] proof.

use std::collections::HashMap;

use sqlx::PgConnection;
use sqlx::types::Json;

use crate::import::Turn;

use super::model::{self, CodeUse, Node, Placement};
use crate::coding::blinding::AgreedCodebook;
use crate::db::ids::{
    AgreedCodeId, ConsensusCodingId, ParticipantId, ProjectId, ThemeNodeId, TranscriptId, UserId,
};
use crate::error::AppError;

/// Serialises every change of one project's hierarchy (the schema's cycle
/// check takes the same lock).
pub async fn lock(conn: &mut PgConnection, project_id: ProjectId) -> Result<(), AppError> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('theme_nodes:' || $1::uuid::text, 0))",
        project_id as ProjectId
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_nodes(
    conn: &mut PgConnection,
    project_id: ProjectId,
    _: AgreedCodebook,
) -> Result<Vec<Node>, AppError> {
    Ok(sqlx::query_as!(
        Node,
        r#"select id as "id: ThemeNodeId", parent_id as "parent_id: ThemeNodeId", name,
                  definition, memo, color, position,
                  example_coding_id as "example_coding_id: ConsensusCodingId", version,
                  false as "deleted!"
             from theme_nodes
            where project_id = $1 and deleted_at is null
            order by position, lower(name)"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// Deleted nodes, newest first, for restoring.
pub async fn list_deleted_nodes(
    conn: &mut PgConnection,
    project_id: ProjectId,
    _: AgreedCodebook,
) -> Result<Vec<Node>, AppError> {
    Ok(sqlx::query_as!(
        Node,
        r#"select id as "id: ThemeNodeId", parent_id as "parent_id: ThemeNodeId", name,
                  definition, memo, color, position,
                  example_coding_id as "example_coding_id: ConsensusCodingId", version,
                  true as "deleted!"
             from theme_nodes
            where project_id = $1 and deleted_at is not null
            order by deleted_at desc"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// One node of the project, deleted or not.
pub async fn node(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: ThemeNodeId,
) -> Result<Option<Node>, AppError> {
    Ok(sqlx::query_as!(
        Node,
        r#"select id as "id: ThemeNodeId", parent_id as "parent_id: ThemeNodeId", name,
                  definition, memo, color, position,
                  example_coding_id as "example_coding_id: ConsensusCodingId", version,
                  deleted_at is not null as "deleted!"
             from theme_nodes
            where project_id = $1 and id = $2"#,
        project_id as ProjectId,
        id as ThemeNodeId
    )
    .fetch_optional(conn)
    .await?)
}

/// Placements of live agreed codes under live nodes, in order.
pub async fn list_placements(
    conn: &mut PgConnection,
    project_id: ProjectId,
    _: AgreedCodebook,
) -> Result<Vec<Placement>, AppError> {
    Ok(sqlx::query_as!(
        Placement,
        r#"select p.agreed_code_id as "agreed_code_id: AgreedCodeId",
                  p.node_id as "node_id: ThemeNodeId", p.position, p.version
             from theme_placements p
             join agreed_codes c on c.id = p.agreed_code_id and c.deleted_at is null
             join theme_nodes n on n.id = p.node_id and n.deleted_at is null
            where p.project_id = $1
            order by p.position, lower(c.name)"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// The placements of these codes, whatever node they are under, locked for
/// the change being made.
pub async fn placements_of(
    conn: &mut PgConnection,
    project_id: ProjectId,
    codes: &[AgreedCodeId],
) -> Result<Vec<Placement>, AppError> {
    let ids: Vec<uuid::Uuid> = codes.iter().map(|c| c.0).collect();
    Ok(sqlx::query_as!(
        Placement,
        r#"select agreed_code_id as "agreed_code_id: AgreedCodeId",
                  node_id as "node_id: ThemeNodeId", position, version
             from theme_placements
            where project_id = $1 and agreed_code_id = any($2)
            for update"#,
        project_id as ProjectId,
        &ids
    )
    .fetch_all(conn)
    .await?)
}

/// Live agreed codes among `codes`.
pub async fn live_codes(
    conn: &mut PgConnection,
    project_id: ProjectId,
    codes: &[AgreedCodeId],
) -> Result<Vec<AgreedCodeId>, AppError> {
    let ids: Vec<uuid::Uuid> = codes.iter().map(|c| c.0).collect();
    Ok(sqlx::query_scalar!(
        r#"select id as "id: AgreedCodeId" from agreed_codes
            where project_id = $1 and id = any($2) and deleted_at is null"#,
        project_id as ProjectId,
        &ids
    )
    .fetch_all(conn)
    .await?)
}

/// How each agreed code is used in the consensus layers, per transcript.
pub async fn code_uses(
    conn: &mut PgConnection,
    project_id: ProjectId,
    _: AgreedCodebook,
) -> Result<Vec<CodeUse>, AppError> {
    Ok(sqlx::query_as!(
        CodeUse,
        r#"select cc.agreed_code_id as "agreed_code_id: AgreedCodeId",
                  cc.transcript_id as "transcript_id: TranscriptId",
                  t.participant_id as "participant_id: ParticipantId",
                  count(*) as "codings!"
             from consensus_codings cc
             join transcripts t on t.id = cc.transcript_id and t.deleted_at is null
            where cc.project_id = $1 and cc.deleted_at is null
            group by cc.agreed_code_id, cc.transcript_id, t.participant_id"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// The "of N" of the counts: participants with a transcript in the consensus
/// layer (every coder of it submitted, and something agreed on it).
pub async fn participants_in_consensus(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select count(distinct t.participant_id) as "n!"
             from transcripts t
            where t.project_id = $1 and t.deleted_at is null
              and exists (select 1 from consensus_codings cc
                           where cc.transcript_id = t.id and cc.deleted_at is null)
              and not exists (select 1 from assignments a
                               where a.transcript_id = t.id and a.state <> 'submitted')"#,
        project_id as ProjectId
    )
    .fetch_one(conn)
    .await?)
}

pub struct NewNode<'a> {
    pub id: ThemeNodeId,
    pub parent_id: Option<ThemeNodeId>,
    pub name: &'a str,
    pub definition: &'a str,
    pub memo: &'a str,
    pub color: &'a str,
    pub position: i32,
    pub created_by: UserId,
}

pub async fn insert_node(
    conn: &mut PgConnection,
    project_id: ProjectId,
    new: NewNode<'_>,
) -> Result<Node, AppError> {
    Ok(sqlx::query_as!(
        Node,
        r#"insert into theme_nodes (id, project_id, parent_id, name, definition, memo, color,
                                    position, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           returning id as "id: ThemeNodeId", parent_id as "parent_id: ThemeNodeId", name,
                     definition, memo, color, position,
                     example_coding_id as "example_coding_id: ConsensusCodingId", version,
                     false as "deleted!""#,
        new.id as ThemeNodeId,
        project_id as ProjectId,
        new.parent_id as Option<ThemeNodeId>,
        new.name,
        new.definition,
        new.memo,
        new.color,
        new.position,
        new.created_by as UserId
    )
    .fetch_one(conn)
    .await?)
}

/// Writes a node's fields and parent, bumping its version.
pub async fn update_node(conn: &mut PgConnection, node: &Node) -> Result<Node, AppError> {
    Ok(sqlx::query_as!(
        Node,
        r#"update theme_nodes
              set parent_id = $2, name = $3, definition = $4, memo = $5, color = $6,
                  example_coding_id = $7, version = version + 1, updated_at = now()
            where id = $1
           returning id as "id: ThemeNodeId", parent_id as "parent_id: ThemeNodeId", name,
                     definition, memo, color, position,
                     example_coding_id as "example_coding_id: ConsensusCodingId", version,
                     deleted_at is not null as "deleted!""#,
        node.id as ThemeNodeId,
        node.parent_id as Option<ThemeNodeId>,
        node.name,
        node.definition,
        node.memo,
        node.color,
        node.example_coding_id as Option<ConsensusCodingId>
    )
    .fetch_one(conn)
    .await?)
}

/// Deletes (with what it took out, for the restore) or restores a node.
pub async fn set_deleted(
    conn: &mut PgConnection,
    id: ThemeNodeId,
    removed: Option<&serde_json::Value>,
) -> Result<(), AppError> {
    sqlx::query!(
        r#"update theme_nodes
              set deleted_at = case when $2::jsonb is null then null else now() end,
                  removed_contents = $2, version = version + 1, updated_at = now()
            where id = $1"#,
        id as ThemeNodeId,
        removed
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn removed_contents(
    conn: &mut PgConnection,
    id: ThemeNodeId,
) -> Result<Option<serde_json::Value>, AppError> {
    Ok(sqlx::query_scalar!(
        "select removed_contents from theme_nodes where id = $1",
        id as ThemeNodeId
    )
    .fetch_one(conn)
    .await?)
}

/// The live children of a parent (None: the top level), in order.
pub async fn child_ids(
    conn: &mut PgConnection,
    project_id: ProjectId,
    parent: Option<ThemeNodeId>,
) -> Result<Vec<ThemeNodeId>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select id as "id: ThemeNodeId" from theme_nodes
            where project_id = $1 and parent_id is not distinct from $2 and deleted_at is null
            order by position, lower(name)"#,
        project_id as ProjectId,
        parent as Option<ThemeNodeId>
    )
    .fetch_all(conn)
    .await?)
}

/// Numbers nodes 0, 1, 2... in the order given.
pub async fn renumber_nodes(conn: &mut PgConnection, ids: &[ThemeNodeId]) -> Result<(), AppError> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    sqlx::query!(
        r#"update theme_nodes n set position = o.ord - 1
             from unnest($1::uuid[]) with ordinality o (id, ord)
            where n.id = o.id and n.position <> o.ord - 1"#,
        &ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The codes placed under a node, in order.
pub async fn code_ids_under(
    conn: &mut PgConnection,
    node: ThemeNodeId,
) -> Result<Vec<AgreedCodeId>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select p.agreed_code_id as "id: AgreedCodeId"
             from theme_placements p join agreed_codes c on c.id = p.agreed_code_id
            where p.node_id = $1
            order by p.position, lower(c.name)"#,
        node as ThemeNodeId
    )
    .fetch_all(conn)
    .await?)
}

/// Puts codes under `node` at positions 0, 1, 2... in the order given; a code
/// whose node changes gets a new placement version.
pub async fn place(
    conn: &mut PgConnection,
    project_id: ProjectId,
    node: ThemeNodeId,
    codes: &[AgreedCodeId],
    by: UserId,
) -> Result<(), AppError> {
    let ids: Vec<uuid::Uuid> = codes.iter().map(|c| c.0).collect();
    sqlx::query!(
        r#"insert into theme_placements (agreed_code_id, project_id, node_id, position, placed_by)
           select o.id, $1, $2, o.ord - 1, $4
             from unnest($3::uuid[]) with ordinality o (id, ord)
           on conflict (agreed_code_id) do update
              set position = excluded.position,
                  node_id = excluded.node_id,
                  version = theme_placements.version
                            + case when theme_placements.node_id = excluded.node_id then 0 else 1 end,
                  placed_by = case when theme_placements.node_id = excluded.node_id
                                   then theme_placements.placed_by else excluded.placed_by end,
                  placed_at = case when theme_placements.node_id = excluded.node_id
                                   then theme_placements.placed_at else now() end"#,
        project_id as ProjectId,
        node as ThemeNodeId,
        &ids,
        by as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn unplace(
    conn: &mut PgConnection,
    project_id: ProjectId,
    codes: &[AgreedCodeId],
) -> Result<(), AppError> {
    let ids: Vec<uuid::Uuid> = codes.iter().map(|c| c.0).collect();
    sqlx::query!(
        "delete from theme_placements where project_id = $1 and agreed_code_id = any($2)",
        project_id as ProjectId,
        &ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The agreed code of a consensus coding of the project, if it is live.
pub async fn consensus_coding_code(
    conn: &mut PgConnection,
    project_id: ProjectId,
    coding: ConsensusCodingId,
) -> Result<Option<AgreedCodeId>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select agreed_code_id as "id: AgreedCodeId" from consensus_codings
            where project_id = $1 and id = $2 and deleted_at is null"#,
        project_id as ProjectId,
        coding as ConsensusCodingId
    )
    .fetch_optional(conn)
    .await?)
}

/// Each placed code's path of node names, from its top theme down.
pub async fn code_paths(
    conn: &mut PgConnection,
    project_id: ProjectId,
    proof: AgreedCodebook,
) -> Result<HashMap<AgreedCodeId, Vec<String>>, AppError> {
    let nodes = list_nodes(conn, project_id, proof).await?;
    let placements = list_placements(conn, project_id, proof).await?;
    let by_id: HashMap<ThemeNodeId, &Node> = nodes.iter().map(|n| (n.id, n)).collect();
    Ok(placements
        .iter()
        .map(|p| (p.agreed_code_id, model::path_of(&by_id, p.node_id)))
        .collect())
}

/// A consensus coding with what the quote list shows of it.
#[derive(Debug, Clone)]
pub struct QuoteRow {
    pub id: ConsensusCodingId,
    pub transcript_id: TranscriptId,
    pub agreed_code_id: AgreedCodeId,
    pub start_offset: i32,
    pub end_offset: i32,
    pub memo: String,
    pub version: i32,
}

/// The live consensus codings of these codes, in transcript order.
pub async fn quotes_of(
    conn: &mut PgConnection,
    project_id: ProjectId,
    codes: &[AgreedCodeId],
    _: AgreedCodebook,
) -> Result<Vec<QuoteRow>, AppError> {
    let ids: Vec<uuid::Uuid> = codes.iter().map(|c| c.0).collect();
    Ok(sqlx::query_as!(
        QuoteRow,
        r#"select cc.id as "id: ConsensusCodingId", cc.transcript_id as "transcript_id: TranscriptId",
                  cc.agreed_code_id as "agreed_code_id: AgreedCodeId",
                  cc.start_offset, cc.end_offset, cc.memo, cc.version
             from consensus_codings cc
             join transcripts t on t.id = cc.transcript_id and t.deleted_at is null
            where cc.project_id = $1 and cc.deleted_at is null and cc.agreed_code_id = any($2)
            order by t.created_at, t.id, cc.start_offset, cc.end_offset"#,
        project_id as ProjectId,
        &ids
    )
    .fetch_all(conn)
    .await?)
}

/// A consensus coding's place, without anything else: what counting overlaps
/// needs. Deleted transcripts' codings are the caller's to leave out.
pub struct SpanRow {
    pub transcript_id: TranscriptId,
    pub agreed_code_id: AgreedCodeId,
    pub start_offset: i32,
    pub end_offset: i32,
}

pub async fn consensus_spans(
    conn: &mut PgConnection,
    project_id: ProjectId,
    _: AgreedCodebook,
) -> Result<Vec<SpanRow>, AppError> {
    Ok(sqlx::query_as!(
        SpanRow,
        r#"select transcript_id as "transcript_id: TranscriptId",
                  agreed_code_id as "agreed_code_id: AgreedCodeId",
                  start_offset, end_offset
             from consensus_codings
            where project_id = $1 and deleted_at is null"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// What quotes need of a transcript.
pub struct TranscriptText {
    pub id: TranscriptId,
    pub title: String,
    pub participant_id: Option<ParticipantId>,
    pub text: String,
    pub turns: Json<Vec<Turn>>,
}

pub async fn transcript_texts(
    conn: &mut PgConnection,
    project_id: ProjectId,
    ids: &[TranscriptId],
) -> Result<Vec<TranscriptText>, AppError> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
    Ok(sqlx::query_as!(
        TranscriptText,
        r#"select id as "id: TranscriptId", title,
                  participant_id as "participant_id: ParticipantId", text,
                  turns as "turns: Json<Vec<Turn>>"
             from transcripts
            where project_id = $1 and id = any($2)
            order by created_at, id"#,
        project_id as ProjectId,
        &ids
    )
    .fetch_all(conn)
    .await?)
}

/// The text of each example coding, with its transcript's title.
pub async fn examples(
    conn: &mut PgConnection,
    project_id: ProjectId,
    ids: &[ConsensusCodingId],
) -> Result<HashMap<ConsensusCodingId, super::service::Example>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
    let rows = sqlx::query!(
        r#"select cc.id as "id: ConsensusCodingId", t.title,
                  substr(t.text, cc.start_offset + 1, cc.end_offset - cc.start_offset) as "text!"
             from consensus_codings cc join transcripts t on t.id = cc.transcript_id
            where cc.project_id = $1 and cc.id = any($2) and cc.deleted_at is null"#,
        project_id as ProjectId,
        &ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                super::service::Example {
                    coding_id: r.id,
                    text: r.text,
                    transcript_title: r.title,
                },
            )
        })
        .collect())
}

/// After a merge (`from` into `to`) or a split (`to` split off `from`) of agreed
/// codes: `to`, if unplaced, takes `from`'s place in the hierarchy, so the
/// consensus codings that moved stay under their theme. Answers the node.
pub async fn follow_code(
    conn: &mut PgConnection,
    project_id: ProjectId,
    from: AgreedCodeId,
    to: AgreedCodeId,
    by: UserId,
) -> Result<Option<ThemeNodeId>, AppError> {
    lock(conn, project_id).await?;
    Ok(sqlx::query_scalar!(
        r#"insert into theme_placements (agreed_code_id, project_id, node_id, position, placed_by)
           select $3, p.project_id, p.node_id, p.position, $4
             from theme_placements p
            where p.project_id = $1 and p.agreed_code_id = $2
           on conflict (agreed_code_id) do nothing
           returning node_id as "node_id: ThemeNodeId""#,
        project_id as ProjectId,
        from as AgreedCodeId,
        to as AgreedCodeId,
        by as UserId
    )
    .fetch_optional(conn)
    .await?)
}

/// Undoing a merge: takes away from `into` the placement the merge gave it,
/// under the node `code` still holds, if it has it still; answers that node.
pub async fn unplace_merge_target(
    conn: &mut PgConnection,
    project_id: ProjectId,
    into: AgreedCodeId,
    code: AgreedCodeId,
) -> Result<Option<uuid::Uuid>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"delete from theme_placements t
            using theme_placements o
            where t.project_id = $1 and t.agreed_code_id = $2
              and o.project_id = $1 and o.agreed_code_id = $3 and o.node_id = t.node_id
            returning t.node_id"#,
        project_id as ProjectId,
        into as AgreedCodeId,
        code as AgreedCodeId
    )
    .fetch_optional(conn)
    .await?)
}
