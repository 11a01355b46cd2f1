//! Participant changes and the table import, shared by pages and API.

use serde::{Deserialize, Serialize};

use super::model::{self, Participant, Variable, VariableKind};
use super::store;
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{ImportDraftId, ParticipantId, VariableId};
use crate::error::{AppError, FieldErrors};
use crate::import::{
    self, ColumnMapping, RowError, Table, TableKind, TableMapping, Value, VariableType,
};
use crate::projects::member::Actor;
use crate::projects::model::Role;
use sqlx::PgConnection;

/// Owners and leads manage participants; every member may read them.
fn require_manager(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Lead])?;
    actor.require_active()
}

pub async fn create_variable(
    conn: &mut PgConnection,
    actor: &Actor,
    name: &str,
    kind: &str,
    allowed: &str,
) -> Result<Variable, AppError> {
    require_manager(actor)?;
    let mut errors = FieldErrors::new();
    let name = model::parse_variable_name(&mut errors, "name", name);
    let kind = VariableKind::parse(kind).unwrap_or_else(|| {
        errors.add("kind", "Choose text, number or category.");
        VariableKind::Text
    });
    let allowed = model::parse_allowed_values(allowed);
    if kind == VariableKind::Category && allowed.is_empty() {
        errors.add(
            "allowed_values",
            "List the categories, separated by commas.",
        );
    }
    errors.into_result()?;
    let allowed = if kind == VariableKind::Category {
        allowed
    } else {
        Vec::new()
    };
    let variable =
        store::insert_variable(&mut *conn, actor.project_id, &name, kind, &allowed).await?;
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::VariableCreated)
            .project(actor.project_id)
            .entity(variable.id.0)
            .after(&variable),
    )
    .await?;
    Ok(variable)
}

/// Values typed for a participant, by variable, checked against its kind.
fn check_values(
    variables: &[Variable],
    input: &[(VariableId, String)],
    errors: &mut FieldErrors,
) -> Vec<(VariableId, String)> {
    let mut checked = Vec::new();
    for (variable_id, raw) in input {
        let Some(variable) = variables.iter().find(|v| v.id == *variable_id) else {
            errors.add(
                &format!("value_{variable_id}"),
                "This variable is not in the project.",
            );
            continue;
        };
        if raw.trim().is_empty() {
            checked.push((variable.id, String::new()));
            continue;
        }
        match variable.check_value(raw) {
            Ok(value) => checked.push((variable.id, value)),
            Err(message) => errors.add(&format!("value_{}", variable.id), message),
        }
    }
    checked
}

pub async fn create_participant(
    conn: &mut PgConnection,
    actor: &Actor,
    label: &str,
    values: &[(VariableId, String)],
) -> Result<Participant, AppError> {
    require_manager(actor)?;
    let variables = store::list_variables(&mut *conn, actor.project_id).await?;
    let mut errors = FieldErrors::new();
    let label = model::parse_label(&mut errors, "label", label);
    let values = check_values(&variables, values, &mut errors);
    errors.into_result()?;
    let id = store::insert_participant(&mut *conn, actor.project_id, &label).await?;
    for (variable_id, value) in &values {
        store::set_value(&mut *conn, id, *variable_id, value).await?;
    }
    let participant = store::get_participant(&mut *conn, actor.project_id, id).await?;
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::ParticipantCreated)
            .project(actor.project_id)
            .entity(id.0)
            .after(&participant),
    )
    .await?;
    Ok(participant)
}

pub async fn update_participant(
    conn: &mut PgConnection,
    actor: &Actor,
    id: ParticipantId,
    label: &str,
    values: &[(VariableId, String)],
    version: i32,
) -> Result<Participant, AppError> {
    require_manager(actor)?;
    let before = store::get_participant(&mut *conn, actor.project_id, id).await?;
    let variables = store::list_variables(&mut *conn, actor.project_id).await?;
    let mut errors = FieldErrors::new();
    let label = model::parse_label(&mut errors, "label", label);
    let values = check_values(&variables, values, &mut errors);
    errors.into_result()?;
    if !store::update_participant_label(&mut *conn, actor.project_id, id, &label, version).await? {
        return Err(AppError::stale(&before));
    }
    for (variable_id, value) in &values {
        store::set_value(&mut *conn, id, *variable_id, value).await?;
    }
    let after = store::get_participant(&mut *conn, actor.project_id, id).await?;
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::ParticipantUpdated)
            .project(actor.project_id)
            .entity(id.0)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

// The table import: upload, preview with a mapping, then one transaction.

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DraftPayload {
    pub table: Table,
}

pub async fn create_import_draft(
    conn: &mut PgConnection,
    actor: &Actor,
    file_name: &str,
    bytes: &[u8],
) -> Result<ImportDraftId, AppError> {
    require_manager(actor)?;
    let lower = file_name.to_lowercase();
    let kind = if lower.ends_with(".csv") || lower.ends_with(".txt") || lower.ends_with(".tsv") {
        TableKind::Csv
    } else if lower.ends_with(".xlsx") {
        TableKind::Xlsx
    } else {
        return Err(AppError::field(
            "file",
            format!("{file_name}: participant tables can be .csv or .xlsx files."),
        ));
    };
    let table = import::parse_table(bytes, kind)
        .map_err(|e| AppError::field("file", format!("{file_name}: {e}")))?;
    let payload =
        serde_json::to_value(DraftPayload { table }).map_err(|e| AppError::Internal(e.into()))?;
    store::insert_draft(
        &mut *conn,
        actor.project_id,
        actor.user_id,
        file_name,
        &payload,
    )
    .await
}

/// How one column is to be imported; `variable` empty means "leave out".
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnChoice {
    pub column: String,
    pub variable: String,
    pub kind: VariableKind,
    pub allowed_values: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportChoices {
    pub label_column: String,
    pub columns: Vec<ColumnChoice>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportPreview {
    pub file_name: String,
    pub headers: Vec<String>,
    pub row_count: usize,
    pub choices: ImportChoices,
    /// Row-level problems; nothing is imported while there are any.
    pub errors: Vec<RowError>,
    /// Labels that look like real names rather than pseudonyms.
    pub name_like_labels: Vec<String>,
    pub sample: Vec<Vec<String>>,
    /// Columns that go into a variable the project has already.
    pub matches: Vec<ColumnMatch>,
    /// The names of the project's variables.
    pub variables: Vec<String>,
    /// The first rows and every row with a problem, problems by cell.
    pub rows: Vec<PreviewRow>,
}

/// The preview shows this many rows, and every row with a problem.
const SAMPLE_ROWS: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct ColumnMatch {
    pub column: String,
    pub variable: String,
    /// The variable's name is the heading itself (ignoring case).
    pub exact: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewRow {
    /// The row number the researcher sees in their spreadsheet.
    pub row: usize,
    pub cells: Vec<PreviewCell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewCell {
    pub text: String,
    pub problem: Option<String>,
}

/// The mapping Concord proposes: the first column holds labels, every other
/// column becomes a variable of the inferred type, or goes into the existing
/// variable it names, in the same words or in others ("Experience (years)"
/// into "Years of experience"), with that variable's type. A column of
/// numbers with a few cells that are not is numeric, so those cells are
/// flagged rather than the whole column read as text.
fn suggest(table: &Table, variables: &[Variable]) -> ImportChoices {
    let label_column = table.headers.first().cloned().unwrap_or_default();
    let headings: Vec<&str> = table.headers.iter().skip(1).map(String::as_str).collect();
    let names: Vec<&str> = variables.iter().map(|v| v.name.as_str()).collect();
    let matched = model::match_variables(&headings, &names);
    let columns = table
        .headers
        .iter()
        .enumerate()
        .skip(1)
        .zip(matched)
        .map(|((i, header), found)| {
            let existing = found.map(|(v, _)| &variables[v]);
            let values = table.column(i);
            let inferred = existing.map(Variable::variable_type).unwrap_or_else(|| {
                match import::infer_type(&values) {
                    VariableType::Number => VariableType::Number,
                    _ if model::mostly_numbers(&values) => VariableType::Number,
                    other => other,
                }
            });
            let allowed = match &inferred {
                VariableType::Category(values) => values.clone(),
                _ => Vec::new(),
            };
            ColumnChoice {
                column: header.clone(),
                variable: existing.map_or_else(|| header.clone(), |v| v.name.clone()),
                kind: VariableKind::of(&inferred),
                allowed_values: allowed,
            }
        })
        .collect();
    ImportChoices {
        label_column,
        columns,
    }
}

/// The columns that go into a variable the project has already.
fn matches(choices: &ImportChoices, variables: &[Variable]) -> Vec<ColumnMatch> {
    choices
        .columns
        .iter()
        .filter(|c| c.column != choices.label_column)
        .filter_map(|c| {
            let existing = variables
                .iter()
                .find(|v| v.name.to_lowercase() == c.variable.trim().to_lowercase())?;
            Some(ColumnMatch {
                column: c.column.clone(),
                variable: existing.name.clone(),
                exact: existing.name.trim().to_lowercase() == c.column.trim().to_lowercase(),
            })
        })
        .collect()
}

/// The rows shown in the preview: the first few, then every row with a
/// problem, each cell with its problem if it has one.
fn preview_rows(table: &Table, errors: &[RowError]) -> Vec<PreviewRow> {
    table
        .rows
        .iter()
        .zip(&table.row_numbers)
        .enumerate()
        .filter(|(index, (_, row))| *index < SAMPLE_ROWS || errors.iter().any(|e| e.row == **row))
        .map(|(_, (cells, &row))| PreviewRow {
            row,
            cells: (0..table.headers.len())
                .map(|i| PreviewCell {
                    text: cells.get(i).cloned().unwrap_or_default(),
                    problem: errors
                        .iter()
                        .find(|e| e.row == row && table.column_index(&e.column) == Some(i))
                        .map(|e| e.message.clone()),
                })
                .collect(),
        })
        .collect()
}

fn variable_type(choice: &ColumnChoice, table: &Table) -> VariableType {
    match choice.kind {
        VariableKind::Text => VariableType::Text,
        VariableKind::Number => VariableType::Number,
        VariableKind::Category if !choice.allowed_values.is_empty() => {
            VariableType::Category(choice.allowed_values.clone())
        }
        VariableKind::Category => {
            // Chosen as a category by hand: every value in the column is allowed.
            let index = table.column_index(&choice.column).unwrap_or(0);
            let values = model::parse_allowed_values(&table.column(index).join("\n"));
            VariableType::Category(values)
        }
    }
}

fn check(
    table: &Table,
    choices: &ImportChoices,
    variables: &[Variable],
    existing_labels: &[String],
) -> (Vec<RowError>, Vec<import::ParticipantRecord>, TableMapping) {
    let mut errors = Vec::new();
    if table.column_index(&choices.label_column).is_none() {
        errors.push(RowError {
            row: table.header_row,
            column: choices.label_column.clone(),
            message: "Choose the column that holds the participant labels.".into(),
        });
    }
    let mapping = TableMapping {
        label_column: choices.label_column.clone(),
        variables: choices
            .columns
            .iter()
            .filter(|c| !c.variable.trim().is_empty() && c.column != choices.label_column)
            .map(|c| ColumnMapping {
                column: c.column.clone(),
                variable: c.variable.trim().to_owned(),
                kind: variable_type(c, table),
            })
            .collect(),
    };
    for column in &mapping.variables {
        if let Some(existing) = variables
            .iter()
            .find(|v| v.name.to_lowercase() == column.variable.to_lowercase())
            && existing.kind != VariableKind::of(&column.kind)
        {
            errors.push(RowError {
                row: table.header_row,
                column: column.column.clone(),
                message: format!(
                    "The project's variable '{}' holds {} values.",
                    existing.name,
                    existing.kind.as_str()
                ),
            });
        }
    }
    let records = match import::validate(table, &mapping) {
        Ok(records) => records,
        Err(row_errors) => {
            errors.extend(row_errors);
            Vec::new()
        }
    };
    for record in &records {
        if existing_labels
            .iter()
            .any(|l| l.to_lowercase() == record.label.to_lowercase())
        {
            errors.push(RowError {
                row: record.row,
                column: choices.label_column.clone(),
                message: format!(
                    "'{}' is a participant of this project already.",
                    record.label
                ),
            });
        }
    }
    (errors, records, mapping)
}

pub async fn preview_import(
    conn: &mut PgConnection,
    actor: &Actor,
    draft_id: ImportDraftId,
    choices: Option<ImportChoices>,
) -> Result<ImportPreview, AppError> {
    require_manager(actor)?;
    let draft = store::get_draft(&mut *conn, actor.project_id, draft_id).await?;
    let payload: DraftPayload =
        serde_json::from_value(draft.payload).map_err(|e| AppError::Internal(e.into()))?;
    let variables = store::list_variables(&mut *conn, actor.project_id).await?;
    let existing: Vec<String> = store::list_participants(&mut *conn, actor.project_id)
        .await?
        .into_iter()
        .map(|p| p.label)
        .collect();
    let table = payload.table;
    let choices = choices.unwrap_or_else(|| suggest(&table, &variables));
    let (errors, _, _) = check(&table, &choices, &variables, &existing);
    let labels: Vec<&str> = table
        .column_index(&choices.label_column)
        .map(|i| table.column(i))
        .unwrap_or_default();
    let name_like_labels = labels
        .iter()
        .filter(|l| import::label_looks_like_name(l))
        .map(|l| l.to_string())
        .collect();
    Ok(ImportPreview {
        file_name: draft.file_name,
        headers: table.headers.clone(),
        row_count: table.rows.len(),
        sample: table.rows.iter().take(SAMPLE_ROWS).cloned().collect(),
        matches: matches(&choices, &variables),
        variables: variables.iter().map(|v| v.name.clone()).collect(),
        rows: preview_rows(&table, &errors),
        choices,
        errors,
        name_like_labels,
    })
}

/// Imports every row in one transaction, or nothing when any row is wrong.
pub async fn commit_import(
    conn: &mut PgConnection,
    actor: &Actor,
    draft_id: ImportDraftId,
    choices: ImportChoices,
) -> Result<usize, AppError> {
    require_manager(actor)?;
    let draft = store::get_draft(&mut *conn, actor.project_id, draft_id).await?;
    let payload: DraftPayload =
        serde_json::from_value(draft.payload).map_err(|e| AppError::Internal(e.into()))?;
    let mut variables = store::list_variables(&mut *conn, actor.project_id).await?;
    let existing: Vec<String> = store::list_participants(&mut *conn, actor.project_id)
        .await?
        .into_iter()
        .map(|p| p.label)
        .collect();
    let (errors, records, mapping) = check(&payload.table, &choices, &variables, &existing);
    if !errors.is_empty() {
        let mut fields = FieldErrors::new();
        for error in errors {
            fields.add("rows", error.to_string());
        }
        return Err(AppError::Invalid(fields));
    }
    let mut targets = Vec::new();
    for column in &mapping.variables {
        let found = variables
            .iter()
            .find(|v| v.name.to_lowercase() == column.variable.to_lowercase())
            .cloned();
        let variable = match found {
            Some(v) => v,
            None => {
                let allowed = match &column.kind {
                    VariableType::Category(values) => values.clone(),
                    _ => Vec::new(),
                };
                let created = store::insert_variable(
                    &mut *conn,
                    actor.project_id,
                    &column.variable,
                    VariableKind::of(&column.kind),
                    &allowed,
                )
                .await?;
                audit::record(
                    &mut *conn,
                    Change::new(Some(actor.user_id), Action::VariableCreated)
                        .project(actor.project_id)
                        .entity(created.id.0)
                        .after(&created),
                )
                .await?;
                variables.push(created.clone());
                created
            }
        };
        targets.push(variable);
    }
    for record in &records {
        let id = store::insert_participant(&mut *conn, actor.project_id, &record.label).await?;
        for (variable, value) in targets.iter().zip(&record.values) {
            let text = match value {
                Value::Missing => continue,
                Value::Text(t) | Value::Category(t) => t.clone(),
                Value::Number(n) => model::format_number(*n),
            };
            store::set_value(&mut *conn, id, variable.id, &text).await?;
        }
    }
    store::delete_draft(&mut *conn, actor.project_id, draft_id).await?;
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::ParticipantsImported)
            .project(actor.project_id)
            .entity(actor.project_id.0)
            .after(
                &serde_json::json!({ "file_name": draft.file_name, "participants": records.len() }),
            ),
    )
    .await?;
    Ok(records.len())
}
