//! Every SQL query of participants, variables and import drafts.

use std::collections::BTreeMap;

use anyhow::anyhow;
use sqlx::PgConnection;

use super::model::{Participant, Variable, VariableKind};
use crate::db::ids::{ImportDraftId, ParticipantId, ProjectId, UserId, VariableId};
use crate::error::AppError;

fn kind(text: &str) -> Result<VariableKind, AppError> {
    VariableKind::parse(text)
        .ok_or_else(|| AppError::Internal(anyhow!("unknown variable kind {text:?}")))
}

pub async fn list_variables(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<Variable>, AppError> {
    let rows = sqlx::query!(
        r#"select id as "id: VariableId", name, kind, allowed_values, version
             from variables
            where project_id = $1 and deleted_at is null
            order by position, created_at"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Variable {
                id: r.id,
                name: r.name,
                kind: kind(&r.kind)?,
                allowed_values: r.allowed_values,
                version: r.version,
            })
        })
        .collect()
}

pub async fn insert_variable(
    conn: &mut PgConnection,
    project_id: ProjectId,
    name: &str,
    kind: VariableKind,
    allowed_values: &[String],
) -> Result<Variable, AppError> {
    let id = VariableId::new();
    let result = sqlx::query!(
        r#"insert into variables (id, project_id, name, kind, allowed_values, position)
           values ($1, $2, $3, $4, $5,
                   (select coalesce(max(position), 0) + 1 from variables where project_id = $2))
           returning version"#,
        id as VariableId,
        project_id as ProjectId,
        name,
        kind.as_str(),
        allowed_values
    )
    .fetch_one(conn)
    .await;
    match result {
        Ok(row) => Ok(Variable {
            id,
            name: name.to_owned(),
            kind,
            allowed_values: allowed_values.to_vec(),
            version: row.version,
        }),
        // A taken name: `variables_project_name_key` (error::CONSTRAINTS).
        Err(e) => Err(e.into()),
    }
}

pub async fn list_participants(
    conn: &mut PgConnection,
    project_id: ProjectId,
) -> Result<Vec<Participant>, AppError> {
    let rows = sqlx::query!(
        r#"select id as "id: ParticipantId", label, version
             from participants
            where project_id = $1 and deleted_at is null
            order by lower(label)"#,
        project_id as ProjectId
    )
    .fetch_all(&mut *conn)
    .await?;
    let values = sqlx::query!(
        r#"select v.participant_id as "participant_id: ParticipantId", v.variable_id as "variable_id: VariableId", v.value
             from participant_values v
             join participants p on p.id = v.participant_id
            where p.project_id = $1 and p.deleted_at is null"#,
        project_id as ProjectId
    )
    .fetch_all(conn)
    .await?;
    let mut by_participant: BTreeMap<ParticipantId, BTreeMap<VariableId, String>> = BTreeMap::new();
    for v in values {
        by_participant
            .entry(v.participant_id)
            .or_default()
            .insert(v.variable_id, v.value);
    }
    Ok(rows
        .into_iter()
        .map(|r| Participant {
            values: by_participant.remove(&r.id).unwrap_or_default(),
            id: r.id,
            label: r.label,
            version: r.version,
        })
        .collect())
}

pub async fn get_participant(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: ParticipantId,
) -> Result<Participant, AppError> {
    let row = sqlx::query!(
        r#"select id as "id: ParticipantId", label, version
             from participants
            where project_id = $1 and id = $2 and deleted_at is null"#,
        project_id as ProjectId,
        id as ParticipantId
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let values = sqlx::query!(
        r#"select variable_id as "variable_id: VariableId", value from participant_values where participant_id = $1"#,
        id as ParticipantId
    )
    .fetch_all(conn)
    .await?;
    Ok(Participant {
        id: row.id,
        label: row.label,
        version: row.version,
        values: values
            .into_iter()
            .map(|v| (v.variable_id, v.value))
            .collect(),
    })
}

pub async fn insert_participant(
    conn: &mut PgConnection,
    project_id: ProjectId,
    label: &str,
) -> Result<ParticipantId, AppError> {
    let id = ParticipantId::new();
    let result = sqlx::query!(
        "insert into participants (id, project_id, label) values ($1, $2, $3)",
        id as ParticipantId,
        project_id as ProjectId,
        label
    )
    .execute(conn)
    .await;
    match result {
        Ok(_) => Ok(id),
        // A taken label: `participants_project_label_key` (error::CONSTRAINTS).
        Err(e) => Err(e.into()),
    }
}

/// False when `version` is stale.
pub async fn update_participant_label(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: ParticipantId,
    label: &str,
    version: i32,
) -> Result<bool, AppError> {
    let result = sqlx::query!(
        "update participants set label = $3, updated_at = now(), version = version + 1
          where project_id = $1 and id = $2 and version = $4 and deleted_at is null",
        project_id as ProjectId,
        id as ParticipantId,
        label,
        version
    )
    .execute(conn)
    .await;
    match result {
        Ok(done) => Ok(done.rows_affected() == 1),
        Err(e) => Err(e.into()),
    }
}

/// Sets the value, or removes it when `value` is empty.
pub async fn set_value(
    conn: &mut PgConnection,
    participant_id: ParticipantId,
    variable_id: VariableId,
    value: &str,
) -> Result<(), AppError> {
    if value.is_empty() {
        sqlx::query!(
            "delete from participant_values where participant_id = $1 and variable_id = $2",
            participant_id as ParticipantId,
            variable_id as VariableId
        )
        .execute(conn)
        .await?;
    } else {
        sqlx::query!(
            "insert into participant_values (participant_id, variable_id, value) values ($1, $2, $3)
             on conflict (participant_id, variable_id) do update set value = excluded.value",
            participant_id as ParticipantId,
            variable_id as VariableId,
            value
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

pub async fn insert_draft(
    conn: &mut PgConnection,
    project_id: ProjectId,
    created_by: UserId,
    file_name: &str,
    payload: &serde_json::Value,
) -> Result<ImportDraftId, AppError> {
    let id = ImportDraftId::new();
    sqlx::query!("delete from import_drafts where expires_at < now()")
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "insert into import_drafts (id, project_id, created_by, file_name, payload) values ($1, $2, $3, $4, $5)",
        id as ImportDraftId,
        project_id as ProjectId,
        created_by as UserId,
        file_name,
        payload
    )
    .execute(conn)
    .await?;
    Ok(id)
}

pub struct Draft {
    pub file_name: String,
    pub payload: serde_json::Value,
}

pub async fn get_draft(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: ImportDraftId,
) -> Result<Draft, AppError> {
    sqlx::query_as!(
        Draft,
        "select file_name, payload from import_drafts where project_id = $1 and id = $2 and expires_at > now()",
        project_id as ProjectId,
        id as ImportDraftId
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

pub async fn delete_draft(
    conn: &mut PgConnection,
    project_id: ProjectId,
    id: ImportDraftId,
) -> Result<(), AppError> {
    sqlx::query!(
        "delete from import_drafts where project_id = $1 and id = $2",
        project_id as ProjectId,
        id as ImportDraftId
    )
    .execute(conn)
    .await?;
    Ok(())
}
