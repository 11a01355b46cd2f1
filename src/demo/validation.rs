//! The demo study's validation and write-up records: a finished member
//! checking round (comments in every status, a sign-off and one with
//! reservations), a peer debriefing linked to the themes and codes it changed,
//! and a few memos and journal entries. Made through the services, as a
//! user's requests would be, in one transaction.

use std::collections::HashMap;

use sqlx::PgConnection;

use crate::db::ids::{AgreedCodeId, ProjectId, ThemeNodeId, UserId};
use crate::error::AppError;
use crate::projects::member::Actor;
use crate::projects::model::Role;
use crate::state::AppState;

/// The outside expert invited to review the themes (not listed with the demo
/// accounts; signs in with the demo password).
pub const EXPERT_EMAIL: &str = "sam.expert@demo.concord";

/// What was made, for the summary.
pub struct Made {
    pub review_round: uuid::Uuid,
    pub debriefing: uuid::Uuid,
}

async fn node_id(
    conn: &mut PgConnection,
    project: ProjectId,
    name: &str,
) -> Result<ThemeNodeId, AppError> {
    sqlx::query_scalar!(
        r#"select id as "id: ThemeNodeId" from theme_nodes
            where project_id = $1 and name = $2 and deleted_at is null"#,
        project as ProjectId,
        name
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| super::bad_data(format!("no theme {name:?}")))
}

fn code(agreed: &HashMap<String, AgreedCodeId>, key: &str) -> Result<AgreedCodeId, AppError> {
    agreed
        .get(key)
        .copied()
        .ok_or_else(|| super::bad_data(format!("no agreed code {key:?}")))
}

pub async fn create(
    state: &AppState,
    project: ProjectId,
    agreed: &HashMap<String, AgreedCodeId>,
    people: &[UserId],
    expert_hash: &str,
) -> Result<Made, AppError> {
    use crate::review::service as review;
    let [_, lead, ada, ben, rita] = people[..] else {
        return Err(super::bad_data("five demo accounts"));
    };
    let mut tx = state.begin().await?;
    let expert = crate::auth::store::insert_user(
        &mut tx,
        EXPERT_EMAIL,
        "Prof. Sam Expert",
        expert_hash,
        false,
    )
    .await?
    .id;
    crate::projects::store::insert_member(&mut tx, project, expert, Role::Reviewer).await?;
    let lead_m = Actor::of_user(&mut tx, project, lead).await?;
    let rita_m = Actor::of_user(&mut tx, project, rita).await?;
    let expert_m = Actor::of_user(&mut tx, project, expert).await?;
    let editor = crate::themes::service::Editor::of(&mut tx, &lead_m).await?;

    // Member checking: round 1, sent to Rita and the outside expert.
    let round = review::publish(
        &mut tx,
        editor,
        review::NewRound {
            message: "Here is our preliminary thematic structure. Does it reflect your experience of referring patients for intrathecal drug delivery? Comment on any theme, code or quote.".into(),
            due_on: Some("2026-04-30".into()),
            reviewers: vec![rita, expert],
        },
    )
    .await?;
    let view = review::view(&mut tx, &lead_m, round.id).await?;
    let complications = node_id(&mut tx, project, "Complications").await?;
    let quote = view
        .snapshot
        .nodes
        .iter()
        .find(|n| n.id == complications.0)
        .and_then(|n| n.example.as_ref())
        .map(|e| e.coding_id)
        .ok_or_else(|| super::bad_data("Complications has no example quote"))?;
    let comment = |kind: &str, id: Option<uuid::Uuid>, body: &str| review::NewComment {
        target_kind: kind.into(),
        target_id: id,
        body: body.into(),
    };
    let on_node = review::comment(
        &mut tx,
        &rita_m,
        round.id,
        comment(
            "node",
            Some(complications.0),
            "Infection is not the only complication we worry about: catheter problems deserve their own mention.",
        ),
    )
    .await?;
    let on_code = review::comment(
        &mut tx,
        &rita_m,
        round.id,
        comment(
            "code",
            Some(code(agreed, "cost-device")?.0),
            "Should the cost of the device not sit with the barriers?",
        ),
    )
    .await?;
    review::comment(
        &mut tx,
        &expert_m,
        round.id,
        comment(
            "quote",
            Some(quote),
            "This quote reads as if infection rules out a pump altogether; is that what the participant meant?",
        ),
    )
    .await?;
    review::answer(
        &mut tx,
        editor,
        round.id,
        on_node.id,
        review::Answer {
            status: "addressed".into(),
            reply: "Agreed: the scope of Complications now names device and catheter problems."
                .into(),
            version: on_node.version,
        },
    )
    .await?;
    review::answer(
        &mut tx,
        editor,
        round.id,
        on_code.id,
        review::Answer {
            status: "dismissed".into(),
            reply: "The participants spoke of cost as an administrative matter, so it stays under Technical & administrative.".into(),
            version: on_code.version,
        },
    )
    .await?;
    review::sign_off(
        &mut tx,
        &rita_m,
        round.id,
        review::SignOff {
            verdict: "confirmed".into(),
            note: String::new(),
        },
    )
    .await?;
    review::sign_off(
        &mut tx,
        &expert_m,
        round.id,
        review::SignOff {
            verdict: "reservations".into(),
            note: "The structure holds, but Benefits and Challenges overlap in places.".into(),
        },
    )
    .await?;
    review::close(&mut tx, editor, round.id).await?;

    // Peer debriefing, with the team and an outside methodologist.
    let cost = node_id(&mut tx, project, "Cost").await?;
    let debriefing = crate::debriefings::service::create(
        &mut tx,
        editor,
        crate::debriefings::service::NewDebriefing {
            held_on: "2026-03-12".into(),
            title: "Debriefing on complications and cost".into(),
            notes: "We read the consensus codings under Complications and Cost together. Ada and Ben described how differently the oncologists and the pain specialists spoke about infection risk.".into(),
            decisions: "Keep chemotherapy and infection as separate codes under Complications.\nPlace device cost under Cost rather than Barriers.".into(),
            attendees: vec![lead, ada, ben],
            guests: vec!["Dr Priya Raman (qualitative methodologist)".into()],
            nodes: vec![complications, cost],
            codes: vec![
                code(agreed, "comp-infection")?,
                code(agreed, "comp-chemo")?,
                code(agreed, "cost-device")?,
            ],
            version: None,
        },
    )
    .await?;

    // Memos: analytic ones and two journal entries.
    let memo = |kind: &str, target: Option<uuid::Uuid>, on: &str, title: &str, body: &str| {
        crate::memos::service::MemoInput {
            kind: kind.into(),
            target_id: target,
            written_on: Some(on.into()),
            title: title.into(),
            body: body.into(),
            version: None,
        }
    };
    let lead_access = crate::memos::service::Access::of(&mut tx, &lead_m).await?;
    let ada_m = Actor::of_user(&mut tx, project, ada).await?;
    let ada_access = crate::memos::service::Access::of(&mut tx, &ada_m).await?;
    let ben_m = Actor::of_user(&mut tx, project, ben).await?;
    let ben_access = crate::memos::service::Access::of(&mut tx, &ben_m).await?;
    for (access, input) in [
        (
            &lead_access,
            memo(
                "project",
                None,
                "2026-02-20",
                "Where the analysis stands",
                "Eighteen interviews reconciled. The themes follow the four areas of the interview guide more closely than expected; check in debriefing whether that is the guide speaking or the participants.",
            ),
        ),
        (
            &ada_access,
            memo(
                "code",
                Some(code(agreed, "comp-infection")?.0),
                "2026-02-24",
                "",
                "Infection is raised by every oncologist, usually as the first reason not to refer; the pain specialists mention it only when asked.",
            ),
        ),
        (
            &lead_access,
            memo(
                "node",
                Some(cost.0),
                "2026-03-13",
                "After the debriefing",
                "Cost is an administrative matter for the participants (funding, budgets), not a barrier a patient meets.",
            ),
        ),
        (
            &ada_access,
            memo(
                "journal",
                None,
                "2026-02-10",
                "",
                "Having worked on an oncology ward, I notice that I read the oncologists' caution about infection as reasonable; I should code their accounts as carefully as the others'.",
            ),
        ),
        (
            &ben_access,
            memo(
                "journal",
                None,
                "2026-02-11",
                "",
                "I expected the nurses to be the most positive about pumps; they were the most practical. Keep that expectation out of the codes.",
            ),
        ),
    ] {
        crate::memos::service::create(&mut tx, access, input).await?;
    }
    tx.commit().await?;
    Ok(Made {
        review_round: round.id,
        debriefing: debriefing.id,
    })
}
