//! Every SQL query of the exports. Rows that grow with the project (codings)
//! are streamed with `fetch`, one transcript at a time; the rest is small.

use std::collections::HashMap;

use futures_util::stream::BoxStream;
use sqlx::PgConnection;
use sqlx::types::Json;

use crate::coding::blinding::{AgreedCodebook, LayersOf};
use crate::db::ids::{
    AgreedCodeId, CodingId, ConsensusCodingId, ParticipantId, ProjectId, TranscriptId, UserId,
    VariableId,
};
use crate::error::AppError;
use crate::import::Turn;

/// The project's live variables, in their order: one column each.
pub async fn list_variables(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<(VariableId, String)>, AppError> {
    let rows = sqlx::query!(
        r#"select id as "id: VariableId", name
             from variables
            where project_id = $1 and deleted_at is null
            order by position, lower(name)"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// Every attribute value of the project's live participants.
pub async fn participant_values(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<HashMap<ParticipantId, HashMap<VariableId, String>>, AppError> {
    let rows = sqlx::query!(
        r#"select v.participant_id as "participant_id: ParticipantId",
                  v.variable_id as "variable_id: VariableId", v.value
             from participant_values v
             join participants p on p.id = v.participant_id
            where p.project_id = $1 and p.deleted_at is null"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<ParticipantId, HashMap<VariableId, String>> = HashMap::new();
    for r in rows {
        out.entry(r.participant_id)
            .or_default()
            .insert(r.variable_id, r.value);
    }
    Ok(out)
}

/// A live transcript, without its text.
pub struct TranscriptRow {
    pub id: TranscriptId,
    pub title: String,
    pub participant_id: Option<ParticipantId>,
    pub participant: Option<String>,
    /// It has live consensus codings.
    pub has_consensus: bool,
}

pub async fn list_transcripts(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<TranscriptRow>, AppError> {
    Ok(sqlx::query_as!(
        TranscriptRow,
        r#"select t.id as "id: TranscriptId", t.title,
                  p.id as "participant_id?: ParticipantId", p.label as "participant?",
                  exists (select 1 from consensus_codings c
                           where c.transcript_id = t.id and c.deleted_at is null) as "has_consensus!"
             from transcripts t
             left join participants p on p.id = t.participant_id and p.deleted_at is null
            where t.project_id = $1 and t.deleted_at is null
            order by lower(t.title), t.id"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// One transcript's text and speaker turns.
pub struct TranscriptText {
    pub text: String,
    pub turns: Json<Vec<Turn>>,
}

pub async fn get_text(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: TranscriptId,
) -> Result<TranscriptText, AppError> {
    sqlx::query_as!(
        TranscriptText,
        r#"select text, turns as "turns: Json<Vec<Turn>>"
             from transcripts
            where project_id = $1 and id = $2"#,
        project_id as ProjectId,
        id as TranscriptId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// A live consensus coding under a live agreed code.
pub struct ConsensusRow {
    pub id: ConsensusCodingId,
    pub agreed_code_id: AgreedCodeId,
    pub agreed_code: String,
    pub start_offset: i32,
    pub end_offset: i32,
    pub memo: String,
}

/// The consensus layer of one transcript, in text order, streamed.
pub fn stream_consensus<'c>(
    conn: &'c mut PgConnection,
    project_id: ProjectId,
    transcript: TranscriptId,
    _: AgreedCodebook,
) -> BoxStream<'c, Result<ConsensusRow, sqlx::Error>> {
    sqlx::query_as!(
        ConsensusRow,
        r#"select c.id as "id: ConsensusCodingId", c.agreed_code_id as "agreed_code_id: AgreedCodeId",
                  a.name as agreed_code, c.start_offset, c.end_offset, c.memo
             from consensus_codings c
             join agreed_codes a on a.id = c.agreed_code_id and a.deleted_at is null
            where c.project_id = $1 and c.transcript_id = $2 and c.deleted_at is null
            order by c.start_offset, c.end_offset, lower(a.name), c.id"#,
        project_id as ProjectId,
        transcript as TranscriptId
    )
    .fetch(conn)
}

/// A live coding of a coder's layer, with the agreed code it is aligned to.
pub struct CoderRow {
    pub id: CodingId,
    pub coder: String,
    pub code: String,
    pub agreed_code_id: Option<AgreedCodeId>,
    pub agreed_code: Option<String>,
    pub start_offset: i32,
    pub end_offset: i32,
    pub memo: String,
}

/// Every coder's layer of `transcript`, streamed; nothing unless the proof
/// names the transcript.
pub fn stream_coder_codings<'c>(
    conn: &'c mut PgConnection,
    project_id: ProjectId,
    transcript: TranscriptId,
    layers: &LayersOf,
) -> BoxStream<'c, Result<CoderRow, sqlx::Error>> {
    if !layers.transcripts().contains(&transcript) {
        return Box::pin(futures_util::stream::empty());
    }
    sqlx::query_as!(
        CoderRow,
        r#"select c.id as "id: CodingId", u.display_name as coder, k.name as code,
                  a.id as "agreed_code_id?: AgreedCodeId", a.name as "agreed_code?",
                  c.start_offset, c.end_offset, c.memo
             from codings c
             join codes k on k.id = c.code_id and k.deleted_at is null
             join users u on u.id = c.coder_id
             left join code_alignments l on l.code_id = k.id
             left join agreed_codes a on a.id = l.agreed_code_id and a.deleted_at is null
            where c.project_id = $1 and c.transcript_id = $2 and c.deleted_at is null
            order by lower(u.display_name), c.coder_id, c.start_offset, c.end_offset, c.id"#,
        project_id as ProjectId,
        transcript as TranscriptId
    )
    .fetch(conn)
}

/// N of "n of N": participants with a transcript whose reconciliation exists
/// (a decision on it, or a live consensus coding).
pub async fn count_reconciled_participants(
    conn: &mut PgConnection,
    project_id: ProjectId,
    _: AgreedCodebook,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select count(distinct t.participant_id) as "n!"
             from transcripts t
            where t.project_id = $1 and t.deleted_at is null and t.participant_id is not null
              and (exists (select 1 from decisions d where d.transcript_id = t.id)
                   or exists (select 1 from consensus_codings c
                               where c.transcript_id = t.id and c.deleted_at is null))"#,
        project_id as ProjectId
    )
    .fetch_one(conn)
    .await?)
}

/// Every agreed code's name, deleted ones too (a superseded decision may name one).
pub async fn agreed_code_names(
    conn: &mut PgConnection,
    project_id: ProjectId,
    _: AgreedCodebook,
) -> Result<HashMap<AgreedCodeId, String>, AppError> {
    let rows = sqlx::query!(
        r#"select id as "id: AgreedCodeId", name from agreed_codes where project_id = $1"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// Display names of everyone who is or was in the project's records.
pub async fn user_names(
    conn: &mut PgConnection,
    ids: &[UserId],
) -> Result<HashMap<UserId, String>, AppError> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|u| u.0).collect();
    let rows = sqlx::query!(
        r#"select id as "id: UserId", display_name from users where id = any($1)"#,
        &ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.display_name)).collect())
}

/// The first owner of the project (by when they joined), for `concord export`.
pub async fn find_owner(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Option<UserId>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select user_id as "user_id: UserId"
             from project_members
            where project_id = $1 and role = 'owner'
            order by created_at, user_id
            limit 1"#,
        project_id as ProjectId
    )
    .fetch_optional(conn)
    .await?)
}

/// One code of a coder's own codebook with the coder's own use of it.
#[derive(Debug, Clone)]
pub struct OwnCodeRow {
    pub id: crate::db::ids::CodeId,
    pub name: String,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub color: String,
    pub parent_id: Option<crate::db::ids::CodeId>,
    pub codings: i64,
    pub transcripts: i64,
}

/// The live codes `coder` owns, with their live codings of live transcripts:
/// nobody else's codes or codings, so blinding has nothing to hide here.
pub async fn list_own_codes(
    conn: &mut PgConnection,
    project_id: ProjectId,
    coder: UserId,
) -> Result<Vec<OwnCodeRow>, AppError> {
    Ok(sqlx::query_as!(
        OwnCodeRow,
        r#"select c.id as "id: crate::db::ids::CodeId", c.name, c.definition, c.inclusion,
                  c.exclusion, c.example, c.color,
                  c.parent_id as "parent_id: crate::db::ids::CodeId",
                  count(g.id) as "codings!", count(distinct g.transcript_id) as "transcripts!"
             from codes c
             left join codings g
               on g.code_id = c.id and g.coder_id = $2 and g.project_id = $1
              and g.deleted_at is null
              and exists (select 1 from transcripts t
                           where t.id = g.transcript_id and t.deleted_at is null)
            where c.project_id = $1 and c.owner_id = $2 and c.deleted_at is null
            group by c.id
            order by lower(c.name), c.id"#,
        project_id as ProjectId,
        coder as UserId
    )
    .fetch_all(conn)
    .await?)
}

/// How many live codes `coder` owns (the Exports page offers the own codebook then).
pub async fn count_own_codes(
    conn: &mut PgConnection,
    project_id: ProjectId,
    coder: UserId,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "n!"
             from codes
            where project_id = $1 and owner_id = $2 and deleted_at is null"#,
        project_id as ProjectId,
        coder as UserId
    )
    .fetch_one(conn)
    .await?)
}

/// The consensus coding each agreed code's example may come from: the one
/// chosen as its example if it is live, else its first in transcript order
/// (title, then offset), as the consensus codebook's quotes are ordered.
pub struct ExampleRow {
    pub agreed_code_id: AgreedCodeId,
    pub id: ConsensusCodingId,
    pub transcript_id: TranscriptId,
    pub title: String,
    pub participant: Option<String>,
    pub start_offset: i32,
    pub end_offset: i32,
}

/// One row per agreed code with a live consensus coding; no text, which is
/// cut from each transcript's text once ([`texts`]) rather than per row.
pub async fn list_example_codings(
    conn: &mut PgConnection,
    project_id: ProjectId,
    _proof: AgreedCodebook,
) -> Result<Vec<ExampleRow>, AppError> {
    Ok(sqlx::query_as!(
        ExampleRow,
        r#"select distinct on (c.agreed_code_id)
                  c.agreed_code_id as "agreed_code_id: AgreedCodeId", c.id as "id: ConsensusCodingId",
                  t.id as "transcript_id: TranscriptId", t.title, p.label as "participant?",
                  c.start_offset, c.end_offset
             from consensus_codings c
             join agreed_codes a on a.id = c.agreed_code_id
             join transcripts t on t.id = c.transcript_id
             left join participants p on p.id = t.participant_id
            where c.project_id = $1 and c.deleted_at is null and t.deleted_at is null
            order by c.agreed_code_id, (c.id = a.example_coding_id) is not true,
                     lower(t.title), c.start_offset, c.id"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// The texts of some of the project's transcripts, by id.
pub async fn texts(
    conn: &mut PgConnection,
    project_id: ProjectId,
    ids: &[TranscriptId],
) -> Result<HashMap<TranscriptId, String>, AppError> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|t| t.0).collect();
    let rows = sqlx::query!(
        r#"select id as "id: TranscriptId", text
             from transcripts
            where project_id = $1 and id = any($2)"#,
        project_id as ProjectId,
        &ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.text)).collect())
}
