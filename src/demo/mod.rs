//! `concord demo`: two demo projects made end to end from `study.json`, so a
//! new install can be tried at once. Five accounts share one known password.
//!
//! The study is modelled on Barnosky et al. (2025): the 18 participants of its
//! Table 1 with their real attributes, one short interview each (written for
//! the demo), coded by two coders with their own codebooks aligned onto an
//! agreed codebook, every transcript reconciled by the lead through the
//! reconciliation service, and the agreed codes placed under the themes and
//! subcategories of its Table 2. A second, small project holds pilot
//! interviews that both coders have coded and submitted but nobody has
//! reconciled, for a newcomer to try.
//!
//! study.json writes each transcript as lines starting `Q:` (the interviewer)
//! or `A:` (the participant), with its codings inline: `[words]{spec}` marks a
//! coded span, and spans may nest. The spec is a list of tokens:
//! - `key`: both coders coded the span, each with their own code aligned onto
//!   agreed code `key`; `a:key` or `b:key`: one coder did (`key` may also name
//!   an extra code of that coder's);
//! - `=kind>kind…`: the lead's decisions on the discrepancy the span is part
//!   of, each later one superseding the one before (`union:key`,
//!   `intersection:key` and `relabel:key` name the agreed code);
//! - `?a` or `?b`: that coder comments on the discrepancy first.
//!
//! Everything but the reconciliation and the themes is made in one
//! transaction; the lead's decisions then go through the reconciliation
//! service as a visit would, and the themes are placed last.

use std::collections::{BTreeSet, HashMap};

use anyhow::{Context, anyhow};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::auth::password::hash_password;
use crate::auth::store as users;
use crate::codebook::model::AgreedCode;
use crate::coding::model::{Code, Coding, PALETTE};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{
    AgreedCodeId, CodeId, CodingId, ParticipantId, ProjectId, ThemeNodeId, TranscriptId, UserId,
};
use crate::error::AppError;
use crate::import::{self, Encoding};
use crate::participants::model::VariableKind;
use crate::projects::member::Actor;
use crate::projects::model::Role;
use crate::reconcile::model::DecisionKind;
use crate::reconcile::service::{self as reconcile, CommentRequest, DecideRequest, Item};
use crate::state::AppState;

mod validation;
pub use validation::EXPERT_EMAIL;

/// The password of every demo account, also stored in `users.demo_password`
/// so the sign-in page can show it (until the account's password changes).
pub const PASSWORD: &str = "concord-demo";

const STUDY: &str = include_str!("study.json");

/// One demo account: who they are and what they do in the study.
struct Person {
    email: &'static str,
    name: &'static str,
    role: Role,
    is_admin: bool,
    hint: &'static str,
}

const OWNER: usize = 0;
const LEAD: usize = 1;
const CODER_A: usize = 2;
const CODER_B: usize = 3;

const PEOPLE: [Person; 5] = [
    Person {
        email: "owner@demo.concord",
        name: "Olivia Owner",
        role: Role::Owner,
        is_admin: true,
        hint: "Site admin and project owner",
    },
    Person {
        email: "lead@demo.concord",
        name: "Dr Lena Lead",
        role: Role::Lead,
        is_admin: false,
        hint: "Lead researcher: aligns codes, reconciles and builds themes",
    },
    Person {
        email: "ada@demo.concord",
        name: "Ada Coder",
        role: Role::Coder,
        is_admin: false,
        hint: "Coder A",
    },
    Person {
        email: "ben@demo.concord",
        name: "Ben Coder",
        role: Role::Coder,
        is_admin: false,
        hint: "Coder B",
    },
    Person {
        email: "rita@demo.concord",
        name: "Rita Reviewer",
        role: Role::Reviewer,
        is_admin: false,
        hint: "Reviewer: reads the consensus",
    },
];

// The shape of study.json.

#[derive(Debug, Deserialize)]
struct Study {
    source: String,
    variables: Vec<StudyVariable>,
    agreed_codes: Vec<StudyAgreedCode>,
    extra_codes: Vec<StudyExtraCode>,
    themes: Vec<StudyTheme>,
    /// Reasons for each kind of decision, taken in turn.
    rationales: HashMap<String, Vec<String>>,
    /// What a coder says about a discrepancy, by its kind.
    comments: HashMap<String, String>,
    /// The study, reconciled and grouped into themes.
    project: StudyProject,
    /// The pilot interviews, coded but not reconciled.
    practice: StudyProject,
}

#[derive(Debug, Deserialize)]
struct StudyVariable {
    name: String,
    kind: String,
    #[serde(default)]
    allowed_values: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct StudyAgreedCode {
    key: String,
    name: String,
    definition: String,
    #[serde(default)]
    inclusion: String,
    #[serde(default)]
    exclusion: String,
    /// Coder A's name for the idea, if she has a code for it.
    a: Option<String>,
    /// Coder B's.
    b: Option<String>,
}

/// A coder's second code aligned onto one agreed code (a finer distinction
/// the agreed codebook does not keep).
#[derive(Debug, Deserialize)]
struct StudyExtraCode {
    coder: String,
    key: String,
    name: String,
    agreed: String,
}

#[derive(Debug, Deserialize)]
struct StudyTheme {
    name: String,
    definition: String,
    color: String,
    subcategories: Vec<StudySubcategory>,
}

#[derive(Debug, Deserialize)]
struct StudySubcategory {
    name: String,
    scope: String,
    /// Agreed code keys, in order.
    codes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct StudyProject {
    name: String,
    description: String,
    /// Label, then one value per variable, in the variables' order.
    participants: Vec<Vec<serde_json::Value>>,
    transcripts: Vec<StudyTranscript>,
}

#[derive(Debug, Deserialize)]
struct StudyTranscript {
    participant: String,
    lines: Vec<String>,
}

/// A demo account as the command prints it.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub hint: String,
    pub password: String,
}

/// One demo project.
#[derive(Debug, Clone, Serialize)]
pub struct DemoProject {
    pub project_id: ProjectId,
    pub project_name: String,
    /// The project's page, as a path.
    pub path: String,
    /// In study order.
    pub transcripts: Vec<TranscriptId>,
}

/// What `create` made.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// The reconciled study.
    pub project_id: ProjectId,
    pub project_name: String,
    /// The project's page, as a path.
    pub path: String,
    pub accounts: Vec<DemoAccount>,
    /// In study order (one per participant, P01 first).
    pub transcripts: Vec<TranscriptId>,
    /// Decisions the lead made by hand (automatic acceptances not counted),
    /// superseded ones included.
    pub decisions: usize,
    /// Agreed codes placed under a subcategory.
    pub placed_codes: usize,
    /// The finished member checking round.
    pub review_round: uuid::Uuid,
    /// The peer debriefing record.
    pub debriefing: uuid::Uuid,
    /// Quotes in the quote bank.
    pub selected_quotes: usize,
    /// The small project whose reconciliation is left to try.
    pub practice: DemoProject,
    pub source: String,
}

/// Creates the demo study. Fails, changing nothing, when any demo account
/// exists already (the demo study was made before).
pub async fn create(state: &AppState) -> Result<DemoSummary, AppError> {
    create_inner(state, false).await
}

/// As [`create`], but only on an install without any account (the setup page).
pub async fn create_on_empty_install(state: &AppState) -> Result<DemoSummary, AppError> {
    create_inner(state, true).await
}

fn bad_data(what: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow!("the demo study data: {what}"))
}

async fn create_inner(state: &AppState, only_if_empty: bool) -> Result<DemoSummary, AppError> {
    let study: Study = serde_json::from_str(STUDY).context("reading the demo study data")?;
    let prepared = prepare(&study).map_err(bad_data)?;
    let mut hashes = Vec::new();
    for _ in &PEOPLE {
        hashes.push(hash_password(PASSWORD.to_owned()).await?);
    }

    let mut tx = state.begin().await?;
    // As setup does: two runs at once must not both go ahead.
    sqlx::query!("lock table users in exclusive mode")
        .execute(&mut *tx)
        .await?;
    if only_if_empty && users::count_users(&mut tx).await? > 0 {
        return Err(AppError::State(
            "Concord is set up already, so the demo study can't be loaded here; please sign in."
                .into(),
        ));
    }
    for person in &PEOPLE {
        if users::find_user_by_email(&mut tx, person.email)
            .await?
            .is_some()
        {
            return Err(AppError::State(format!(
                "The demo study exists already (there is an account {}); nothing was created.",
                person.email
            )));
        }
    }
    let user_ids = insert_accounts(&mut tx, &hashes).await?;
    let main = insert_project(&mut tx, &study, &prepared.project, &user_ids).await?;
    let practice = insert_project(&mut tx, &study, &prepared.practice, &user_ids).await?;
    tx.commit().await?;
    let decisions = reconcile_all(state, &study, &main, &user_ids).await?;
    let placed_codes = place_in_themes(state, &study, &main, user_ids[LEAD]).await?;
    // The outside expert shares the demo password (Rita's hash, not hashed again).
    let checked = validation::create(state, main.id, &main.agreed, &user_ids, &hashes[4]).await?;
    let selected_quotes = select_quotes(state, &main, user_ids[LEAD]).await?;

    Ok(DemoSummary {
        project_id: main.id,
        project_name: study.project.name.clone(),
        path: format!("/projects/{}", main.id),
        accounts: PEOPLE
            .iter()
            .map(|p| DemoAccount {
                display_name: p.name.to_owned(),
                email: p.email.to_owned(),
                role: p.role,
                hint: p.hint.to_owned(),
                password: PASSWORD.to_owned(),
            })
            .collect(),
        transcripts: main.transcripts.iter().map(|t| t.id).collect(),
        decisions,
        placed_codes,
        review_round: checked.review_round,
        debriefing: checked.debriefing,
        selected_quotes,
        practice: DemoProject {
            project_id: practice.id,
            project_name: study.practice.name.clone(),
            path: format!("/projects/{}", practice.id),
            transcripts: practice.transcripts.iter().map(|t| t.id).collect(),
        },
        source: study.source.clone(),
    })
}

// The study data, checked and parsed before anything is written.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Coder {
    A,
    B,
}

impl Coder {
    fn parse(key: &str) -> Result<Self, String> {
        match key {
            "a" => Ok(Self::A),
            "b" => Ok(Self::B),
            other => Err(format!("unknown coder {other:?}")),
        }
    }

    fn person(self) -> usize {
        match self {
            Self::A => CODER_A,
            Self::B => CODER_B,
        }
    }
}

/// One of the lead's decisions on a discrepancy.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    kind: DecisionKind,
    /// The agreed code key of a relabel, union or intersection.
    code: Option<String>,
    /// Given by [`prepare`], from the reasons for its kind in turn.
    rationale: String,
}

/// A coded span of a transcript, in code points of its canonical text.
#[derive(Debug, Clone, PartialEq)]
struct MarkedSpan {
    start: u32,
    end: u32,
    /// Who coded it, with which of their codes (an agreed code key, or the key
    /// of an extra code).
    codes: Vec<(Coder, String)>,
    steps: Vec<Step>,
    comment: Option<Coder>,
}

impl MarkedSpan {
    fn planned(&self) -> bool {
        !self.steps.is_empty() || self.comment.is_some()
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Marked {
    text: String,
    spans: Vec<MarkedSpan>,
}

/// A few characters of `source` around byte `at`, to say where a mistake is.
fn near(source: &str, at: usize) -> String {
    let start = source[..at]
        .char_indices()
        .rev()
        .nth(30)
        .map_or(0, |(i, _)| i);
    source[start..].chars().take(60).collect()
}

/// Strips the `[words]{spec}` marks from `source`, keeping where each span is.
fn parse_marked(source: &str) -> Result<Marked, String> {
    let mut text = String::with_capacity(source.len());
    let mut len: u32 = 0;
    let mut open: Vec<u32> = Vec::new();
    let mut spans = Vec::new();
    let mut chars = source.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '[' => open.push(len),
            ']' => {
                let start = open
                    .pop()
                    .ok_or_else(|| format!("a ] without its [ near {:?}", near(source, at)))?;
                if chars.next().map(|(_, c)| c) != Some('{') {
                    return Err(format!("a ] without {{spec}} near {:?}", near(source, at)));
                }
                let mut spec = String::new();
                loop {
                    match chars.next() {
                        Some((_, '}')) => break,
                        Some((_, c)) => spec.push(c),
                        None => return Err(format!("an unclosed {{ near {:?}", near(source, at))),
                    }
                }
                if start == len {
                    return Err(format!("an empty span near {:?}", near(source, at)));
                }
                let mut span = parse_spec(&spec)
                    .map_err(|e| format!("{e} in {{{spec}}} near {:?}", near(source, at)))?;
                span.start = start;
                span.end = len;
                spans.push(span);
            }
            '{' | '}' => return Err(format!("a stray {c} near {:?}", near(source, at))),
            c => {
                text.push(c);
                len += 1;
            }
        }
    }
    if !open.is_empty() {
        return Err(format!("{} unclosed [ in the transcript", open.len()));
    }
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    Ok(Marked { text, spans })
}

fn parse_spec(spec: &str) -> Result<MarkedSpan, String> {
    let mut span = MarkedSpan {
        start: 0,
        end: 0,
        codes: Vec::new(),
        steps: Vec::new(),
        comment: None,
    };
    for token in spec.split_whitespace() {
        if let Some(steps) = token.strip_prefix('=') {
            for step in steps.split('>') {
                let (kind, code) = match step.split_once(':') {
                    Some((kind, code)) => (kind, Some(code.to_owned())),
                    None => (step, None),
                };
                let kind =
                    DecisionKind::parse(kind).ok_or_else(|| format!("no decision {kind:?}"))?;
                let named = matches!(
                    kind,
                    DecisionKind::Relabel | DecisionKind::Union | DecisionKind::Intersection
                );
                if code.is_some() && !named || kind == DecisionKind::Relabel && code.is_none() {
                    return Err(format!("{step:?} names a code wrongly"));
                }
                span.steps.push(Step {
                    kind,
                    code,
                    rationale: String::new(),
                });
            }
        } else if let Some(coder) = token.strip_prefix('?') {
            span.comment = Some(Coder::parse(coder)?);
        } else if let Some((coder, code)) = token.split_once(':') {
            span.codes.push((Coder::parse(coder)?, code.to_owned()));
        } else {
            span.codes.push((Coder::A, token.to_owned()));
            span.codes.push((Coder::B, token.to_owned()));
        }
    }
    if span.codes.is_empty() {
        return Err("no code".into());
    }
    Ok(span)
}

/// One coder's code as the demo makes it.
#[derive(Debug, Clone)]
struct CoderCode {
    coder: Coder,
    key: String,
    name: String,
    agreed: String,
}

fn coder_codes(study: &Study) -> Result<Vec<CoderCode>, String> {
    let mut out = Vec::new();
    for a in &study.agreed_codes {
        for (coder, name) in [(Coder::A, &a.a), (Coder::B, &a.b)] {
            if let Some(name) = name {
                out.push(CoderCode {
                    coder,
                    key: a.key.clone(),
                    name: name.clone(),
                    agreed: a.key.clone(),
                });
            }
        }
    }
    for e in &study.extra_codes {
        out.push(CoderCode {
            coder: Coder::parse(&e.coder)?,
            key: e.key.clone(),
            name: e.name.clone(),
            agreed: e.agreed.clone(),
        });
    }
    Ok(out)
}

/// A transcript ready to store.
#[derive(Debug, Clone)]
struct PreparedTranscript {
    participant: String,
    title: String,
    marked: Marked,
}

/// One project's data, checked.
#[derive(Debug, Clone)]
struct PreparedProject {
    name: String,
    description: String,
    /// Label and raw values, in the variables' order.
    participants: Vec<(String, Vec<String>)>,
    transcripts: Vec<PreparedTranscript>,
    /// The coder codes its codings use, in codebook order.
    codes: Vec<CoderCode>,
    /// The agreed codes those codes are aligned onto or decisions name, in
    /// codebook order.
    agreed: Vec<String>,
}

#[derive(Debug, Clone)]
struct Prepared {
    project: PreparedProject,
    practice: PreparedProject,
}

/// Checks that the data holds together: every code a span or a decision
/// names exists, every transcript parses to its canonical text, the practice
/// project has no decisions, and each agreed code sits under at most one
/// subcategory.
fn prepare(study: &Study) -> Result<Prepared, String> {
    let codes = coder_codes(study)?;
    let agreed: BTreeSet<&str> = study.agreed_codes.iter().map(|a| a.key.as_str()).collect();
    if agreed.len() != study.agreed_codes.len() {
        return Err("two agreed codes share a key".into());
    }
    let mut seen = BTreeSet::new();
    for c in &codes {
        if !agreed.contains(c.agreed.as_str()) {
            return Err(format!("{:?} is aligned onto no agreed code", c.name));
        }
        if !seen.insert((c.coder, c.key.as_str())) {
            return Err(format!(
                "coder {:?} has two codes keyed {:?}",
                c.coder, c.key
            ));
        }
    }
    let mut placed = BTreeSet::new();
    for theme in &study.themes {
        for sub in &theme.subcategories {
            for key in &sub.codes {
                if !agreed.contains(key.as_str()) {
                    return Err(format!("{:?} places no agreed code {key:?}", sub.name));
                }
                if !placed.insert(key.as_str()) {
                    return Err(format!("{key:?} is placed twice"));
                }
            }
        }
    }
    let project = prepare_project(study, &study.project, &codes, true)?;
    let practice = prepare_project(study, &study.practice, &codes, false)?;
    Ok(Prepared { project, practice })
}

fn prepare_project(
    study: &Study,
    project: &StudyProject,
    codes: &[CoderCode],
    decided: bool,
) -> Result<PreparedProject, String> {
    let mut participants = Vec::new();
    for row in &project.participants {
        let cells: Vec<String> = row
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let Some((label, values)) = cells.split_first() else {
            return Err("a participant without a label".into());
        };
        if values.len() != study.variables.len() {
            return Err(format!("participant {label} has {} values", values.len()));
        }
        participants.push((label.clone(), values.to_vec()));
    }
    let mut transcripts = Vec::new();
    let mut used_codes = BTreeSet::new();
    let mut named = BTreeSet::new();
    // Reasons for each kind of decision are taken in turn, so that
    // neighbouring decisions of one kind read differently.
    let mut turn: HashMap<DecisionKind, usize> = HashMap::new();
    for t in &project.transcripts {
        let (_, values) = participants
            .iter()
            .find(|(label, _)| *label == t.participant)
            .ok_or_else(|| format!("no participant {:?}", t.participant))?;
        let mut source = String::new();
        for (i, line) in t.lines.iter().enumerate() {
            let (speaker, words) = if let Some(words) = line.strip_prefix("Q: ") {
                ("Interviewer", words)
            } else if let Some(words) = line.strip_prefix("A: ") {
                (t.participant.as_str(), words)
            } else {
                return Err(format!(
                    "line {} of {}'s interview starts with neither Q: nor A:",
                    i + 1,
                    t.participant
                ));
            };
            if i > 0 {
                source.push('\n');
            }
            source.push_str(speaker);
            source.push_str(": ");
            source.push_str(words);
        }
        let mut marked = parse_marked(&source).map_err(|e| format!("{}: {e}", t.participant))?;
        for step in marked.spans.iter_mut().flat_map(|s| s.steps.iter_mut()) {
            let reasons = study
                .rationales
                .get(step.kind.as_str())
                .filter(|r| !r.is_empty())
                .ok_or_else(|| format!("no reasons for {}", step.kind.as_str()))?;
            let next = turn.entry(step.kind).or_default();
            step.rationale = reasons[*next % reasons.len()].clone();
            *next += 1;
        }
        let parsed = import::parse_text(marked.text.as_bytes(), Some(Encoding::UTF_8))
            .map_err(|e| format!("{}: {e}", t.participant))?;
        if parsed.text != marked.text {
            return Err(format!("{}: the text is not canonical", t.participant));
        }
        for span in &marked.spans {
            for (coder, key) in &span.codes {
                let code = codes
                    .iter()
                    .position(|c| c.coder == *coder && c.key == *key)
                    .ok_or_else(|| {
                        format!("{}: coder {coder:?} has no code {key:?}", t.participant)
                    })?;
                used_codes.insert(code);
            }
            if !decided && span.planned() {
                return Err(format!(
                    "{}: the practice project is left to reconcile",
                    t.participant
                ));
            }
            for code in span.steps.iter().filter_map(|s| s.code.as_ref()) {
                if !study.agreed_codes.iter().any(|a| a.key == *code) {
                    return Err(format!("{}: no agreed code {code:?}", t.participant));
                }
                named.insert(code.clone());
            }
        }
        let role = values.first().map(String::as_str).unwrap_or_default();
        transcripts.push(PreparedTranscript {
            participant: t.participant.clone(),
            title: format!("Interview {} ({role})", t.participant),
            marked,
        });
    }
    let codes: Vec<CoderCode> = used_codes.into_iter().map(|i| codes[i].clone()).collect();
    named.extend(codes.iter().map(|c| c.agreed.clone()));
    let agreed = study
        .agreed_codes
        .iter()
        .filter(|a| named.contains(&a.key))
        .map(|a| a.key.clone())
        .collect();
    Ok(PreparedProject {
        name: project.name.clone(),
        description: project.description.clone(),
        participants,
        transcripts,
        codes,
        agreed,
    })
}

// Writing it.

async fn insert_accounts(
    tx: &mut PgConnection,
    hashes: &[String],
) -> Result<Vec<UserId>, AppError> {
    let mut user_ids = Vec::new();
    for (person, hash) in PEOPLE.iter().zip(hashes) {
        let user =
            users::insert_user(&mut *tx, person.email, person.name, hash, person.is_admin).await?;
        user_ids.push(user.id);
    }
    let ids: Vec<uuid::Uuid> = user_ids.iter().map(|u| u.0).collect();
    sqlx::query!(
        "update users set demo_password = $2 where id = any($1)",
        &ids,
        PASSWORD
    )
    .execute(&mut *tx)
    .await?;
    Ok(user_ids)
}

/// A stored transcript and where its codings came from.
struct MadeTranscript {
    id: TranscriptId,
    spans: Vec<MarkedSpan>,
    /// The span each coding was made from.
    span_of: HashMap<CodingId, usize>,
}

/// What the transaction made that the reconciliation and the themes need.
struct MadeProject {
    id: ProjectId,
    agreed: HashMap<String, AgreedCodeId>,
    transcripts: Vec<MadeTranscript>,
}

async fn insert_project(
    tx: &mut PgConnection,
    study: &Study,
    data: &PreparedProject,
    user_ids: &[UserId],
) -> Result<MadeProject, AppError> {
    let owner = user_ids[OWNER];
    let lead = user_ids[LEAD];

    // The project and its members.
    let project =
        crate::projects::store::insert_project(&mut *tx, &data.name, &data.description, owner)
            .await?;
    for (person, user) in PEOPLE.iter().zip(user_ids) {
        crate::projects::store::insert_member(&mut *tx, project.id, *user, person.role).await?;
    }

    // Variables and participants.
    let mut variables = Vec::new();
    for v in &study.variables {
        let kind = VariableKind::parse(&v.kind)
            .ok_or_else(|| bad_data(format!("variable kind {:?}", v.kind)))?;
        variables.push(
            crate::participants::store::insert_variable(
                &mut *tx,
                project.id,
                &v.name,
                kind,
                &v.allowed_values,
            )
            .await?,
        );
    }
    let mut participants: HashMap<&str, ParticipantId> = HashMap::new();
    for (label, values) in &data.participants {
        let id =
            crate::participants::store::insert_participant(&mut *tx, project.id, label).await?;
        for (variable, raw) in variables.iter().zip(values) {
            let value = variable
                .check_value(raw)
                .map_err(|e| bad_data(format!("{label}: {e}")))?;
            crate::participants::store::set_value(&mut *tx, id, variable.id, &value).await?;
        }
        participants.insert(label, id);
    }

    // Transcripts, canonicalised and split into turns as an imported .txt is.
    let mut stored = Vec::new();
    for t in &data.transcripts {
        let parsed = import::parse_text(t.marked.text.as_bytes(), Some(Encoding::UTF_8))
            .map_err(|e| bad_data(format!("transcript {}: {e}", t.title)))?;
        let participant = *participants
            .get(t.participant.as_str())
            .ok_or_else(|| bad_data(format!("no participant {:?}", t.participant)))?;
        let char_count = i32::try_from(parsed.char_count).map_err(bad_data)?;
        let id = crate::transcripts::store::insert_transcript(
            &mut *tx,
            project.id,
            crate::transcripts::store::NewTranscript {
                participant_id: Some(participant),
                title: &t.title,
                file_name: &format!("{}.txt", t.participant),
                source_kind: "txt",
                encoding: None,
                text: &parsed.text,
                sha256: &parsed.sha256,
                char_count,
                word_count: crate::transcripts::service::count_words(&parsed.text, &parsed.turns),
                turns: &parsed.turns,
                warnings: &parsed.warnings,
                metadata: &parsed.metadata,
                created_by: Some(lead),
            },
        )
        .await?;
        stored.push(id);
    }

    // Both coders are assigned every transcript, A first (the first assignment
    // makes coder A).
    let mut assignments = Vec::new();
    for transcript in &stored {
        for coder in [Coder::A, Coder::B] {
            let user = user_ids[coder.person()];
            let id = crate::assignments::store::insert(&mut *tx, project.id, *transcript, user)
                .await?
                .ok_or_else(|| bad_data("an assignment twice"))?;
            assignments.push(id);
        }
    }

    // The agreed codebook.
    let mut agreed: HashMap<String, AgreedCodeId> = HashMap::new();
    for (index, a) in study
        .agreed_codes
        .iter()
        .filter(|a| data.agreed.contains(&a.key))
        .enumerate()
    {
        let mut code = AgreedCode::new(
            AgreedCodeId::new(),
            a.name.clone(),
            a.definition.clone(),
            PALETTE[index % PALETTE.len()].to_owned(),
        );
        code.inclusion = a.inclusion.clone();
        code.exclusion = a.exclusion.clone();
        let id = code.id;
        crate::codebook::store::insert_agreed(&mut *tx, project.id, &code, lead).await?;
        agreed.insert(a.key.clone(), id);
    }

    // Each coder's own codebook, aligned onto the agreed codes.
    let mut codes: HashMap<(Coder, &str), CodeId> = HashMap::new();
    for (index, c) in data.codes.iter().enumerate() {
        let owner_id = user_ids[c.coder.person()];
        let code = Code {
            id: CodeId::new(),
            owner_id: Some(owner_id),
            name: c.name.clone(),
            definition: String::new(),
            inclusion: String::new(),
            exclusion: String::new(),
            example: String::new(),
            color: PALETTE[(index * 7) % PALETTE.len()].to_owned(),
            parent_id: None,
            version: 1,
        };
        crate::coding::store::insert_code(&mut *tx, project.id, &code, owner_id).await?;
        let onto = *agreed
            .get(&c.agreed)
            .ok_or_else(|| bad_data(format!("no agreed code {:?}", c.agreed)))?;
        crate::codebook::store::upsert_alignment(&mut *tx, project.id, code.id, onto, lead).await?;
        codes.insert((c.coder, c.key.as_str()), code.id);
    }

    // The codings, one per coder and span.
    let mut transcripts = Vec::new();
    let mut coding_count = 0;
    for (t, id) in data.transcripts.iter().zip(&stored) {
        let mut span_of = HashMap::new();
        for (index, span) in t.marked.spans.iter().enumerate() {
            for (coder, key) in &span.codes {
                let code = *codes
                    .get(&(*coder, key.as_str()))
                    .ok_or_else(|| bad_data(format!("coder {coder:?} has no code {key:?}")))?;
                let coding = Coding {
                    id: CodingId::new(),
                    transcript_id: *id,
                    coder_id: user_ids[coder.person()],
                    code_id: code,
                    start: i32::try_from(span.start).map_err(bad_data)?,
                    end: i32::try_from(span.end).map_err(bad_data)?,
                    memo: String::new(),
                    version: 1,
                };
                crate::coding::store::insert_coding(&mut *tx, project.id, &coding).await?;
                span_of.insert(coding.id, index);
                coding_count += 1;
            }
        }
        transcripts.push(MadeTranscript {
            id: *id,
            spans: t.marked.spans.clone(),
            span_of,
        });
    }

    // Both layers are submitted.
    for id in assignments {
        crate::assignments::store::set_state(
            &mut *tx,
            project.id,
            id,
            crate::assignments::model::AssignmentState::Submitted,
        )
        .await?;
    }

    // The agreements of the submitted layers are accepted, as any write that
    // completes a transcript would have them.
    crate::reconcile::service::file_automatic(
        &mut *tx,
        crate::compare::report::Of {
            project: project.id,
            shared: project.codebook_mode.is_shared(),
        },
        lead,
        crate::reconcile::service::Refile::All,
    )
    .await?;

    audit::record(
        &mut *tx,
        Change::new(Some(owner), Action::DemoCreated)
            .project(project.id)
            .entity(project.id.0)
            .after(&serde_json::json!({
                "project": &project,
                "accounts": PEOPLE.iter().map(|p| p.email).collect::<Vec<_>>(),
                "participants": data.participants.len(),
                "transcripts": transcripts.len(),
                "codings": coding_count,
                "source": study.source,
            })),
    )
    .await?;

    Ok(MadeProject {
        id: project.id,
        agreed,
        transcripts,
    })
}

/// `user` acting on the project.
async fn member(state: &AppState, project: ProjectId, user: UserId) -> Result<Actor, AppError> {
    let mut conn = state.db.acquire().await?;
    Actor::of_user(&mut conn, project, user).await
}

/// The one span of `spans` that plans what happens to the discrepancy made of
/// `codings` (each coding's span given by `span_of`), if any.
fn planned_span<K: Eq + std::hash::Hash>(
    spans: &[MarkedSpan],
    span_of: &HashMap<K, usize>,
    codings: impl IntoIterator<Item = K>,
) -> Result<Option<usize>, String> {
    let planned: BTreeSet<usize> = codings
        .into_iter()
        .filter_map(|k| span_of.get(&k).copied())
        .filter(|&s| spans[s].planned())
        .collect();
    match planned.len() {
        0 => Ok(None),
        1 => Ok(planned.first().copied()),
        _ => Err(format!(
            "one discrepancy has plans on several spans (at {})",
            spans[*planned.first().unwrap_or(&0)].start
        )),
    }
}

/// The lead's visit to every transcript, then the planned decisions on each discrepancy, revisions included, each
/// preceded by a coder's comment where one is planned. Leaves every
/// transcript reconciled, or fails naming the discrepancy without a plan.
/// Two transcripts are reconciled at a time, as two leads could: it is
/// quicker where the runtime has threads, and as a visit or a decision holds
/// one connection, it needs two (the tests' pools have five).
async fn reconcile_all(
    state: &AppState,
    study: &Study,
    made: &MadeProject,
    user_ids: &[UserId],
) -> Result<usize, AppError> {
    use futures_util::{StreamExt, TryStreamExt};
    let lead = member(state, made.id, user_ids[LEAD]).await?;
    let coders = [
        member(state, made.id, user_ids[CODER_A]).await?,
        member(state, made.id, user_ids[CODER_B]).await?,
    ];
    let (lead, coders) = (&lead, &coders);
    // Made first, so that the stream holds futures and no closure (a closure
    // over borrows would make the setup handler's future not `Send`).
    let each: Vec<_> = made
        .transcripts
        .iter()
        .map(|t| reconcile_transcript(state, study, made, (lead, coders), t))
        .collect();
    let per_transcript: Vec<usize> = futures_util::stream::iter(each)
        .buffer_unordered(2)
        .try_collect()
        .await?;
    Ok(per_transcript.into_iter().sum())
}

async fn reconcile_transcript(
    state: &AppState,
    study: &Study,
    made: &MadeProject,
    (lead, coders): (&Actor, &[Actor; 2]),
    t: &MadeTranscript,
) -> Result<usize, AppError> {
    let view = {
        let mut conn = state.db.acquire().await?;
        reconcile::load(&mut conn, lead, t.id).await?
    };
    let mut used = vec![false; t.spans.len()];
    let mut decisions = 0;
    for item in view.items.iter().filter(|i| i.present) {
        let codings = item
            .discrepancy
            .a
            .iter()
            .chain(item.discrepancy.b.iter())
            .flat_map(|s| s.codings.iter().copied());
        let Some(index) = planned_span(&t.spans, &t.span_of, codings).map_err(bad_data)? else {
            if item.discrepancy.kind == "agreement" {
                continue;
            }
            return Err(bad_data(format!(
                "no decision for the {} on line {} of transcript {}",
                item.discrepancy.kind, item.line, t.id
            )));
        };
        used[index] = true;
        let span = &t.spans[index];
        if let Some(coder) = span.comment {
            let body = study
                .comments
                .get(&item.discrepancy.kind)
                .cloned()
                .ok_or_else(|| bad_data(format!("no comment on {}", item.discrepancy.kind)))?;
            let key = item.key.clone();
            let mut tx = state.begin().await?;
            reconcile::comment(
                &mut tx,
                &coders[coder as usize],
                t.id,
                CommentRequest { key, body },
            )
            .await?;
            tx.commit().await?;
        }
        decisions += decide_steps(state, lead, (t.id, item), span, made).await?;
    }
    if let Some(index) = used
        .iter()
        .zip(&t.spans)
        .position(|(u, s)| !u && s.planned())
    {
        return Err(bad_data(format!(
            "the plan at {} of transcript {} is on no discrepancy",
            t.spans[index].start, t.id
        )));
    }
    Ok(decisions)
}

/// Files the decisions planned on one discrepancy, each superseding the one
/// in force before it.
async fn decide_steps(
    state: &AppState,
    lead: &Actor,
    (transcript, item): (TranscriptId, &Item),
    span: &MarkedSpan,
    made: &MadeProject,
) -> Result<usize, AppError> {
    let mut current = item.current.as_ref().map(|d| d.id);
    for step in &span.steps {
        let code_id = match (&step.code, &item.discrepancy.a, &item.discrepancy.b) {
            (Some(key), ..) => Some(
                *made
                    .agreed
                    .get(key)
                    .ok_or_else(|| bad_data(format!("no agreed code {key:?}")))?,
            ),
            // Two different codes merged into one span keep A's code.
            (None, Some(a), Some(b))
                if a.code_id != b.code_id
                    && matches!(step.kind, DecisionKind::Union | DecisionKind::Intersection) =>
            {
                Some(AgreedCodeId(a.code_id))
            }
            _ => None,
        };
        let mut tx = state.begin().await?;
        let decision = reconcile::decide(
            &mut tx,
            lead,
            transcript,
            DecideRequest {
                key: item.key.clone(),
                kind: step.kind.as_str().to_owned(),
                code_id,
                new_code_name: None,
                rationale: step.rationale.clone(),
                supersedes: Some(current),
            },
        )
        .await?;
        tx.commit().await?;
        current = Some(decision.id);
    }
    Ok(span.steps.len())
}

/// Phase 2 as the demo leaves it: the themes and subcategories of Table 2
/// (their scopes as definitions) with the agreed codes placed under them,
/// each subcategory's example quote the first consensus coding of its first
/// code; the codes study.json places nowhere stay unplaced. One transaction,
/// with the audit rows a lead's own moves leave. The themes service will take
/// this function's place.
async fn place_in_themes(
    state: &AppState,
    study: &Study,
    made: &MadeProject,
    lead: UserId,
) -> Result<usize, AppError> {
    // Each theme, then its subcategories: (its theme, position, name,
    // definition, colour, codes).
    type Node<'a> = (
        Option<usize>,
        usize,
        &'a str,
        &'a str,
        &'a str,
        &'a [String],
    );
    let mut nodes: Vec<Node> = Vec::new();
    for (t, theme) in study.themes.iter().enumerate() {
        nodes.push((None, t, &theme.name, &theme.definition, &theme.color, &[]));
        for (i, s) in theme.subcategories.iter().enumerate() {
            nodes.push((Some(t), i, &s.name, &s.scope, &theme.color, &s.codes));
        }
    }
    let mut tx = state.begin().await?;
    let member = Actor::of_user(&mut tx, made.id, lead).await?;
    let editor = crate::themes::service::Editor::of(&mut tx, &member).await?;
    let mut themes: Vec<ThemeNodeId> = Vec::new();
    let mut placed = 0;
    for (theme, position, name, definition, color, keys) in nodes {
        let codes = keys
            .iter()
            .map(|k| made.agreed.get(k).copied())
            .collect::<Option<Vec<AgreedCodeId>>>()
            .ok_or_else(|| bad_data(format!("{name:?} places an unknown code")))?;
        let node = crate::themes::service::create_node(
            &mut tx,
            editor,
            crate::themes::service::NewNodeInput {
                name: name.to_owned(),
                parent_id: theme.map(|t| themes[t]),
                definition: definition.to_owned(),
                color: Some(color.to_owned()),
                position: Some(position),
                codes: codes
                    .iter()
                    .map(|c| crate::themes::service::CodeRef { id: *c, version: 0 })
                    .collect(),
                ..Default::default()
            },
        )
        .await?;
        // The example quote: the first consensus coding of its first code.
        if let Some(first) = codes.first() {
            let example = sqlx::query_scalar!(
                r#"select c.id as "id: crate::db::ids::ConsensusCodingId"
                     from consensus_codings c
                     join transcripts t on t.id = c.transcript_id
                     left join participants p on p.id = t.participant_id
                    where c.project_id = $1 and c.agreed_code_id = $2
                      and c.deleted_at is null and t.deleted_at is null
                    order by p.label, c.start_offset, c.id
                    limit 1"#,
                made.id as ProjectId,
                *first as AgreedCodeId
            )
            .fetch_optional(&mut *tx)
            .await?;
            if example.is_some() {
                crate::themes::service::update_node(
                    &mut tx,
                    editor,
                    node.id,
                    crate::themes::service::NodeEdit {
                        version: node.version,
                        example_coding_id: Some(example),
                        ..Default::default()
                    },
                )
                .await?;
            }
        }
        if theme.is_none() {
            themes.push(node.id);
        }
        placed += codes.len();
    }
    tx.commit().await?;
    Ok(placed)
}

/// A few quotes of the first subcategories in the quote bank, ordered, one
/// lightly edited, as the lead would choose them.
async fn select_quotes(
    state: &AppState,
    made: &MadeProject,
    lead: UserId,
) -> Result<usize, AppError> {
    let mut tx = state.begin().await?;
    let member = Actor::of_user(&mut tx, made.id, lead).await?;
    let editor = crate::themes::service::Editor::of(&mut tx, &member).await?;
    let selected = crate::quote_bank::service::select_for_demo(&mut tx, editor).await?;
    tx.commit().await?;
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study() -> Study {
        serde_json::from_str(STUDY).unwrap()
    }

    #[test]
    fn marks_are_stripped_and_spans_counted_in_code_points() {
        let marked =
            parse_marked("P01: [Zoë’s [pump]{a:x =union>reject ?b}]{b:x} helps. [A lot]{y}.")
                .unwrap();
        assert_eq!(marked.text, "P01: Zoë’s pump helps. A lot.");
        let spans: Vec<(u32, u32, String)> = marked
            .spans
            .iter()
            .map(|s| {
                let codes: Vec<String> =
                    s.codes.iter().map(|(c, k)| format!("{c:?}:{k}")).collect();
                (s.start, s.end, codes.join(" "))
            })
            .collect();
        assert_eq!(
            spans,
            [
                (5, 15, "B:x".to_owned()),
                (11, 15, "A:x".to_owned()),
                (23, 28, "A:y B:y".to_owned()),
            ]
        );
        let inner = &marked.spans[1];
        let steps: Vec<(DecisionKind, Option<&str>)> = inner
            .steps
            .iter()
            .map(|s| (s.kind, s.code.as_deref()))
            .collect();
        assert_eq!(
            steps,
            [(DecisionKind::Union, None), (DecisionKind::Reject, None)]
        );
        assert_eq!(inner.comment, Some(Coder::B));
        let chars: Vec<char> = marked.text.chars().collect();
        assert_eq!(chars[11..15].iter().collect::<String>(), "pump");
    }

    #[test]
    fn bad_marks_are_refused_with_where_they_are() {
        for (source, says) in [
            ("a [b", "unclosed ["),
            ("a b]{x}", "without its ["),
            ("a [b] c", "without {spec}"),
            ("a [b]{x", "unclosed {"),
            ("a []{x}", "empty span"),
            ("a {b}", "stray {"),
            ("a [b]{=union}", "no code"),
            ("a [b]{x =maybe}", "no decision"),
            ("a [b]{x =relabel}", "names a code wrongly"),
            ("a [b]{x =accept_a:y}", "names a code wrongly"),
            ("a [b]{c:x}", "unknown coder"),
        ] {
            let error = parse_marked(source).unwrap_err();
            assert!(error.contains(says), "{source}: {error}");
        }
    }

    #[test]
    fn the_participants_are_table_1_of_the_paper() {
        let study = study();
        let names: Vec<&str> = study.variables.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Role",
                "Experience (years)",
                "Patients in treatment for refractory pain"
            ]
        );
        let prepared = prepare(&study).unwrap();
        let rows: Vec<String> = prepared
            .project
            .participants
            .iter()
            .map(|(label, values)| format!("{label},{}", values.join(",")))
            .collect();
        // Table 1 of Barnosky et al. (2025), as in shared/seed-study.
        assert_eq!(
            rows,
            [
                "P01,Palliative Care Consultant,5,30",
                "P02,Oncologist,25,60",
                "P03,Pain Specialist/ Neurosurgeon,2,25",
                "P04,Service Manager,5,10",
                "P05,Nurse,10,30",
                "P06,Pain Specialist/ Neurosurgeon,25,15",
                "P07,Nurse,30,10",
                "P08,Nurse,2,5",
                "P09,Nurse,10,4",
                "P10,Service Manager,14,30",
                "P11,Oncologist,7,25",
                "P12,Oncologist,5,20",
                "P13,Palliative Care Consultant,10,4",
                "P14,Oncologist,20,10",
                "P15,Oncologist,13,120",
                "P16,Oncologist,21,100",
                "P17,Oncologist,9,70",
                "P18,Oncologist,7,100",
            ]
        );
        let transcripts: Vec<&str> = prepared
            .project
            .transcripts
            .iter()
            .map(|t| t.participant.as_str())
            .collect();
        let labels: Vec<&str> = prepared
            .project
            .participants
            .iter()
            .map(|(l, _)| l.as_str())
            .collect();
        assert_eq!(transcripts, labels, "one interview per participant");
    }

    #[test]
    fn the_hierarchy_is_table_2_of_the_paper() {
        let study = study();
        let shape: Vec<(&str, Vec<&str>)> = study
            .themes
            .iter()
            .map(|t| {
                (
                    t.name.as_str(),
                    t.subcategories.iter().map(|s| s.name.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("Education", vec!["Adoption", "Awareness", "Availability"]),
                (
                    "Barriers & benefits",
                    vec!["Barriers", "Complications", "Benefits", "Challenges"]
                ),
                (
                    "Technical & administrative",
                    vec!["Cost", "Guidelines", "Definition", "Device management"]
                ),
                (
                    "Patient-centered care",
                    vec![
                        "Care pathway",
                        "Treatment strategy",
                        "Patient",
                        "Physical",
                        "Emotional"
                    ]
                ),
            ]
        );
        let placed: usize = study
            .themes
            .iter()
            .flat_map(|t| &t.subcategories)
            .map(|s| {
                assert!(!s.scope.is_empty() && !s.codes.is_empty(), "{}", s.name);
                s.codes.len()
            })
            .sum();
        assert!(placed >= 60, "{placed} placed");
        let unplaced = study.agreed_codes.len() - placed;
        assert!((4..=8).contains(&unplaced), "{unplaced} unplaced");
    }

    /// What the reconciliation of one project comes to, worked out with the
    /// pure parts the service uses: each discrepancy's kind, and the agreed
    /// codes of the consensus layer of each transcript.
    struct Outcome {
        kinds: Vec<BTreeSet<&'static str>>,
        consensus: Vec<BTreeSet<String>>,
        decisions: Vec<DecisionKind>,
        revised: usize,
        /// Discrepancies without a decision.
        undecided: usize,
    }

    fn outcome(project: &PreparedProject) -> Result<Outcome, String> {
        use crate::agreement::{
            CodeId as Code, CoderId, Coding as Unit, DiscrepancyKind, Ratio, TranscriptLayers,
            TranscriptUnits,
        };
        use crate::reconcile::model::{Side, Snapshot, produce};
        let keys = &project.agreed;
        let index = |key: &str| keys.iter().position(|k| k == key).unwrap();
        let codes: Vec<Code> = (0..keys.len() as u32).map(Code).collect();
        let coders = [CoderId(0), CoderId(1)];
        let mut out = Outcome {
            kinds: Vec::new(),
            consensus: Vec::new(),
            decisions: Vec::new(),
            revised: 0,
            undecided: 0,
        };
        for t in &project.transcripts {
            let units = TranscriptUnits::new(&t.marked.text, &[]).unwrap();
            let mut codings = Vec::new();
            let mut span_of = HashMap::new();
            for (s, span) in t.marked.spans.iter().enumerate() {
                for (coder, key) in &span.codes {
                    let code = project
                        .codes
                        .iter()
                        .find(|c| c.coder == *coder && c.key == *key)
                        .unwrap();
                    let key = codings.len() as u64;
                    span_of.insert(key, s);
                    codings.push(Unit {
                        coder: coders[*coder as usize],
                        code: Code(index(&code.agreed) as u32),
                        start: span.start,
                        end: span.end,
                        key,
                    });
                }
            }
            let layers = [TranscriptLayers {
                units: &units,
                submitted: &coders,
                codings: &codings,
            }];
            let report = crate::agreement::Study::new(&coders, &codes, &layers)
                .unwrap()
                .discrepancies(Ratio::new(1, 2).unwrap())
                .unwrap();
            let mut kinds = BTreeSet::new();
            let mut consensus = BTreeSet::new();
            let mut used = vec![false; t.marked.spans.len()];
            for d in &report.per_transcript[0].pairs[0].discrepancies {
                let side = |s: &Option<crate::agreement::Segment>| {
                    s.as_ref().map(|s| Side {
                        code_id: uuid::Uuid::from_u128(s.code.0 as u128),
                        code_name: keys[s.code.0 as usize].clone(),
                        start: s.start,
                        end: s.end,
                        codings: Vec::new(),
                    })
                };
                let kind = match d.kind {
                    DiscrepancyKind::Agreement => "agreement",
                    DiscrepancyKind::Boundary => "boundary",
                    DiscrepancyKind::DifferentCode => "different_code",
                    DiscrepancyKind::PartialOverlap => "partial_overlap",
                    DiscrepancyKind::OnlyA => "only_a",
                    DiscrepancyKind::OnlyB => "only_b",
                };
                kinds.insert(kind);
                let snapshot = Snapshot {
                    kind: kind.to_owned(),
                    coder_a: UserId::new(),
                    coder_b: UserId::new(),
                    a: side(&d.a),
                    b: side(&d.b),
                };
                let ids =
                    d.a.iter()
                        .chain(d.b.iter())
                        .flat_map(|s| s.codings.iter().copied());
                let planned = planned_span(&t.marked.spans, &span_of, ids)?;
                let steps = match planned {
                    Some(s) => {
                        used[s] = true;
                        t.marked.spans[s].steps.clone()
                    }
                    None => Vec::new(),
                };
                out.undecided += usize::from(steps.is_empty() && kind != "agreement");
                let mut made = if kind == "agreement" {
                    produce(&snapshot, DecisionKind::AcceptA, None).unwrap()
                } else {
                    Vec::new()
                };
                out.revised +=
                    usize::from(steps.len() > 1 || kind == "agreement" && !steps.is_empty());
                for step in steps {
                    out.decisions.push(step.kind);
                    let code = match (&step.code, &snapshot.a, &snapshot.b) {
                        (Some(key), ..) => Some(uuid::Uuid::from_u128(index(key) as u128)),
                        (None, Some(a), Some(b)) if a.code_id != b.code_id => Some(a.code_id),
                        _ => None,
                    };
                    made = produce(&snapshot, step.kind, code)
                        .map_err(|r| format!("{}: {kind}: {}", t.participant, r.message()))?;
                }
                consensus.extend(
                    made.iter()
                        .map(|p| keys[p.code_id.as_u128() as usize].clone()),
                );
            }
            if let Some(s) = used
                .iter()
                .zip(&t.marked.spans)
                .position(|(u, s)| !u && s.planned())
            {
                return Err(format!(
                    "{}: the plan at {} is on no discrepancy",
                    t.participant, t.marked.spans[s].start
                ));
            }
            out.kinds.push(kinds);
            out.consensus.push(consensus);
        }
        Ok(out)
    }

    const ALL_KINDS: [&str; 6] = [
        "agreement",
        "boundary",
        "different_code",
        "only_a",
        "only_b",
        "partial_overlap",
    ];

    #[test]
    fn every_discrepancy_of_the_study_has_a_decision_and_every_kind_occurs() {
        let study = study();
        let prepared = prepare(&study).unwrap();
        let outcome = outcome(&prepared.project).unwrap();
        assert_eq!(outcome.undecided, 0);
        let kinds: BTreeSet<&str> = outcome.kinds.iter().flatten().copied().collect();
        assert_eq!(kinds, BTreeSet::from(ALL_KINDS));
        assert_eq!(
            outcome.kinds[0],
            BTreeSet::from(ALL_KINDS),
            "the first interview has them all"
        );
        let decided: BTreeSet<&str> = outcome.decisions.iter().map(|k| k.as_str()).collect();
        let every: BTreeSet<&str> = DecisionKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(decided, every, "every kind of decision is taken");
        assert!(outcome.revised >= 5, "{} revised", outcome.revised);
    }

    #[test]
    fn the_practice_project_has_every_kind_of_discrepancy_left_open() {
        let study = study();
        let prepared = prepare(&study).unwrap();
        let practice = &prepared.practice;
        assert!((2..=3).contains(&practice.transcripts.len()));
        let outcome = outcome(practice).unwrap();
        assert!(outcome.decisions.is_empty());
        assert!(outcome.undecided >= 8, "{} open", outcome.undecided);
        let kinds: BTreeSet<&str> = outcome.kinds.iter().flatten().copied().collect();
        assert_eq!(kinds, BTreeSet::from(ALL_KINDS));
    }

    #[test]
    fn the_consensus_gives_the_counts_the_paper_reports() {
        let study = study();
        let prepared = prepare(&study).unwrap();
        let outcome = outcome(&prepared.project).unwrap();
        let of_18 = |key: &str| outcome.consensus.iter().filter(|c| c.contains(key)).count();
        // Table 2's "n of 18" in shared/seed-study.
        for (key, n) in [
            ("def-maxopioid", 7),
            ("elig-location", 10),
            ("elig-prognosis", 8),
            ("elig-response", 4),
            ("dm-pain", 13),
            ("dm-onc", 11),
            ("dm-patient", 17),
        ] {
            assert_eq!(of_18(key), n, "{key}");
        }
        for a in &study.agreed_codes {
            assert!(of_18(&a.key) > 0, "{} is in no consensus layer", a.key);
        }
        assert_eq!(prepared.project.agreed.len(), study.agreed_codes.len());
        assert_eq!(
            prepared.project.codes.len(),
            coder_codes(&study).unwrap().len(),
            "every coder code is used"
        );
    }

    #[test]
    fn the_interviews_are_40_to_80_lines_of_speaker_turns() {
        let study = study();
        let prepared = prepare(&study).unwrap();
        for (project, prepared, lines) in [
            (&study.project, &prepared.project, 40..=80),
            (&study.practice, &prepared.practice, 10..=80),
        ] {
            for (t, p) in project.transcripts.iter().zip(&prepared.transcripts) {
                assert!(lines.contains(&t.lines.len()), "{}", t.participant);
                let turns = import::parse_text(p.marked.text.as_bytes(), Some(Encoding::UTF_8))
                    .unwrap()
                    .turns;
                let speakers: Vec<&str> = turns
                    .iter()
                    .map(|turn| turn.speaker.as_deref().unwrap_or_default())
                    .collect();
                let expected: Vec<&str> = t
                    .lines
                    .iter()
                    .map(|l| match l.starts_with("Q: ") {
                        true => "Interviewer",
                        false => t.participant.as_str(),
                    })
                    .collect();
                assert_eq!(speakers, expected, "{}", t.participant);
            }
        }
    }
}
