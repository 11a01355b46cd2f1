//! Importing a REFI-QDA project (`.qdpx`, or a bare `.qde`) as a new Concord
//! project, and a codebook (`.qdc`) into a project's shared codebook.
//!
//! [`plan`] is pure: from a read and checked [`Project`] it decides what each
//! part becomes and says what it could not map, which is what the preview
//! shows. [`store_plan`] writes a plan in the caller's transaction, with its
//! audit row; it takes the acting user, never a request.
//!
//! What becomes what:
//! - the project is a new project with a **shared codebook**, since a
//!   REFI-QDA project has one codebook that every user codes with; the
//!   importing user is its owner;
//! - each text source with its text is a transcript; the reader has already
//!   canonicalised it as every import does and mapped each selection onto
//!   its code points (`offsets.rs`);
//! - each case is a participant, each variable a participant variable;
//! - each code is a shared code, nested codes keeping their parent
//!   (`codes.parent_id`), so the hierarchy survives as the codebook's tree;
//! - each user who coded is a placeholder account (no password: it cannot
//!   sign in until a site admin gives it a password-reset link) and a coder
//!   of the project, and their codings are their **submitted** layer of each
//!   transcript they coded, so the project can be compared and reconciled
//!   at once;
//! - notes linked to a coding or its selection are the coding's memo.
//!
//! GUIDs are kept as ids when no row on this site has them yet, so a
//! Concord export imported on another site keeps every id; otherwise a new
//! id is given and the preview says how many.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{FileKind, Project, VariableType};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{ProjectId, UserId};
use crate::error::AppError;
use crate::import::{Encoding, Turn};
use crate::participants::model::VariableKind;

/// The key of the codings that name no user at all.
pub const UNATTRIBUTED: Uuid = Uuid::nil();

#[derive(Debug, Clone, Serialize)]
pub struct PlanUser {
    pub guid: Uuid,
    pub name: String,
    pub codings: usize,
    pub transcripts: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanCode {
    pub guid: Uuid,
    pub parent: Option<Uuid>,
    pub name: String,
    /// The names from the top code down to this one.
    pub path: Vec<String>,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    /// `#rrggbb`, lower case.
    pub color: String,
    pub codings: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanVariable {
    pub guid: Uuid,
    pub name: String,
    pub kind: &'static str,
    pub allowed_values: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanParticipant {
    pub guid: Uuid,
    pub label: String,
    /// By variable GUID, in the variable's stored form.
    pub values: BTreeMap<Uuid, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanSource {
    pub guid: Uuid,
    pub title: String,
    /// Stored as a transcript (it has its text).
    pub imported: bool,
    pub characters: usize,
    pub selections: usize,
    pub participant: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PlanTranscript {
    pub guid: Uuid,
    pub title: String,
    pub participant: Option<Uuid>,
    pub text: String,
    pub sha256: String,
    pub char_count: usize,
    pub turns: Vec<Turn>,
    pub word_count: i32,
}

#[derive(Debug, Clone)]
pub struct PlanCoding {
    pub guid: Uuid,
    pub transcript: Uuid,
    pub user: Uuid,
    pub code: Uuid,
    pub start: u32,
    pub end: u32,
    pub memo: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanConvention {
    pub convention: super::Convention,
    pub description: &'static str,
    pub reason: String,
}

/// What an import will store, and what it could not map and why.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub file_name: String,
    pub kind: FileKind,
    pub origin: Option<String>,
    pub project_name: String,
    pub convention: Option<PlanConvention>,
    pub sources: Vec<PlanSource>,
    pub users: Vec<PlanUser>,
    pub codes: Vec<PlanCode>,
    pub variables: Vec<PlanVariable>,
    pub participants: Vec<PlanParticipant>,
    pub coding_count: usize,
    /// Notes not on a coding (on the project, a source or a code): memos on
    /// the project.
    pub memos: Vec<PlanMemo>,
    /// Read from the file but not kept, or changed on the way in, with why.
    pub not_mapped: Vec<String>,
    #[serde(skip)]
    pub transcripts: Vec<PlanTranscript>,
    #[serde(skip)]
    pub codings: Vec<PlanCoding>,
}

/// A note that becomes a memo on the project.
#[derive(Debug, Clone, Serialize)]
pub struct PlanMemo {
    pub guid: Uuid,
    /// The note's name (what it was on, for Concord's own notes).
    pub title: String,
    pub body: String,
    /// `YYYY-MM-DD`; none: the day of the import.
    pub written_on: Option<String>,
    /// Its creating user; the memo's author when that user becomes a coder,
    /// else the person importing.
    pub author: Option<Uuid>,
}

const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// `#RGB` or `#RRGGBB` as the codes table keeps it (`#rrggbb`).
fn six_digit_color(color: &str) -> Option<String> {
    let hex = color.trim().strip_prefix('#')?;
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        6 => Some(format!("#{}", hex.to_lowercase())),
        3 => Some(format!(
            "#{}",
            hex.chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_lowercase()
        )),
        _ => None,
    }
}

/// A REFI-QDA Description split back into Concord's fields: paragraphs
/// headed `Inclusion:`, `Exclusion:` or `Example:` (as Concord writes them)
/// go to those fields, the rest is the definition.
pub fn split_description(description: &str) -> (String, String, String, String) {
    let (mut definition, mut inclusion, mut exclusion, mut example) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for part in description.split("\n\n") {
        if let Some(rest) = part.strip_prefix("Inclusion: ") {
            inclusion.push(rest.trim());
        } else if let Some(rest) = part.strip_prefix("Exclusion: ") {
            exclusion.push(rest.trim());
        } else if let Some(rest) = part.strip_prefix("Example: ") {
            example.push(rest.trim());
        } else {
            definition.push(part.trim());
        }
    }
    let join = |v: Vec<&str>| {
        v.into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n")
    };
    (
        join(definition),
        join(inclusion),
        join(exclusion),
        join(example),
    )
}

/// The codes of `project` in depth-first order (parents first), names made
/// unique case-insensitively (the codebook's rule) with their parent's name.
fn plan_codes(project: &Project, not_mapped: &mut Vec<String>) -> Vec<PlanCode> {
    let mut out: Vec<PlanCode> = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    let mut not_codable = 0;
    let mut stack: Vec<(&super::Code, Option<Uuid>, Vec<String>)> = project
        .codes
        .iter()
        .rev()
        .map(|c| (c, None, Vec::new()))
        .collect();
    while let Some((code, parent, parents)) = stack.pop() {
        let base = code.name.trim();
        let base = if base.is_empty() { "(unnamed)" } else { base };
        let mut name = base.to_owned();
        if taken.contains(&name.to_lowercase()) {
            let parent_name = parents.last().cloned().unwrap_or_default();
            let mut n = 1;
            loop {
                name = if n == 1 && !parent_name.is_empty() {
                    format!("{base} ({parent_name})")
                } else {
                    format!("{base} ({n})")
                };
                if !taken.contains(&name.to_lowercase()) {
                    break;
                }
                n += 1;
            }
            not_mapped.push(format!(
                "The code name {base:?} is used more than once; the codebook needs each name once, so this one ({}) is called {name:?}.",
                code.guid
            ));
        }
        taken.insert(name.to_lowercase());
        if !code.is_codable {
            not_codable += 1;
        }
        let (definition, inclusion, exclusion, example) =
            split_description(code.description.as_deref().unwrap_or_default());
        let color = code
            .color
            .as_deref()
            .and_then(six_digit_color)
            .unwrap_or_else(|| PALETTE[out.len() % PALETTE.len()].to_owned());
        let mut path = parents.clone();
        path.push(name.clone());
        for child in code.children.iter().rev() {
            stack.push((child, Some(code.guid), path.clone()));
        }
        out.push(PlanCode {
            guid: code.guid,
            parent,
            name,
            path,
            definition,
            inclusion,
            exclusion,
            example,
            color,
            codings: 0,
        });
    }
    if not_codable > 0 {
        not_mapped.push(format!(
            "{not_codable} code(s) are marked not codable in the file (parents that group other codes); Concord's codebook has no such mark, so they are ordinary codes that keep their children."
        ));
    }
    out
}

fn plan_variables(project: &Project, not_mapped: &mut Vec<String>) -> Vec<PlanVariable> {
    let mut taken = HashSet::new();
    let mut out = Vec::new();
    for v in &project.variables {
        let name = v.name.trim();
        if name.is_empty() || !taken.insert(name.to_lowercase()) {
            not_mapped.push(format!(
                "The variable {:?} is unnamed or named like another; it and its values were left out.",
                v.name
            ));
            continue;
        }
        let (kind, allowed) = match v.kind {
            VariableType::Integer | VariableType::Float => (VariableKind::Number, Vec::new()),
            VariableType::Boolean => (
                VariableKind::Category,
                vec!["true".to_owned(), "false".to_owned()],
            ),
            VariableType::Text => (VariableKind::Text, Vec::new()),
            VariableType::Date | VariableType::DateTime => {
                not_mapped.push(format!(
                    "The variable {name:?} is a {}; Concord keeps its values as text.",
                    v.kind.as_str()
                ));
                (VariableKind::Text, Vec::new())
            }
        };
        out.push(PlanVariable {
            guid: v.guid,
            name: name.to_owned(),
            kind: kind.as_str(),
            allowed_values: allowed,
        });
    }
    out
}

fn stored_value(variable: &PlanVariable, raw: &str) -> Result<String, String> {
    let value = raw.trim();
    match variable.kind {
        "number" => crate::import::parse_number(value)
            .map(crate::participants::model::format_number)
            .ok_or_else(|| format!("{value:?} is not a number")),
        "category" => match value.to_lowercase().as_str() {
            "true" | "1" => Ok("true".into()),
            "false" | "0" => Ok("false".into()),
            _ => Err(format!("{value:?} is not true or false")),
        },
        _ => Ok(value.to_owned()),
    }
}

/// Turns found in `text` as a `.txt` import finds them, at the offsets of
/// `text` itself (the `.txt` importer trims blank lines at the edges, which
/// a REFI-QDA text keeps since its selections count them).
fn turns_of(text: &str) -> Vec<Turn> {
    let Ok(parsed) = crate::import::parse_text(text.as_bytes(), Some(Encoding::UTF_8)) else {
        return Vec::new();
    };
    if parsed.text == text {
        return parsed.turns;
    }
    let Some(at) = text.find(&parsed.text) else {
        return Vec::new();
    };
    let shift = text[..at].chars().count();
    parsed
        .turns
        .into_iter()
        .map(|mut t| {
            t.start += shift;
            t.end += shift;
            t.label_end = t.label_end.map(|l| l + shift);
            for cue in &mut t.cues {
                cue.start += shift;
                cue.end += shift;
            }
            t
        })
        .collect()
}

/// What importing `project` (read from `file_name`) as a new project stores.
pub fn plan(project: &Project, file_name: &str) -> Plan {
    let mut not_mapped = project.notices.clone();
    let codes = plan_codes(project, &mut not_mapped);
    let variables = plan_variables(project, &mut not_mapped);

    // Participants, and the case each source belongs to.
    let mut labels = HashSet::new();
    let mut participants = Vec::new();
    let mut case_of: HashMap<Uuid, (Uuid, String)> = HashMap::new();
    for (index, case) in project.cases.iter().enumerate() {
        let base = case
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("Case {}", index + 1));
        let mut label = base.clone();
        let mut n = 2;
        while !labels.insert(label.to_lowercase()) {
            label = format!("{base} ({n})");
            n += 1;
        }
        if label != base {
            not_mapped.push(format!(
                "Two cases are called {base:?}; participants need distinct labels, so one is {label:?}."
            ));
        }
        let mut values = BTreeMap::new();
        for value in &case.values {
            let Some(variable) = variables.iter().find(|v| v.guid == value.variable) else {
                continue;
            };
            if value.value.trim().is_empty() {
                continue;
            }
            match stored_value(variable, &value.value) {
                Ok(stored) => {
                    values.insert(variable.guid, stored);
                }
                Err(why) => not_mapped.push(format!(
                    "The case {label:?} has {} = {why}; that value was left out.",
                    variable.name
                )),
            }
        }
        for source in &case.sources {
            if let Some((_, first)) = case_of.get(source) {
                not_mapped.push(format!(
                    "The source {source} belongs to the cases {first:?} and {label:?}; a transcript has one participant, so it is {first:?}'s."
                ));
                continue;
            }
            case_of.insert(*source, (case.guid, label.clone()));
        }
        participants.push(PlanParticipant {
            guid: case.guid,
            label,
            values,
        });
    }

    // Notes by GUID, for coding memos.
    let notes: HashMap<Uuid, &str> = project
        .notes
        .iter()
        .map(|n| (n.guid, n.text.as_str()))
        .collect();
    let mut used_notes: HashSet<Uuid> = HashSet::new();

    let mut sources = Vec::new();
    let mut transcripts = Vec::new();
    let mut codings = Vec::new();
    let mut per_user: HashMap<Uuid, (usize, HashSet<Uuid>)> = HashMap::new();
    let mut per_code: HashMap<Uuid, usize> = HashMap::new();
    let mut titles = HashSet::new();
    for source in &project.sources {
        let title = source.title();
        let participant = case_of.get(&source.guid);
        let Some(text) = &source.text else {
            sources.push(PlanSource {
                guid: source.guid,
                title,
                imported: false,
                characters: 0,
                selections: source.selections.len(),
                participant: participant.map(|(_, l)| l.clone()),
                note: Some(match project.kind {
                    FileKind::Qde => "not imported: a .qde carries no source texts, so there is no text to store or to code; import the .qdpx archive to get them".into(),
                    _ => "not imported: its text is not in the archive".into(),
                }),
            });
            continue;
        };
        let canonical = &text.canonical;
        let mut title = title.trim().to_owned();
        if title.is_empty() {
            title = source.guid.to_string();
        }
        if !titles.insert(title.to_lowercase()) {
            title = format!("{title} ({})", source.guid);
        }
        let mut kept = 0;
        for selection in &source.selections {
            for coding in &selection.codings {
                let user = coding.user.unwrap_or(UNATTRIBUTED);
                let mut memo_parts: Vec<&str> = Vec::new();
                for note in coding.notes.iter().chain(&selection.notes) {
                    if let Some(text) = notes.get(note) {
                        used_notes.insert(*note);
                        if !text.trim().is_empty() && !memo_parts.contains(&text.trim()) {
                            memo_parts.push(text.trim());
                        }
                    }
                }
                if let Some(d) = selection.description.as_deref().map(str::trim)
                    && !d.is_empty()
                    && !memo_parts.contains(&d)
                {
                    memo_parts.push(d);
                }
                codings.push(PlanCoding {
                    guid: coding.guid,
                    transcript: source.guid,
                    user,
                    code: coding.code,
                    start: selection.start,
                    end: selection.end,
                    memo: memo_parts.join("\n\n"),
                });
                let entry = per_user.entry(user).or_default();
                entry.0 += 1;
                entry.1.insert(source.guid);
                *per_code.entry(coding.code).or_default() += 1;
                kept += 1;
            }
        }
        let uncoded = source
            .selections
            .iter()
            .filter(|s| s.codings.is_empty())
            .count();
        if uncoded > 0 {
            not_mapped.push(format!(
                "{uncoded} selection(s) of {title:?} apply no code; Concord keeps coded spans only, so they were left out."
            ));
        }
        let turns = turns_of(&canonical.text);
        let word_count = crate::transcripts::service::count_words(&canonical.text, &turns);
        sources.push(PlanSource {
            guid: source.guid,
            title: title.clone(),
            imported: true,
            characters: canonical.char_count,
            selections: kept,
            participant: participant.map(|(_, l)| l.clone()),
            note: None,
        });
        transcripts.push(PlanTranscript {
            guid: source.guid,
            title,
            participant: participant.map(|(g, _)| *g),
            text: canonical.text.clone(),
            sha256: canonical.sha256.clone(),
            char_count: canonical.char_count,
            turns,
            word_count,
        });
    }
    // Notes not on a coding or its selection (on the project, a source or a
    // code) become memos on the project, each named as the file names it.
    let mut memos = Vec::new();
    let mut blank = 0;
    for note in project
        .notes
        .iter()
        .filter(|n| !used_notes.contains(&n.guid))
    {
        if note.text.trim().is_empty() {
            blank += 1;
            continue;
        }
        memos.push(PlanMemo {
            guid: note.guid,
            title: note
                .name
                .as_deref()
                .unwrap_or("")
                .trim()
                .chars()
                .take(200)
                .collect(),
            body: note.text.trim().to_owned(),
            written_on: note.created_on.clone(),
            author: note.creating_user,
        });
    }
    if blank > 0 {
        not_mapped.push(format!(
            "{blank} note(s) not on a coding have no text, so there was no memo to make of them."
        ));
    }
    if !project.sets.is_empty() {
        not_mapped.push(format!(
            "{} set(s) were not imported: Concord has no sets.",
            project.sets.len()
        ));
    }

    let mut users: Vec<PlanUser> = Vec::new();
    let mut idle = Vec::new();
    for user in &project.users {
        match per_user.get(&user.guid) {
            Some((n, t)) => users.push(PlanUser {
                guid: user.guid,
                name: project.user_name(user.guid).trim().to_owned(),
                codings: *n,
                transcripts: t.len(),
            }),
            None => idle.push(project.user_name(user.guid)),
        }
    }
    let listed: HashSet<Uuid> = project.users.iter().map(|u| u.guid).collect();
    let mut unlisted: Vec<_> = per_user
        .iter()
        .filter(|(g, _)| !listed.contains(g))
        .collect();
    unlisted.sort_by_key(|(g, _)| **g);
    for (guid, (n, t)) in unlisted {
        users.push(PlanUser {
            guid: *guid,
            name: if *guid == UNATTRIBUTED {
                "Unattributed codings".into()
            } else {
                format!("User {guid}")
            },
            codings: *n,
            transcripts: t.len(),
        });
    }
    for user in &mut users {
        if user.name.is_empty() {
            user.name = format!("User {}", user.guid);
        }
    }
    if !idle.is_empty() {
        not_mapped.push(format!(
            "{} user(s) have no codings and were not added as coders: {}.",
            idle.len(),
            idle.join(", ")
        ));
    }
    let mut codes = codes;
    for code in &mut codes {
        code.codings = per_code.get(&code.guid).copied().unwrap_or(0);
    }
    let stem = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(file_name);
    let project_name = project
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(stem)
        .chars()
        .take(200)
        .collect::<String>();
    Plan {
        file_name: file_name.to_owned(),
        kind: project.kind,
        origin: project.origin.clone(),
        project_name: if project_name.trim().is_empty() {
            "Imported project".into()
        } else {
            project_name
        },
        convention: project.offsets.as_ref().map(|o| PlanConvention {
            convention: o.convention,
            description: o.convention.describe(),
            reason: o.reason.clone(),
        }),
        sources,
        users,
        codes,
        variables,
        participants,
        coding_count: codings.len(),
        memos,
        not_mapped,
        transcripts,
        codings,
    }
}

/// What [`store_plan`] made.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub project_id: ProjectId,
    pub transcripts: usize,
    pub participants: usize,
    pub codes: usize,
    pub coders: usize,
    pub codings: usize,
    pub memos: usize,
    /// Users taken as existing accounts (the others are placeholders).
    pub existing_accounts: usize,
    /// GUIDs already used on this site, given new ids.
    pub new_ids: usize,
}

/// The existing accounts some of a file's users are taken as, by the users'
/// GUIDs; the other users become placeholder accounts.
pub type Accounts = HashMap<Uuid, UserId>;

/// Stores `plan` as a new project owned by `actor`, in the caller's
/// transaction, with one audit row; every user a placeholder account.
pub async fn store_plan(
    conn: &mut PgConnection,
    actor: UserId,
    plan: &Plan,
) -> Result<Imported, AppError> {
    store_plan_as(conn, actor, plan, &Accounts::new()).await
}

/// [`store_plan`], with the users in `accounts` taken as those accounts
/// (checked by the caller against what the actor may choose).
pub async fn store_plan_as(
    conn: &mut PgConnection,
    actor: UserId,
    plan: &Plan,
    accounts: &Accounts,
) -> Result<Imported, AppError> {
    use super::import_store as store;
    let mut seen: HashMap<UserId, &str> = HashMap::new();
    for user in &plan.users {
        if let Some(account) = accounts.get(&user.guid)
            && let Some(other) = seen.insert(*account, &user.name)
        {
            return Err(AppError::field(
                &format!("user.{}", user.guid),
                format!(
                    "{} and {other} can't both be the same account: each account codes one layer.",
                    user.name
                ),
            ));
        }
    }
    let mut new_ids = 0;
    let mut ids = |taken: HashSet<Uuid>, guids: &mut dyn Iterator<Item = Uuid>| {
        guids
            .map(|g| {
                let id = if taken.contains(&g) || g.is_nil() {
                    new_ids += 1;
                    Uuid::new_v4()
                } else {
                    g
                };
                (g, id)
            })
            .collect::<HashMap<Uuid, Uuid>>()
    };
    let guids = |v: Vec<Uuid>| v;
    let user_guids = guids(
        plan.users
            .iter()
            .map(|u| u.guid)
            .filter(|g| !accounts.contains_key(g))
            .collect(),
    );
    let code_guids = guids(plan.codes.iter().map(|c| c.guid).collect());
    let var_guids = guids(plan.variables.iter().map(|v| v.guid).collect());
    let part_guids = guids(plan.participants.iter().map(|p| p.guid).collect());
    let tr_guids = guids(plan.transcripts.iter().map(|t| t.guid).collect());
    let coding_guids = guids(plan.codings.iter().map(|c| c.guid).collect());

    let taken = store::taken_ids(&mut *conn, "users", &user_guids).await?;
    let mut users = ids(taken, &mut user_guids.iter().copied());
    users.extend(accounts.iter().map(|(g, a)| (*g, a.0)));
    let taken = store::taken_ids(&mut *conn, "codes", &code_guids).await?;
    let codes = ids(taken, &mut code_guids.iter().copied());
    let taken = store::taken_ids(&mut *conn, "variables", &var_guids).await?;
    let variables = ids(taken, &mut var_guids.iter().copied());
    let taken = store::taken_ids(&mut *conn, "participants", &part_guids).await?;
    let participants = ids(taken, &mut part_guids.iter().copied());
    let taken = store::taken_ids(&mut *conn, "transcripts", &tr_guids).await?;
    let transcripts = ids(taken, &mut tr_guids.iter().copied());
    let taken = store::taken_ids(&mut *conn, "codings", &coding_guids).await?;
    let coding_ids = ids(taken, &mut coding_guids.iter().copied());

    let description = format!(
        "Imported from {}{}.",
        plan.file_name,
        plan.origin
            .as_deref()
            .map(|o| format!(" (made with {o})"))
            .unwrap_or_default()
    );
    let project =
        crate::projects::store::insert_project(&mut *conn, &plan.project_name, &description, actor)
            .await?;
    store::set_shared_codebook(&mut *conn, project.id).await?;
    crate::projects::store::insert_member(
        &mut *conn,
        project.id,
        actor,
        crate::projects::model::Role::Owner,
    )
    .await?;

    for user in &plan.users {
        let id = UserId(users[&user.guid]);
        if !accounts.contains_key(&user.guid) {
            store::insert_placeholder_user(&mut *conn, id, &user.name).await?;
        } else if id == actor {
            // The owner codes this layer too.
            continue;
        }
        crate::projects::store::insert_member(
            &mut *conn,
            project.id,
            id,
            crate::projects::model::Role::Coder,
        )
        .await?;
    }

    for (position, v) in plan.variables.iter().enumerate() {
        store::insert_variable(
            &mut *conn,
            project.id,
            variables[&v.guid],
            v,
            position as i32 + 1,
        )
        .await?;
    }
    for p in &plan.participants {
        let id = participants[&p.guid];
        store::insert_participant(&mut *conn, project.id, id, &p.label).await?;
        for (variable, value) in &p.values {
            store::insert_value(&mut *conn, id, variables[variable], value).await?;
        }
    }

    for t in &plan.transcripts {
        store::insert_transcript(
            &mut *conn,
            project.id,
            transcripts[&t.guid],
            t.participant.map(|p| participants[&p]),
            t,
            &plan.file_name,
            actor,
        )
        .await?;
    }

    store::insert_codes(&mut *conn, project.id, actor, &plan.codes, &codes).await?;

    // Each coder's layer of each transcript they coded, submitted.
    let mut layers: Vec<(Uuid, Uuid)> = plan
        .codings
        .iter()
        .map(|c| (transcripts[&c.transcript], users[&c.user]))
        .collect();
    layers.sort();
    layers.dedup();
    store::insert_submitted_assignments(&mut *conn, project.id, &layers).await?;
    store::insert_codings(
        &mut *conn,
        project.id,
        &plan.codings,
        &coding_ids,
        &transcripts,
        &users,
        &codes,
    )
    .await?;

    // Notes not on a coding: memos on the project, by their user when that
    // user is now a coder, else by the person importing.
    let memo_guids: Vec<Uuid> = plan.memos.iter().map(|m| m.guid).collect();
    let taken = store::taken_ids(&mut *conn, "memos", &memo_guids).await?;
    let memo_ids = ids(taken, &mut memo_guids.iter().copied());
    let today = time::OffsetDateTime::now_utc().date().to_string();
    for m in &plan.memos {
        let author = m
            .author
            .filter(|a| plan.users.iter().any(|u| u.guid == *a))
            .and_then(|a| users.get(&a))
            .map_or(actor, |id| UserId(*id));
        crate::memos::store::insert(
            &mut *conn,
            project.id,
            &crate::memos::store::NewMemo {
                id: memo_ids[&m.guid],
                kind: "project",
                agreed_code_id: None,
                node_id: None,
                written_on: m.written_on.as_deref().unwrap_or(&today),
                title: &m.title,
                body: &m.body,
            },
            author,
        )
        .await?;
    }

    let imported = Imported {
        project_id: project.id,
        transcripts: plan.transcripts.len(),
        participants: plan.participants.len(),
        codes: plan.codes.len(),
        coders: plan.users.len(),
        codings: plan.codings.len(),
        memos: plan.memos.len(),
        existing_accounts: accounts.len(),
        new_ids,
    };
    // Every imported layer is submitted, but the import files no automatic
    // acceptance: that would give the shared codes their agreed codes, and an
    // export would then speak of those instead of the file's own codes. The
    // lead's first decision on a transcript files its agreements.
    audit::record(
        &mut *conn,
        Change::new(Some(actor), Action::ProjectImported)
            .project(project.id)
            .entity(project.id.0)
            .after(&serde_json::json!({
                "project": &project,
                "file_name": plan.file_name,
                "origin": plan.origin,
                "convention": plan.convention,
                "imported": &imported,
                "accounts": accounts,
                "not_mapped": plan.not_mapped,
            })),
    )
    .await?;
    Ok(imported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_split_back_into_definition_and_criteria() {
        let d = crate::refi::write::code_description("Def\n\nmore", "In", "Out", "Ex").unwrap();
        assert_eq!(
            split_description(&d),
            ("Def\n\nmore".into(), "In".into(), "Out".into(), "Ex".into())
        );
        assert_eq!(
            split_description("Just text"),
            (
                "Just text".into(),
                String::new(),
                String::new(),
                String::new()
            )
        );
    }

    #[test]
    fn colours_become_six_lower_case_digits() {
        assert_eq!(six_digit_color("#46AA00").as_deref(), Some("#46aa00"));
        assert_eq!(six_digit_color("#AbC").as_deref(), Some("#aabbcc"));
        assert_eq!(six_digit_color("#12345678"), None);
        assert_eq!(six_digit_color("red"), None);
    }

    #[test]
    fn turns_keep_the_offsets_of_a_text_with_blank_edges() {
        let text = "\n\nI: Hello there.\nP01: Hi.\n\n";
        let turns = turns_of(text);
        assert!(!turns.is_empty());
        let chars: Vec<char> = text.chars().collect();
        let first: String = chars[turns[0].start..turns[0].end].iter().collect();
        assert!(first.starts_with("I: Hello"), "{first:?}");
    }
}
