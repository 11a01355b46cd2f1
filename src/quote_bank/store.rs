//! Every SQL query of the quote bank. Reads of selections take the
//! [`AgreedCodebook`] proof: they show consensus quotes.

use sqlx::PgConnection;

use crate::coding::blinding::AgreedCodebook;
use crate::db::ids::{
    AgreedCodeId, ConsensusCodingId, ProjectId, QuoteSelectionId, TranscriptId, UserId, VariableId,
};
use crate::error::AppError;

/// Serialises every change of one project's quote bank, so two leads
/// reordering at once are taken one after the other and the second sees the
/// first's versions.
pub async fn lock(conn: &mut PgConnection, project_id: ProjectId) -> Result<(), AppError> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('quote_bank:' || $1::uuid::text, 0))",
        project_id as ProjectId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A live selection with the present state of the coding it points at.
#[derive(Debug, Clone)]
pub struct SelectionRow {
    pub id: QuoteSelectionId,
    pub consensus_coding_id: ConsensusCodingId,
    pub agreed_code_id: AgreedCodeId,
    pub transcript_id: TranscriptId,
    pub start_offset: i32,
    pub end_offset: i32,
    pub publication_text: Option<String>,
    pub position: i32,
    pub version: i32,
    pub coding_deleted: bool,
    pub coding_code: AgreedCodeId,
    pub coding_start: i32,
    pub coding_end: i32,
    pub code_deleted: bool,
}

/// Every live selection of the project, by code and position.
pub async fn list_selections(
    conn: &mut PgConnection,
    project_id: ProjectId,
    _: AgreedCodebook,
) -> Result<Vec<SelectionRow>, AppError> {
    Ok(sqlx::query_as!(
        SelectionRow,
        r#"select s.id as "id: QuoteSelectionId",
                  s.consensus_coding_id as "consensus_coding_id: ConsensusCodingId",
                  s.agreed_code_id as "agreed_code_id: AgreedCodeId",
                  s.transcript_id as "transcript_id: TranscriptId",
                  s.start_offset, s.end_offset, s.publication_text, s.position, s.version,
                  (cc.deleted_at is not null or t.deleted_at is not null) as "coding_deleted!",
                  cc.agreed_code_id as "coding_code: AgreedCodeId",
                  cc.start_offset as coding_start, cc.end_offset as coding_end,
                  (ac.deleted_at is not null) as "code_deleted!"
             from quote_selections s
             join consensus_codings cc on cc.id = s.consensus_coding_id
             join agreed_codes ac on ac.id = s.agreed_code_id
             join transcripts t on t.id = s.transcript_id
            where s.project_id = $1 and s.deleted_at is null
            order by s.agreed_code_id, s.position, s.selected_at"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?)
}

/// One live selection of the project, or 404.
pub async fn get_selection(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: QuoteSelectionId,
) -> Result<SelectionRow, AppError> {
    sqlx::query_as!(
        SelectionRow,
        r#"select s.id as "id: QuoteSelectionId",
                  s.consensus_coding_id as "consensus_coding_id: ConsensusCodingId",
                  s.agreed_code_id as "agreed_code_id: AgreedCodeId",
                  s.transcript_id as "transcript_id: TranscriptId",
                  s.start_offset, s.end_offset, s.publication_text, s.position, s.version,
                  (cc.deleted_at is not null or t.deleted_at is not null) as "coding_deleted!",
                  cc.agreed_code_id as "coding_code: AgreedCodeId",
                  cc.start_offset as coding_start, cc.end_offset as coding_end,
                  (ac.deleted_at is not null) as "code_deleted!"
             from quote_selections s
             join consensus_codings cc on cc.id = s.consensus_coding_id
             join agreed_codes ac on ac.id = s.agreed_code_id
             join transcripts t on t.id = s.transcript_id
            where s.project_id = $1 and s.id = $2 and s.deleted_at is null"#,
        project_id as ProjectId,
        id as QuoteSelectionId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// A selection by id whatever its state, for an idempotent retry.
pub async fn find_any_selection(
    conn: &mut PgConnection,
    id: QuoteSelectionId,
) -> Result<Option<(ProjectId, ConsensusCodingId, i32, i32, bool)>, AppError> {
    Ok(sqlx::query!(
        r#"select project_id as "project_id: ProjectId",
                  consensus_coding_id as "coding: ConsensusCodingId",
                  start_offset, end_offset, deleted_at is not null as "deleted!"
             from quote_selections where id = $1"#,
        id as QuoteSelectionId
    )
    .fetch_optional(conn)
    .await?
    .map(|r| {
        (
            r.project_id,
            r.coding,
            r.start_offset,
            r.end_offset,
            r.deleted,
        )
    }))
}

/// What a selection needs of a live consensus coding.
#[derive(Debug, Clone)]
pub struct CodingRow {
    pub id: ConsensusCodingId,
    pub transcript_id: TranscriptId,
    pub agreed_code_id: AgreedCodeId,
    pub start_offset: i32,
    pub end_offset: i32,
}

/// A live consensus coding of the project, under a live code, in a live transcript.
pub async fn find_coding(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: ConsensusCodingId,
    _: AgreedCodebook,
) -> Result<Option<CodingRow>, AppError> {
    Ok(sqlx::query_as!(
        CodingRow,
        r#"select cc.id as "id: ConsensusCodingId", cc.transcript_id as "transcript_id: TranscriptId",
                  cc.agreed_code_id as "agreed_code_id: AgreedCodeId", cc.start_offset, cc.end_offset
             from consensus_codings cc
             join transcripts t on t.id = cc.transcript_id and t.deleted_at is null
             join agreed_codes ac on ac.id = cc.agreed_code_id and ac.deleted_at is null
            where cc.project_id = $1 and cc.id = $2 and cc.deleted_at is null"#,
        project_id as ProjectId,
        id as ConsensusCodingId
    )
    .fetch_optional(conn)
    .await?)
}

/// The position after the last live selection of a code.
pub async fn next_position(
    conn: &mut PgConnection,
    project_id: ProjectId,
    code: AgreedCodeId,
) -> Result<i32, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select coalesce(max(position) + 1, 0) as "next!"
             from quote_selections
            where project_id = $1 and agreed_code_id = $2 and deleted_at is null"#,
        project_id as ProjectId,
        code as AgreedCodeId
    )
    .fetch_one(conn)
    .await?)
}

pub struct NewSelection<'a> {
    pub id: QuoteSelectionId,
    pub coding: &'a CodingRow,
    pub start: i32,
    pub end: i32,
    pub publication_text: Option<&'a str>,
    pub position: i32,
    pub by: UserId,
}

/// Inserts a selection; `false` when its id is taken (a retry).
pub async fn insert_selection(
    conn: &mut PgConnection,
    project_id: ProjectId,
    new: NewSelection<'_>,
) -> Result<bool, AppError> {
    let inserted = sqlx::query!(
        r#"insert into quote_selections (id, project_id, consensus_coding_id, agreed_code_id,
                                         transcript_id, start_offset, end_offset,
                                         publication_text, position, selected_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           on conflict (id) do nothing"#,
        new.id as QuoteSelectionId,
        project_id as ProjectId,
        new.coding.id as ConsensusCodingId,
        new.coding.agreed_code_id as AgreedCodeId,
        new.coding.transcript_id as TranscriptId,
        new.start,
        new.end,
        new.publication_text,
        new.position,
        new.by as UserId,
    )
    .execute(conn)
    .await;
    // A quote selected twice: `quote_selections_span_key` (error::CONSTRAINTS).
    Ok(inserted?.rows_affected() == 1)
}

/// Sets the publication text if the version is still `version`; false if stale.
pub async fn update_publication(
    conn: &mut PgConnection,
    id: QuoteSelectionId,
    version: i32,
    text: Option<&str>,
) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        r#"update quote_selections
              set publication_text = $3, updated_at = now(), version = version + 1
            where id = $1 and version = $2 and deleted_at is null"#,
        id as QuoteSelectionId,
        version,
        text
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Takes a selection out of the bank (kept, with `deleted_at`); false if stale.
pub async fn delete_selection(
    conn: &mut PgConnection,
    id: QuoteSelectionId,
    version: i32,
) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        r#"update quote_selections
              set deleted_at = now(), updated_at = now(), version = version + 1
            where id = $1 and version = $2 and deleted_at is null"#,
        id as QuoteSelectionId,
        version
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Files a selection under another code, at `position`; false if stale.
pub async fn refile_selection(
    conn: &mut PgConnection,
    id: QuoteSelectionId,
    version: i32,
    code: AgreedCodeId,
    position: i32,
) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        r#"update quote_selections
              set agreed_code_id = $3, position = $4, updated_at = now(), version = version + 1
            where id = $1 and version = $2 and deleted_at is null"#,
        id as QuoteSelectionId,
        version,
        code as AgreedCodeId,
        position
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Numbers `ids` 0, 1, 2… in their order; each one's version goes up, since
/// its place is part of it.
pub async fn renumber(conn: &mut PgConnection, ids: &[QuoteSelectionId]) -> Result<(), AppError> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    sqlx::query!(
        r#"update quote_selections s
              set position = o.n - 1, updated_at = now(), version = s.version + 1
             from unnest($1::uuid[]) with ordinality as o (id, n)
            where s.id = o.id"#,
        &ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The lead's choice of attribute: `None` when never chosen, `Some(None)`
/// when chosen to be none.
pub async fn settings(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Option<(Option<VariableId>, i32)>, AppError> {
    Ok(sqlx::query!(
        r#"select attribute_id as "attribute_id: VariableId", version
             from quote_bank_settings where project_id = $1"#,
        project_id as ProjectId
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.attribute_id, r.version)))
}

/// Writes the choice if the version is still `version` (0: never chosen);
/// false if stale.
pub async fn put_settings(
    conn: &mut PgConnection,
    project_id: ProjectId,
    attribute: Option<VariableId>,
    version: i32,
    by: UserId,
) -> Result<bool, AppError> {
    let written = if version == 0 {
        sqlx::query!(
            r#"insert into quote_bank_settings (project_id, attribute_id, updated_by)
               values ($1, $2, $3)
               on conflict (project_id) do nothing"#,
            project_id as ProjectId,
            attribute as Option<VariableId>,
            by as UserId
        )
        .execute(conn)
        .await?
    } else {
        sqlx::query!(
            r#"update quote_bank_settings
                  set attribute_id = $2, updated_by = $3, updated_at = now(), version = version + 1
                where project_id = $1 and version = $4"#,
            project_id as ProjectId,
            attribute as Option<VariableId>,
            by as UserId,
            version
        )
        .execute(conn)
        .await?
    };
    Ok(written.rows_affected() == 1)
}

/// The name of every agreed code of the project, deleted ones too (a quote
/// whose code went shows what it was chosen for).
pub async fn code_names(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<std::collections::HashMap<AgreedCodeId, String>, AppError> {
    Ok(sqlx::query!(
        r#"select id as "id: AgreedCodeId", name from agreed_codes where project_id = $1"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.name))
    .collect())
}
