//! Every project route, for every role, from the router's own list of paths
//! (`concord::routes`): a route added later without an entry in [`EXPECTED`]
//! fails `every_project_route_is_in_the_role_table`.
//!
//! - Outsiders: a non-member gets 404 and a signed-out visitor 401 (API) or a
//!   redirect to sign-in (pages), for every method of every route.
//! - Reads (GET): each role gets what the table says: allowed (2xx), or
//!   refused (403, or 409 where only the state refuses it).
//! - Writes: a role the table refuses changes nothing (the audit log stays as
//!   it was) and gets 403, 409 or 422; no role gets a 5xx.
//! - Blinding: no read of any route, as a member still coding the transcript
//!   (a coder and a lead) or as anyone else not entitled, shows a submitted
//!   coder's code, memo or coding; once they submit, the lead does see them.

use std::collections::BTreeMap;

use concord::projects::model::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, TestClient, TestProject, TestUser};

/// Who passes a route's role check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// Every member, reviewers included.
    Member,
    /// Owners, leads and coders.
    Coder,
    /// Owners and leads.
    Lead,
    /// Owners.
    Owner,
    /// Owners, leads and reviewers (member checking).
    Reviewing,
    /// Whoever is assigned to code the transcript (their own layer).
    Assigned,
}

/// (method, path, who passes its role check).
const EXPECTED: &[(&str, &str, Who)] = &[
    ("GET", "/projects/{project_id}/review", Who::Reviewing),
    ("POST", "/projects/{project_id}/review", Who::Lead),
    (
        "GET",
        "/projects/{project_id}/review/{round_id}",
        Who::Reviewing,
    ),
    (
        "POST",
        "/projects/{project_id}/review/{round_id}/comments",
        Who::Reviewing,
    ),
    (
        "POST",
        "/projects/{project_id}/review/{round_id}/comments/{comment_id}",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/review/{round_id}/signoff",
        Who::Reviewing,
    ),
    (
        "POST",
        "/projects/{project_id}/review/{round_id}/close",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/review-rounds",
        Who::Reviewing,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/review-rounds",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/review-rounds/{round_id}",
        Who::Reviewing,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/review-rounds/{round_id}/comments",
        Who::Reviewing,
    ),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/review-rounds/{round_id}/comments/{comment_id}",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/review-rounds/{round_id}/signoff",
        Who::Reviewing,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/review-rounds/{round_id}/close",
        Who::Lead,
    ),
    ("GET", "/projects/{project_id}/themes", Who::Member),
    ("GET", "/projects/{project_id}/themes/quotes", Who::Member),
    (
        "GET",
        "/projects/{project_id}/themes/trace/{coding_id}",
        Who::Member,
    ),
    (
        "GET",
        "/projects/{project_id}/themes/trace/codings/{coding_id}",
        Who::Member,
    ),
    ("GET", "/api/v1/projects/{project_id}/themes", Who::Member),
    (
        "POST",
        "/api/v1/projects/{project_id}/themes/nodes",
        Who::Lead,
    ),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}",
        Who::Lead,
    ),
    (
        "DELETE",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}/move",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}/merge",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}/split",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/themes/nodes/{node_id}/restore",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/themes/placements",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/themes/quotes",
        Who::Member,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/themes/trace/consensus/{coding_id}",
        Who::Member,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/themes/trace/codings/{coding_id}",
        Who::Member,
    ),
    ("GET", "/projects/{project_id}/debriefings", Who::Coder),
    ("POST", "/projects/{project_id}/debriefings", Who::Lead),
    (
        "GET",
        "/projects/{project_id}/debriefings/{debriefing_id}",
        Who::Coder,
    ),
    (
        "POST",
        "/projects/{project_id}/debriefings/{debriefing_id}",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/debriefings",
        Who::Coder,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/debriefings",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/debriefings/discussed",
        Who::Coder,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/debriefings/{debriefing_id}",
        Who::Coder,
    ),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/debriefings/{debriefing_id}",
        Who::Lead,
    ),
    ("GET", "/projects/{project_id}/memos", Who::Coder),
    ("POST", "/projects/{project_id}/memos", Who::Coder),
    ("POST", "/projects/{project_id}/memos/{memo_id}", Who::Coder),
    (
        "POST",
        "/projects/{project_id}/memos/{memo_id}/delete",
        Who::Coder,
    ),
    ("GET", "/api/v1/projects/{project_id}/memos", Who::Coder),
    ("POST", "/api/v1/projects/{project_id}/memos", Who::Coder),
    (
        "GET",
        "/api/v1/projects/{project_id}/memos/{memo_id}",
        Who::Coder,
    ),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/memos/{memo_id}",
        Who::Coder,
    ),
    (
        "DELETE",
        "/api/v1/projects/{project_id}/memos/{memo_id}",
        Who::Coder,
    ),
    ("GET", "/projects/{project_id}/search", Who::Member),
    ("GET", "/api/v1/projects/{project_id}/search", Who::Member),
    (
        "GET",
        "/projects/{project_id}/saturation/order",
        Who::Member,
    ),
    ("POST", "/projects/{project_id}/saturation/order", Who::Lead),
    (
        "GET",
        "/api/v1/projects/{project_id}/interview-order",
        Who::Member,
    ),
    (
        "PUT",
        "/api/v1/projects/{project_id}/interview-order",
        Who::Lead,
    ),
    ("GET", "/projects/{project_id}/quote-bank", Who::Member),
    (
        "GET",
        "/projects/{project_id}/quote-bank/quotes.csv",
        Who::Member,
    ),
    (
        "GET",
        "/projects/{project_id}/quote-bank/quotes.docx",
        Who::Member,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/quote-bank",
        Who::Member,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/quote-bank/quotes",
        Who::Lead,
    ),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/quote-bank/quotes/{quote_id}",
        Who::Lead,
    ),
    (
        "DELETE",
        "/api/v1/projects/{project_id}/quote-bank/quotes/{quote_id}",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/quote-bank/quotes/{quote_id}/preview",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/quote-bank/quotes/{quote_id}/refile",
        Who::Lead,
    ),
    (
        "PUT",
        "/api/v1/projects/{project_id}/quote-bank/order",
        Who::Lead,
    ),
    (
        "PUT",
        "/api/v1/projects/{project_id}/quote-bank/attribute",
        Who::Lead,
    ),
    ("GET", "/projects/{project_id}/saturation", Who::Member),
    ("GET", "/projects/{project_id}/tables", Who::Member),
    ("GET", "/projects/{project_id}/tables/download", Who::Member),
    (
        "GET",
        "/api/v1/projects/{project_id}/saturation",
        Who::Member,
    ),
    ("GET", "/api/v1/projects/{project_id}/tables", Who::Member),
    ("GET", "/api/v1/projects/{project_id}", Who::Member),
    ("PATCH", "/api/v1/projects/{project_id}", Who::Owner),
    (
        "POST",
        "/api/v1/projects/{project_id}/agreed-codes",
        Who::Lead,
    ),
    ("GET", "/api/v1/projects/{project_id}/agreement", Who::Coder),
    ("GET", "/api/v1/projects/{project_id}/alignment", Who::Lead),
    (
        "GET",
        "/api/v1/projects/{project_id}/exports/codebook.qdc",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/exports/project.qdpx",
        Who::Lead,
    ),
    (
        "PUT",
        "/api/v1/projects/{project_id}/alignment/{code_id}",
        Who::Lead,
    ),
    (
        "DELETE",
        "/api/v1/projects/{project_id}/alignment/{code_id}",
        Who::Lead,
    ),
    ("POST", "/api/v1/projects/{project_id}/archive", Who::Owner),
    (
        "GET",
        "/api/v1/projects/{project_id}/assignments",
        Who::Member,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/assignments",
        Who::Lead,
    ),
    (
        "DELETE",
        "/api/v1/projects/{project_id}/assignments/{assignment_id}",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/assignments/{assignment_id}/reopen",
        Who::Lead,
    ),
    ("GET", "/api/v1/projects/{project_id}/audit", Who::Owner),
    (
        "PUT",
        "/api/v1/projects/{project_id}/codebook-mode",
        Who::Lead,
    ),
    ("GET", "/api/v1/projects/{project_id}/codes", Who::Member),
    ("POST", "/api/v1/projects/{project_id}/codes", Who::Coder),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/codes/{code_id}",
        Who::Coder,
    ),
    (
        "DELETE",
        "/api/v1/projects/{project_id}/codes/{code_id}",
        Who::Coder,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/codes/{code_id}/merge",
        Who::Coder,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/codes/{code_id}/restore",
        Who::Coder,
    ),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/codings/{coding_id}",
        Who::Coder,
    ),
    (
        "DELETE",
        "/api/v1/projects/{project_id}/codings/{coding_id}",
        Who::Coder,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/codings/{coding_id}/restore",
        Who::Coder,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/consensus/codebook",
        Who::Member,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/consensus/codes",
        Who::Lead,
    ),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}",
        Who::Lead,
    ),
    (
        "DELETE",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}/merge",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}/restore",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}/unmerge",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/consensus/codes/{code_id}/split",
        Who::Lead,
    ),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/consensus/codings/{coding_id}",
        Who::Lead,
    ),
    (
        "DELETE",
        "/api/v1/projects/{project_id}/consensus/codings/{coding_id}",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/consensus/codings/{coding_id}/restore",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/consensus/transcripts/{transcript_id}/coding",
        Who::Member,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/consensus/transcripts/{transcript_id}/codings",
        Who::Member,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/consensus/transcripts/{transcript_id}/codings",
        Who::Lead,
    ),
    ("GET", "/api/v1/projects/{project_id}/events", Who::Member),
    ("GET", "/api/v1/projects/{project_id}/exports", Who::Member),
    ("GET", "/api/v1/projects/{project_id}/members", Who::Member),
    ("POST", "/api/v1/projects/{project_id}/members", Who::Owner),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/members/{user_id}",
        Who::Owner,
    ),
    (
        "DELETE",
        "/api/v1/projects/{project_id}/members/{user_id}",
        Who::Owner,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/participant-imports",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/participant-imports/{draft_id}",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/participants",
        Who::Member,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/participants",
        Who::Lead,
    ),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/participants/{participant_id}",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/reconciliation",
        Who::Coder,
    ),
    (
        "PUT",
        "/api/v1/projects/{project_id}/reconciliation/settings",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/transcripts",
        Who::Member,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/transcripts",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/transcripts/preview",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}",
        Who::Member,
    ),
    (
        "PATCH",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}",
        Who::Lead,
    ),
    (
        "DELETE",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/coding",
        Who::Assigned,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/codings",
        Who::Assigned,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/codings",
        Who::Coder,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/comments",
        Who::Coder,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/decisions",
        Who::Lead,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/reconciliation",
        Who::Member,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/restore",
        Who::Lead,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/transcripts/{transcript_id}/submit",
        Who::Coder,
    ),
    (
        "POST",
        "/api/v1/projects/{project_id}/unarchive",
        Who::Owner,
    ),
    (
        "GET",
        "/api/v1/projects/{project_id}/variables",
        Who::Member,
    ),
    ("POST", "/api/v1/projects/{project_id}/variables", Who::Lead),
    ("GET", "/projects/{project_id}", Who::Member),
    ("GET", "/projects/{project_id}/agreement", Who::Coder),
    ("GET", "/projects/{project_id}/agreement.csv", Who::Coder),
    (
        "GET",
        "/projects/{project_id}/agreement/transcripts/{transcript_id}",
        Who::Coder,
    ),
    ("GET", "/projects/{project_id}/alignment", Who::Lead),
    (
        "GET",
        "/projects/{project_id}/exports/codebook.qdc",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/project.qdpx",
        Who::Lead,
    ),
    ("GET", "/projects/{project_id}/codebook/import", Who::Lead),
    ("POST", "/projects/{project_id}/codebook/import", Who::Lead),
    (
        "POST",
        "/api/v1/projects/{project_id}/codebook/import",
        Who::Lead,
    ),
    ("POST", "/projects/{project_id}/alignment/agreed", Who::Lead),
    ("POST", "/projects/{project_id}/alignment/map", Who::Lead),
    (
        "POST",
        "/projects/{project_id}/alignment/unalign",
        Who::Lead,
    ),
    ("POST", "/projects/{project_id}/archive", Who::Owner),
    ("POST", "/projects/{project_id}/assignments", Who::Lead),
    (
        "POST",
        "/projects/{project_id}/assignments/{assignment_id}/remove",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/assignments/{assignment_id}/reopen",
        Who::Lead,
    ),
    ("GET", "/projects/{project_id}/audit", Who::Owner),
    ("GET", "/projects/{project_id}/audit.csv", Who::Owner),
    ("POST", "/projects/{project_id}/codebook-mode", Who::Lead),
    ("GET", "/projects/{project_id}/exports", Who::Member),
    (
        "GET",
        "/projects/{project_id}/exports/agreement.xlsx",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/audit.csv",
        Who::Owner,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/codebook.csv",
        Who::Member,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/codebook.xlsx",
        Who::Member,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/ledger.csv",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/agreement.docx",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/codebook.docx",
        Who::Member,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/codebook.html",
        Who::Member,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/ledger.docx",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/segments.csv",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/segments.xlsx",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/own-codebook.csv",
        Who::Member,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/own-codebook.xlsx",
        Who::Member,
    ),
    (
        "GET",
        "/projects/{project_id}/exports/own-codebook.docx",
        Who::Member,
    ),
    ("GET", "/projects/{project_id}/consensus", Who::Member),
    (
        "POST",
        "/projects/{project_id}/consensus/codes/{code_id}",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/consensus/codes/{code_id}/example",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/consensus/codes/{code_id}/merge",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/consensus/codes/{code_id}/unmerge",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/consensus/codes/{code_id}/split",
        Who::Lead,
    ),
    ("POST", "/projects/{project_id}/members", Who::Owner),
    (
        "POST",
        "/projects/{project_id}/members/{user_id}/remove",
        Who::Owner,
    ),
    (
        "POST",
        "/projects/{project_id}/members/{user_id}/role",
        Who::Owner,
    ),
    ("GET", "/projects/{project_id}/participants", Who::Member),
    ("POST", "/projects/{project_id}/participants", Who::Lead),
    (
        "POST",
        "/projects/{project_id}/participants/import",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/participants/import/{draft_id}",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/participants/import/{draft_id}",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/participants/{participant_id}",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/participants/{participant_id}",
        Who::Lead,
    ),
    ("GET", "/projects/{project_id}/reconcile", Who::Coder),
    (
        "POST",
        "/projects/{project_id}/reconcile/settings",
        Who::Lead,
    ),
    ("GET", "/projects/{project_id}/settings", Who::Owner),
    ("POST", "/projects/{project_id}/settings", Who::Owner),
    (
        "GET",
        "/projects/{project_id}/transcripts/import",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/transcripts/import",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/transcripts/{transcript_id}",
        Who::Member,
    ),
    (
        "GET",
        "/projects/{project_id}/transcripts/{transcript_id}/code",
        Who::Assigned,
    ),
    (
        "GET",
        "/projects/{project_id}/transcripts/{transcript_id}/consensus",
        Who::Member,
    ),
    (
        "POST",
        "/projects/{project_id}/transcripts/{transcript_id}/delete",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/transcripts/{transcript_id}/edit",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/transcripts/{transcript_id}/edit",
        Who::Lead,
    ),
    (
        "GET",
        "/projects/{project_id}/transcripts/{transcript_id}/reconcile",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/transcripts/{transcript_id}/restore",
        Who::Lead,
    ),
    (
        "POST",
        "/projects/{project_id}/transcripts/{transcript_id}/submit",
        Who::Coder,
    ),
    ("POST", "/projects/{project_id}/unarchive", Who::Owner),
    ("POST", "/projects/{project_id}/variables", Who::Lead),
];

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Strings that only Ben's submitted layer and codebook hold.
const CANARY_CODE: &str = "canary-code-of-ben";
const CANARY_MEMO: &str = "canary-memo-of-ben";

struct Fixture<'a> {
    project: TestProject<'a>,
    transcript: String,
    lead: TestUser,
    coding_lead: TestUser,
    ana: TestUser,
    ben: TestUser,
    idle: TestUser,
    reviewer: TestUser,
    outsider: TestUser,
    ids: BTreeMap<&'static str, String>,
    ben_coding: String,
}

async fn fixture(app: &TestApp) -> Fixture<'_> {
    let project = app.project().await;
    let transcript = project
        .import_text(
            "P01.txt",
            "Interviewer: How do families cope?\nP01: They call the day before.\nP01: It builds trust.",
        )
        .await;
    let lead = project.member(Role::Lead).await;
    let coding_lead = project.member(Role::Lead).await;
    let ana = project.member(Role::Coder).await;
    let ben = project.member(Role::Coder).await;
    let idle = project.member(Role::Coder).await;
    let reviewer = project.member(Role::Reviewer).await;
    let outsider = app.signed_in("outsider@example.org", false).await;
    let assigned = project
        .owner
        .post_json(
            &project.api("/assignments"),
            &json!({ "transcript_ids": [transcript], "user_ids": [ana.id, ben.id, coding_lead.id] }),
        )
        .await;
    assert_eq!(assigned.status(), StatusCode::CREATED);
    let code_of = |name: &str| json!({ "id": Uuid::new_v4(), "name": name });
    let anas: Value = ana
        .post_json(&project.api("/codes"), &code_of("families"))
        .await
        .json()
        .await
        .unwrap();
    let bens: Value = ben
        .post_json(&project.api("/codes"), &code_of(CANARY_CODE))
        .await
        .json()
        .await
        .unwrap();
    let layer = project.api(&format!("/transcripts/{transcript}/codings"));
    let ana_coding: Value = ana
        .post_json(
            &layer,
            &json!({ "id": Uuid::new_v4(), "code_id": anas["id"], "start": 0, "end": 12 }),
        )
        .await
        .json()
        .await
        .unwrap();
    let ben_coding: Value = ben
        .post_json(
            &layer,
            &json!({ "id": Uuid::new_v4(), "code_id": bens["id"], "start": 40, "end": 60, "memo": CANARY_MEMO }),
        )
        .await
        .json()
        .await
        .unwrap();
    let submitted = ben
        .post_json(
            &project.api(&format!("/transcripts/{transcript}/submit")),
            &json!({}),
        )
        .await;
    assert_eq!(submitted.status(), StatusCode::OK);
    let assignments: Value = project
        .owner
        .get(&project.api("/assignments"))
        .await
        .json()
        .await
        .unwrap();
    let ana_assignment = assignments
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == ana.id.to_string())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let participant: Value = project
        .owner
        .post_json(&project.api("/participants"), &json!({ "label": "P01" }))
        .await
        .json()
        .await
        .unwrap();
    let mut ids = BTreeMap::new();
    ids.insert("transcript_id", transcript.clone());
    ids.insert("code_id", anas["id"].as_str().unwrap().to_owned());
    ids.insert("coding_id", ana_coding["id"].as_str().unwrap().to_owned());
    ids.insert("assignment_id", ana_assignment);
    ids.insert("user_id", idle.id.to_string());
    ids.insert(
        "participant_id",
        participant["id"].as_str().unwrap_or_default().to_owned(),
    );
    ids.insert("draft_id", Uuid::new_v4().to_string());
    ids.insert("node_id", Uuid::new_v4().to_string());
    ids.insert("round_id", Uuid::new_v4().to_string());
    ids.insert("comment_id", Uuid::new_v4().to_string());
    ids.insert("debriefing_id", Uuid::new_v4().to_string());
    ids.insert("memo_id", Uuid::new_v4().to_string());
    ids.insert("quote_id", Uuid::new_v4().to_string());
    Fixture {
        project,
        transcript,
        lead,
        coding_lead,
        ana,
        ben,
        idle,
        reviewer,
        outsider,
        ids,
        ben_coding: ben_coding["id"].as_str().unwrap().to_owned(),
    }
}

impl Fixture<'_> {
    fn url(&self, path: &str) -> String {
        let mut url = path.replace("{project_id}", &self.project.id.to_string());
        for (name, id) in &self.ids {
            url = url.replace(&format!("{{{name}}}"), id);
        }
        // Search for the words of Ben's coding: no one else may see his code there.
        if url.ends_with("/search") {
            url.push_str("?q=call%20the%20day");
        }
        url
    }
}

/// Sends `method` to `path` as `client`, with an empty JSON body (API) or an
/// empty form (pages) and the session's CSRF token. The events stream is
/// answered by its headers alone.
async fn send(client: &TestClient, method: &str, path: &str) -> (StatusCode, String) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.http.request(method.clone(), client.url(path));
    if method != Method::GET {
        let token = client.csrf_token().await;
        request = request.header("x-csrf-token", token.clone());
        request = if path.starts_with("/api/") {
            request.json(&json!({}))
        } else {
            request.form(&[("_csrf", token.as_str())])
        };
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    if path.ends_with("/events") {
        return (status, String::new());
    }
    (status, response.text().await.unwrap_or_default())
}

fn allowed(who: Who, role: Role, assigned: bool) -> bool {
    match who {
        Who::Assigned => assigned,
        Who::Member => true,
        Who::Coder => role != Role::Reviewer,
        Who::Lead => matches!(role, Role::Lead | Role::Owner),
        Who::Owner => role == Role::Owner,
        Who::Reviewing => matches!(role, Role::Lead | Role::Owner | Role::Reviewer),
    }
}

fn project_paths() -> Vec<&'static str> {
    let config = concord::config::Config::for_tests("postgres://unused/unused".into());
    let mut paths: Vec<&'static str> = concord::routes(&config)
        .paths()
        .iter()
        .copied()
        .filter(|p| p.contains("{project_id}"))
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

#[tokio::test]
async fn every_project_route_is_in_the_role_table() {
    let app = TestApp::spawn().await;
    let signed_out = app.client();
    let mut served = Vec::new();
    for path in project_paths() {
        let url = path.replace("{project_id}", &Uuid::new_v4().to_string());
        for method in METHODS {
            let (status, _) = send(&signed_out, method, &url).await;
            if status != StatusCode::METHOD_NOT_ALLOWED {
                served.push((method, path));
            }
        }
    }
    let listed: Vec<(&str, &str)> = EXPECTED.iter().map(|(m, p, _)| (*m, *p)).collect();
    let missing: Vec<_> = served.iter().filter(|r| !listed.contains(r)).collect();
    assert!(
        missing.is_empty(),
        "routes with no entry in EXPECTED: {missing:#?}"
    );
    let stale: Vec<_> = listed.iter().filter(|r| !served.contains(r)).collect();
    assert!(
        stale.is_empty(),
        "EXPECTED lists routes the app does not serve: {stale:#?}"
    );
    assert!(
        served.len() > 80,
        "the router lists {} project routes",
        served.len()
    );
}

#[tokio::test]
async fn outsiders_get_404_or_sign_in_on_every_project_route() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let signed_out = app.client();
    for (method, path, _) in EXPECTED {
        let url = f.url(path);
        let before = app.audit_count(Some(f.project.id)).await;
        let (status, _) = send(&f.outsider, method, &url).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "non-member: {method} {path}");
        let (status, _) = send(&signed_out, method, &url).await;
        if path.starts_with("/api/") {
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "signed out: {method} {path}"
            );
        } else if *method == "GET" {
            assert_eq!(status, StatusCode::SEE_OTHER, "signed out: {method} {path}");
        } else {
            // A form from a visitor with no session fails its CSRF check first.
            assert!(
                matches!(
                    status,
                    StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                ),
                "signed out: {method} {path}: {status}"
            );
        }
        assert_eq!(
            app.audit_count(Some(f.project.id)).await,
            before,
            "outsiders changed something: {method} {path}"
        );
    }
}

#[tokio::test]
async fn each_role_reads_what_it_may_and_no_one_blind_sees_a_submitted_layer() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    // (who, role, assigned to the transcript, blind to Ben's layer and codebook)
    let viewers: [(&str, &TestUser, Role, bool, bool); 7] = [
        ("owner", &f.project.owner, Role::Owner, false, false),
        ("lead", &f.lead, Role::Lead, false, false),
        ("lead still coding", &f.coding_lead, Role::Lead, true, true),
        ("coder still coding", &f.ana, Role::Coder, true, true),
        ("coder who submitted", &f.ben, Role::Coder, true, false),
        ("coder not on it", &f.idle, Role::Coder, false, true),
        ("reviewer", &f.reviewer, Role::Reviewer, false, true),
    ];
    let mut owner_saw_canary = false;
    let mut failures = Vec::new();
    // A read writes nothing (an export's download is only recorded as made).
    let writes = || {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select (select count(*) from audit_events where action <> 'export.made')
                      + (select count(*) from project_events)",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    for (method, path, who) in EXPECTED.iter().filter(|(m, ..)| *m == "GET") {
        let url = f.url(path);
        for (name, user, role, assigned, blind) in &viewers {
            let before = writes().await;
            let (status, body) = send(user, method, &url).await;
            if writes().await != before {
                failures.push(format!("{name} wrote something with GET {path}"));
            }
            let refused = matches!(
                status,
                StatusCode::FORBIDDEN | StatusCode::CONFLICT | StatusCode::NOT_FOUND
            );
            // A member the role allows may still be refused while blind.
            if allowed(*who, *role, *assigned) {
                if !(status.is_success() || refused && (*blind || status != StatusCode::FORBIDDEN))
                {
                    failures.push(format!("{name} may read {path}: {status}"));
                }
            } else if !refused {
                failures.push(format!("{name} may not read {path}: {status}"));
            }
            let shows_ben = body.contains(CANARY_CODE)
                || body.contains(CANARY_MEMO)
                || body.contains(&f.ben_coding);
            if *blind && shows_ben {
                failures.push(format!("{name} sees Ben's layer or codebook on {path}"));
            }
            if *name == "owner" && shows_ben {
                owner_saw_canary = true;
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        owner_saw_canary,
        "the owner sees Ben's layer somewhere: the check can fail"
    );

    // Once the lead has submitted, Ben's layer opens to them too.
    let submitted = f
        .coding_lead
        .post_json(
            &f.project
                .api(&format!("/transcripts/{}/submit", f.transcript)),
            &json!({}),
        )
        .await;
    assert_eq!(submitted.status(), StatusCode::OK);
    let (status, body) = send(
        &f.coding_lead,
        "GET",
        &f.url("/api/v1/projects/{project_id}/alignment"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(CANARY_CODE),
        "the lead now reads Ben's codebook"
    );
}

#[tokio::test]
async fn roles_refused_a_write_change_nothing_and_nothing_fails_with_5xx() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let members: [(&str, &TestUser, Role); 5] = [
        ("reviewer", &f.reviewer, Role::Reviewer),
        ("coder", &f.idle, Role::Coder),
        ("lead", &f.lead, Role::Lead),
        ("coder still coding", &f.ana, Role::Coder),
        ("owner", &f.project.owner, Role::Owner),
    ];
    let _ = &f.ben;
    for (method, path, who) in EXPECTED.iter().filter(|(m, ..)| *m != "GET") {
        let url = f.url(path);
        for (name, user, role) in &members {
            let before = app.audit_count(Some(f.project.id)).await;
            let (status, body) = send(user, method, &url).await;
            assert!(
                !status.is_server_error(),
                "{name}: {method} {path}: {status} {body}"
            );
            if !allowed(*who, *role, false) {
                assert!(
                    matches!(
                        status,
                        StatusCode::FORBIDDEN
                            | StatusCode::CONFLICT
                            | StatusCode::UNPROCESSABLE_ENTITY
                            // An upload route given JSON instead of a multipart body.
                            | StatusCode::BAD_REQUEST
                            | StatusCode::UNSUPPORTED_MEDIA_TYPE
                    ),
                    "{name} may not {method} {path}: {status}"
                );
                assert_eq!(
                    app.audit_count(Some(f.project.id)).await,
                    before,
                    "{name} changed something with {method} {path}"
                );
            }
        }
    }
}
