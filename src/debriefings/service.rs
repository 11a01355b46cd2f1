//! Peer debriefing records: who may read and write them, their checks, and
//! their audit rows.
//!
//! A session record tells what the team decided about themes and codes, so it
//! is read by those who may see the agreed codebook (owners, leads and coders
//! who are not still coding; not reviewers, whose part is member checking) and
//! written by owners and leads.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use sqlx::PgConnection;

use super::store::{self, Debriefing, Fields};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{AgreedCodeId, ThemeNodeId, UserId};
use crate::error::{AppError, FieldErrors};
use crate::projects::member::Actor;
use crate::projects::model::Role;
use crate::themes::service::{Editor, Reader};

/// A member of the team who may read the agreed codebook: not a reviewer,
/// not still coding any transcript.
pub async fn team_reader(conn: &mut PgConnection, actor: &Actor) -> Result<Reader, AppError> {
    actor.require(&[Role::Lead, Role::Coder])?;
    Reader::of(conn, actor).await
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A `YYYY-MM-DD` date, checked, or None.
pub fn parse_date(value: &str) -> Option<time::Date> {
    let parts: Vec<&str> = value.trim().split('-').collect();
    let [y, m, d] = parts[..] else { return None };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// "12 March 2026" for `2026-03-12` (the text itself when it is no date).
pub fn date_label(value: &str) -> String {
    match parse_date(value) {
        Some(d) => format!(
            "{} {} {}",
            d.day(),
            MONTHS[usize::from(u8::from(d.month())) - 1],
            d.year()
        ),
        None => value.to_owned(),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewDebriefing {
    /// `YYYY-MM-DD`.
    pub held_on: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub decisions: String,
    /// Members who attended.
    #[serde(default)]
    pub attendees: Vec<UserId>,
    /// Attendees who are not members, by name.
    #[serde(default)]
    pub guests: Vec<String>,
    #[serde(default)]
    pub nodes: Vec<ThemeNodeId>,
    #[serde(default)]
    pub codes: Vec<AgreedCodeId>,
    /// For a change: the version read.
    #[serde(default)]
    pub version: Option<i32>,
}

struct Checked {
    held_on: String,
    guests: Vec<String>,
    attendees: Vec<UserId>,
    nodes: Vec<ThemeNodeId>,
    codes: Vec<AgreedCodeId>,
}

fn dedup<T: Eq + std::hash::Hash + Copy>(items: &[T]) -> Vec<T> {
    let mut seen = HashSet::new();
    items.iter().copied().filter(|i| seen.insert(*i)).collect()
}

async fn check(
    conn: &mut PgConnection,
    editor: Editor,
    input: &NewDebriefing,
) -> Result<Checked, AppError> {
    let project = editor.reader.project_id;
    let mut errors = FieldErrors::new();
    let held_on = match parse_date(&input.held_on) {
        Some(_) => input.held_on.trim().to_owned(),
        None => {
            errors.add("held_on", "Give the session's date, written YYYY-MM-DD.");
            String::new()
        }
    };
    if input.title.chars().count() > 200 {
        errors.add("title", crate::messages::at_most(200));
    }
    for (field, text) in [("notes", &input.notes), ("decisions", &input.decisions)] {
        if text.chars().count() > 50_000 {
            errors.add(field, "At most 50000 characters.");
        }
    }
    if input.notes.trim().is_empty() && input.decisions.trim().is_empty() {
        errors.add("notes", "Write the notes or the decisions of the session.");
    }
    let guests: Vec<String> = input
        .guests
        .iter()
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    if guests.len() > 100 || guests.iter().any(|g| g.chars().count() > 200) {
        errors.add("guests", "At most 100 names of at most 200 characters.");
    }
    let attendees = dedup(&input.attendees);
    let members: HashSet<UserId> = crate::projects::store::list_members(conn, project)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    if attendees.iter().any(|a| !members.contains(a)) {
        errors.add(
            "attendees",
            "Each attendee chosen must be a member of this project; name others as guests.",
        );
    }
    let nodes = dedup(&input.nodes);
    let live_nodes: HashSet<ThemeNodeId> =
        crate::themes::store::list_nodes(conn, project, editor.reader.proof)
            .await?
            .into_iter()
            .map(|n| n.id)
            .collect();
    if nodes.iter().any(|n| !live_nodes.contains(n)) {
        errors.add("nodes", crate::messages::NO_SUCH_THEME);
    }
    let codes = dedup(&input.codes);
    let live_codes: HashSet<AgreedCodeId> = crate::codebook::store::list_agreed(conn, project)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    if codes.iter().any(|c| !live_codes.contains(c)) {
        errors.add("codes", crate::messages::NO_SUCH_AGREED_CODE);
    }
    errors.into_result()?;
    Ok(Checked {
        held_on,
        guests,
        attendees,
        nodes,
        codes,
    })
}

pub async fn create(
    tx: &mut PgConnection,
    editor: Editor,
    input: NewDebriefing,
) -> Result<Debriefing, AppError> {
    let project = editor.reader.project_id;
    let checked = check(tx, editor, &input).await?;
    let id = uuid::Uuid::now_v7();
    let fields = Fields {
        held_on: &checked.held_on,
        title: input.title.trim(),
        notes: input.notes.trim(),
        decisions: input.decisions.trim(),
        guests: &checked.guests,
    };
    store::insert(tx, project, id, &fields, editor.user_id).await?;
    store::set_people_and_links(
        tx,
        project,
        id,
        &checked.attendees,
        &checked.nodes,
        &checked.codes,
    )
    .await?;
    let after = get(tx, project, id).await?;
    audit::record(
        tx,
        Change::new(Some(editor.user_id), Action::DebriefingRecorded)
            .project(project)
            .entity(id)
            .after(&after),
    )
    .await?;
    Ok(after)
}

pub async fn update(
    tx: &mut PgConnection,
    editor: Editor,
    id: uuid::Uuid,
    input: NewDebriefing,
) -> Result<Debriefing, AppError> {
    let project = editor.reader.project_id;
    let before = get(tx, project, id).await?;
    let version = input
        .version
        .ok_or_else(|| AppError::field("version", crate::messages::SEND_VERSION))?;
    let checked = check(tx, editor, &input).await?;
    let fields = Fields {
        held_on: &checked.held_on,
        title: input.title.trim(),
        notes: input.notes.trim(),
        decisions: input.decisions.trim(),
        guests: &checked.guests,
    };
    if !store::update(tx, project, id, version, &fields).await? {
        return Err(AppError::stale(&before));
    }
    store::set_people_and_links(
        tx,
        project,
        id,
        &checked.attendees,
        &checked.nodes,
        &checked.codes,
    )
    .await?;
    let after = get(tx, project, id).await?;
    audit::record(
        tx,
        Change::new(Some(editor.user_id), Action::DebriefingUpdated)
            .project(project)
            .entity(id)
            .before(&before)
            .after(&after),
    )
    .await?;
    Ok(after)
}

pub async fn get(
    conn: &mut PgConnection,
    project: crate::db::ids::ProjectId,
    id: uuid::Uuid,
) -> Result<Debriefing, AppError> {
    store::list(conn, project, Some(id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

pub async fn list(conn: &mut PgConnection, reader: Reader) -> Result<Vec<Debriefing>, AppError> {
    store::list(conn, reader.project_id, None).await
}

/// The sessions each node and each code was discussed in, newest first:
/// (debriefing id, date).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DiscussedIn {
    pub nodes: HashMap<uuid::Uuid, Vec<(uuid::Uuid, String)>>,
    pub codes: HashMap<uuid::Uuid, Vec<(uuid::Uuid, String)>>,
}

impl DiscussedIn {
    /// "discussed in the debriefings of 12 March 2026 and 3 April 2026".
    pub fn sentence(sessions: &[(uuid::Uuid, String)]) -> String {
        let dates: Vec<String> = sessions.iter().map(|(_, d)| date_label(d)).collect();
        match dates.len() {
            0 => String::new(),
            1 => format!("Discussed in the debriefing of {}", dates[0]),
            n => format!(
                "Discussed in the debriefings of {} and {}",
                dates[..n - 1].join(", "),
                dates[n - 1]
            ),
        }
    }
}

pub async fn discussed(conn: &mut PgConnection, reader: Reader) -> Result<DiscussedIn, AppError> {
    let mut out = DiscussedIn::default();
    for d in store::discussed(conn, reader.project_id).await? {
        let entry = (d.debriefing_id, d.held_on);
        if let Some(n) = d.node_id {
            out.nodes.entry(n).or_default().push(entry);
        } else if let Some(c) = d.agreed_code_id {
            out.codes.entry(c).or_default().push(entry);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_and_written_out() {
        assert_eq!(date_label("2026-03-12"), "12 March 2026");
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("12/03/2026").is_none());
        assert!(parse_date("2026-3-12").is_none());
        let a = (uuid::Uuid::nil(), "2026-03-12".to_owned());
        let b = (uuid::Uuid::nil(), "2026-04-03".to_owned());
        assert_eq!(
            DiscussedIn::sentence(std::slice::from_ref(&a)),
            "Discussed in the debriefing of 12 March 2026"
        );
        assert_eq!(
            DiscussedIn::sentence(&[a, b]),
            "Discussed in the debriefings of 12 March 2026 and 3 April 2026"
        );
    }
}
