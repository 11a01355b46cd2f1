//! Every query of the REFI-QDA imports. They write a project that does not
//! exist yet (no member can see it before the transaction commits), so the
//! rows go in by the batch rather than through each feature's service; the
//! one audit row of the import is written by the caller.

use std::collections::{HashMap, HashSet};

use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::import::{PlanCode, PlanCoding, PlanTranscript, PlanVariable};
use crate::db::ids::{ImportDraftId, ProjectId, UserId};
use crate::error::AppError;

/// The ids among `ids` that rows of `table` have already.
pub(crate) async fn taken_ids(
    conn: &mut PgConnection,
    table: &str,
    ids: &[Uuid],
) -> Result<HashSet<Uuid>, AppError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = match table {
        "users" => {
            sqlx::query_scalar!("select id from users where id = any($1)", ids)
                .fetch_all(conn)
                .await?
        }
        "codes" => {
            sqlx::query_scalar!("select id from codes where id = any($1)", ids)
                .fetch_all(conn)
                .await?
        }
        "memos" => {
            sqlx::query_scalar!("select id from memos where id = any($1)", ids)
                .fetch_all(conn)
                .await?
        }
        "variables" => {
            sqlx::query_scalar!("select id from variables where id = any($1)", ids)
                .fetch_all(conn)
                .await?
        }
        "participants" => {
            sqlx::query_scalar!("select id from participants where id = any($1)", ids)
                .fetch_all(conn)
                .await?
        }
        "transcripts" => {
            sqlx::query_scalar!("select id from transcripts where id = any($1)", ids)
                .fetch_all(conn)
                .await?
        }
        "codings" => {
            sqlx::query_scalar!("select id from codings where id = any($1)", ids)
                .fetch_all(conn)
                .await?
        }
        other => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "no id check for the table {other}"
            )));
        }
    };
    Ok(rows.into_iter().collect())
}

pub(crate) async fn set_shared_codebook(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<(), AppError> {
    sqlx::query!(
        "update projects set codebook_mode = 'shared' where id = $1",
        project as ProjectId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Not an argon2 hash, so no password verifies against it: the account can't
/// sign in until a site admin's password-reset link sets one.
pub const NO_PASSWORD: &str = "!imported: no password until a reset link sets one";

/// A coder's account from a REFI-QDA user: their name, an address that can
/// never receive mail (`.invalid`, RFC 2606), and no password.
pub(crate) async fn insert_placeholder_user(
    conn: &mut PgConnection,
    id: UserId,
    name: &str,
) -> Result<(), AppError> {
    let email = format!("{}@imported.invalid", id.0);
    sqlx::query!(
        "insert into users (id, email, display_name, password_hash) values ($1, $2, $3, $4)",
        id as UserId,
        email,
        name,
        NO_PASSWORD
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_variable(
    conn: &mut PgConnection,
    project: ProjectId,
    id: Uuid,
    v: &PlanVariable,
    position: i32,
) -> Result<(), AppError> {
    sqlx::query!(
        "insert into variables (id, project_id, name, kind, allowed_values, position)
         values ($1, $2, $3, $4, $5, $6)",
        id,
        project as ProjectId,
        v.name,
        v.kind,
        &v.allowed_values,
        position
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_participant(
    conn: &mut PgConnection,
    project: ProjectId,
    id: Uuid,
    label: &str,
) -> Result<(), AppError> {
    sqlx::query!(
        "insert into participants (id, project_id, label) values ($1, $2, $3)",
        id,
        project as ProjectId,
        label
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_value(
    conn: &mut PgConnection,
    participant: Uuid,
    variable: Uuid,
    value: &str,
) -> Result<(), AppError> {
    sqlx::query!(
        "insert into participant_values (participant_id, variable_id, value) values ($1, $2, $3)",
        participant,
        variable,
        value
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_transcript(
    conn: &mut PgConnection,
    project: ProjectId,
    id: Uuid,
    participant: Option<Uuid>,
    t: &PlanTranscript,
    file_name: &str,
    actor: UserId,
) -> Result<(), AppError> {
    let char_count = i32::try_from(t.char_count)
        .map_err(|_| AppError::State(format!("The source {} is too long.", t.title)))?;
    let no_warnings: Vec<String> = Vec::new();
    sqlx::query!(
        r#"insert into transcripts (id, project_id, participant_id, title, file_name, source_kind, encoding, text,
                                    sha256, char_count, word_count, turns, warnings, created_by)
           values ($1, $2, $3, $4, $5, 'qdpx', 'UTF-8', $6, $7, $8, $9, $10, $11, $12)"#,
        id,
        project as ProjectId,
        participant,
        t.title,
        file_name,
        t.text,
        t.sha256,
        char_count,
        t.word_count,
        Json(&t.turns) as _,
        Json(&no_warnings) as _,
        actor as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Every code in one statement; `codes` lists parents before children.
pub(crate) async fn insert_codes(
    conn: &mut PgConnection,
    project: ProjectId,
    actor: UserId,
    codes: &[PlanCode],
    ids: &HashMap<Uuid, Uuid>,
) -> Result<(), AppError> {
    if codes.is_empty() {
        return Ok(());
    }
    let id: Vec<Uuid> = codes.iter().map(|c| ids[&c.guid]).collect();
    let parent: Vec<Option<Uuid>> = codes.iter().map(|c| c.parent.map(|p| ids[&p])).collect();
    let name: Vec<String> = codes.iter().map(|c| c.name.clone()).collect();
    let definition: Vec<String> = codes.iter().map(|c| c.definition.clone()).collect();
    let inclusion: Vec<String> = codes.iter().map(|c| c.inclusion.clone()).collect();
    let exclusion: Vec<String> = codes.iter().map(|c| c.exclusion.clone()).collect();
    let example: Vec<String> = codes.iter().map(|c| c.example.clone()).collect();
    let color: Vec<String> = codes.iter().map(|c| c.color.clone()).collect();
    sqlx::query!(
        r#"insert into codes (id, project_id, owner_id, name, definition, inclusion, exclusion, example,
                              color, parent_id, created_by)
           select c.id, $1, null, c.name, c.definition, c.inclusion, c.exclusion, c.example, c.color, c.parent_id, $2
             from unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
                  as c(id, parent_id, name, definition, inclusion, exclusion, example, color)"#,
        project as ProjectId,
        actor as UserId,
        &id,
        &parent as &[Option<Uuid>],
        &name,
        &definition,
        &inclusion,
        &exclusion,
        &example,
        &color
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// `(transcript, user)` pairs, each a submitted assignment.
pub(crate) async fn insert_submitted_assignments(
    conn: &mut PgConnection,
    project: ProjectId,
    layers: &[(Uuid, Uuid)],
) -> Result<(), AppError> {
    if layers.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = layers.iter().map(|_| Uuid::new_v4()).collect();
    let transcripts: Vec<Uuid> = layers.iter().map(|l| l.0).collect();
    let users: Vec<Uuid> = layers.iter().map(|l| l.1).collect();
    sqlx::query!(
        r#"insert into assignments (id, project_id, transcript_id, user_id, state, submitted_at)
           select a.id, $1, a.transcript_id, a.user_id, 'submitted', now()
             from unnest($2::uuid[], $3::uuid[], $4::uuid[]) as a(id, transcript_id, user_id)"#,
        project as ProjectId,
        &ids,
        &transcripts,
        &users
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Every coding, in batches of one statement each.
///
/// Each coding's two keys (its layer's assignment, its code in the same
/// project) are checked once per batch, by one query over the batch's
/// distinct layers and codes, instead of once per row by the foreign-key
/// triggers, which are most of the time a bulk insert takes. That is what
/// `pg_restore --disable-triggers` does, and it is sound here for the same
/// reason: every row the codings point to was written by this transaction,
/// in a project no other transaction can see, so none can be changed or
/// removed before the commit (the row locks of the per-row checks guard
/// against nothing here). Only the codings inserts run so; the triggers of
/// every other write, and every later change of the codes and assignments,
/// check the keys as always. Turning the per-row triggers off takes a
/// superuser or, from PostgreSQL 15, `GRANT SET ON PARAMETER
/// session_replication_role`; without it the triggers check each row.
pub(crate) async fn insert_codings(
    conn: &mut PgConnection,
    project: ProjectId,
    codings: &[PlanCoding],
    coding_ids: &HashMap<Uuid, Uuid>,
    transcripts: &HashMap<Uuid, Uuid>,
    users: &HashMap<Uuid, Uuid>,
    codes: &HashMap<Uuid, Uuid>,
) -> Result<(), AppError> {
    let checked_per_batch = if codings.is_empty() {
        false
    } else {
        skip_row_key_checks(&mut *conn).await?
    };
    for batch in codings.chunks(20_000) {
        let id: Vec<Uuid> = batch.iter().map(|c| coding_ids[&c.guid]).collect();
        let transcript: Vec<Uuid> = batch.iter().map(|c| transcripts[&c.transcript]).collect();
        let coder: Vec<Uuid> = batch.iter().map(|c| users[&c.user]).collect();
        let code: Vec<Uuid> = batch.iter().map(|c| codes[&c.code]).collect();
        let start: Vec<i32> = batch.iter().map(|c| c.start as i32).collect();
        let end: Vec<i32> = batch.iter().map(|c| c.end as i32).collect();
        let memo: Vec<String> = batch.iter().map(|c| c.memo.clone()).collect();
        if checked_per_batch {
            check_keys(&mut *conn, project, &transcript, &coder, &code).await?;
        }
        sqlx::query!(
            r#"insert into codings (id, project_id, transcript_id, coder_id, code_id, start_offset, end_offset, memo)
               select c.id, $1, c.transcript_id, c.coder_id, c.code_id, c.start_offset, c.end_offset, c.memo
                 from unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::int4[], $7::int4[], $8::text[])
                      as c(id, transcript_id, coder_id, code_id, start_offset, end_offset, memo)"#,
            project as ProjectId,
            &id,
            &transcript,
            &coder,
            &code,
            &start,
            &end,
            &memo
        )
        .execute(&mut *conn)
        .await?;
    }
    if checked_per_batch {
        utility(&mut *conn, "set local session_replication_role to default").await?;
    }
    Ok(())
}

/// Turns this transaction's per-row trigger checks off, when the role may;
/// answers whether it did. A refusal is undone to a savepoint, so the
/// transaction goes on with the checks in place.
async fn skip_row_key_checks(conn: &mut PgConnection) -> Result<bool, AppError> {
    utility(&mut *conn, "savepoint bulk_codings").await?;
    match utility(&mut *conn, "set local session_replication_role = replica").await {
        Ok(_) => {
            utility(&mut *conn, "release savepoint bulk_codings").await?;
            Ok(true)
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => {
            utility(&mut *conn, "rollback to savepoint bulk_codings").await?;
            utility(&mut *conn, "release savepoint bulk_codings").await?;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// A statement of the transaction's own (a savepoint, a setting).
async fn utility(conn: &mut PgConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).persistent(false).execute(conn).await?;
    Ok(())
}

/// The foreign keys `codings_layer_assigned` and `codings_code_same_project`
/// of one batch, checked together: every distinct layer must be an
/// assignment of the project and every distinct code one of its codes.
async fn check_keys(
    conn: &mut PgConnection,
    project: ProjectId,
    transcripts: &[Uuid],
    coders: &[Uuid],
    codes: &[Uuid],
) -> Result<(), AppError> {
    let missing = sqlx::query!(
        r#"select (select count(*)
                     from (select distinct l.transcript_id, l.coder_id
                             from unnest($2::uuid[], $3::uuid[]) as l(transcript_id, coder_id)) l
                    where not exists (select 1 from assignments a
                                       where a.project_id = $1 and a.transcript_id = l.transcript_id
                                         and a.user_id = l.coder_id)) as "layers!",
                  (select count(*)
                     from (select distinct c.code_id from unnest($4::uuid[]) as c(code_id)) c
                    where not exists (select 1 from codes k
                                       where k.project_id = $1 and k.id = c.code_id)) as "codes!""#,
        project as ProjectId,
        transcripts,
        coders,
        codes
    )
    .fetch_one(&mut *conn)
    .await?;
    if missing.layers > 0 || missing.codes > 0 {
        return Err(AppError::Internal(anyhow::anyhow!(
            "import: {} layers without an assignment and {} codes not in the project (codings_layer_assigned, codings_code_same_project)",
            missing.layers,
            missing.codes
        )));
    }
    Ok(())
}

/// Keeps an uploaded file until its preview is confirmed (a day at most).
pub(crate) async fn insert_draft(
    conn: &mut PgConnection,
    created_by: UserId,
    file_name: &str,
    bytes: &[u8],
) -> Result<ImportDraftId, AppError> {
    sqlx::query!("delete from refi_import_drafts where expires_at < now()")
        .execute(&mut *conn)
        .await?;
    let id = ImportDraftId::new();
    sqlx::query!(
        "insert into refi_import_drafts (id, created_by, file_name, bytes) values ($1, $2, $3, $4)",
        id as ImportDraftId,
        created_by as UserId,
        file_name,
        bytes
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// The draft's file name and bytes, for the user who uploaded it only.
pub(crate) async fn find_draft(
    conn: &mut PgConnection,
    created_by: UserId,
    id: ImportDraftId,
) -> Result<Option<(String, Vec<u8>)>, AppError> {
    Ok(sqlx::query!(
        "select file_name, bytes from refi_import_drafts
          where id = $1 and created_by = $2 and expires_at > now()",
        id as ImportDraftId,
        created_by as UserId
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.file_name, r.bytes)))
}

pub(crate) async fn delete_draft(
    conn: &mut PgConnection,
    id: ImportDraftId,
) -> Result<(), AppError> {
    sqlx::query!(
        "delete from refi_import_drafts where id = $1",
        id as ImportDraftId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The owner of a project imported on the command line: the active account
/// with that address, or else the site's first admin.
pub(crate) async fn find_owner(
    conn: &mut PgConnection,
    email: Option<&str>,
) -> Result<Option<UserId>, AppError> {
    Ok(match email {
        Some(email) => {
            sqlx::query_scalar!(
                r#"select id as "id: UserId" from users
                    where lower(email) = lower($1) and disabled_at is null"#,
                email.trim()
            )
            .fetch_optional(conn)
            .await?
        }
        None => {
            sqlx::query_scalar!(
                r#"select id as "id: UserId" from users
                    where is_admin and disabled_at is null
                    order by created_at, id limit 1"#
            )
            .fetch_optional(conn)
            .await?
        }
    })
}

/// An active account a file's user might be.
pub struct AccountRow {
    pub id: UserId,
    pub display_name: String,
    pub email: String,
}

/// Active accounts whose id is one of `ids` or whose name is one of `names`
/// (lower-cased, trimmed).
pub(crate) async fn accounts_like(
    conn: &mut PgConnection,
    ids: &[Uuid],
    names: &[String],
) -> Result<Vec<AccountRow>, AppError> {
    Ok(sqlx::query_as!(
        AccountRow,
        r#"select id as "id: UserId", display_name, email from users
            where disabled_at is null
              and (id = any($1) or lower(trim(display_name)) = any($2))
            order by lower(display_name), id"#,
        ids,
        names
    )
    .fetch_all(conn)
    .await?)
}

/// An active account by id.
pub(crate) async fn active_account(
    conn: &mut PgConnection,
    id: UserId,
) -> Result<Option<AccountRow>, AppError> {
    Ok(sqlx::query_as!(
        AccountRow,
        r#"select id as "id: UserId", display_name, email from users
            where id = $1 and disabled_at is null"#,
        id as UserId
    )
    .fetch_optional(conn)
    .await?)
}

/// The live codes of the project's shared codebook, by lower-cased name.
pub(crate) async fn shared_code_names(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<HashMap<String, Uuid>, AppError> {
    Ok(sqlx::query!(
        "select id, name from codes where project_id = $1 and owner_id is null and deleted_at is null",
        project as ProjectId
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.name.to_lowercase(), r.id))
    .collect())
}

/// Codes of any codebook in the project (a coder's own ones too).
pub(crate) async fn count_codes(
    conn: &mut PgConnection,
    project: ProjectId,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "n!" from codes where project_id = $1 and deleted_at is null"#,
        project as ProjectId
    )
    .fetch_one(conn)
    .await?)
}
