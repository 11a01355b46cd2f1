//! A REFI-QDA codebook (`.qdc`) into a project's shared codebook: a
//! deductive start. Each code keeps its description (split back into
//! definition and criteria when Concord wrote it), its colour and its
//! parent; a code whose name the codebook has already (case-insensitively)
//! is reported and not added again, its children going under the code that
//! is there. A project still on independent codebooks with no codes yet is
//! switched to a shared one; one whose coders have made codes of their own
//! is refused, since a shared codebook would hide them.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use super::import::{PlanCode, split_description};
use super::import_store as store;
use super::{FileKind, ReadOptions};
use crate::db::audit::{self, Action, Change};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize)]
pub struct CodebookImported {
    pub file_name: String,
    /// Names of the codes added, parents first.
    pub added: Vec<String>,
    /// Names already in the codebook (or twice in the file), not added again.
    pub duplicates: Vec<String>,
    /// Whether the project was switched to a shared codebook.
    pub switched_to_shared: bool,
    pub notices: Vec<String>,
}

const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

fn color(value: Option<&str>, index: usize) -> String {
    let hex = value
        .and_then(|v| v.trim().strip_prefix('#'))
        .filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()));
    match hex {
        Some(h) if h.len() == 6 => format!("#{}", h.to_lowercase()),
        Some(h) if h.len() == 3 => format!(
            "#{}",
            h.chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_lowercase()
        ),
        _ => PALETTE[index % PALETTE.len()].to_owned(),
    }
}

pub async fn import(
    state: &AppState,
    member: &Member,
    file_name: &str,
    bytes: &[u8],
) -> Result<CodebookImported, AppError> {
    if !file_name.to_lowercase().ends_with(".qdc") {
        return Err(AppError::field(
            "file",
            format!("{file_name} is not a REFI-QDA codebook: choose a .qdc file."),
        ));
    }
    let codebook = super::read(file_name, bytes, &ReadOptions::default())
        .map_err(|e| AppError::field("file", e.to_string()))?;
    if codebook.kind != FileKind::Qdc {
        return Err(AppError::field("file", "Choose a .qdc codebook."));
    }
    if codebook.codes.is_empty() {
        return Err(AppError::field(
            "file",
            format!("{file_name} has no codes."),
        ));
    }
    let mut tx = state.begin().await?;
    let mut switched = false;
    if !member.project.codebook_mode.is_shared() {
        if store::count_codes(&mut tx, member.project_id).await? > 0 {
            return Err(AppError::State(
                "This project's coders keep codebooks of their own, and some have codes already; a codebook file goes into a shared codebook. Switch the project to a shared codebook first (Assignments page), or import into a new project.".into(),
            ));
        }
        store::set_shared_codebook(&mut tx, member.project_id).await?;
        switched = true;
    }
    let mut existing = store::shared_code_names(&mut tx, member.project_id).await?;
    let mut plan: Vec<PlanCode> = Vec::new();
    let mut ids: HashMap<Uuid, Uuid> = HashMap::new();
    let mut duplicates = Vec::new();
    // (code, the id its parent has in this project)
    let mut stack: Vec<(&super::Code, Option<Uuid>)> =
        codebook.codes.iter().rev().map(|c| (c, None)).collect();
    while let Some((code, parent)) = stack.pop() {
        let name = code.name.trim().to_owned();
        let id = match existing.get(&name.to_lowercase()) {
            Some(id) => {
                duplicates.push(name.clone());
                *id
            }
            None => {
                let id = Uuid::new_v4();
                let (definition, inclusion, exclusion, example) =
                    split_description(code.description.as_deref().unwrap_or_default());
                ids.insert(id, id);
                if let Some(p) = parent {
                    ids.insert(p, p);
                }
                plan.push(PlanCode {
                    guid: id,
                    parent,
                    name: name.clone(),
                    path: Vec::new(),
                    definition,
                    inclusion,
                    exclusion,
                    example,
                    color: color(code.color.as_deref(), plan.len()),
                    codings: 0,
                });
                existing.insert(name.to_lowercase(), id);
                id
            }
        };
        for child in code.children.iter().rev() {
            stack.push((child, Some(id)));
        }
    }
    store::insert_codes(&mut tx, member.project_id, member.user.id, &plan, &ids).await?;
    let mut notices = codebook.notices.clone();
    if !codebook.sets.is_empty() {
        notices.push(format!(
            "{} set(s) were not imported: Concord has no sets.",
            codebook.sets.len()
        ));
    }
    let outcome = CodebookImported {
        file_name: file_name.to_owned(),
        added: plan.iter().map(|c| c.name.clone()).collect(),
        duplicates,
        switched_to_shared: switched,
        notices,
    };
    audit::record(
        &mut tx,
        Change::new(Some(member.user.id), Action::CodebookImported)
            .project(member.project_id)
            .entity(member.project_id.0)
            .after(&serde_json::json!({
                "outcome": &outcome,
                "codes": plan.iter().map(|c| serde_json::json!({"id": c.guid, "name": c.name, "parent_id": c.parent})).collect::<Vec<_>>(),
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}
