//! The audit log as people read it: who did what to which named thing, and
//! which fields changed from what to what. Pure: the names of the records an
//! event points at come in from the store, looked up by id.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::db::audit::Action;

/// Names of records by id (users, transcripts, codes, …), for one page of events.
pub type Names = HashMap<Uuid, String>;

/// What an action does, as a sentence without its subject ("Changed a code").
/// Exhaustive, so a new action does not compile until it has words.
pub fn label(action: Action) -> &'static str {
    match action {
        Action::SetupCompleted => "Set up the site",
        Action::SignedIn => "Signed in",
        Action::SignedOut => "Signed out",
        Action::PasswordChanged => "Changed their password",
        Action::InviteCreated => "Created an invitation",
        Action::InviteWithdrawn => "Withdrew an invitation",
        Action::InviteAccepted => "Accepted an invitation",
        Action::PasswordResetCreated => "Created a password-reset link",
        Action::PasswordReset => "Reset their password",
        Action::UserDisabled => "Disabled an account",
        Action::UserEnabled => "Enabled an account",
        Action::ApiTokenCreated => "Created an API token",
        Action::ApiTokenRevoked => "Revoked an API token",
        Action::ProjectCreated => "Created the project",
        Action::ProjectUpdated => "Changed the project",
        Action::ProjectArchived => "Archived the project",
        Action::ProjectUnarchived => "Unarchived the project",
        Action::MemberAdded => "Added a member",
        Action::MemberRoleChanged => "Changed a member's role",
        Action::MemberRemoved => "Removed a member",
        Action::VariableCreated => "Created a variable",
        Action::ParticipantCreated => "Added a participant",
        Action::ParticipantUpdated => "Changed a participant",
        Action::ParticipantsImported => "Imported participants",
        Action::TranscriptImported => "Imported a transcript",
        Action::TranscriptUpdated => "Edited a transcript",
        Action::TranscriptDeleted => "Deleted a transcript",
        Action::TranscriptRestored => "Restored a transcript",
        Action::CodebookModeChanged => "Changed the codebook mode",
        Action::AssignmentCreated => "Assigned a coder",
        Action::AssignmentStarted => "Started coding",
        Action::AssignmentSubmitted => "Submitted a layer",
        Action::AssignmentReopened => "Reopened a layer",
        Action::AssignmentRemoved => "Withdrew an assignment",
        Action::CodeCreated => "Created a code",
        Action::CodeUpdated => "Changed a code",
        Action::CodeMerged => "Merged a code into another",
        Action::CodeDeleted => "Deleted a code",
        Action::CodeRestored => "Restored a code",
        Action::CodingCreated => "Coded a passage",
        Action::CodingUpdated => "Changed a coding",
        Action::CodingDeleted => "Deleted a coding",
        Action::CodingRestored => "Restored a coding",
        Action::AgreedCodeCreated => "Created an agreed code",
        Action::CodeAligned => "Aligned a code",
        Action::CodeUnaligned => "Undid a code's alignment",
        Action::DecisionMade => "Decided a discrepancy",
        Action::DecisionsAutoAccepted => "Accepted agreements automatically",
        Action::DiscrepancyCommented => "Commented on a discrepancy",
        Action::ConsensusCodingCreated => "Added a consensus coding",
        Action::ConsensusCodingUpdated => "Changed a consensus coding",
        Action::ConsensusCodingDeleted => "Deleted a consensus coding",
        Action::ConsensusCodingRestored => "Restored a consensus coding",
        Action::AgreedCodeUpdated => "Changed an agreed code",
        Action::AgreedCodeMerged => "Merged an agreed code into another",
        Action::AgreedCodeMergeUndone => "Undid the merge of an agreed code",
        Action::AgreedCodeSplit => "Split an agreed code",
        Action::AgreedCodeDeleted => "Deleted an agreed code",
        Action::AgreedCodeRestored => "Restored an agreed code",
        Action::ReconciliationSettingsChanged => "Changed the reconciliation settings",
        Action::ThemeNodeCreated => "Created a theme",
        Action::ThemeNodeUpdated => "Edited a theme",
        Action::ThemeNodeMoved => "Moved a theme",
        Action::ThemeNodeMerged => "Merged two themes",
        Action::ThemeNodeSplit => "Split a theme",
        Action::ThemeNodeDeleted => "Deleted a theme",
        Action::ThemeNodeRestored => "Restored a theme",
        Action::CodesPlaced => "Placed agreed codes under a theme",
        Action::CodesUnplaced => "Took agreed codes out of the themes",
        Action::ReviewRoundPublished => "Published a review round",
        Action::ReviewRoundClosed => "Closed a review round",
        Action::ReviewCommented => "Commented on the themes",
        Action::ReviewCommentAnswered => "Answered a review comment",
        Action::ReviewSignedOff => "Signed off a review round",
        Action::ExportMade => "Made an export",
        Action::DemoCreated => "Created the demo study",
    }
}

/// The label of a stored action name; an unknown name is shown as stored.
pub fn action_label(name: &str) -> String {
    Action::parse(name).map_or_else(|| name.to_owned(), |a| label(a).to_owned())
}

/// The kind of thing an entity type names, in words ("agreed code").
pub fn kind_label(entity_type: &str) -> String {
    match entity_type {
        "user" => "account".into(),
        "invite" => "invitation".into(),
        "api_token" => "API token".into(),
        "discrepancy_comment" => "comment".into(),
        other => other.replace('_', " "),
    }
}

/// The kinds of change the log can be filtered by: each entity type that
/// belongs to a project, with its actions (entity type, its label, actions).
pub fn kinds() -> Vec<(&'static str, String, Vec<Action>)> {
    let mut out: Vec<(&'static str, String, Vec<Action>)> = Vec::new();
    for action in Action::ALL {
        if !in_projects(action) {
            continue;
        }
        let entity = action.entity_type();
        match out.iter_mut().find(|(e, _, _)| *e == entity) {
            Some((_, _, actions)) => actions.push(action),
            None => out.push((entity, kind_label(entity), vec![action])),
        }
    }
    out
}

/// Whether a project's log can hold the action (account actions have no
/// project; invitations do when they name one).
fn in_projects(action: Action) -> bool {
    !matches!(
        action,
        Action::SetupCompleted
            | Action::SignedIn
            | Action::SignedOut
            | Action::PasswordChanged
            | Action::InviteAccepted
            | Action::PasswordResetCreated
            | Action::PasswordReset
            | Action::UserDisabled
            | Action::UserEnabled
            | Action::ApiTokenCreated
            | Action::ApiTokenRevoked
    )
}

/// Whether `kind` is something the log can be filtered by: an entity type or an action.
pub fn is_kind(kind: &str) -> bool {
    Action::ALL
        .iter()
        .any(|a| a.as_str() == kind || a.entity_type() == kind)
}

/// One field of a record, before and after the change (`None`: not set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl FieldChange {
    /// "name: Fear → Fear of the device", or "name: Fear" when only one side was recorded.
    pub fn sentence(&self, compared: bool) -> String {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        if compared {
            format!(
                "{}: {} → {}",
                self.field,
                show(&self.before),
                show(&self.after)
            )
        } else {
            format!(
                "{}: {}",
                self.field,
                show(&self.after.clone().or(self.before.clone()))
            )
        }
    }
}

/// Every UUID an event mentions (as a value or as a key), to look up their names.
pub fn ids_in(value: &Value, out: &mut HashSet<Uuid>) {
    match value {
        Value::String(s) => {
            if let Ok(id) = Uuid::parse_str(s) {
                out.insert(id);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| ids_in(v, out)),
        Value::Object(map) => {
            for (key, v) in map {
                if let Ok(id) = Uuid::parse_str(key) {
                    out.insert(id);
                }
                ids_in(v, out);
            }
        }
        _ => {}
    }
}

/// Fields that say nothing to a reader: ids, versions, bookkeeping times,
/// internal keys and hashes (a changed hash is shown as a changed text).
const QUIET: &[&str] = &[
    "id",
    "version",
    "created_at",
    "updated_at",
    "project_id",
    "transcript_id",
    "created_by",
    "deleted_at",
    "key",
    "discrepancy",
    "sha256",
    "token_hash",
    "password_hash",
    "demo_password",
];

/// Nested records are shown this deep; deeper ones are summarised.
const DEPTH: usize = 3;
/// Long texts (memos, rationales, definitions) are cut here.
const LONGEST: usize = 120;
/// Lists name this many items, then say how many more.
const LISTED: usize = 5;

/// The fields that differ between `before` and `after`, and whether both
/// sides were compared; with only one side recorded (or one holding nothing
/// to show), that side's fields.
pub fn changes(
    before: Option<&Value>,
    after: Option<&Value>,
    names: &Names,
) -> (Vec<FieldChange>, bool) {
    let flat = |v: Option<&Value>| v.map(|v| flatten(v, names)).unwrap_or_default();
    let (old, new) = (flat(before), flat(after));
    let shows = |side: &Vec<(String, Option<String>)>| side.iter().any(|(_, v)| v.is_some());
    let compared = shows(&old) && shows(&new);
    let mut out = Vec::new();
    let mut fields: Vec<&String> = new.iter().map(|(k, _)| k).collect();
    for (k, _) in &old {
        if !fields.contains(&k) {
            fields.push(k);
        }
    }
    for field in fields {
        let get = |side: &Vec<(String, Option<String>)>| {
            side.iter()
                .find(|(k, _)| k == field)
                .and_then(|(_, v)| v.clone())
        };
        let (b, a) = (get(&old), get(&new));
        if b == a || (!compared && b.is_none() && a.is_none()) {
            continue;
        }
        out.push(FieldChange {
            field: field.clone(),
            before: b,
            after: a,
        });
    }
    if compared && text_changed(before, after) {
        out.push(FieldChange {
            field: "text".into(),
            before: Some("previous text".into()),
            after: Some("new text".into()),
        });
    }
    (out, compared)
}

fn text_changed(before: Option<&Value>, after: Option<&Value>) -> bool {
    let hash = |v: Option<&Value>| v.and_then(|v| v.get("sha256")).cloned();
    let (b, a) = (hash(before), hash(after));
    b.is_some() && a.is_some() && b != a
}

/// (field label, shown value) pairs of a record, nested records with their path.
fn flatten(value: &Value, names: &Names) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    match value {
        Value::Object(map) => walk(map, "", 1, names, &mut out),
        other => out.push(("records".into(), show(other, names))),
    }
    out
}

fn walk(
    map: &Map<String, Value>,
    prefix: &str,
    depth: usize,
    names: &Names,
    out: &mut Vec<(String, Option<String>)>,
) {
    for (key, value) in map {
        if QUIET.contains(&key.as_str()) || repeats_a_sibling(map, key) {
            continue;
        }
        let field = match prefix {
            "" => field_label(key, names),
            _ => format!("{prefix} › {}", field_label(key, names)),
        };
        match value {
            Value::Object(inner) if depth < DEPTH && !inner.is_empty() => {
                walk(inner, &field, depth + 1, names, out);
            }
            other => out.push((field, show(other, names))),
        }
    }
}

/// `author_name` beside `author_id` says the same again.
fn repeats_a_sibling(map: &Map<String, Value>, key: &str) -> bool {
    key.strip_suffix("_name")
        .is_some_and(|stem| map.contains_key(&format!("{stem}_id")) || map.contains_key(stem))
}

/// A JSON key in words: `participant_id` is "participant", a variable's id its name.
fn field_label(key: &str, names: &Names) -> String {
    if let Ok(id) = Uuid::parse_str(key) {
        return names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "a removed record".into());
    }
    let plain = match key {
        "display_name" => "name",
        "char_count" => "characters",
        "file_name" => "file",
        "owner_id" => "codebook of",
        "coder_id" => "coder",
        "user_id" => "person",
        "author_id" => "author",
        "decided_by" => "decided by",
        "grant_admin" | "is_admin" | "admin" => "site admin",
        "example_coding_id" => "typical example",
        other => other.strip_suffix("_id").unwrap_or(other),
    };
    plain.replace('_', " ")
}

/// A value as a reader sees it: names for ids, "yes"/"no", short dates, cut texts.
fn show(value: &Value, names: &Names) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.into()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(show_text(s, names)),
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => {
            let shown: Vec<String> = items
                .iter()
                .take(LISTED)
                .filter_map(|item| match item {
                    Value::Object(map) => record_name(map, names),
                    other => show(other, names),
                })
                .collect();
            if shown.is_empty() {
                return Some(count(items.len()));
            }
            let mut text = shown.join(", ");
            if items.len() > LISTED {
                text.push_str(&format!(" and {} more", items.len() - LISTED));
            }
            Some(text)
        }
        Value::Object(map) if map.is_empty() => None,
        Value::Object(map) => record_name(map, names).or_else(|| Some(count(map.len()))),
    }
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 item".into()
    } else {
        format!("{n} items")
    }
}

fn show_text(s: &str, names: &Names) -> String {
    if let Ok(id) = Uuid::parse_str(s) {
        return names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "a removed record".into());
    }
    if let Some(when) = timestamp(s) {
        return when;
    }
    cut(s, LONGEST)
}

/// `2026-12-01T23:16:07.38Z` as `2026-12-01 23:16 UTC`.
fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    (b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && (s.ends_with('Z') || s.contains('+')))
    .then(|| format!("{} {} UTC", &s[..10], &s[11..16]))
}

pub fn cut(s: &str, longest: usize) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= longest {
        one_line
    } else {
        let mut short: String = one_line.chars().take(longest - 1).collect();
        short.push('…');
        short
    }
}

/// The name a record carries itself, if it has one.
fn record_name(map: &Map<String, Value>, names: &Names) -> Option<String> {
    for key in ["name", "title", "label", "display_name", "email"] {
        if let Some(Value::String(s)) = map.get(key)
            && !s.trim().is_empty()
        {
            return Some(cut(s, LONGEST));
        }
    }
    for key in ["code_id", "agreed_code_id", "user_id", "transcript_id"] {
        if let Some(Value::String(s)) = map.get(key)
            && let Ok(id) = Uuid::parse_str(s)
            && let Some(name) = names.get(&id)
        {
            return Some(name.clone());
        }
    }
    None
}

/// The name of the thing an event changed: from what the event recorded
/// (the name it had then), else the record's name now.
pub fn entity_name(
    entity_type: &str,
    entity_id: Option<Uuid>,
    before: Option<&Value>,
    after: Option<&Value>,
    names: &Names,
) -> Option<String> {
    let by_id = || entity_id.and_then(|id| names.get(&id).cloned());
    let sides = [after, before];
    fn object(side: Option<&Value>) -> Option<&Map<String, Value>> {
        side.and_then(Value::as_object)
    }
    let name_of = |key: &str| {
        sides.iter().find_map(|side| {
            object(*side)
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
                .and_then(|id| names.get(&id).cloned())
        })
    };
    match entity_type {
        "assignment" => match (name_of("user_id"), name_of("transcript_id")) {
            (Some(who), Some(what)) => Some(format!("{who} on {what}")),
            _ => by_id(),
        },
        "coding" => name_of("code_id").or_else(by_id),
        "consensus_coding" => name_of("agreed_code_id").or_else(by_id),
        "discrepancy_comment" => sides
            .iter()
            .find_map(|side| {
                object(*side)
                    .and_then(|m| m.get("body"))
                    .and_then(Value::as_str)
            })
            .map(|body| format!("“{}”", cut(body, 60)))
            .or_else(by_id),
        // Many actions on a project record other things (a count, a mode): its name is by id.
        "project" => by_id().or_else(|| {
            sides
                .iter()
                .find_map(|s| object(*s).and_then(|m| record_name(m, names)))
        }),
        _ => sides
            .iter()
            .find_map(|side| object(*side).and_then(|m| record_name(m, names)))
            .or_else(by_id),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names(pairs: &[(Uuid, &str)]) -> Names {
        pairs.iter().map(|(id, n)| (*id, (*n).to_owned())).collect()
    }

    #[test]
    fn a_rename_is_one_change_from_the_old_name_to_the_new() {
        let before = json!({ "id": Uuid::nil(), "name": "Fear", "definition": "", "version": 1 });
        let after = json!({ "id": Uuid::nil(), "name": "Fear of the device", "definition": "", "version": 2 });
        let (changes, compared) = changes(Some(&before), Some(&after), &Names::new());
        assert!(compared);
        assert_eq!(
            changes,
            [FieldChange {
                field: "name".into(),
                before: Some("Fear".into()),
                after: Some("Fear of the device".into()),
            }]
        );
        assert_eq!(changes[0].sentence(true), "name: Fear → Fear of the device");
    }

    #[test]
    fn ids_are_shown_by_name_and_keys_by_their_variable() {
        let (code, other, variable) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let names = names(&[
            (code, "Trust"),
            (other, "Distance"),
            (variable, "Years of experience"),
        ]);
        let before = json!({ "code_id": code, "values": { variable.to_string(): "5" } });
        let after = json!({ "code_id": other, "values": { variable.to_string(): "6" } });
        let shown: Vec<String> = changes(Some(&before), Some(&after), &names)
            .0
            .iter()
            .map(|c| c.sentence(true))
            .collect();
        assert_eq!(
            shown,
            [
                "code: Trust → Distance",
                "values › Years of experience: 5 → 6"
            ]
        );
        let mut ids = HashSet::new();
        ids_in(&before, &mut ids);
        assert_eq!(ids, HashSet::from([code, variable]));
    }

    #[test]
    fn one_recorded_side_lists_its_fields_and_nothing_unreadable() {
        let gone = Uuid::new_v4();
        let after = json!({
            "id": Uuid::new_v4(), "transcript_id": gone, "start": 5, "end": 20, "memo": "",
            "auto": false, "archived_at": "2026-12-01T23:16:07.381306Z", "codings": [gone, gone],
        });
        let shown: Vec<String> = changes(None, Some(&after), &Names::new())
            .0
            .iter()
            .map(|c| c.sentence(false))
            .collect();
        assert_eq!(
            shown,
            [
                "archived at: 2026-12-01 23:16 UTC",
                "auto: no",
                "codings: a removed record, a removed record",
                "end: 20",
                "start: 5",
            ]
        );
    }

    #[test]
    fn a_side_with_nothing_to_show_is_not_compared_and_repeated_names_are_left_out() {
        let lead = Uuid::new_v4();
        let names = names(&[(lead, "Lena")]);
        let before = json!({ "superseded": null, "retired_codings": [] });
        let after = json!({ "decision": { "kind": "union", "decided_by": lead, "decided_by_name": "Lena" } });
        let (changes, compared) = changes(Some(&before), Some(&after), &names);
        assert!(!compared);
        let shown: Vec<String> = changes.iter().map(|c| c.sentence(compared)).collect();
        assert_eq!(
            shown,
            ["decision › decided by: Lena", "decision › kind: union"]
        );
    }

    #[test]
    fn an_edited_text_is_said_so_without_its_hash() {
        let before = json!({ "title": "P01", "sha256": "aa", "char_count": 10 });
        let after = json!({ "title": "P01", "sha256": "bb", "char_count": 12 });
        let shown: Vec<String> = changes(Some(&before), Some(&after), &Names::new())
            .0
            .iter()
            .map(|c| c.sentence(true))
            .collect();
        assert_eq!(
            shown,
            ["characters: 10 → 12", "text: previous text → new text"]
        );
    }

    #[test]
    fn things_are_named_by_what_the_event_recorded_then_by_id() {
        let (ana, transcript, code, entity) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let names = names(&[
            (ana, "Ana"),
            (transcript, "Interview one"),
            (code, "Trust"),
            (entity, "Pain study"),
        ]);
        let assignment = json!({ "user_id": ana, "transcript_id": transcript });
        assert_eq!(
            entity_name("assignment", None, None, Some(&assignment), &names).as_deref(),
            Some("Ana on Interview one")
        );
        let coding = json!({ "code_id": code });
        assert_eq!(
            entity_name("coding", None, Some(&coding), None, &names).as_deref(),
            Some("Trust")
        );
        let renamed = json!({ "name": "Trust in the team" });
        assert_eq!(
            entity_name("code", Some(code), Some(&coding), Some(&renamed), &names).as_deref(),
            Some("Trust in the team")
        );
        let counted = json!({ "participants": 3 });
        assert_eq!(
            entity_name("project", Some(entity), None, Some(&counted), &names).as_deref(),
            Some("Pain study")
        );
        assert_eq!(
            entity_name("code", Some(Uuid::new_v4()), None, None, &names),
            None
        );
    }

    #[test]
    fn every_action_has_words_and_filters_group_them_by_thing() {
        for action in Action::ALL {
            assert!(!label(action).is_empty());
            assert!(is_kind(action.as_str()) && is_kind(action.entity_type()));
        }
        assert!(!is_kind("bogus"));
        let kinds = kinds();
        let coding = kinds.iter().find(|(e, _, _)| *e == "coding").unwrap();
        assert_eq!(coding.2.len(), 4);
        assert!(kinds.iter().all(|(e, _, _)| *e != "api_token"));
        assert_eq!(kind_label("agreed_code"), "agreed code");
        assert_eq!(action_label("code.updated"), "Changed a code");
        assert_eq!(action_label("old.action"), "old.action");
    }
}
