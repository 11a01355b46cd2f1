//! Assigning coders, submitting and reopening layers, and coding progress.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::PgConnection;

use super::model::AssignmentState;
use super::store::{self, Assignment, AssignmentRow};
use crate::coding::blinding::Viewer;
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{AssignmentId, ProjectId, TranscriptId, UserId};
use crate::error::{AppError, FieldErrors};
use crate::projects::member::Actor;
use crate::projects::model::Role;
use crate::projects::store as projects;
use crate::reconcile::service::Refile;

async fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    action: Action,
    before: Option<&Assignment>,
    after: &Assignment,
) -> Result<(), AppError> {
    let mut change = Change::new(Some(actor.user_id), action)
        .project(actor.project_id)
        .entity(after.id.0)
        .transcript(after.transcript_id)
        .subject(after.user_id)
        .after(after);
    if let Some(before) = before {
        change = change.before(before);
    }
    audit::record(conn, change).await
}

/// Assigns every listed member to every listed transcript; existing
/// assignments stay as they are. Returns how many were new.
pub async fn assign(
    conn: &mut PgConnection,
    actor: &Actor,
    transcript_ids: &[TranscriptId],
    user_ids: &[UserId],
) -> Result<usize, AppError> {
    actor.require(&[Role::Lead])?;
    actor.require_active()?;
    let mut errors = FieldErrors::new();
    if transcript_ids.is_empty() {
        errors.add("transcript_ids", "Choose at least one transcript.");
    }
    if user_ids.is_empty() {
        errors.add("user_ids", "Choose at least one coder.");
    }
    errors.into_result()?;
    let transcripts: Vec<TranscriptId> = store::transcript_texts(&mut *conn, actor.project_id)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    if let Some(unknown) = transcript_ids.iter().find(|t| !transcripts.contains(t)) {
        return Err(AppError::field(
            "transcript_ids",
            format!("{unknown} is not a transcript of this project."),
        ));
    }
    let members = projects::list_members(&mut *conn, actor.project_id).await?;
    for user in user_ids {
        match members.iter().find(|m| m.user_id == *user) {
            None => {
                return Err(AppError::field(
                    "user_ids",
                    format!("{user} is not a member of this project."),
                ));
            }
            Some(m) if m.role == Role::Reviewer => {
                return Err(AppError::field(
                    "user_ids",
                    format!("{} is a reviewer; reviewers do not code.", m.display_name),
                ));
            }
            Some(_) => {}
        }
    }
    let mut created = 0;
    for transcript in transcript_ids {
        for user in user_ids {
            if let Some(id) =
                store::insert(&mut *conn, actor.project_id, *transcript, *user).await?
            {
                let assignment = store::get(&mut *conn, actor.project_id, id).await?;
                record(
                    &mut *conn,
                    actor,
                    Action::AssignmentCreated,
                    None,
                    &assignment,
                )
                .await?;
                created += 1;
            }
        }
    }
    Ok(created)
}

pub async fn submit(
    conn: &mut PgConnection,
    actor: &Actor,
    transcript_id: TranscriptId,
) -> Result<Assignment, AppError> {
    actor.require_active()?;
    // Two coders submitting at once take turns, so that the second sees the
    // first's submit and knows the transcript is complete.
    store::lock_transcript(&mut *conn, actor.project_id, transcript_id).await?;
    let before = store::find_for(&mut *conn, actor.project_id, transcript_id, actor.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if before.state.is_submitted() {
        return Ok(before);
    }
    let after = store::set_state(
        &mut *conn,
        actor.project_id,
        before.id,
        AssignmentState::Submitted,
    )
    .await?;
    record(
        &mut *conn,
        actor,
        Action::AssignmentSubmitted,
        Some(&before),
        &after,
    )
    .await?;
    // The last coder's submit completes the transcript: its agreements are
    // accepted now, if the project accepts them automatically.
    crate::reconcile::service::file_automatic_for(&mut *conn, actor, Refile::One(transcript_id))
        .await?;
    Ok(after)
}

pub async fn reopen(
    conn: &mut PgConnection,
    actor: &Actor,
    id: AssignmentId,
) -> Result<Assignment, AppError> {
    actor.require(&[Role::Lead])?;
    actor.require_active()?;
    let before = store::get(&mut *conn, actor.project_id, id).await?;
    if !before.state.is_submitted() {
        return Ok(before);
    }
    let after = store::set_state(
        &mut *conn,
        actor.project_id,
        id,
        AssignmentState::InProgress,
    )
    .await?;
    record(
        &mut *conn,
        actor,
        Action::AssignmentReopened,
        Some(&before),
        &after,
    )
    .await?;
    Ok(after)
}

/// Only an assignment with nothing coded yet can be withdrawn.
pub async fn remove(
    conn: &mut PgConnection,
    actor: &Actor,
    id: AssignmentId,
) -> Result<(), AppError> {
    actor.require(&[Role::Lead])?;
    actor.require_active()?;
    let before = store::get(&mut *conn, actor.project_id, id).await?;
    store::lock_transcript(&mut *conn, actor.project_id, before.transcript_id).await?;
    let coded: i64 = sqlx::query_scalar!(
        r#"select count(*) as "count!" from codings where transcript_id = $1 and coder_id = $2"#,
        before.transcript_id as TranscriptId,
        before.user_id as UserId
    )
    .fetch_one(&mut *conn)
    .await?;
    if coded > 0 {
        return Err(AppError::State(
            "This coder has started coding this transcript; the assignment stays.".into(),
        ));
    }
    store::delete(&mut *conn, actor.project_id, id).await?;
    let mut removed = serde_json::to_value(&before).unwrap_or_default();
    removed["state"] = "removed".into();
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::AssignmentRemoved)
            .project(actor.project_id)
            .entity(before.id.0)
            .transcript(before.transcript_id)
            .subject(before.user_id)
            .before(&before)
            .after_value(Some(removed)),
    )
    .await?;
    // Without this coder, everyone left may have submitted.
    crate::reconcile::service::file_automatic_for(
        &mut *conn,
        actor,
        Refile::One(before.transcript_id),
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct AssignmentProgress {
    #[serde(flatten)]
    pub row: AssignmentRow,
    /// `None` where the viewer is blind to this coder's layer (a lead still
    /// coding the same transcript): progress is read off the layer.
    pub lines_touched: Option<usize>,
    pub lines_total: usize,
}

impl AssignmentProgress {
    pub fn percent(&self) -> Option<usize> {
        self.lines_touched
            .map(|touched| (touched * 100).checked_div(self.lines_total).unwrap_or(0))
    }
}

/// Where a text's lines start (in code points) and which hold more than
/// white space: read once per transcript, then laid under each coder's layer.
pub struct Lines {
    starts: Vec<usize>,
    nonempty: Vec<bool>,
    total: usize,
}

impl Lines {
    pub fn of(text: &str) -> Lines {
        let mut starts = Vec::new();
        let mut nonempty = Vec::new();
        let mut offset = 0;
        for line in text.split('\n') {
            let length = line.chars().count();
            starts.push(offset);
            nonempty.push(!line.trim().is_empty());
            offset += length + 1;
        }
        let total = nonempty.iter().filter(|n| **n).count();
        Lines {
            starts,
            nonempty,
            total,
        }
    }

    /// Non-empty lines under at least one of `spans`, and non-empty lines in all.
    pub fn touched(&self, spans: &[(i32, i32)]) -> (usize, usize) {
        let line_of = |pos: usize| self.starts.partition_point(|&s| s <= pos).saturating_sub(1);
        let mut marks = vec![0i32; self.starts.len() + 1];
        for &(start, end) in spans {
            let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
                continue;
            };
            if end <= start {
                continue;
            }
            marks[line_of(start)] += 1;
            marks[line_of(end - 1) + 1] -= 1;
        }
        let mut depth = 0;
        let mut touched = 0;
        for (i, is_text) in self.nonempty.iter().enumerate() {
            depth += marks[i];
            if *is_text && depth > 0 {
                touched += 1;
            }
        }
        (touched, self.total)
    }
}

/// Share of non-empty lines that hold at least one coding.
pub fn lines_touched(text: &str, spans: &[(i32, i32)]) -> (usize, usize) {
    Lines::of(text).touched(spans)
}

/// Assignments with progress: all of them for leads, the caller's own otherwise.
pub async fn list_with_progress(
    conn: &mut PgConnection,
    actor: &Actor,
) -> Result<Vec<AssignmentProgress>, AppError> {
    let only = if actor.require(&[Role::Lead]).is_ok() {
        None
    } else {
        Some(actor.user_id)
    };
    let viewer = Viewer::of(&mut *conn, actor).await?;
    let rows = store::list(&mut *conn, actor.project_id, only).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let lines: HashMap<TranscriptId, Lines> = store::transcript_texts(&mut *conn, actor.project_id)
        .await?
        .into_iter()
        .map(|(id, text)| (id, Lines::of(&text)))
        .collect();
    let mut spans: HashMap<(TranscriptId, UserId), Vec<(i32, i32)>> = HashMap::new();
    let transcripts: Vec<TranscriptId> = lines.keys().copied().collect();
    for (t, u, s, e) in store::layer_spans(&mut *conn, actor.project_id, &transcripts).await? {
        spans.entry((t, u)).or_default().push((s, e));
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let layer = spans
                .get(&(row.assignment.transcript_id, row.assignment.user_id))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let (touched, lines_total) = lines
                .get(&row.assignment.transcript_id)
                .map_or((0, 0), |l| l.touched(layer));
            let visible =
                viewer.can_see_progress_of(row.assignment.transcript_id, row.assignment.user_id);
            AssignmentProgress {
                row,
                lines_touched: visible.then_some(touched),
                lines_total,
            }
        })
        .collect())
}

pub async fn set_codebook_mode(
    conn: &mut PgConnection,
    actor: &Actor,
    mode: &str,
) -> Result<(), AppError> {
    actor.require(&[Role::Owner])?;
    actor.require_active()?;
    let Some(mode) = crate::projects::model::CodebookMode::parse(mode) else {
        return Err(AppError::field(
            "codebook_mode",
            "Choose independent or shared.",
        ));
    };
    let codes: i64 = sqlx::query_scalar!(
        r#"select count(*) as "count!" from codes where project_id = $1"#,
        actor.project_id as ProjectId
    )
    .fetch_one(&mut *conn)
    .await?;
    if codes > 0 && mode != actor.project.codebook_mode {
        return Err(AppError::State(
            "Coders have made codes already; the codebook mode can no longer change.".into(),
        ));
    }
    let before = projects::get_project(&mut *conn, actor.project_id).await?;
    let after = projects::set_codebook_mode(&mut *conn, actor.project_id, mode).await?;
    audit::record(
        &mut *conn,
        Change::new(Some(actor.user_id), Action::CodebookModeChanged)
            .project(actor.project_id)
            .entity(actor.project_id.0)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(())
}

/// The caller's assignment on the home page.
pub struct HomeAssignment {
    pub project_id: ProjectId,
    pub project_name: String,
    pub transcript_id: TranscriptId,
    pub transcript_title: String,
    pub state: AssignmentState,
    pub percent: usize,
}

pub async fn my_assignments(
    conn: &mut PgConnection,
    user_id: UserId,
) -> Result<Vec<HomeAssignment>, AppError> {
    let rows = store::list_for_user(conn, user_id).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut spans: HashMap<TranscriptId, Vec<(i32, i32)>> = HashMap::new();
    for (t, s, e) in store::user_spans(conn, user_id).await? {
        spans.entry(t).or_default().push((s, e));
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let (touched, total) = lines_touched(
                &r.text,
                spans
                    .get(&r.transcript_id)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]),
            );
            HomeAssignment {
                project_id: r.project_id,
                project_name: r.project_name,
                transcript_id: r.transcript_id,
                transcript_title: r.transcript_title,
                state: r.state,
                percent: (touched * 100).checked_div(total).unwrap_or(0),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_non_empty_lines_under_a_coding() {
        let text = "one\n\ntwo 👋\nthree\nfour";
        // "two 👋" starts at 5; "three" at 11; "four" at 17.
        assert_eq!(lines_touched(text, &[]), (0, 4));
        assert_eq!(lines_touched(text, &[(5, 8)]), (1, 4));
        assert_eq!(
            lines_touched(text, &[(0, 12)]),
            (3, 4),
            "the empty line does not count"
        );
        assert_eq!(lines_touched(text, &[(17, 21), (18, 19)]), (1, 4));
    }
}
