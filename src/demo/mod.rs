//! `concord demo`: a demo study populated end to end from `study.json`, so a
//! new install can be tried at once. Five accounts share one known password;
//! two coders have coded four transcripts with their own codebooks, aligned
//! onto an agreed codebook, and the lead has reconciled part of it.
//!
//! Everything but the reconciliation is made in one transaction; the lead's
//! decisions then go through the reconciliation service as a visit would.

use std::collections::HashMap;
use std::net::IpAddr;

use anyhow::{Context, anyhow};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::auth::model::AuthUser;
use crate::auth::password::hash_password;
use crate::auth::session::{Auth, Credential, CurrentUser};
use crate::auth::store as users;
use crate::coding::model::{Code, Coding};
use crate::db::audit::{self, Action, Change};
use crate::db::ids::{
    AgreedCodeId, CodeId, CodingId, ParticipantId, ProjectId, TranscriptId, UserId,
};
use crate::error::AppError;
use crate::import::{self, Encoding};
use crate::participants::model::VariableKind;
use crate::projects::member::Member;
use crate::projects::model::Role;
use crate::reconcile::model::DecisionKind;
use crate::reconcile::service::{self as reconcile, CommentRequest, DecideRequest, Item};
use crate::state::AppState;

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
        hint: "Lead researcher: aligns codes and reconciles",
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
    project: StudyProject,
    variables: Vec<StudyVariable>,
    participants: Vec<StudyParticipant>,
    agreed_codes: Vec<StudyAgreedCode>,
    coders: Vec<StudyCoder>,
    transcripts: Vec<StudyTranscript>,
    codings: Vec<StudyCoding>,
    rationales: HashMap<String, Vec<String>>,
    source: String,
}

#[derive(Debug, Deserialize)]
struct StudyProject {
    name: String,
    description: String,
}

#[derive(Debug, Deserialize)]
struct StudyVariable {
    name: String,
    kind: String,
    allowed_values: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct StudyParticipant {
    label: String,
    values: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct StudyAgreedCode {
    name: String,
    definition: String,
    inclusion: String,
    exclusion: String,
    color: String,
}

#[derive(Debug, Deserialize)]
struct StudyCoder {
    key: String,
    codes: Vec<StudyCode>,
}

#[derive(Debug, Deserialize)]
struct StudyCode {
    name: String,
    definition: String,
    color: String,
    agreed: String,
}

#[derive(Debug, Deserialize)]
struct StudyTranscript {
    participant: String,
    title: String,
    text: String,
}

#[derive(Debug, Deserialize)]
struct StudyCoding {
    transcript: usize,
    coder: String,
    code: String,
    quote: String,
    occurrence: usize,
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

/// What `create` made.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub project_id: ProjectId,
    pub project_name: String,
    /// The project's page, as a path.
    pub path: String,
    pub accounts: Vec<DemoAccount>,
    /// In study order.
    pub transcripts: Vec<TranscriptId>,
    /// Decisions the lead made by hand (automatic acceptances not counted).
    pub decisions: usize,
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
    let made = insert_study(&mut tx, &study, &hashes).await?;
    tx.commit().await?;

    let decisions = reconcile_partly(state, &study, &made).await?;

    Ok(DemoSummary {
        project_id: made.project,
        project_name: study.project.name.clone(),
        path: format!("/projects/{}", made.project),
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
        transcripts: made.transcripts.iter().map(|t| t.0).collect(),
        decisions,
        source: study.source.clone(),
    })
}

/// What the transaction made that the reconciliation needs.
struct Made {
    project: ProjectId,
    users: Vec<UserId>,
    /// Each transcript with its canonical text.
    transcripts: Vec<(TranscriptId, String)>,
}

fn coder_user(made_users: &[UserId], key: &str) -> Result<UserId, AppError> {
    match key {
        "a" => Ok(made_users[CODER_A]),
        "b" => Ok(made_users[CODER_B]),
        other => Err(bad_data(format!("unknown coder {other:?}"))),
    }
}

/// Code-point offsets of the `occurrence`-th (1-based) `quote` in `text`.
fn find_quote(text: &str, quote: &str, occurrence: usize) -> Option<(i32, i32)> {
    let byte = text
        .match_indices(quote)
        .nth(occurrence.checked_sub(1)?)
        .map(|(i, _)| i)?;
    let start = text.char_indices().position(|(i, _)| i == byte)?;
    let end = start + quote.chars().count();
    Some((i32::try_from(start).ok()?, i32::try_from(end).ok()?))
}

async fn insert_study(
    tx: &mut PgConnection,
    study: &Study,
    hashes: &[String],
) -> Result<Made, AppError> {
    // Accounts.
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
    let owner = user_ids[OWNER];
    let lead = user_ids[LEAD];

    // The project and its members.
    let project = crate::projects::store::insert_project(
        &mut *tx,
        &study.project.name,
        &study.project.description,
        owner,
    )
    .await?;
    for (person, user) in PEOPLE.iter().zip(&user_ids) {
        crate::projects::store::insert_member(&mut *tx, project.id, *user, person.role).await?;
    }

    // Variables and participants.
    let mut variables = HashMap::new();
    for v in &study.variables {
        let kind = VariableKind::parse(&v.kind)
            .ok_or_else(|| bad_data(format!("variable kind {:?}", v.kind)))?;
        let variable = crate::participants::store::insert_variable(
            &mut *tx,
            project.id,
            &v.name,
            kind,
            &v.allowed_values,
        )
        .await?;
        variables.insert(v.name.clone(), variable);
    }
    let mut participants: HashMap<String, ParticipantId> = HashMap::new();
    for p in &study.participants {
        let id =
            crate::participants::store::insert_participant(&mut *tx, project.id, &p.label).await?;
        let mut values: Vec<(&String, &String)> = p.values.iter().collect();
        values.sort();
        for (name, raw) in values {
            let variable = variables
                .get(name)
                .ok_or_else(|| bad_data(format!("no variable {name:?}")))?;
            let value = variable.check_value(raw).map_err(bad_data)?;
            crate::participants::store::set_value(&mut *tx, id, variable.id, &value).await?;
        }
        participants.insert(p.label.clone(), id);
    }

    // Transcripts, canonicalised and split into turns as an imported .txt is.
    let mut transcripts = Vec::new();
    for t in &study.transcripts {
        let parsed = import::parse_text(t.text.as_bytes(), Some(Encoding::UTF_8))
            .map_err(|e| bad_data(format!("transcript {}: {e}", t.title)))?;
        let participant = *participants
            .get(&t.participant)
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
        transcripts.push((id, parsed.text));
    }

    // Both coders are assigned every transcript.
    let coders = [user_ids[CODER_A], user_ids[CODER_B]];
    let mut assignments = Vec::new();
    for (transcript, _) in &transcripts {
        for coder in coders {
            let id = crate::assignments::store::insert(&mut *tx, project.id, *transcript, coder)
                .await?
                .ok_or_else(|| bad_data("an assignment twice"))?;
            assignments.push(id);
        }
    }

    // The agreed codebook.
    let mut agreed: HashMap<&str, AgreedCodeId> = HashMap::new();
    for a in &study.agreed_codes {
        let id = AgreedCodeId::new();
        sqlx::query!(
            r#"insert into agreed_codes (id, project_id, name, definition, inclusion, exclusion, color, created_by)
               values ($1, $2, $3, $4, $5, $6, $7, $8)"#,
            id as AgreedCodeId,
            project.id as ProjectId,
            a.name,
            a.definition,
            a.inclusion,
            a.exclusion,
            a.color,
            lead as UserId
        )
        .execute(&mut *tx)
        .await?;
        agreed.insert(a.name.as_str(), id);
    }

    // Each coder's own codebook, aligned onto the agreed codes.
    let mut codes: HashMap<(UserId, &str), CodeId> = HashMap::new();
    for coder in &study.coders {
        let owner_id = coder_user(&user_ids, &coder.key)?;
        for c in &coder.codes {
            let code = Code {
                id: CodeId::new(),
                owner_id: Some(owner_id),
                name: c.name.clone(),
                definition: c.definition.clone(),
                inclusion: String::new(),
                exclusion: String::new(),
                example: String::new(),
                color: c.color.clone(),
                parent_id: None,
                version: 1,
            };
            crate::coding::store::insert_code(&mut *tx, project.id, &code, owner_id).await?;
            let onto = *agreed
                .get(c.agreed.as_str())
                .ok_or_else(|| bad_data(format!("no agreed code {:?}", c.agreed)))?;
            crate::compare::store::upsert_alignment(&mut *tx, project.id, code.id, onto, lead)
                .await?;
            codes.insert((owner_id, c.name.as_str()), code.id);
        }
    }

    // The codings, at the quote's place in the canonical text.
    for c in &study.codings {
        let coder = coder_user(&user_ids, &c.coder)?;
        let (transcript, text) = transcripts
            .get(c.transcript)
            .ok_or_else(|| bad_data(format!("no transcript {}", c.transcript)))?;
        let code = *codes
            .get(&(coder, c.code.as_str()))
            .ok_or_else(|| bad_data(format!("coder {} has no code {:?}", c.coder, c.code)))?;
        let quote = import::canonicalize(&c.quote).text;
        let (start, end) = find_quote(text, &quote, c.occurrence)
            .ok_or_else(|| bad_data(format!("quote not found: {:?}", c.quote)))?;
        let coding = Coding {
            id: CodingId::new(),
            transcript_id: *transcript,
            coder_id: coder,
            code_id: code,
            start,
            end,
            memo: String::new(),
            version: 1,
        };
        crate::coding::store::insert_coding(&mut *tx, project.id, &coding).await?;
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

    audit::record(
        &mut *tx,
        Change::new(Some(owner), Action::DemoCreated)
            .project(project.id)
            .entity(project.id.0)
            .after(&serde_json::json!({
                "project": &project,
                "accounts": PEOPLE.iter().map(|p| p.email).collect::<Vec<_>>(),
                "participants": study.participants.len(),
                "transcripts": transcripts.len(),
                "codings": study.codings.len(),
                "source": study.source,
            })),
    )
    .await?;

    Ok(Made {
        project: project.id,
        users: user_ids,
        transcripts,
    })
}

/// `user`'s membership, as the extractor would find it for a request.
async fn member(state: &AppState, project: ProjectId, user: UserId) -> Result<Member, AppError> {
    let mut conn = state.db.acquire().await?;
    let (found, role) = crate::projects::store::find_membership(&mut conn, project, user)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = users::get_user(&mut conn, user).await?;
    let auth_user = AuthUser {
        id: row.id,
        email: row.email,
        display_name: row.display_name,
        is_admin: row.is_admin,
    };
    Ok(Member {
        user: CurrentUser {
            user: auth_user.clone(),
            auth: Auth {
                user: Some(auth_user),
                credential: Credential::Anonymous,
                csrf_token: String::new(),
                client_ip: IpAddr::from([127, 0, 0, 1]),
            },
        },
        project_id: project,
        project: found,
        role,
    })
}

/// The lead's decision on a discrepancy of the `transcript`-th transcript,
/// with the index of its reason among `rationales[decision]` (each reason of
/// study.json was written for one of these discrepancies). On the first
/// transcript every kind is decided; on the second only the ones that have a
/// plan, so the rest stays open.
fn plan(transcript: usize, item: &Item) -> Option<(DecisionKind, usize)> {
    use DecisionKind::*;
    let kind = item.discrepancy.kind.as_str();
    match (transcript, kind) {
        (0, "boundary") => Some((Union, 2)),
        (0, "partial_overlap") if item.offered.contains(&Intersection) => Some((Intersection, 1)),
        (0, "partial_overlap") => Some((AcceptB, 2)),
        (0, "different_code") => Some((AcceptA, 1)),
        (0, "only_a") => Some((AcceptA, 0)),
        (0, "only_b") => Some((Reject, 1)),
        // Two points in one sentence: infection risk and prognosis.
        (1, "different_code") => Some((Both, 0)),
        (1, "boundary") => Some((Union, 1)),
        _ => None,
    }
}

/// What coder A says about an open discrepancy she coded.
fn comment_of(item: &Item) -> String {
    let why = match item.discrepancy.kind.as_str() {
        "only_a" => {
            "the clinician gives a reason here, not just a passing mention, so it is more than background"
        }
        "different_code" => {
            "the passage is about what the clinician tells patients, which is what my code stands for; happy to discuss which agreed code fits"
        }
        _ => {
            "the whole sentence carries the point; stopping earlier leaves out the reason the clinician gives"
        }
    };
    format!("I coded this because {why}.")
}

/// Files the planned decisions on the open discrepancies of one transcript.
async fn decide_planned(
    state: &AppState,
    lead: &Member,
    (index, transcript): (usize, TranscriptId),
    items: &[Item],
    rationales: &HashMap<String, Vec<String>>,
) -> Result<usize, AppError> {
    let mut made = 0;
    for item in items {
        let Some((kind, reason)) = plan(index, item) else {
            continue;
        };
        let rationale = rationales
            .get(kind.as_str())
            .and_then(|r| r.get(reason).or(r.first()))
            .cloned()
            .unwrap_or_default();
        // Two different codes merged into one span keep A's code.
        let code_id = match (kind, &item.discrepancy.a, &item.discrepancy.b) {
            (DecisionKind::Union | DecisionKind::Intersection, Some(a), Some(b))
                if a.code_id != b.code_id =>
            {
                Some(AgreedCodeId(a.code_id))
            }
            _ => None,
        };
        reconcile::decide(
            state,
            lead,
            transcript,
            DecideRequest {
                key: item.key.clone(),
                kind: kind.as_str().to_owned(),
                code_id,
                new_code_name: None,
                rationale,
                supersedes: Some(None),
            },
        )
        .await?;
        made += 1;
    }
    Ok(made)
}

/// The lead's visit to every transcript (which accepts the agreements), the
/// first transcript fully reconciled and the second in part; and one comment
/// by coder A on a discrepancy of the second still open.
async fn reconcile_partly(state: &AppState, study: &Study, made: &Made) -> Result<usize, AppError> {
    let lead = member(state, made.project, made.users[LEAD]).await?;
    let mut decisions = 0;
    for (index, (transcript, _)) in made.transcripts.iter().enumerate() {
        let view = reconcile::load(state, &lead, *transcript).await?;
        let open: Vec<Item> = view
            .items
            .into_iter()
            .filter(|i| !i.resolved && i.discrepancy.kind != "agreement")
            .collect();
        if index > 1 {
            continue;
        }
        decisions +=
            decide_planned(state, &lead, (index, *transcript), &open, &study.rationales).await?;
        if index == 1 {
            let still_open: Vec<&Item> = open.iter().filter(|i| plan(index, i).is_none()).collect();
            let target = still_open
                .iter()
                .find(|i| i.discrepancy.a.is_some())
                .or(still_open.first());
            if let Some(item) = target {
                let ada = member(state, made.project, made.users[CODER_A]).await?;
                reconcile::comment(
                    state,
                    &ada,
                    *transcript,
                    CommentRequest {
                        key: item.key.clone(),
                        body: comment_of(item),
                    },
                )
                .await?;
            }
        }
    }
    Ok(decisions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_found_in_code_points() {
        let text = "I: Zoë’s pump — it helps. It helps a lot.";
        assert_eq!(find_quote(text, "pump", 1), Some((9, 13)));
        assert_eq!(find_quote(text, "It helps", 1), Some((26, 34)));
        assert_eq!(find_quote(text, "helps", 2), Some((29, 34)));
        assert_eq!(find_quote(text, "helps", 3), None);
        assert_eq!(find_quote(text, "helps", 0), None);
    }

    #[test]
    fn the_study_data_holds_together() {
        let study: Study = serde_json::from_str(STUDY).unwrap();
        assert_eq!(study.participants.len(), 18);
        assert_eq!(study.transcripts.len(), 4);
        for c in &study.codings {
            let text = import::parse_text(
                study.transcripts[c.transcript].text.as_bytes(),
                Some(Encoding::UTF_8),
            )
            .unwrap()
            .text;
            let quote = import::canonicalize(&c.quote).text;
            assert!(
                find_quote(&text, &quote, c.occurrence).is_some(),
                "{:?}",
                c.quote
            );
            let coder = study.coders.iter().find(|k| k.key == c.coder).unwrap();
            assert!(coder.codes.iter().any(|k| k.name == c.code), "{}", c.code);
        }
        for coder in &study.coders {
            for code in &coder.codes {
                assert!(
                    study.agreed_codes.iter().any(|a| a.name == code.agreed),
                    "{}",
                    code.agreed
                );
            }
        }
    }
}
