//! Every SQL query of codes and codings.

use sqlx::PgConnection;

use super::model::{Code, Coding};
use crate::db::ids::{CodeId, CodingId, ProjectId, TranscriptId, UserId};
use crate::error::AppError;

pub async fn list_codes(
    conn: &mut PgConnection,
    project_id: ProjectId,
    owner: Option<UserId>,
) -> Result<Vec<Code>, AppError> {
    Ok(sqlx::query_as!(
        Code,
        r#"select id as "id: CodeId", owner_id as "owner_id: UserId", name, definition, inclusion, exclusion, example,
                  color, parent_id as "parent_id: CodeId", version
             from codes
            where project_id = $1 and owner_id is not distinct from $2 and deleted_at is null
            order by lower(name)"#,
        project_id as ProjectId,
        owner as Option<UserId>
    )
    .fetch_all(conn)
    .await?)
}

pub struct CodeRow {
    pub code: Code,
    pub deleted: bool,
}

pub async fn find_code(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: CodeId,
) -> Result<Option<CodeRow>, AppError> {
    let row = sqlx::query!(
        r#"select id as "id: CodeId", owner_id as "owner_id: UserId", name, definition, inclusion, exclusion, example,
                  color, parent_id as "parent_id: CodeId", version, deleted_at is not null as "deleted!"
             from codes
            where project_id = $1 and id = $2"#,
        project_id as ProjectId,
        id as CodeId
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| CodeRow {
        deleted: r.deleted,
        code: Code {
            id: r.id,
            owner_id: r.owner_id,
            name: r.name,
            definition: r.definition,
            inclusion: r.inclusion,
            exclusion: r.exclusion,
            example: r.example,
            color: r.color,
            parent_id: r.parent_id,
            version: r.version,
        },
    }))
}

/// The colours of the live codes of one codebook (a coder's, or the shared one).
pub async fn code_colors(
    conn: &mut PgConnection,
    project_id: ProjectId,
    owner: Option<UserId>,
) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select color from codes
            where project_id = $1 and owner_id is not distinct from $2 and deleted_at is null"#,
        project_id as ProjectId,
        owner as Option<UserId>
    )
    .fetch_all(conn)
    .await?)
}

/// Inserts unless the id exists; returns whether it was inserted. A name
/// taken in the codebook is refused by `codes_codebook_name_key`
/// (`error::CONSTRAINTS`), here and in the updates below.
pub async fn insert_code(
    conn: &mut PgConnection,
    project_id: ProjectId,
    code: &Code,
    created_by: UserId,
) -> Result<bool, AppError> {
    let done = sqlx::query!(
        r#"insert into codes (id, project_id, owner_id, name, definition, color, created_by)
           values ($1, $2, $3, $4, $5, $6, $7)
           on conflict (id) do nothing"#,
        code.id as CodeId,
        project_id as ProjectId,
        code.owner_id as Option<UserId>,
        code.name,
        code.definition,
        code.color,
        created_by as UserId
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// False when `version` is stale.
pub async fn update_code(
    conn: &mut PgConnection,
    project_id: ProjectId,
    code: &Code,
    version: i32,
) -> Result<bool, AppError> {
    let done = sqlx::query!(
        r#"update codes
              set name = $3, definition = $4, inclusion = $5, exclusion = $6, example = $7, color = $8,
                  parent_id = $9, updated_at = now(), version = version + 1
            where project_id = $1 and id = $2 and version = $10 and deleted_at is null"#,
        project_id as ProjectId,
        code.id as CodeId,
        code.name,
        code.definition,
        code.inclusion,
        code.exclusion,
        code.example,
        code.color,
        code.parent_id as Option<CodeId>,
        version
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_code_deleted(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: CodeId,
    deleted: bool,
    merged_into: Option<CodeId>,
) -> Result<bool, AppError> {
    let done = sqlx::query!(
        r#"update codes
              set deleted_at = case when $3 then now() else null end,
                  merged_into = case when $3 then $4::uuid else null end,
                  updated_at = now(), version = version + 1
            where project_id = $1 and id = $2 and (deleted_at is null) = $3"#,
        project_id as ProjectId,
        id as CodeId,
        deleted,
        merged_into as Option<CodeId>
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Children of a deleted or merged code move up to its parent.
pub async fn reparent_children(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: CodeId,
    new_parent: Option<CodeId>,
) -> Result<(), AppError> {
    sqlx::query!(
        "update codes set parent_id = $3, version = version + 1, updated_at = now()
          where project_id = $1 and parent_id = $2",
        project_id as ProjectId,
        id as CodeId,
        new_parent as Option<CodeId>
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves every coding of `from` onto `into`; returns how many.
pub async fn move_codings(
    conn: &mut PgConnection,
    project_id: ProjectId,
    from: CodeId,
    into: CodeId,
) -> Result<i64, AppError> {
    let done = sqlx::query!(
        "update codings set code_id = $3, version = version + 1, updated_at = now()
          where project_id = $1 and code_id = $2",
        project_id as ProjectId,
        from as CodeId,
        into as CodeId
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() as i64)
}

/// One coder's live codings of one transcript (codes deleted with theirs hidden).
pub async fn list_layer(
    conn: &mut PgConnection,
    project_id: ProjectId,
    transcript_id: TranscriptId,
    coder_id: UserId,
) -> Result<Vec<Coding>, AppError> {
    Ok(sqlx::query_as!(
        Coding,
        r#"select c.id as "id: CodingId", c.transcript_id as "transcript_id: TranscriptId", c.coder_id as "coder_id: UserId",
                  c.code_id as "code_id: CodeId", c.start_offset as start, c.end_offset as end, c.memo, c.version
             from codings c
             join codes k on k.id = c.code_id
            where c.project_id = $1 and c.transcript_id = $2 and c.coder_id = $3
              and c.deleted_at is null and k.deleted_at is null
            order by c.start_offset, c.end_offset"#,
        project_id as ProjectId,
        transcript_id as TranscriptId,
        coder_id as UserId
    )
    .fetch_all(conn)
    .await?)
}

pub struct CodingRow {
    pub coding: Coding,
    pub project_id: ProjectId,
    pub deleted: bool,
}

/// A coding by id in any project: idempotent creates must tell "mine,
/// identical" from "someone else's id".
pub async fn find_coding_any(
    conn: &mut PgConnection,
    id: CodingId,
) -> Result<Option<CodingRow>, AppError> {
    let row = sqlx::query!(
        r#"select id as "id: CodingId", project_id as "project_id: ProjectId", transcript_id as "transcript_id: TranscriptId",
                  coder_id as "coder_id: UserId", code_id as "code_id: CodeId", start_offset, end_offset, memo, version,
                  deleted_at is not null as "deleted!"
             from codings
            where id = $1"#,
        id as CodingId
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| CodingRow {
        project_id: r.project_id,
        deleted: r.deleted,
        coding: Coding {
            id: r.id,
            transcript_id: r.transcript_id,
            coder_id: r.coder_id,
            code_id: r.code_id,
            start: r.start_offset,
            end: r.end_offset,
            memo: r.memo,
            version: r.version,
        },
    }))
}

/// Inserts unless the id exists; returns whether it was inserted.
pub async fn insert_coding(
    conn: &mut PgConnection,
    project_id: ProjectId,
    coding: &Coding,
) -> Result<bool, AppError> {
    let done = sqlx::query!(
        r#"insert into codings (id, project_id, transcript_id, coder_id, code_id, start_offset, end_offset, memo)
           values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (id) do nothing"#,
        coding.id as CodingId,
        project_id as ProjectId,
        coding.transcript_id as TranscriptId,
        coding.coder_id as UserId,
        coding.code_id as CodeId,
        coding.start,
        coding.end,
        coding.memo
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The new version, or None when `version` is stale.
pub async fn update_coding(
    conn: &mut PgConnection,
    project_id: ProjectId,
    coding: &Coding,
    version: i32,
) -> Result<Option<i32>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"update codings
              set code_id = $3, start_offset = $4, end_offset = $5, memo = $6, updated_at = now(), version = version + 1
            where project_id = $1 and id = $2 and version = $7 and deleted_at is null
        returning version"#,
        project_id as ProjectId,
        coding.id as CodingId,
        coding.code_id as CodeId,
        coding.start,
        coding.end,
        coding.memo,
        version
    )
    .fetch_optional(conn)
    .await?)
}

/// The new version, or None when it was already in that state.
pub async fn set_coding_deleted(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: CodingId,
    deleted: bool,
) -> Result<Option<i32>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"update codings
              set deleted_at = case when $3 then now() else null end, updated_at = now(), version = version + 1
            where project_id = $1 and id = $2 and (deleted_at is null) = $3
        returning version"#,
        project_id as ProjectId,
        id as CodingId,
        deleted
    )
    .fetch_optional(conn)
    .await?)
}

/// Everything a new coding is checked against, in one query: the text's
/// length, the caller's assignment, and whether the code is live and whose.
pub struct LayerContext {
    pub char_count: i32,
    pub assignment: Option<crate::assignments::store::Assignment>,
    pub code_live: bool,
    pub code_owner: Option<UserId>,
}

pub async fn layer_context(
    conn: &mut PgConnection,
    project_id: ProjectId,
    transcript_id: TranscriptId,
    user_id: UserId,
    code_id: CodeId,
) -> Result<Option<LayerContext>, AppError> {
    let row = sqlx::query!(
        r#"select t.char_count,
                  a.id as "assignment_id?: crate::db::ids::AssignmentId", a.state as "state?: crate::assignments::model::AssignmentState",
                  a.submitted_at as "submitted_at?", a.version as "assignment_version?",
                  k.owner_id as "code_owner?: UserId",
                  (k.id is not null and k.deleted_at is null) as "code_live!"
             from transcripts t
             left join assignments a on a.transcript_id = t.id and a.user_id = $3
             left join codes k on k.id = $4 and k.project_id = t.project_id
            where t.project_id = $1 and t.id = $2 and t.deleted_at is null"#,
        project_id as ProjectId,
        transcript_id as TranscriptId,
        user_id as UserId,
        code_id as CodeId
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| LayerContext {
        char_count: r.char_count,
        assignment: match (r.assignment_id, r.state, r.assignment_version) {
            (Some(id), Some(state), Some(version)) => Some(crate::assignments::store::Assignment {
                id,
                transcript_id,
                user_id,
                state,
                submitted_at: r.submitted_at,
                version,
            }),
            _ => None,
        },
        code_live: r.code_live,
        code_owner: r.code_owner,
    }))
}
