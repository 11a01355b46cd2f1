//! Every SQL query of agreed codes, their alignments and their merges.

use sqlx::PgConnection;

use super::model::{AgreedCode, CodeCounts, MergeInForce};
use crate::coding::blinding::AgreedCodebook;
use crate::db::ids::{AgreedCodeId, CodeId, ConsensusCodingId, ProjectId, TranscriptId, UserId};
use crate::error::AppError;

pub async fn list_agreed(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<Vec<AgreedCode>, AppError> {
    Ok(sqlx::query_as!(
        AgreedCode,
        r#"select id as "id: AgreedCodeId", name, definition, inclusion, exclusion, example, color,
                  example_coding_id as "example_coding_id: ConsensusCodingId",
                  merged_into as "merged_into: AgreedCodeId", version, false as "deleted!",
                  null::uuid as "parent_id: AgreedCodeId", null::uuid as "owner_id: UserId"
             from agreed_codes
            where project_id = $1 and deleted_at is null
            order by lower(name)"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

pub async fn get_agreed(
    conn: &mut PgConnection,
    project: ProjectId,
    id: AgreedCodeId,
) -> Result<AgreedCode, AppError> {
    sqlx::query_as!(
        AgreedCode,
        r#"select id as "id: AgreedCodeId", name, definition, inclusion, exclusion, example, color,
                  example_coding_id as "example_coding_id: ConsensusCodingId",
                  merged_into as "merged_into: AgreedCodeId", version, deleted_at is not null as "deleted!",
                  null::uuid as "parent_id: AgreedCodeId", null::uuid as "owner_id: UserId"
             from agreed_codes
            where project_id = $1 and id = $2
            for update"#,
        project as ProjectId,
        id as AgreedCodeId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// Inserts an agreed code with the caller's id; `None` when the id is taken.
pub async fn insert_agreed(
    conn: &mut PgConnection,
    project: ProjectId,
    code: &AgreedCode,
    created_by: UserId,
) -> Result<Option<AgreedCode>, AppError> {
    let result = sqlx::query_as!(
        AgreedCode,
        r#"insert into agreed_codes (id, project_id, name, definition, inclusion, exclusion, example, color, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           on conflict (id) do nothing
           returning id as "id: AgreedCodeId", name, definition, inclusion, exclusion, example, color,
                     example_coding_id as "example_coding_id: ConsensusCodingId",
                     merged_into as "merged_into: AgreedCodeId", version, false as "deleted!",
                     null::uuid as "parent_id: AgreedCodeId", null::uuid as "owner_id: UserId""#,
        code.id as AgreedCodeId,
        project as ProjectId,
        code.name,
        code.definition,
        code.inclusion,
        code.exclusion,
        code.example,
        code.color,
        created_by as UserId
    )
    .fetch_optional(conn)
    .await;
    name_taken(result)
}

/// A taken name is refused by `agreed_codes_project_name_key` (error::CONSTRAINTS).
fn name_taken<T>(result: Result<T, sqlx::Error>) -> Result<T, AppError> {
    Ok(result?)
}

/// Writes an agreed code's new state if its version is still `version`.
pub async fn update_agreed(
    conn: &mut PgConnection,
    code: &AgreedCode,
    version: i32,
) -> Result<Option<AgreedCode>, AppError> {
    let result = sqlx::query_as!(
        AgreedCode,
        r#"update agreed_codes
              set name = $3, definition = $4, inclusion = $5, exclusion = $6, example = $7, color = $8,
                  example_coding_id = $9, merged_into = $10,
                  deleted_at = case when $11 then coalesce(deleted_at, now()) else null end,
                  updated_at = now(), version = version + 1
            where id = $1 and version = $2
            returning id as "id: AgreedCodeId", name, definition, inclusion, exclusion, example, color,
                      example_coding_id as "example_coding_id: ConsensusCodingId",
                      merged_into as "merged_into: AgreedCodeId", version, deleted_at is not null as "deleted!",
                      null::uuid as "parent_id: AgreedCodeId", null::uuid as "owner_id: UserId""#,
        code.id as AgreedCodeId,
        version,
        code.name,
        code.definition,
        code.inclusion,
        code.exclusion,
        code.example,
        code.color,
        code.example_coding_id.map(|c| c.0),
        code.merged_into.map(|c| c.0),
        code.deleted
    )
    .fetch_optional(conn)
    .await;
    name_taken(result)
}

pub async fn consensus_counts(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<Vec<CodeCounts>, AppError> {
    Ok(sqlx::query_as!(
        CodeCounts,
        r#"select c.agreed_code_id as "agreed_code_id: AgreedCodeId", count(*) as "codings!",
                  count(distinct c.transcript_id) as "transcripts!",
                  count(distinct t.participant_id) as "participants!"
             from consensus_codings c
             join transcripts t on t.id = c.transcript_id
            where c.project_id = $1 and c.deleted_at is null and t.deleted_at is null
            group by c.agreed_code_id"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// Moves the alignments of coder codes from one agreed code to another (all of
/// them when `only` is None); answers the coder codes moved.
pub async fn move_alignments(
    conn: &mut PgConnection,
    from: AgreedCodeId,
    to: AgreedCodeId,
    only: Option<&[uuid::Uuid]>,
) -> Result<Vec<uuid::Uuid>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"update code_alignments set agreed_code_id = $2, updated_at = now(), version = version + 1
            where agreed_code_id = $1 and ($3::uuid[] is null or code_id = any($3))
            returning code_id"#,
        from as AgreedCodeId,
        to as AgreedCodeId,
        only.map(|ids| ids.to_vec()) as Option<Vec<uuid::Uuid>>
    )
    .fetch_all(conn)
    .await?)
}

/// How each code maps onto the agreed codebook: ids only, except the shared
/// codebook's names and colours (no one is blind to those).
pub struct CodeMapping {
    pub id: CodeId,
    pub shared: bool,
    pub name: Option<String>,
    pub color: Option<String>,
    pub agreed_code_id: Option<AgreedCodeId>,
}

pub async fn list_code_mappings(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<CodeMapping>, AppError> {
    Ok(sqlx::query_as!(
        CodeMapping,
        r#"select k.id as "id: CodeId", k.owner_id is null as "shared!",
                  case when k.owner_id is null then k.name end as name,
                  case when k.owner_id is null then k.color end as color,
                  a.agreed_code_id as "agreed_code_id?: AgreedCodeId"
             from codes k
             left join code_alignments a on a.code_id = k.id
            where k.project_id = $1 and k.deleted_at is null
            order by lower(k.name)"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// Aligns a coder code onto an agreed code, or moves its alignment there.
pub async fn upsert_alignment(
    conn: &mut PgConnection,
    project_id: ProjectId,
    code_id: CodeId,
    agreed: AgreedCodeId,
    by: UserId,
) -> Result<(), AppError> {
    sqlx::query!(
        r#"insert into code_alignments (code_id, project_id, agreed_code_id, created_by)
           values ($1, $2, $3, $4)
           on conflict (code_id) do update
              set agreed_code_id = excluded.agreed_code_id, updated_at = now(),
                  version = code_alignments.version + 1"#,
        code_id as CodeId,
        project_id as ProjectId,
        agreed as AgreedCodeId,
        by as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes a coder code's alignment away; false when it had none.
pub async fn delete_alignment(
    conn: &mut PgConnection,
    project_id: ProjectId,
    code_id: CodeId,
) -> Result<bool, AppError> {
    let done = sqlx::query!(
        "delete from code_alignments where project_id = $1 and code_id = $2",
        project_id as ProjectId,
        code_id as CodeId
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether an agreed code of this project is live.
pub async fn is_live(
    conn: &mut PgConnection,
    project: ProjectId,
    id: AgreedCodeId,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select exists (select 1 from agreed_codes
                           where id = $1 and project_id = $2 and deleted_at is null) as "live!""#,
        id as AgreedCodeId,
        project as ProjectId
    )
    .fetch_one(conn)
    .await?)
}

/// What uses an agreed code: live consensus codings, coder codes aligned to it.
pub struct Usage {
    pub codings: i64,
    pub coder_codes: i64,
}

pub async fn usage(conn: &mut PgConnection, id: AgreedCodeId) -> Result<Usage, AppError> {
    Ok(sqlx::query_as!(
        Usage,
        r#"select (select count(*) from consensus_codings where agreed_code_id = $1 and deleted_at is null) as "codings!",
                  (select count(*) from code_alignments where agreed_code_id = $1) as "coder_codes!""#,
        id as AgreedCodeId
    )
    .fetch_one(conn)
    .await?)
}

/// The coder codes aligned onto an agreed code.
pub async fn aligned_to(
    conn: &mut PgConnection,
    id: AgreedCodeId,
) -> Result<Vec<CodeId>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select code_id as "code_id: CodeId" from code_alignments where agreed_code_id = $1"#,
        id as AgreedCodeId
    )
    .fetch_all(conn)
    .await?)
}

/// Each shared code with the agreed code that mirrors it.
pub async fn shared_mirrors(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<Vec<(CodeId, AgreedCodeId)>, AppError> {
    let rows = sqlx::query!(
        r#"select a.code_id as "code: CodeId", a.agreed_code_id as "agreed: AgreedCodeId"
             from code_alignments a join codes c on c.id = a.code_id
            where a.project_id = $1 and c.owner_id is null"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.code, r.agreed)).collect())
}

/// A live shared code that no agreed code mirrors yet.
pub struct Unmirrored {
    pub id: CodeId,
    pub name: String,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub color: String,
}

/// Whether any agreed code, of any project, live or not, has this id.
pub async fn agreed_id_taken(conn: &mut PgConnection, id: uuid::Uuid) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select exists (select 1 from agreed_codes where id = $1) as "taken!""#,
        id
    )
    .fetch_one(conn)
    .await?)
}

pub async fn list_unmirrored(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<Vec<Unmirrored>, AppError> {
    // The exists() first: nearly always false, and cheaper than the list.
    let some = sqlx::query_scalar!(
        r#"select exists (
               select 1 from codes c
                where c.project_id = $1 and c.owner_id is null and c.deleted_at is null
                  and not exists (select 1 from code_alignments a where a.code_id = c.id)
           ) as "some!""#,
        project as ProjectId
    )
    .fetch_one(&mut *conn)
    .await?;
    if !some {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as!(
        Unmirrored,
        r#"select c.id as "id: CodeId", c.name, c.definition, c.inclusion, c.exclusion, c.color
             from codes c
            where c.project_id = $1 and c.owner_id is null and c.deleted_at is null
              and not exists (select 1 from code_alignments a where a.code_id = c.id)"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// The live agreed code of this name, made from `code` when there is none;
/// answers its id and whether it was made.
pub async fn find_or_insert_by_name(
    conn: &mut PgConnection,
    project: ProjectId,
    code: &AgreedCode,
    created_by: UserId,
) -> Result<(AgreedCodeId, bool), AppError> {
    let row = sqlx::query!(
        r#"with existing as (
               select id from agreed_codes
                where project_id = $1 and lower(name) = lower($3) and deleted_at is null
           ), made as (
               insert into agreed_codes (id, project_id, name, definition, inclusion, exclusion, color, created_by)
               select $2, $1, $3, $4, $5, $6, $7, $8
                where not exists (select 1 from existing)
               returning id
           )
           select id as "id!: AgreedCodeId", false as "made!" from existing
           union all select id, true from made"#,
        project as ProjectId,
        code.id as AgreedCodeId,
        code.name,
        code.definition,
        code.inclusion,
        code.exclusion,
        code.color,
        created_by as UserId
    )
    .fetch_one(conn)
    .await?;
    Ok((row.id, row.made))
}

/// Aligns a coder code unless it is aligned already; true when it was not.
pub async fn insert_alignment(
    conn: &mut PgConnection,
    project: ProjectId,
    code: CodeId,
    agreed: AgreedCodeId,
    by: UserId,
) -> Result<bool, AppError> {
    let done = sqlx::query!(
        "insert into code_alignments (code_id, project_id, agreed_code_id, created_by)
         values ($1, $2, $3, $4) on conflict (code_id) do nothing",
        code as CodeId,
        project as ProjectId,
        agreed as AgreedCodeId,
        by as UserId
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A merge as it is kept, so it can be undone.
pub struct NewMerge<'a> {
    pub id: uuid::Uuid,
    pub project: ProjectId,
    pub code: AgreedCodeId,
    pub into: AgreedCodeId,
    pub consensus_codings: &'a [uuid::Uuid],
    pub coder_codes: &'a [uuid::Uuid],
    pub placed_target: bool,
    pub by: UserId,
}

pub async fn insert_merge(conn: &mut PgConnection, merge: &NewMerge<'_>) -> Result<(), AppError> {
    sqlx::query!(
        r#"insert into agreed_code_merges
             (id, project_id, code_id, into_id, consensus_coding_ids, coder_code_ids, placed_target, merged_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        merge.id,
        merge.project as ProjectId,
        merge.code as AgreedCodeId,
        merge.into as AgreedCodeId,
        merge.consensus_codings,
        merge.coder_codes,
        merge.placed_target,
        merge.by as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The merge of a code that is in force, locked until the end of the transaction.
pub struct Merge {
    pub id: uuid::Uuid,
    pub into: AgreedCodeId,
    pub consensus_codings: Vec<uuid::Uuid>,
    pub coder_codes: Vec<uuid::Uuid>,
    pub placed_target: bool,
}

pub async fn find_merge_in_force(
    conn: &mut PgConnection,
    project: ProjectId,
    code: AgreedCodeId,
) -> Result<Option<Merge>, AppError> {
    Ok(sqlx::query_as!(
        Merge,
        r#"select id, into_id as "into: AgreedCodeId", consensus_coding_ids as consensus_codings,
                  coder_code_ids as coder_codes, placed_target
             from agreed_code_merges
            where project_id = $1 and code_id = $2 and undone_at is null
            for update"#,
        project as ProjectId,
        code as AgreedCodeId
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn mark_merge_undone(
    conn: &mut PgConnection,
    merge: uuid::Uuid,
    by: UserId,
) -> Result<(), AppError> {
    sqlx::query!(
        "update agreed_code_merges set undone_at = now(), undone_by = $2 where id = $1",
        merge,
        by as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_merges_in_force(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<Vec<MergeInForce>, AppError> {
    Ok(sqlx::query_as!(
        MergeInForce,
        r#"select m.code_id as "code_id: AgreedCodeId", c.name as code,
                  m.into_id as "into_id: AgreedCodeId", t.name as into,
                  coalesce(cardinality(m.consensus_coding_ids), 0) as "consensus_codings!",
                  u.display_name as merged_by, m.merged_at
             from agreed_code_merges m
             join agreed_codes c on c.id = m.code_id
             join agreed_codes t on t.id = m.into_id
             join users u on u.id = m.merged_by
            where m.project_id = $1 and m.undone_at is null
            order by m.merged_at desc"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// A coder code aligned onto an agreed code, with its coder's name (the
/// codebook page and its exports name them so).
pub struct Aligned {
    pub agreed: AgreedCodeId,
    pub id: CodeId,
    pub name: String,
    pub coder: String,
}

pub async fn list_aligned(
    conn: &mut PgConnection,
    project: ProjectId,
    _: AgreedCodebook,
) -> Result<Vec<Aligned>, AppError> {
    Ok(sqlx::query_as!(
        Aligned,
        r#"select a.agreed_code_id as "agreed: AgreedCodeId", c.id as "id: CodeId", c.name,
                  coalesce(u.display_name, 'shared') as "coder!"
             from code_alignments a
             join codes c on c.id = a.code_id
             left join users u on u.id = c.owner_id
            where a.project_id = $1 and c.deleted_at is null
            order by lower(u.display_name), lower(c.name)"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// A live consensus coding with its quote, for the codebook page.
pub struct QuoteRow {
    pub id: ConsensusCodingId,
    pub agreed: AgreedCodeId,
    pub transcript_id: TranscriptId,
    pub title: String,
    pub participant: Option<String>,
    pub text: String,
}

pub async fn list_quotes(
    conn: &mut PgConnection,
    project: ProjectId,
    _: AgreedCodebook,
) -> Result<Vec<QuoteRow>, AppError> {
    Ok(sqlx::query_as!(
        QuoteRow,
        r#"select c.id as "id: ConsensusCodingId", c.agreed_code_id as "agreed: AgreedCodeId",
                  t.id as "transcript_id: TranscriptId", t.title, p.label as "participant?",
                  substr(t.text, c.start_offset + 1, c.end_offset - c.start_offset) as "text!"
             from consensus_codings c
             join transcripts t on t.id = c.transcript_id
             left join participants p on p.id = t.participant_id
            where c.project_id = $1 and c.deleted_at is null and t.deleted_at is null
            order by lower(t.title), c.start_offset"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// The text a span of a transcript covers.
pub async fn quote_of(
    conn: &mut PgConnection,
    transcript: TranscriptId,
    start: i32,
    end: i32,
) -> Result<String, AppError> {
    Ok(sqlx::query_scalar!(
        "select substr(text, $2 + 1, $3) from transcripts where id = $1",
        transcript as TranscriptId,
        start,
        end - start
    )
    .fetch_one(conn)
    .await?
    .unwrap_or_default())
}
