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
    /// For the agreed code of a shared code: the agreed code of that shared
    /// code's parent, so the shared codebook's nesting can be kept.
    pub shared_parent: Option<AgreedCodeId>,
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
        r#"select a.id as "id: AgreedCodeId", a.name, a.definition, a.inclusion, a.exclusion, a.example, a.color,
                  (select p.agreed_code_id
                     from code_alignments m
                     join codes s on s.id = m.code_id and s.owner_id is null
                     join code_alignments p on p.code_id = s.parent_id
                    where m.agreed_code_id = a.id
                    order by s.id limit 1) as "shared_parent?: AgreedCodeId"
             from agreed_codes a
            where a.project_id = $1 and a.deleted_at is null and a.merged_into is null
            order by lower(a.name), a.id"#,
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

/// An analytic memo (on the project, an agreed code or a theme), for the
/// export's notes. Journals are their authors' and stay out of exports.
pub(crate) struct MemoRow {
    pub id: Uuid,
    pub kind: String,
    /// The agreed code or theme node it is on.
    pub target_id: Option<Uuid>,
    pub target_name: Option<String>,
    pub author_id: Uuid,
    pub written_on: String,
    pub title: String,
    pub body: String,
}

pub(crate) async fn list_memos(
    conn: &mut PgConnection,
    project: ProjectId,
    _proof: AgreedCodebook,
) -> Result<Vec<MemoRow>, AppError> {
    Ok(sqlx::query_as!(
        MemoRow,
        r#"select m.id, m.kind, coalesce(m.agreed_code_id, m.node_id) as target_id,
                  coalesce(a.name, n.name) as "target_name?", m.author_id,
                  to_char(m.written_on, 'YYYY-MM-DD') as "written_on!", m.title, m.body
             from memos m
             left join agreed_codes a on a.id = m.agreed_code_id
             left join theme_nodes n on n.id = m.node_id
            where m.project_id = $1 and m.deleted_at is null and m.kind <> 'journal'
            order by m.written_on, m.created_at, m.id"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

pub(crate) struct VariableRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

pub(crate) struct ParticipantRow {
    pub id: Uuid,
    pub label: String,
}

pub(crate) struct ValueRow {
    pub participant_id: Uuid,
    pub variable_id: Uuid,
    pub value: String,
}

pub(crate) struct TranscriptRow {
    pub id: Uuid,
    pub title: String,
    pub participant_id: Option<Uuid>,
}

pub(crate) struct ConsensusRow {
    pub id: Uuid,
    pub agreed_code_id: Uuid,
    pub start_offset: i32,
    pub end_offset: i32,
    pub memo: String,
    /// The decision that made it, with its kind and rationale.
    pub decision_id: Option<Uuid>,
    pub decision_kind: Option<String>,
    pub rationale: Option<String>,
}

/// Participants' attributes are for every member: no proof needed.
pub(crate) async fn list_variables(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<Vec<VariableRow>, AppError> {
    Ok(sqlx::query_as!(
        VariableRow,
        r#"select id, name, kind from variables
            where project_id = $1 and deleted_at is null
            order by position, lower(name), id"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

pub(crate) async fn list_participants(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<Vec<ParticipantRow>, AppError> {
    Ok(sqlx::query_as!(
        ParticipantRow,
        r#"select id, label from participants
            where project_id = $1 and deleted_at is null
            order by lower(label), id"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

pub(crate) async fn list_values(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<Vec<ValueRow>, AppError> {
    Ok(sqlx::query_as!(
        ValueRow,
        r#"select v.participant_id, v.variable_id, v.value
             from participant_values v
             join participants p on p.id = v.participant_id and p.deleted_at is null
             join variables k on k.id = v.variable_id and k.deleted_at is null
            where p.project_id = $1 and k.project_id = $1
            order by v.participant_id, k.position, v.variable_id"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

pub(crate) async fn list_transcripts(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<Vec<TranscriptRow>, AppError> {
    Ok(sqlx::query_as!(
        TranscriptRow,
        r#"select id, title, participant_id from transcripts
            where project_id = $1 and deleted_at is null
            order by created_at, id"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// One transcript's text, read on its own so an export holds one text at a time.
pub(crate) async fn transcript_text(
    conn: &mut PgConnection,
    project: ProjectId,
    id: Uuid,
) -> Result<String, AppError> {
    sqlx::query_scalar!(
        r#"select text from transcripts where project_id = $1 and id = $2"#,
        project as ProjectId,
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// The consensus layer of one live transcript, on live, unmerged agreed codes.
pub(crate) async fn list_consensus(
    conn: &mut PgConnection,
    project: ProjectId,
    transcript: Uuid,
    _proof: AgreedCodebook,
) -> Result<Vec<ConsensusRow>, AppError> {
    Ok(sqlx::query_as!(
        ConsensusRow,
        r#"select c.id, c.agreed_code_id, c.start_offset, c.end_offset, c.memo,
                  d.id as "decision_id?", d.kind as "decision_kind?", d.rationale as "rationale?"
             from consensus_codings c
             join transcripts t on t.id = c.transcript_id and t.deleted_at is null
             left join decisions d on d.id = c.decision_id
             join agreed_codes a on a.id = c.agreed_code_id
                                and a.deleted_at is null and a.merged_into is null
            where c.project_id = $1 and c.transcript_id = $2 and c.deleted_at is null
            order by c.start_offset, c.end_offset, c.id"#,
        project as ProjectId,
        transcript
    )
    .fetch_all(conn)
    .await?)
}

pub(crate) struct CoderCodingRow {
    pub id: Uuid,
    pub coder_id: Uuid,
    pub code_id: Uuid,
    /// The live agreed code the coder's code is aligned onto, if any.
    pub agreed_code_id: Option<Uuid>,
    pub start_offset: i32,
    pub end_offset: i32,
    pub memo: String,
}

/// Every submitted layer of one live transcript. Only a viewer blind to none
/// of them holds the proof, so every submitted layer may be written.
pub(crate) async fn list_coder_codings(
    conn: &mut PgConnection,
    project: ProjectId,
    transcript: Uuid,
    _proof: AgreedCodebook,
) -> Result<Vec<CoderCodingRow>, AppError> {
    Ok(sqlx::query_as!(
        CoderCodingRow,
        r#"select c.id, c.coder_id, c.code_id, ag.id as "agreed_code_id?",
                  c.start_offset, c.end_offset, c.memo
             from codings c
             join assignments a on a.transcript_id = c.transcript_id and a.user_id = c.coder_id
                               and a.state = 'submitted'
             join transcripts t on t.id = c.transcript_id and t.deleted_at is null
             join codes k on k.id = c.code_id and k.deleted_at is null
             left join code_alignments al on al.code_id = c.code_id
             left join agreed_codes ag on ag.id = al.agreed_code_id
                                      and ag.deleted_at is null and ag.merged_into is null
            where c.project_id = $1 and c.transcript_id = $2 and c.deleted_at is null
            order by c.coder_id, c.start_offset, c.end_offset, c.id"#,
        project as ProjectId,
        transcript
    )
    .fetch_all(conn)
    .await?)
}

/// The codes that submitted codings of live transcripts use and that no live
/// agreed code stands for: the coders' codes an export with their layers
/// must carry.
pub(crate) async fn unaligned_codes_in_layers(
    conn: &mut PgConnection,
    project: ProjectId,
    _proof: AgreedCodebook,
) -> Result<Vec<Uuid>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select distinct c.code_id as "code_id!"
             from codings c
             join assignments a on a.transcript_id = c.transcript_id and a.user_id = c.coder_id
                               and a.state = 'submitted'
             join transcripts t on t.id = c.transcript_id and t.deleted_at is null
             join codes k on k.id = c.code_id and k.deleted_at is null
            where c.project_id = $1 and c.deleted_at is null
              and not exists (select 1 from code_alignments al
                                join agreed_codes ag on ag.id = al.agreed_code_id
                                                    and ag.deleted_at is null and ag.merged_into is null
                               where al.code_id = c.code_id)"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

pub(crate) struct CoderCodeRow {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub color: String,
    /// Aligned onto a live agreed code (which stands for it in an export).
    pub aligned: bool,
}

/// Every live code of the project's own codebooks (shared or each coder's).
pub(crate) async fn list_coder_codes(
    conn: &mut PgConnection,
    project: ProjectId,
    _proof: AgreedCodebook,
) -> Result<Vec<CoderCodeRow>, AppError> {
    Ok(sqlx::query_as!(
        CoderCodeRow,
        r#"select k.id, k.owner_id, k.parent_id, k.name, k.definition, k.inclusion, k.exclusion, k.example, k.color,
                  exists(select 1 from code_alignments al
                           join agreed_codes ag on ag.id = al.agreed_code_id
                                               and ag.deleted_at is null and ag.merged_into is null
                          where al.code_id = k.id) as "aligned!"
             from codes k
            where k.project_id = $1 and k.deleted_at is null and k.merged_into is null
            order by k.created_at, lower(k.name), k.id"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}
