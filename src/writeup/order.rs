//! The interview order the lead sets for saturation (by import order, by a
//! participant variable holding dates or numbers, or by hand), stored per
//! project, with its queries, checks and audit row.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::db::audit::{self, Action, Change};
use crate::db::ids::{ProjectId, TranscriptId, UserId, VariableId};
use crate::error::AppError;
use crate::themes::service::{Editor, Reader};

/// The stored order; a project that never set one is in import order.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InterviewOrder {
    /// import, variable or manual.
    pub mode: String,
    pub variable_id: Option<VariableId>,
    /// The variable's name, while it is live.
    pub variable: Option<String>,
    /// By hand: the transcripts in order (any not listed follow in import order).
    pub transcript_ids: Vec<TranscriptId>,
    pub updated_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
    /// 0 while never set.
    pub version: i32,
}

impl InterviewOrder {
    /// The saturation page's `order` value this order stands for.
    pub fn key(&self) -> String {
        match (self.mode.as_str(), &self.variable) {
            ("manual", _) => "manual".into(),
            ("variable", Some(name)) => name.clone(),
            _ => "import".into(),
        }
    }

    /// "by Date of interview", "by hand", "in import order".
    pub fn describe(&self) -> String {
        match (self.mode.as_str(), &self.variable) {
            ("manual", _) => "by hand".into(),
            ("variable", Some(name)) => format!("by {name}"),
            _ => "in import order".into(),
        }
    }
}

pub async fn get(conn: &mut PgConnection, project: ProjectId) -> Result<InterviewOrder, AppError> {
    let row = sqlx::query!(
        r#"select o.mode, o.variable_id as "variable_id: VariableId",
                  (select v.name from variables v where v.id = o.variable_id and v.deleted_at is null) as "variable?",
                  o.transcript_ids as "transcript_ids: Vec<TranscriptId>",
                  u.display_name as "updated_by?", o.updated_at, o.version
             from interview_orders o left join users u on u.id = o.updated_by
            where o.project_id = $1"#,
        project as ProjectId
    )
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(r) => InterviewOrder {
            mode: r.mode,
            variable_id: r.variable_id,
            variable: r.variable,
            transcript_ids: r.transcript_ids,
            updated_by: r.updated_by,
            updated_at: Some(r.updated_at),
            version: r.version,
        },
        None => InterviewOrder {
            mode: "import".into(),
            variable_id: None,
            variable: None,
            transcript_ids: Vec::new(),
            updated_by: None,
            updated_at: None,
            version: 0,
        },
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SetOrder {
    /// import, variable or manual.
    pub mode: String,
    /// For `variable`: the variable's name.
    #[serde(default)]
    pub variable: Option<String>,
    /// For `manual`: every transcript in order.
    #[serde(default)]
    pub transcript_ids: Vec<TranscriptId>,
    /// The version read (0 when never set).
    pub version: i32,
}

/// Sets the project's interview order.
pub async fn set(
    tx: &mut PgConnection,
    editor: Editor,
    input: SetOrder,
) -> Result<InterviewOrder, AppError> {
    let project = editor.reader.project_id;
    let before = get(tx, project).await?;
    let (variable, ids) = match input.mode.as_str() {
        "import" => (None, Vec::new()),
        "variable" => {
            let name = input.variable.as_deref().unwrap_or("").trim();
            let data = super::service::load(tx, editor.reader).await?;
            let variable = data
                .variable(name)
                .ok_or_else(|| AppError::field("variable", crate::messages::NO_SUCH_VARIABLE))?;
            if !super::service::orders_by(&data, variable) {
                return Err(AppError::field(
                    "variable",
                    crate::messages::cannot_order_by(&variable.name),
                ));
            }
            (Some(variable.id), Vec::new())
        }
        "manual" => {
            let live: HashSet<TranscriptId> =
                crate::transcripts::store::list_transcripts(tx, project, false)
                    .await?
                    .into_iter()
                    .map(|t| t.id)
                    .collect();
            let mut seen = HashSet::new();
            if input.transcript_ids.is_empty()
                || input
                    .transcript_ids
                    .iter()
                    .any(|t| !live.contains(t) || !seen.insert(*t))
            {
                return Err(AppError::field(
                    "transcript_ids",
                    "List the project's transcripts, each once, in the order you want.",
                ));
            }
            (None, input.transcript_ids.clone())
        }
        _ => {
            return Err(AppError::field(
                "mode",
                "Choose import order, a participant variable or your own order.",
            ));
        }
    };
    let raw: Vec<uuid::Uuid> = ids.iter().map(|t| t.0).collect();
    let done = sqlx::query!(
        r#"insert into interview_orders (project_id, mode, variable_id, transcript_ids, updated_by)
           values ($1, $2, $3, $4, $5)
           on conflict (project_id) do update
              set mode = excluded.mode, variable_id = excluded.variable_id,
                  transcript_ids = excluded.transcript_ids, updated_by = excluded.updated_by,
                  updated_at = now(), version = interview_orders.version + 1
            where interview_orders.version = $6"#,
        project as ProjectId,
        input.mode,
        variable as Option<VariableId>,
        &raw,
        editor.user_id as UserId,
        input.version
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done != 1 || (before.version == 0 && input.version != 0) {
        return Err(AppError::stale(&before));
    }
    let after = get(tx, project).await?;
    audit::record(
        tx,
        Change::new(Some(editor.user_id), Action::InterviewOrderSet)
            .project(project)
            .entity(project.0)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

/// The project's transcripts in the stored manual order (then the rest in
/// import order): what the by-hand list shows.
pub async fn manual_list(
    conn: &mut PgConnection,
    reader: Reader,
    order: &InterviewOrder,
) -> Result<Vec<(TranscriptId, String, Option<String>)>, AppError> {
    let mut all =
        crate::transcripts::store::list_transcripts(conn, reader.project_id, false).await?;
    all.sort_by_key(|t| (t.created_at, t.id));
    let rank = |id: &TranscriptId| {
        order
            .transcript_ids
            .iter()
            .position(|t| t == id)
            .unwrap_or(usize::MAX)
    };
    all.sort_by_key(|t| rank(&t.id));
    Ok(all
        .into_iter()
        .map(|t| (t.id, t.title, t.participant_label))
        .collect())
}
