//! Reconciliation: decisions on the discrepancies between two coders build the
//! consensus layer; the consensus codebook renames, merges and splits agreed
//! codes without losing a coding.

use std::collections::HashMap;

use concord::projects::model::Role;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, TestProject, TestUser, html, select_texts, short_id};

const TEXT: &str = "Interviewer: What worries you about the clinic?\n\
                    P01: Infection is the big risk for these patients.\n\
                    P01: And the travel costs families a lot of money.\n\
                    P01: Paperwork slows us down every single week.\n\
                    P01: Nurses are tired after the long night shifts.\n\
                    P01: We trust the doctors who call us back.";

type Span = (i64, i64);

/// Offsets of the 1-based line `n` of `TEXT`.
fn line(n: usize) -> Span {
    let mut start = 0;
    for (i, l) in TEXT.split('\n').enumerate() {
        let len = l.chars().count();
        if i + 1 == n {
            return (start as i64, (start + len) as i64);
        }
        start += len + 1;
    }
    unreachable!()
}

/// Both coders, same code, same span: an agreement.
fn infection() -> Span {
    (line(2).0 + 5, line(2).1)
}

/// Ana's side of the boundary discrepancy.
fn cost_a() -> Span {
    (line(3).0 + 5, line(3).1 - 4)
}

/// Ben's side of the boundary discrepancy.
fn cost_b() -> Span {
    (line(3).0 + 9, line(3).1)
}

fn cost_union() -> Span {
    (line(3).0 + 5, line(3).1)
}

fn cost_intersection() -> Span {
    (line(3).0 + 9, line(3).1 - 4)
}

/// Coded by Ana only.
fn admin() -> Span {
    (line(4).0 + 5, line(4).1)
}

/// Coded by Ben only.
fn fatigue() -> Span {
    (line(5).0 + 5, line(5).1)
}

/// Both coders, under codes aligned to different agreed codes.
fn trust() -> Span {
    (line(6).0 + 5, line(6).1)
}

struct Study<'a> {
    app: &'a TestApp,
    project: TestProject<'a>,
    /// Both coders have submitted it.
    first: String,
    /// Only Ana has submitted it.
    second: String,
    /// Coder A (assigned first).
    ana: TestUser,
    /// Coder B.
    ben: TestUser,
    /// Coder codes, by "coder code-name".
    coder_codes: HashMap<&'static str, String>,
    /// Agreed codes, by name.
    agreed: HashMap<&'static str, String>,
}

/// The status, with the body in the message when it is not the expected one;
/// the body as JSON (null when it is none).
async fn expect(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A member whose display name starts with `name`.
async fn join(project: &TestProject<'_>, name: &str, role: Role) -> TestUser {
    let user = project
        .app
        .signed_in(&format!("{name}-{}@example.org", short_id()), false)
        .await;
    let response = project
        .owner
        .post_json(
            &project.api("/members"),
            &json!({ "email": user.email, "role": role.as_str() }),
        )
        .await;
    expect(response, StatusCode::CREATED).await;
    user
}

/// A new code of `user`'s codebook with one coding on `span`.
async fn code(
    project: &TestProject<'_>,
    user: &TestUser,
    transcript: &str,
    name: &str,
    span: Span,
) -> String {
    let id = Uuid::new_v4().to_string();
    let response = user
        .post_json(&project.api("/codes"), &json!({ "id": id, "name": name }))
        .await;
    expect(response, StatusCode::CREATED).await;
    let path = project.api(&format!("/transcripts/{transcript}/codings"));
    let coding = json!({ "id": Uuid::new_v4(), "code_id": id, "start": span.0, "end": span.1 });
    expect(user.post_json(&path, &coding).await, StatusCode::CREATED).await;
    id
}

async fn submit(project: &TestProject<'_>, user: &TestUser, transcript: &str) {
    let path = project.api(&format!("/transcripts/{transcript}/submit"));
    expect(user.post_json(&path, &json!({})).await, StatusCode::OK).await;
}

/// Ana and Ben code the first transcript with one discrepancy of each kind and
/// both submit it; the owner aligns their codes. On the second transcript only
/// Ana has submitted.
async fn study(app: &TestApp) -> Study<'_> {
    let project = app.project().await;
    let first = project.import_text("first.txt", TEXT).await;
    let second = project
        .import_text("second.txt", "P02: Something else entirely.\nP02: More.")
        .await;
    let ana = join(&project, "ana", Role::Coder).await;
    let ben = join(&project, "ben", Role::Coder).await;
    let assign = json!({ "transcript_ids": [first, second], "user_ids": [ana.id, ben.id] });
    expect(
        project
            .owner
            .post_json(&project.api("/assignments"), &assign)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let mut coder_codes = HashMap::new();
    for (label, user, name, span) in [
        ("ana infection", &ana, "infection", infection()),
        ("ben infection", &ben, "infection risk", infection()),
        ("ana cost", &ana, "cost", cost_a()),
        ("ben money", &ben, "money", cost_b()),
        ("ana admin", &ana, "admin", admin()),
        ("ben fatigue", &ben, "fatigue", fatigue()),
        ("ana trust", &ana, "trust", trust()),
        ("ben doctors", &ben, "doctors", trust()),
    ] {
        coder_codes.insert(label, code(&project, user, &first, name, span).await);
    }
    submit(&project, &ana, &first).await;
    submit(&project, &ben, &first).await;
    submit(&project, &ana, &second).await;

    let mut agreed = HashMap::new();
    for (name, codes) in [
        ("Infection", &["ana infection", "ben infection"][..]),
        ("Cost", &["ana cost", "ben money"][..]),
        ("Admin", &["ana admin"][..]),
        ("Fatigue", &["ben fatigue"][..]),
        ("Trust", &["ana trust"][..]),
        ("Doctors", &["ben doctors"][..]),
    ] {
        let ids: Vec<&String> = codes.iter().map(|c| &coder_codes[c]).collect();
        let response = project
            .owner
            .post_json(
                &project.api("/agreed-codes"),
                &json!({ "name": name, "code_ids": ids }),
            )
            .await;
        let body = expect(response, StatusCode::CREATED).await;
        agreed.insert(name, body["id"].as_str().unwrap().to_owned());
    }
    Study {
        app,
        project,
        first,
        second,
        ana,
        ben,
        coder_codes,
        agreed,
    }
}

impl Study<'_> {
    fn reconciliation_path(&self, transcript: &str) -> String {
        self.project
            .api(&format!("/transcripts/{transcript}/reconciliation"))
    }

    /// The reconciliation of the first transcript as `user` sees it.
    async fn rec(&self, user: &TestUser) -> Value {
        expect(
            user.get(&self.reconciliation_path(&self.first)).await,
            StatusCode::OK,
        )
        .await
    }

    async fn decide(&self, user: &TestUser, body: &Value) -> Response {
        user.post_json(
            &self
                .project
                .api(&format!("/transcripts/{}/decisions", self.first)),
            body,
        )
        .await
    }

    /// The owner's decision `kind` on `key`, with the fields of `extra`.
    async fn decided(&self, key: &str, kind: &str, extra: Value) -> Value {
        let mut body = json!({ "key": key, "kind": kind });
        for (field, value) in extra.as_object().expect("extra fields") {
            body[field] = value.clone();
        }
        expect(
            self.decide(&self.project.owner, &body).await,
            StatusCode::CREATED,
        )
        .await
    }

    async fn comment(&self, user: &TestUser, key: &str, body: &str) -> Response {
        user.post_json(
            &self
                .project
                .api(&format!("/transcripts/{}/comments", self.first)),
            &json!({ "key": key, "body": body }),
        )
        .await
    }

    fn layer_path(&self) -> String {
        self.project
            .api(&format!("/consensus/transcripts/{}/codings", self.first))
    }

    /// The live consensus codings of the first transcript.
    async fn layer(&self) -> Vec<Value> {
        let body = expect(
            self.project.owner.get(&self.layer_path()).await,
            StatusCode::OK,
        )
        .await;
        body.as_array().expect("codings").clone()
    }

    /// The consensus layer as (agreed code, start, end), sorted.
    async fn spans(&self) -> Vec<(String, i64, i64)> {
        let mut spans: Vec<_> = self
            .layer()
            .await
            .iter()
            .map(|c| {
                (
                    c["code_id"].as_str().unwrap().to_owned(),
                    c["start"].as_i64().unwrap(),
                    c["end"].as_i64().unwrap(),
                )
            })
            .collect();
        spans.sort();
        spans
    }

    /// The layer is `base` plus `made`, and `decision` made exactly `made`.
    async fn check_made(
        &self,
        base: &[(String, i64, i64)],
        decision: &Value,
        made: &[(String, i64, i64)],
    ) {
        let mut expected: Vec<_> = base.iter().chain(made).cloned().collect();
        expected.sort();
        assert_eq!(self.spans().await, expected, "after {}", decision["kind"]);
        let mut from_it: Vec<_> = self
            .layer()
            .await
            .into_iter()
            .filter(|c| c["decision_id"] == decision["id"])
            .map(|c| {
                (
                    c["code_id"].as_str().unwrap().to_owned(),
                    c["start"].as_i64().unwrap(),
                    c["end"].as_i64().unwrap(),
                )
            })
            .collect();
        from_it.sort();
        let mut made = made.to_vec();
        made.sort();
        assert_eq!(from_it, made, "made by {}", decision["kind"]);
    }

    fn span(&self, code: &str, span: Span) -> (String, i64, i64) {
        (self.agreed[code].clone(), span.0, span.1)
    }

    /// Live consensus codings of the project, counted in the database.
    async fn live_codings(&self) -> i64 {
        sqlx::query_scalar(
            "select count(*) from consensus_codings where project_id = $1 and deleted_at is null",
        )
        .bind(self.project.id.0)
        .fetch_one(&self.app.pool)
        .await
        .unwrap()
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!(
            "select count(*) from {table} where project_id = $1"
        ))
        .bind(self.project.id.0)
        .fetch_one(&self.app.pool)
        .await
        .unwrap()
    }

    async fn progress(&self) -> Value {
        expect(
            self.project
                .owner
                .get(&self.project.api("/reconciliation"))
                .await,
            StatusCode::OK,
        )
        .await
    }

    async fn settings(&self, user: &TestUser, auto_accept: bool, rationale: bool) -> Response {
        user.send_json(
            Method::PUT,
            &self.project.api("/reconciliation/settings"),
            &json!({ "auto_accept_agreements": auto_accept, "require_rationale": rationale }),
        )
        .await
    }

    /// The consensus codebook, by code name.
    async fn codebook(&self) -> HashMap<String, Value> {
        let body = expect(
            self.project
                .owner
                .get(&self.project.api("/consensus/codebook"))
                .await,
            StatusCode::OK,
        )
        .await;
        body.as_array()
            .expect("codebook")
            .iter()
            .map(|e| (e["name"].as_str().unwrap().to_owned(), e.clone()))
            .collect()
    }

    async fn agreement(&self) -> Value {
        expect(
            self.project
                .owner
                .get(&self.project.api("/agreement?level=line"))
                .await,
            StatusCode::OK,
        )
        .await
    }
}

fn items_of<'v>(rec: &'v Value, kind: &str) -> Vec<&'v Value> {
    rec["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["discrepancy"]["kind"] == kind)
        .collect()
}

/// The one item of `kind`.
fn item<'v>(rec: &'v Value, kind: &str) -> &'v Value {
    let found = items_of(rec, kind);
    assert_eq!(found.len(), 1, "one {kind} in {}", rec["items"]);
    found[0]
}

fn key(rec: &Value, kind: &str) -> String {
    item(rec, kind)["key"].as_str().unwrap().to_owned()
}

fn by_key<'v>(rec: &'v Value, key: &str) -> &'v Value {
    rec["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key)
        .unwrap_or_else(|| panic!("item {key} in {}", rec["items"]))
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

fn side_span(side: &Value) -> Span {
    (
        side["start"].as_i64().unwrap(),
        side["end"].as_i64().unwrap(),
    )
}

/// The contingency counts of one agreed code in a line-level agreement report.
fn table(report: &Value, name: &str) -> (u64, u64, u64) {
    let index = report["codes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["name"] == name)
        .expect("code in report");
    let entry = report["report"]["units"]["overall"]["per_code"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == index)
        .expect("per-code entry");
    let t = &entry["counts"]["table"];
    (
        t["both"].as_u64().unwrap(),
        t["only_a"].as_u64().unwrap(),
        t["only_b"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn the_discrepancies_are_listed_with_their_sides_and_offered_decisions() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let rec = s.rec(&s.project.owner).await;
    let mut kinds: Vec<&str> = rec["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["discrepancy"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.last(), Some(&"agreement"), "agreements come last");
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "agreement",
            "boundary",
            "different_code",
            "only_a",
            "only_b"
        ]
    );
    assert_eq!(rec["orphans"], json!([]));
    assert_eq!(rec["can_decide"], true);

    let boundary = &item(&rec, "boundary")["discrepancy"];
    assert_eq!(boundary["coder_a"], s.ana.id.to_string());
    assert_eq!(boundary["coder_b"], s.ben.id.to_string());
    assert_eq!(boundary["a"]["code_id"], s.agreed["Cost"].as_str());
    assert_eq!(boundary["a"]["code_name"], "Cost");
    assert_eq!(side_span(&boundary["a"]), cost_a());
    assert_eq!(side_span(&boundary["b"]), cost_b());
    assert_eq!(
        item(&rec, "boundary")["offered"],
        json!([
            "accept_a",
            "accept_b",
            "both",
            "union",
            "intersection",
            "relabel",
            "reject"
        ])
    );
    let only_a = item(&rec, "only_a");
    assert_eq!(side_span(&only_a["discrepancy"]["a"]), admin());
    assert_eq!(only_a["discrepancy"]["b"], Value::Null);
    assert_eq!(only_a["offered"], json!(["accept_a", "relabel", "reject"]));
    let only_b = item(&rec, "only_b");
    assert_eq!(side_span(&only_b["discrepancy"]["b"]), fatigue());
    assert_eq!(only_b["offered"], json!(["accept_b", "relabel", "reject"]));
    let different = &item(&rec, "different_code")["discrepancy"];
    assert_eq!(different["a"]["code_id"], s.agreed["Trust"].as_str());
    assert_eq!(different["b"]["code_id"], s.agreed["Doctors"].as_str());
    for item in rec["items"].as_array().unwrap() {
        assert_eq!(item["present"], true);
        assert_eq!(item["key"].as_str().unwrap().len(), 32);
    }
    // The same codings give the same keys on every visit.
    let again = s.rec(&s.project.owner).await;
    for kind in [
        "boundary",
        "only_a",
        "only_b",
        "different_code",
        "agreement",
    ] {
        assert_eq!(key(&rec, kind), key(&again, kind));
    }
}

#[tokio::test]
async fn each_decision_kind_makes_its_spans_in_the_consensus_layer() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let rec = s.rec(&s.project.owner).await;
    let agreement = s.span("Infection", infection());
    assert_eq!(s.spans().await, std::slice::from_ref(&agreement));
    let boundary = key(&rec, "boundary");
    let cost = |span| s.span("Cost", span);

    let steps = [
        ("accept_a", json!({}), vec![cost(cost_a())]),
        ("accept_b", json!({}), vec![cost(cost_b())]),
        ("both", json!({}), vec![cost(cost_a()), cost(cost_b())]),
        ("union", json!({}), vec![cost(cost_union())]),
        ("intersection", json!({}), vec![cost(cost_intersection())]),
        (
            "relabel",
            json!({ "code_id": s.agreed["Admin"] }),
            vec![s.span("Admin", cost_union())],
        ),
    ];
    let mut previous: Option<String> = None;
    let base = [agreement.clone()];
    for (kind, extra, made) in steps {
        let mut extra = extra;
        extra["supersedes"] = json!(previous);
        let decision = s.decided(&boundary, kind, extra).await;
        assert_eq!(decision["kind"], kind);
        assert_eq!(decision["auto"], false);
        assert_eq!(decision["supersedes"], json!(previous));
        s.check_made(&base, &decision, &made).await;
        previous = Some(id(&decision));
    }

    // Relabel to a code made on the spot.
    let decision = s
        .decided(
            &boundary,
            "relabel",
            json!({ "new_code_name": "Travel costs", "rationale": "Neither fits" }),
        )
        .await;
    let travel = decision["agreed_code_id"].as_str().unwrap().to_owned();
    assert!(!s.agreed.values().any(|a| *a == travel));
    assert_eq!(decision["rationale"], "Neither fits");
    s.check_made(
        &base,
        &decision,
        &[(travel.clone(), cost_union().0, cost_union().1)],
    )
    .await;
    let rec = s.rec(&s.project.owner).await;
    assert!(
        rec["codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == travel.as_str() && c["name"] == "Travel costs")
    );

    let decision = s.decided(&boundary, "reject", json!({})).await;
    s.check_made(&base, &decision, &[]).await;
    let rec = s.rec(&s.project.owner).await;
    let item = by_key(&rec, &boundary);
    assert_eq!(item["history"].as_array().unwrap().len(), 8);
    assert_eq!(item["current"]["kind"], "reject");
    assert_eq!(item["resolved"], true);

    // One-sided discrepancies.
    s.decided(&key(&rec, "only_a"), "accept_a", json!({})).await;
    s.decided(&key(&rec, "only_b"), "accept_b", json!({})).await;
    // Two codes on one span: a union needs the code to keep.
    let different = key(&rec, "different_code");
    let no_code = s
        .decide(
            &s.project.owner,
            &json!({ "key": different, "kind": "union" }),
        )
        .await;
    let body = expect(no_code, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["errors"]["code_id"].is_array(), "{body}");
    let union = s
        .decided(&different, "union", json!({ "code_id": s.agreed["Trust"] }))
        .await;
    let base = [
        agreement.clone(),
        s.span("Admin", admin()),
        s.span("Fatigue", fatigue()),
    ];
    s.check_made(&base, &union, &[s.span("Trust", trust())])
        .await;
    // Keeping both gives the span under each code.
    let both = s
        .decided(&different, "both", json!({ "supersedes": id(&union) }))
        .await;
    s.check_made(
        &base,
        &both,
        &[s.span("Trust", trust()), s.span("Doctors", trust())],
    )
    .await;

    let rec = s.rec(&s.project.owner).await;
    assert_eq!(
        (rec["resolved"].as_u64(), rec["total"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(rec["reconciled"], true);
}

#[tokio::test]
async fn a_new_decision_supersedes_the_last_and_decisions_are_never_changed() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let rec = s.rec(&s.project.owner).await;
    let boundary = key(&rec, "boundary");
    let union = s
        .decided(&boundary, "union", json!({ "supersedes": null }))
        .await;
    assert_eq!(union["supersedes"], Value::Null);
    let made: Vec<Value> = s
        .layer()
        .await
        .into_iter()
        .filter(|c| c["decision_id"] == union["id"])
        .collect();
    assert_eq!(made.len(), 1);
    let union_coding = id(&made[0]);

    // A change of mind: accept B instead.
    let accept_b = s
        .decided(
            &boundary,
            "accept_b",
            json!({ "supersedes": union["id"], "rationale": "B's boundary is right" }),
        )
        .await;
    assert_eq!(accept_b["supersedes"], union["id"]);
    let layer = s.layer().await;
    assert!(layer.iter().all(|c| id(c) != union_coding), "retired");
    assert!(layer.iter().all(|c| c["decision_id"] != union["id"]));
    let mut expected = vec![s.span("Infection", infection()), s.span("Cost", cost_b())];
    expected.sort();
    assert_eq!(s.spans().await, expected);
    let retired: bool = sqlx::query_scalar(
        "select deleted_at is not null from consensus_codings where id = $1::uuid",
    )
    .bind(&union_coding)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(retired, "soft-deleted, still in the table");

    let rec = s.rec(&s.project.owner).await;
    let item = by_key(&rec, &boundary);
    let history = item["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["id"], union["id"]);
    assert_eq!(history[0]["supersedes"], Value::Null);
    assert_eq!(history[1]["id"], accept_b["id"]);
    assert_eq!(history[1]["supersedes"], union["id"]);
    assert_eq!(item["current"]["id"], accept_b["id"]);
    assert_eq!(item["current"]["rationale"], "B's boundary is right");
    assert_eq!(item["resolved"], true);
    assert_eq!(rec["resolved"], 1);

    // A decision made on what someone else has changed meanwhile is refused.
    for stale in [json!(union["id"]), Value::Null] {
        let response = s
            .decide(
                &s.project.owner,
                &json!({ "key": boundary, "kind": "reject", "supersedes": stale }),
            )
            .await;
        let body = expect(response, StatusCode::CONFLICT).await;
        assert_eq!(body["current"]["current"], accept_b["id"], "{body}");
    }
    assert_eq!(s.spans().await, expected);
    assert_eq!(s.count("decisions").await, 3, "the agreement and two");

    // Undo: open again, nothing in the layer from it.
    let undo = s
        .decided(&boundary, "undo", json!({ "supersedes": accept_b["id"] }))
        .await;
    assert_eq!(undo["supersedes"], accept_b["id"]);
    assert_eq!(s.spans().await, [s.span("Infection", infection())]);
    let rec = s.rec(&s.project.owner).await;
    let item = by_key(&rec, &boundary);
    assert_eq!(item["resolved"], false);
    assert_eq!(item["current"], Value::Null);
    assert_eq!(item["history"].as_array().unwrap().len(), 3);
    assert_eq!(rec["resolved"], 0);
    let again = s
        .decide(
            &s.project.owner,
            &json!({ "key": boundary, "kind": "undo" }),
        )
        .await;
    expect(again, StatusCode::CONFLICT).await;
    // A decision after the undo supersedes the undo.
    let accept_a = s
        .decided(&boundary, "accept_a", json!({ "supersedes": undo["id"] }))
        .await;
    assert_eq!(accept_a["supersedes"], undo["id"]);
    let mut expected = vec![s.span("Infection", infection()), s.span("Cost", cost_a())];
    expected.sort();
    assert_eq!(s.spans().await, expected);

    // Append-only, even for the database's owner.
    let decisions = s.count("decisions").await;
    let update = sqlx::query("update decisions set rationale = 'forged'")
        .execute(&app.pool)
        .await;
    assert!(update.is_err(), "update of a decision");
    let delete = sqlx::query("delete from decisions where id = $1::uuid")
        .bind(id(&union))
        .execute(&app.pool)
        .await;
    assert!(delete.is_err(), "delete of a decision");
    assert_eq!(s.count("decisions").await, decisions);
    let forged: i64 =
        sqlx::query_scalar("select count(*) from decisions where rationale = 'forged'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(forged, 0);
}

#[tokio::test]
async fn agreements_are_accepted_by_the_write_that_makes_them_and_no_page_writes() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    // The alignment that made "infection" and "infection risk" one agreed
    // code accepted their agreement: no page had to be opened.
    let layer = s.layer().await;
    assert_eq!(s.spans().await, [s.span("Infection", infection())]);
    assert_eq!(s.count("decisions").await, 1);
    let audited = |action: &'static str| {
        let pool = app.pool.clone();
        let project = s.project.id.0;
        async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from audit_events where action = $1 and project_id = $2",
            )
            .bind(action)
            .bind(project)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(audited("decision.auto_accepted").await, 1);

    // Reading writes nothing, whoever reads.
    let everything = |pool: sqlx::PgPool| async move {
        let mut counts = Vec::new();
        for table in [
            "audit_events",
            "decisions",
            "consensus_codings",
            "agreed_codes",
            "code_alignments",
            "project_events",
        ] {
            let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
                .fetch_one(&pool)
                .await
                .unwrap();
            counts.push((table, n));
        }
        counts
    };
    let before = everything(app.pool.clone()).await;
    let seen_by_ana = s.rec(&s.ana).await;
    assert_eq!(seen_by_ana["can_decide"], false);
    let rec = s.rec(&s.project.owner).await;
    s.rec(&s.project.owner).await;
    s.progress().await;
    assert_eq!(everything(app.pool.clone()).await, before);
    assert_eq!(s.layer().await, layer);

    let agreement = item(&rec, "agreement");
    assert_eq!(agreement["resolved"], true);
    assert_eq!(agreement["counted"], false);
    let history = agreement["history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["auto"], true);
    assert_eq!(history[0]["kind"], "accept_a");
    assert_eq!(agreement["current"]["id"], history[0]["id"]);
    assert_eq!(layer[0]["decision_id"], history[0]["id"]);
    assert_eq!(
        (rec["resolved"].as_u64(), rec["total"].as_u64()),
        (Some(0), Some(4))
    );
    for kind in ["boundary", "different_code", "only_a", "only_b"] {
        assert_eq!(item(&rec, kind)["counted"], true, "{kind}");
        assert_eq!(item(&rec, kind)["resolved"], false, "{kind}");
    }

    // With the setting off, a new agreement waits for the lead.
    expect(
        s.settings(&s.ana, false, false).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let settings = expect(
        s.settings(&s.project.owner, false, false).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(settings["auto_accept_agreements"], false);
    let doctors = s
        .project
        .api(&format!("/alignment/{}", s.coder_codes["ben doctors"]));
    expect(
        s.project
            .owner
            .send_json(
                Method::PUT,
                &doctors,
                &json!({ "agreed_code_id": s.agreed["Trust"] }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let rec = s.rec(&s.project.owner).await;
    assert_eq!(rec["settings"]["auto_accept_agreements"], false);
    let now_agreed = items_of(&rec, "agreement")
        .into_iter()
        .find(|i| side_span(&i["discrepancy"]["a"]) == trust())
        .expect("the trust span is an agreement now")
        .clone();
    assert_eq!(now_agreed["counted"], true);
    assert_eq!(now_agreed["resolved"], false);
    assert_eq!(now_agreed["history"], json!([]));
    assert_eq!(s.count("decisions").await, 1);
    assert_eq!(s.spans().await, [s.span("Infection", infection())]);
    // Turned on again, the setting accepts what waits.
    expect(
        s.settings(&s.project.owner, true, false).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(s.count("decisions").await, 2);
    assert_eq!(audited("decision.auto_accepted").await, 2);
    let mut expected = vec![s.span("Infection", infection()), s.span("Trust", trust())];
    expected.sort();
    assert_eq!(s.spans().await, expected);
    let rec = s.rec(&s.project.owner).await;
    let trust_now = by_key(&rec, now_agreed["key"].as_str().unwrap());
    assert_eq!(trust_now["resolved"], true);
    assert_eq!(trust_now["history"][0]["auto"], true);
}

#[tokio::test]
async fn progress_counts_resolved_discrepancies_until_the_transcript_is_reconciled() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let progress = s.progress().await;
    assert_eq!(progress["transcripts"].as_array().unwrap().len(), 1);
    let first = &progress["transcripts"][0];
    assert_eq!(first["transcript_id"], s.first.as_str());
    assert_eq!(first["title"], "first");
    assert_eq!(
        (first["resolved"].as_u64(), first["total"].as_u64()),
        (Some(0), Some(4))
    );
    assert_eq!(first["reconciled"], false);
    assert_eq!(
        (progress["resolved"].as_u64(), progress["total"].as_u64()),
        (Some(0), Some(4))
    );
    assert_eq!(progress["reconciled"], 0);
    let waiting = progress["waiting"].as_array().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0][0], s.second.as_str());
    assert_eq!(waiting[0][2], "not every coder has submitted");

    let rec = s.rec(&s.project.owner).await;
    let mut decisions = Vec::new();
    for (n, (kind, decision)) in [
        ("boundary", "union"),
        ("only_a", "accept_a"),
        ("only_b", "reject"),
        ("different_code", "both"),
    ]
    .into_iter()
    .enumerate()
    {
        let progress = s.progress().await;
        assert_eq!(progress["transcripts"][0]["reconciled"], false);
        decisions.push(s.decided(&key(&rec, kind), decision, json!({})).await);
        let progress = s.progress().await;
        assert_eq!(progress["resolved"], n + 1, "after {kind}");
        assert_eq!(progress["transcripts"][0]["resolved"], n + 1);
        assert_eq!(progress["total"], 4);
        let page = s.rec(&s.project.owner).await;
        assert_eq!(page["resolved"], n + 1);
        assert_eq!(page["total"], 4);
    }
    let progress = s.progress().await;
    assert_eq!(progress["transcripts"][0]["reconciled"], true);
    assert_eq!(progress["reconciled"], 1);
    assert_eq!(s.rec(&s.project.owner).await["reconciled"], true);

    // Undoing one opens the transcript again.
    s.decided(
        &key(&rec, "only_b"),
        "undo",
        json!({ "supersedes": decisions[2]["id"] }),
    )
    .await;
    let progress = s.progress().await;
    assert_eq!(progress["resolved"], 3);
    assert_eq!(progress["transcripts"][0]["reconciled"], false);
    assert_eq!(progress["reconciled"], 0);
    assert_eq!(s.rec(&s.project.owner).await["reconciled"], false);
}

#[tokio::test]
async fn a_new_alignment_changes_the_statistics_and_the_discrepancies() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let before = s.agreement().await;
    assert_eq!(table(&before, "Trust"), (0, 1, 0));
    assert_eq!(table(&before, "Doctors"), (0, 0, 1));
    assert_eq!(table(&before, "Infection"), (1, 0, 0));
    let rec = s.rec(&s.project.owner).await;
    let different = item(&rec, "different_code");
    assert_eq!(side_span(&different["discrepancy"]["a"]), trust());
    assert_eq!(items_of(&rec, "agreement").len(), 1);
    assert_eq!(rec["total"], 4);
    assert_eq!(s.spans().await, [s.span("Infection", infection())]);

    // Ben's "doctors" is the same idea as Ana's "trust" after all.
    let path = s
        .project
        .api(&format!("/alignment/{}", s.coder_codes["ben doctors"]));
    let response = s
        .project
        .owner
        .send_json(
            Method::PUT,
            &path,
            &json!({ "agreed_code_id": s.agreed["Trust"] }),
        )
        .await;
    expect(response, StatusCode::NO_CONTENT).await;

    let after = s.agreement().await;
    assert_eq!(table(&after, "Trust"), (1, 0, 0));
    assert_eq!(table(&after, "Infection"), (1, 0, 0));
    let doctors = table(&after, "Doctors");
    assert_eq!((doctors.0, doctors.1, doctors.2), (0, 0, 0));

    let rec = s.rec(&s.project.owner).await;
    assert!(items_of(&rec, "different_code").is_empty());
    let agreements = items_of(&rec, "agreement");
    assert_eq!(agreements.len(), 2);
    let now_agreed = agreements
        .iter()
        .find(|i| side_span(&i["discrepancy"]["a"]) == trust())
        .expect("the trust span is an agreement now");
    assert_eq!(
        now_agreed["discrepancy"]["a"]["code_id"],
        s.agreed["Trust"].as_str()
    );
    assert_eq!(
        now_agreed["discrepancy"]["b"]["code_id"],
        s.agreed["Trust"].as_str()
    );
    assert_eq!(now_agreed["resolved"], true, "accepted automatically");
    assert_eq!(rec["total"], 3);
    assert_eq!(s.progress().await["total"], 3);
    let mut expected = vec![s.span("Infection", infection()), s.span("Trust", trust())];
    expected.sort();
    assert_eq!(s.spans().await, expected);
}

#[tokio::test]
async fn renaming_merging_and_splitting_agreed_codes_keeps_every_consensus_coding() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let rec = s.rec(&s.project.owner).await;
    s.decided(&key(&rec, "boundary"), "union", json!({})).await;
    s.decided(&key(&rec, "only_a"), "accept_a", json!({})).await;
    s.decided(&key(&rec, "only_b"), "accept_b", json!({})).await;
    s.decided(&key(&rec, "different_code"), "both", json!({}))
        .await;
    // One span added by the lead directly.
    let direct = Uuid::new_v4().to_string();
    let response = s
        .project
        .owner
        .post_json(
            &s.layer_path(),
            &json!({ "id": direct, "code_id": s.agreed["Trust"], "start": line(1).0, "end": line(1).1, "memo": "the question" }),
        )
        .await;
    let created = expect(response, StatusCode::CREATED).await;
    assert_eq!(created["decision_id"], Value::Null);
    assert_eq!(created["memo"], "the question");
    assert_eq!(s.live_codings().await, 7);
    let layer_of = async |code: &str| -> Vec<String> {
        let mut ids: Vec<String> = s
            .layer()
            .await
            .iter()
            .filter(|c| c["code_id"] == code)
            .map(id)
            .collect();
        ids.sort();
        ids
    };
    let trust_codings = layer_of(&s.agreed["Trust"]).await;
    let doctors_codings = layer_of(&s.agreed["Doctors"]).await;
    let cost_codings = layer_of(&s.agreed["Cost"]).await;
    assert_eq!(
        (
            trust_codings.len(),
            doctors_codings.len(),
            cost_codings.len()
        ),
        (2, 1, 1)
    );
    let book = s.codebook().await;
    assert_eq!(book["Trust"]["codings"], 2);
    assert_eq!(book["Doctors"]["codings"], 1);
    assert_eq!(book["Trust"]["transcripts"], 1);
    assert_eq!(book["Trust"]["quotes"].as_array().unwrap().len(), 2);

    // Rename.
    let cost = &book["Cost"];
    let path = s
        .project
        .api(&format!("/consensus/codes/{}", s.agreed["Cost"]));
    let renamed = s
        .project
        .owner
        .patch_json(
            &path,
            &json!({ "name": "Travel costs", "definition": "Money spent on getting there", "version": cost["version"] }),
        )
        .await;
    let renamed = expect(renamed, StatusCode::OK).await;
    assert_eq!(renamed["name"], "Travel costs");
    let stale = s
        .project
        .owner
        .patch_json(
            &path,
            &json!({ "name": "Stale", "version": cost["version"] }),
        )
        .await;
    expect(stale, StatusCode::CONFLICT).await;
    let book = s.codebook().await;
    assert!(!book.contains_key("Cost"));
    assert_eq!(book["Travel costs"]["id"], s.agreed["Cost"].as_str());
    assert_eq!(book["Travel costs"]["codings"], 1);
    assert_eq!(
        book["Travel costs"]["definition"],
        "Money spent on getting there"
    );
    assert_eq!(layer_of(&s.agreed["Cost"]).await, cost_codings);
    assert_eq!(s.live_codings().await, 7);

    // Merge Doctors into Trust: codings and aligned coder codes follow.
    let merge = s
        .project
        .owner
        .post_json(
            &s.project
                .api(&format!("/consensus/codes/{}/merge", s.agreed["Doctors"])),
            &json!({ "into": s.agreed["Trust"] }),
        )
        .await;
    let merged = expect(merge, StatusCode::OK).await;
    assert_eq!(merged["moved"], 1);
    assert_eq!(merged["code"]["merged_into"], s.agreed["Trust"].as_str());
    let book = s.codebook().await;
    assert!(!book.contains_key("Doctors"));
    assert_eq!(book["Trust"]["codings"], 3);
    let mut coder_codes: Vec<&str> = book["Trust"]["coder_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    coder_codes.sort_unstable();
    let mut expected = vec![
        s.coder_codes["ana trust"].as_str(),
        s.coder_codes["ben doctors"].as_str(),
    ];
    expected.sort_unstable();
    assert_eq!(coder_codes, expected);
    let aligned: Uuid =
        sqlx::query_scalar("select agreed_code_id from code_alignments where code_id = $1::uuid")
            .bind(&s.coder_codes["ben doctors"])
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(aligned.to_string(), s.agreed["Trust"]);
    let mut all_trust = trust_codings.clone();
    all_trust.extend(doctors_codings.iter().cloned());
    all_trust.sort();
    assert_eq!(layer_of(&s.agreed["Trust"]).await, all_trust);
    assert_eq!(layer_of(&s.agreed["Doctors"]).await, Vec::<String>::new());
    assert_eq!(s.live_codings().await, 7);
    // The statistics see one code now.
    assert_eq!(table(&s.agreement().await, "Trust"), (1, 0, 0));

    // Split: the coding that came from Ben's "doctors" goes to a new code.
    let split = s
        .project
        .owner
        .post_json(
            &s.project
                .api(&format!("/consensus/codes/{}/split", s.agreed["Trust"])),
            &json!({ "name": "Clinician trust", "codings": doctors_codings }),
        )
        .await;
    let split = expect(split, StatusCode::CREATED).await;
    assert_eq!(split["moved"], 1);
    let new_code = id(&split["new_code"]);
    assert_eq!(layer_of(&new_code).await, doctors_codings);
    assert_eq!(layer_of(&s.agreed["Trust"]).await, trust_codings);
    let book = s.codebook().await;
    assert_eq!(book["Clinician trust"]["codings"], 1);
    assert_eq!(book["Trust"]["codings"], 2);
    assert_eq!(s.live_codings().await, 7);
    // A code in use cannot be deleted, only merged.
    let in_use = s
        .project
        .owner
        .delete(
            &s.project
                .api(&format!("/consensus/codes/{}", s.agreed["Trust"])),
        )
        .await;
    expect(in_use, StatusCode::CONFLICT).await;
    assert_eq!(s.codebook().await["Trust"]["codings"], 2);
    // A coding of another code cannot be split off.
    let stray = s
        .project
        .owner
        .post_json(
            &s.project
                .api(&format!("/consensus/codes/{}/split", s.agreed["Trust"])),
            &json!({ "name": "Stray", "codings": cost_codings }),
        )
        .await;
    expect(stray, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(!s.codebook().await.contains_key("Stray"));
    assert_eq!(s.live_codings().await, 7);
    assert_eq!(s.layer().await.len(), 7);
}

#[tokio::test]
async fn coders_see_the_reconciliation_only_once_both_have_submitted() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    // The second transcript: Ana has submitted, Ben has not.
    let second = s.reconciliation_path(&s.second);
    expect(s.ana.get(&second).await, StatusCode::CONFLICT).await;
    let bens = s.ben.get(&second).await.status();
    assert!(
        [StatusCode::CONFLICT, StatusCode::FORBIDDEN].contains(&bens),
        "{bens}"
    );
    expect(s.project.owner.get(&second).await, StatusCode::CONFLICT).await;
    // Nor its consensus layer, which could carry traces of Ben's layer.
    let second_layer = s
        .project
        .api(&format!("/consensus/transcripts/{}/codings", s.second));
    expect(s.ana.get(&second_layer).await, StatusCode::CONFLICT).await;
    expect(s.project.owner.get(&second_layer).await, StatusCode::OK).await;
    // Ben is still coding: the consensus codebook would show him the others' codes.
    expect(
        s.ben.get(&s.project.api("/consensus/codebook")).await,
        StatusCode::CONFLICT,
    )
    .await;

    // The first transcript: both coders see it; others do not.
    let rec = s.rec(&s.project.owner).await;
    assert_eq!(s.rec(&s.ana).await["items"].as_array().unwrap().len(), 5);
    assert_eq!(s.rec(&s.ben).await["can_decide"], false);
    let first = s.reconciliation_path(&s.first);
    let carl = join(&s.project, "carl", Role::Coder).await;
    expect(carl.get(&first).await, StatusCode::FORBIDDEN).await;
    expect(carl.get(&s.layer_path()).await, StatusCode::FORBIDDEN).await;
    let reviewer = join(&s.project, "rita", Role::Reviewer).await;
    expect(reviewer.get(&first).await, StatusCode::FORBIDDEN).await;
    expect(
        reviewer.get(&s.project.api("/reconciliation")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let comment = s
        .comment(&reviewer, &key(&rec, "boundary"), "I have a view")
        .await;
    expect(comment, StatusCode::FORBIDDEN).await;
    // …but reads the consensus layer and codebook.
    let layer = expect(reviewer.get(&s.layer_path()).await, StatusCode::OK).await;
    assert_eq!(json!(s.layer().await), layer);
    assert_eq!(layer.as_array().unwrap().len(), 1);
    let book = expect(
        reviewer.get(&s.project.api("/consensus/codebook")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(book.as_array().unwrap().len(), 6);
    // A lead still coding the transcript is blind to it as well.
    let lead = join(&s.project, "lena", Role::Lead).await;
    let assign = json!({ "transcript_ids": [s.first], "user_ids": [lead.id] });
    expect(
        s.project
            .owner
            .post_json(&s.project.api("/assignments"), &assign)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let blind = lead.get(&first).await.status();
    assert!(
        [StatusCode::CONFLICT, StatusCode::FORBIDDEN].contains(&blind),
        "{blind}"
    );
}

#[tokio::test]
async fn coders_comment_but_only_leads_decide_and_edit_the_consensus_layer() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let rec = s.rec(&s.ana).await;
    assert_eq!(rec["can_decide"], false);
    assert_eq!(rec["can_comment"], true);
    let boundary = key(&rec, "boundary");
    let comment = expect(
        s.comment(&s.ana, &boundary, "  I stopped before the money part.  ")
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(comment["body"], "I stopped before the money part.");
    assert_eq!(comment["author_id"], s.ana.id.to_string());
    expect(
        s.comment(&s.ben, &boundary, "I included it.").await,
        StatusCode::CREATED,
    )
    .await;
    let seen = s.rec(&s.ben).await;
    let comments = by_key(&seen, &boundary)["comments"]
        .as_array()
        .unwrap()
        .clone();
    let bodies: Vec<&str> = comments
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["I stopped before the money part.", "I included it."]
    );
    assert_eq!(by_key(&seen, &key(&seen, "only_a"))["comments"], json!([]));

    let before = s.layer().await;
    let decision = json!({ "key": boundary, "kind": "union" });
    expect(s.decide(&s.ana, &decision).await, StatusCode::FORBIDDEN).await;
    let coding =
        json!({ "id": Uuid::new_v4(), "code_id": s.agreed["Trust"], "start": 0, "end": 11 });
    expect(
        s.ana.post_json(&s.layer_path(), &coding).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect(
        s.ana
            .post_json(
                &s.project.api("/consensus/codes"),
                &json!({ "id": Uuid::new_v4(), "name": "Mine" }),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect(s.settings(&s.ben, true, true).await, StatusCode::FORBIDDEN).await;
    assert_eq!(s.layer().await, before);
    // Only the automatic acceptance of the agreement.
    assert_eq!(s.count("decisions").await, 1);

    // A lead (not the owner) may.
    let lead = join(&s.project, "lena", Role::Lead).await;
    assert_eq!(s.rec(&lead).await["can_decide"], true);
    let made = expect(s.decide(&lead, &decision).await, StatusCode::CREATED).await;
    assert_eq!(made["decided_by"], lead.id.to_string());
    expect(
        lead.post_json(&s.layer_path(), &coding).await,
        StatusCode::CREATED,
    )
    .await;
    let layer = s.layer().await;
    assert!(
        layer
            .iter()
            .any(|c| c["id"] == coding["id"] && c["coder_id"] == lead.id.to_string())
    );
    let mut expected = vec![
        s.span("Infection", infection()),
        s.span("Cost", cost_union()),
        s.span("Trust", (0, 11)),
    ];
    expected.sort();
    assert_eq!(s.spans().await, expected);
    // Coders can still only read.
    let path = s.project.api(&format!(
        "/consensus/codings/{}",
        coding["id"].as_str().unwrap()
    ));
    expect(
        s.ana
            .patch_json(&path, &json!({ "start": 1, "version": 1 }))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect(s.ana.delete(&path).await, StatusCode::FORBIDDEN).await;
    assert_eq!(s.spans().await, expected);
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let rec = s.rec(&s.project.owner).await;
    s.decided(&key(&rec, "boundary"), "accept_a", json!({}))
        .await;
    let baseline = s.layer().await;
    assert_eq!(baseline.len(), 2);
    let decisions = s.count("decisions").await;
    let only_a = key(&rec, "only_a");
    let other = app.project().await;
    let foreign = Uuid::new_v4().to_string();
    expect(
        other
            .owner
            .post_json(
                &other.api("/consensus/codes"),
                &json!({ "id": foreign, "name": "Elsewhere" }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;

    let unchanged = async |what: &str| {
        assert_eq!(s.layer().await, baseline, "{what}");
        assert_eq!(s.count("decisions").await, decisions, "{what}");
        assert_eq!(s.count("discrepancy_comments").await, 0, "{what}");
        assert_eq!(s.codebook().await.len(), 6, "{what}");
    };
    let refused = [
        (
            "unknown kind",
            json!({ "key": only_a, "kind": "maybe" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "kind",
        ),
        (
            "unknown key",
            json!({ "key": "0123456789abcdef0123456789abcdef", "kind": "reject" }),
            StatusCode::CONFLICT,
            "",
        ),
        (
            "accept B with no B",
            json!({ "key": only_a, "kind": "accept_b" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "kind",
        ),
        (
            "relabel without a code",
            json!({ "key": only_a, "kind": "relabel" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "code_id",
        ),
        (
            "relabel to a code of another project",
            json!({ "key": only_a, "kind": "relabel", "code_id": foreign }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "code_id",
        ),
        (
            "relabel to an unknown code",
            json!({ "key": only_a, "kind": "relabel", "code_id": Uuid::new_v4() }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "code_id",
        ),
        (
            "relabel to a new code named like an existing one",
            json!({ "key": only_a, "kind": "relabel", "new_code_name": " trust " }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "new_code_name",
        ),
        (
            "relabel to a blank new name",
            json!({ "key": only_a, "kind": "relabel", "new_code_name": "   " }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "code_id",
        ),
    ];
    for (what, body, status, field) in refused {
        let answer = expect(s.decide(&s.project.owner, &body).await, status).await;
        if !field.is_empty() {
            assert!(answer["errors"][field].is_array(), "{what}: {answer}");
        }
        unchanged(what).await;
    }

    let comments = [
        ("blank comment", only_a.as_str(), "   "),
        (
            "comment on nothing",
            "0123456789abcdef0123456789abcdef",
            "Hello",
        ),
    ];
    for (what, key, body) in comments {
        expect(
            s.comment(&s.ana, key, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        unchanged(what).await;
    }

    let length = TEXT.chars().count() as i64;
    let codings = [
        ("past the end", json!(s.agreed["Trust"]), 10, length + 1),
        ("empty span", json!(s.agreed["Trust"]), 10, 10),
        ("backwards", json!(s.agreed["Trust"]), 12, 10),
        ("negative start", json!(s.agreed["Trust"]), -1, 10),
        ("another project's code", json!(foreign), 0, 10),
        ("unknown code", json!(Uuid::new_v4()), 0, 10),
    ];
    for (what, code, start, end) in codings {
        let body = json!({ "id": Uuid::new_v4(), "code_id": code, "start": start, "end": end });
        expect(
            s.project.owner.post_json(&s.layer_path(), &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        unchanged(what).await;
    }
    // The whole text is fine, measured in characters.
    let whole =
        json!({ "id": Uuid::new_v4(), "code_id": s.agreed["Trust"], "start": 0, "end": length });
    expect(
        s.project.owner.post_json(&s.layer_path(), &whole).await,
        StatusCode::CREATED,
    )
    .await;
    let baseline = s.layer().await;
    assert_eq!(baseline.len(), 3);
    // A retry is harmless; the same id with other content is a conflict.
    let retry = expect(
        s.project.owner.post_json(&s.layer_path(), &whole).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(retry["id"], whole["id"]);
    let mut clash = whole.clone();
    clash["start"] = json!(1);
    expect(
        s.project.owner.post_json(&s.layer_path(), &clash).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(s.layer().await, baseline);
    // Editing a consensus coding out of the text or with a stale version.
    let path = s.project.api(&format!(
        "/consensus/codings/{}",
        whole["id"].as_str().unwrap()
    ));
    expect(
        s.project
            .owner
            .patch_json(&path, &json!({ "end": length + 5, "version": 1 }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect(
        s.project
            .owner
            .patch_json(&path, &json!({ "start": 3, "version": 7 }))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    expect(
        s.project
            .owner
            .patch_json(&path, &json!({ "code_id": foreign, "version": 1 }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(s.layer().await, baseline);

    // With reasons required, a reject needs one.
    expect(
        s.settings(&s.project.owner, true, true).await,
        StatusCode::OK,
    )
    .await;
    let bare = json!({ "key": only_a, "kind": "reject", "rationale": "  " });
    let answer = expect(
        s.decide(&s.project.owner, &bare).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(answer["errors"]["rationale"].is_array(), "{answer}");
    assert_eq!(s.layer().await, baseline);
    assert_eq!(s.count("decisions").await, decisions);
    // Accepting needs no reason.
    s.decided(&only_a, "accept_a", json!({})).await;
    let rejected = s
        .decided(
            &only_a,
            "reject",
            json!({ "rationale": "Not about admin at all" }),
        )
        .await;
    assert_eq!(rejected["rationale"], "Not about admin at all");
}

#[tokio::test]
async fn a_decision_is_audited_with_what_it_made() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let rec = s.rec(&s.project.owner).await;
    let made_before: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'decision.made'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(made_before, 0);
    let decision = s
        .decided(
            &key(&rec, "boundary"),
            "union",
            json!({ "rationale": "Both halves matter" }),
        )
        .await;
    let log = expect(
        s.project.owner.get(&s.project.api("/audit")).await,
        StatusCode::OK,
    )
    .await;
    let events = log["events"].as_array().unwrap();
    let newest = &events[0];
    assert_eq!(newest["action"], "decision.made");
    assert_eq!(newest["entity_type"], "decision");
    assert_eq!(newest["entity_id"], decision["id"]);
    assert_eq!(newest["actor_id"], s.project.owner.id.to_string());
    assert_eq!(newest["after"]["decision"]["id"], decision["id"]);
    assert_eq!(
        newest["after"]["decision"]["rationale"],
        "Both halves matter"
    );
    let made = newest["after"]["consensus_codings"].as_array().unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["start"], cost_union().0);
    assert_eq!(made[0]["end"], cost_union().1);
    assert_eq!(newest["before"]["superseded"], Value::Null);
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "decision.auto_accepted"),
        "the lead's visit accepted the agreement"
    );

    // Superseding records what it retired.
    let union_coding = made[0]["id"].clone();
    let accept = s
        .decided(
            &key(&rec, "boundary"),
            "accept_a",
            json!({ "supersedes": decision["id"] }),
        )
        .await;
    let log = expect(
        s.project.owner.get(&s.project.api("/audit")).await,
        StatusCode::OK,
    )
    .await;
    let newest = &log["events"][0];
    assert_eq!(newest["action"], "decision.made");
    assert_eq!(newest["entity_id"], accept["id"]);
    assert_eq!(newest["before"]["superseded"], decision["id"]);
    assert_eq!(newest["before"]["retired_codings"], json!([union_coding]));

    // A refused decision leaves no trace.
    let audits = app.audit_count(Some(s.project.id)).await;
    let refused = s
        .decide(
            &s.project.owner,
            &json!({ "key": key(&rec, "only_a"), "kind": "accept_b" }),
        )
        .await;
    expect(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(app.audit_count(Some(s.project.id)).await, audits);
    let made_after: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'decision.made'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(made_after, 2);
}

#[tokio::test]
async fn a_decision_on_a_discrepancy_that_has_gone_stays_until_undone() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let rec = s.rec(&s.project.owner).await;
    let only_a = key(&rec, "only_a");
    let accepted = s.decided(&only_a, "accept_a", json!({})).await;
    let admin_coding = item(&rec, "only_a")["discrepancy"]["a"]["codings"][0]
        .as_str()
        .unwrap()
        .to_owned();

    // The lead reopens Ana's layer; she takes her "admin" coding back.
    let assignments = expect(
        s.project.owner.get(&s.project.api("/assignments")).await,
        StatusCode::OK,
    )
    .await;
    let anas = assignments
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == s.ana.id.to_string() && a["transcript_id"] == s.first.as_str())
        .expect("Ana's assignment");
    let reopen = s
        .project
        .owner
        .post_json(
            &s.project.api(&format!("/assignments/{}/reopen", id(anas))),
            &json!({}),
        )
        .await;
    expect(reopen, StatusCode::OK).await;
    expect(
        s.project.owner.get(&s.reconciliation_path(&s.first)).await,
        StatusCode::CONFLICT,
    )
    .await;
    let deleted = s
        .ana
        .delete(&s.project.api(&format!("/codings/{admin_coding}")))
        .await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    submit(&s.project, &s.ana, &s.first).await;

    let rec = s.rec(&s.project.owner).await;
    assert!(items_of(&rec, "only_a").is_empty());
    let orphans = rec["orphans"].as_array().unwrap();
    assert_eq!(orphans.len(), 1);
    assert_eq!(orphans[0]["key"], only_a.as_str());
    assert_eq!(orphans[0]["present"], false);
    assert_eq!(orphans[0]["current"]["id"], accepted["id"]);
    assert_eq!(rec["total"], 3);
    assert_eq!(s.progress().await["total"], 3);
    // What it made stays until the lead takes it back.
    let mut expected = vec![s.span("Infection", infection()), s.span("Admin", admin())];
    expected.sort();
    assert_eq!(s.spans().await, expected);
    // Only an undo applies to it.
    let response = s
        .decide(
            &s.project.owner,
            &json!({ "key": only_a, "kind": "reject" }),
        )
        .await;
    expect(response, StatusCode::CONFLICT).await;
    let undo = s
        .decided(&only_a, "undo", json!({ "supersedes": accepted["id"] }))
        .await;
    assert_eq!(undo["supersedes"], accepted["id"]);
    assert_eq!(s.spans().await, [s.span("Infection", infection())]);
    let rec = s.rec(&s.project.owner).await;
    assert_eq!(rec["orphans"], json!([]));
}

#[tokio::test]
async fn the_pages_forms_change_the_settings_and_the_consensus_codebook() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let owner = &s.project.owner;
    let index = crate::harness::html(owner.get(&s.project.path("/reconcile")).await).await;
    assert_eq!(
        crate::harness::select_texts(&index, "#project-progress strong"),
        ["0 of 4"]
    );

    // Settings: agreements no longer accepted by themselves, reasons required.
    let settings = s.project.path("/reconcile/settings");
    let refused = s
        .ana
        .post_form(&settings, &[("require_rationale", "on")])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let saved = owner
        .post_form(&settings, &[("require_rationale", "on")])
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let rec = s.rec(owner).await;
    assert_eq!(
        rec["settings"],
        json!({ "auto_accept_agreements": false, "require_rationale": true })
    );
    // The agreement accepted automatically before stays accepted, and is
    // counted now like any decision.
    assert_eq!(
        (rec["resolved"].as_u64(), rec["total"].as_u64()),
        (Some(1), Some(5))
    );
    let index = crate::harness::html(owner.get(&s.project.path("/reconcile")).await).await;
    assert_eq!(
        crate::harness::select_texts(&index, "#project-progress strong"),
        ["1 of 5"]
    );

    s.decided(&key(&rec, "boundary"), "union", json!({})).await;
    s.decided(&key(&rec, "different_code"), "both", json!({}))
        .await;
    let layer = s.layer().await;
    let of = |code: &str| -> Vec<String> {
        layer
            .iter()
            .filter(|c| c["code_id"] == s.agreed[code].as_str())
            .map(id)
            .collect()
    };
    let (cost, doctors) = (of("Cost"), of("Doctors"));
    assert_eq!((cost.len(), doctors.len(), of("Trust").len()), (1, 1, 1));
    let page = crate::harness::html(owner.get(&s.project.path("/consensus")).await).await;
    assert_eq!(
        crate::harness::select_texts(&page, "#codebook-table .codebook-row").len(),
        6
    );

    // Edit: rename, define, and pick the typical example among the quotes.
    let book = s.codebook().await;
    let version = book["Cost"]["version"].to_string();
    let edit = s
        .project
        .path(&format!("/consensus/codes/{}", s.agreed["Cost"]));
    let fields = [
        ("name", "Travel costs"),
        ("definition", "Money spent on getting to the clinic"),
        ("inclusion", "fares, fuel, parking"),
        ("exclusion", "the price of the device"),
        ("example_coding_id", cost[0].as_str()),
        ("version", version.as_str()),
    ];
    let saved = owner.post_form(&edit, &fields).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        crate::harness::location(&saved),
        s.project
            .path(&format!("/consensus#code-{}", s.agreed["Cost"]))
    );
    let book = s.codebook().await;
    let travel = &book["Travel costs"];
    assert_eq!(travel["exclusion"], "the price of the device");
    assert_eq!(travel["example_coding_id"], cost[0].as_str());
    let quote = travel["quotes"][0]["text"].as_str().unwrap();
    assert_eq!(travel["example"], quote);
    let stale = owner.post_form(&edit, &fields).await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);

    // Merge, then split back, through the forms.
    let merge = s
        .project
        .path(&format!("/consensus/codes/{}/merge", s.agreed["Doctors"]));
    // The form asks for the target (nothing is chosen for the lead) ...
    let page = html(owner.get(&s.project.path("/consensus")).await)
        .await
        .html();
    assert!(page.contains("Choose the code it goes into"), "{page}");
    let no_target = owner.post_form(&merge, &[("into", "")]).await;
    assert_eq!(no_target.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // ... then asks to confirm, saying what moves, and merges nothing yet.
    let asked = owner
        .post_form(&merge, &[("into", s.agreed["Trust"].as_str())])
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let confirm = html(asked).await.html();
    assert!(
        confirm.contains("Merge “Doctors” into “Trust”?"),
        "{confirm}"
    );
    assert!(confirm.contains("Its 1 consensus coding(s)"), "{confirm}");
    assert!(s.codebook().await.contains_key("Doctors"));
    let confirmed = [("into", s.agreed["Trust"].as_str()), ("confirm", "yes")];
    let merged = owner.post_form(&merge, &confirmed).await;
    assert_eq!(merged.status(), StatusCode::SEE_OTHER);
    let location = merged.headers()["location"].to_str().unwrap().to_owned();
    let book = s.codebook().await;
    assert!(!book.contains_key("Doctors"));
    assert_eq!(book["Trust"]["codings"], 2);
    // The page it lands on offers to undo it; undoing puts Doctors back.
    let landed = html(owner.get(&location).await).await.html();
    assert!(landed.contains("Merged “Doctors” into “Trust”"), "{landed}");
    let unmerge = s
        .project
        .path(&format!("/consensus/codes/{}/unmerge", s.agreed["Doctors"]));
    assert_eq!(
        owner.post_form(&unmerge, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let book = s.codebook().await;
    assert_eq!(book["Doctors"]["codings"], 1);
    assert_eq!(book["Trust"]["codings"], 1);
    assert_eq!(
        owner.post_form(&unmerge, &[]).await.status(),
        StatusCode::CONFLICT,
        "nothing left to undo"
    );
    let merged = owner.post_form(&merge, &confirmed).await;
    assert_eq!(merged.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.codebook().await["Trust"]["codings"], 2);
    let split = s
        .project
        .path(&format!("/consensus/codes/{}/split", s.agreed["Trust"]));
    let before = s.layer().await;
    let empty = owner
        .post_form(&split, &[("name", "Clinician trust")])
        .await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.layer().await, before, "a refused split changes nothing");
    let done = owner
        .post_form(
            &split,
            &[
                ("name", "Clinician trust"),
                ("codings", doctors[0].as_str()),
            ],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let book = s.codebook().await;
    assert_eq!(book["Clinician trust"]["codings"], 1);
    assert_eq!(book["Trust"]["codings"], 1);
    assert_eq!(s.layer().await.len(), before.len());
}

#[tokio::test]
async fn while_a_layer_is_reopened_the_reconciliation_page_is_read_only_with_a_notice() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let rec = s.rec(&s.project.owner).await;
    let boundary = key(&rec, "boundary");
    s.decided(
        &boundary,
        "accept_b",
        json!({ "rationale": "Ben's boundary is tighter" }),
    )
    .await;
    let rec = s.rec(&s.project.owner).await;
    let in_force = rec["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["current"].is_null())
        .count();
    assert_eq!(in_force, 2, "the automatic agreement and the boundary");

    let assignments = expect(
        s.project.owner.get(&s.project.api("/assignments")).await,
        StatusCode::OK,
    )
    .await;
    let bens = assignments
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == s.ben.id.to_string() && a["transcript_id"] == s.first.as_str())
        .expect("Ben's assignment");
    let reopen = s
        .project
        .owner
        .post_json(
            &s.project.api(&format!("/assignments/{}/reopen", id(bens))),
            &json!({}),
        )
        .await;
    expect(reopen, StatusCode::OK).await;

    let page_path = s
        .project
        .path(&format!("/transcripts/{}/reconcile", s.first));
    let ben_name = s.ben.email.split('@').next().unwrap().to_owned();
    let absent = |page: &scraper::Html, css: &str| {
        let selector = scraper::Selector::parse(css).unwrap();
        page.select(&selector).next().is_none()
    };
    let lead = join(&s.project, "lena", Role::Lead).await;
    for (who, user) in [("the owner", &s.project.owner), ("a lead", &lead)] {
        let response = user.get(&page_path).await;
        assert_eq!(response.status(), StatusCode::OK, "{who}");
        let page = html(response).await;
        let notice = select_texts(&page, "#paused-notice").join(" ");
        assert!(
            notice.contains(&ben_name) && notice.contains("reopened"),
            "{who}: {notice}"
        );
        assert!(notice.contains("submit"), "{who}: {notice}");
        let decisions = select_texts(&page, "#decisions-so-far li");
        assert_eq!(decisions.len(), in_force, "{who}: {decisions:?}");
        assert!(
            decisions
                .iter()
                .any(|d| d.contains("Accept B") && d.contains("Ben's boundary is tighter")),
            "{who}: {decisions:?}"
        );
        // Read-only: nothing to decide, comment or type into.
        for css in [
            "#decision-buttons",
            "#rationale",
            "#comment-form",
            "textarea",
            "form[method=post]:not([action=\"/logout\"])",
        ] {
            assert!(absent(&page, css), "{who}: {css}");
        }
        assert_eq!(select_texts(&page, "#reconcile-text .line").len(), 6);
    }
    // Ben is coding again, so blind to the others' layer and what was made of
    // it; Ana, like any coder, reads what was decided once every coder has
    // submitted (as the consensus layer).
    for user in [&s.ben, &s.ana] {
        let response = user.get(&page_path).await;
        assert_ne!(response.status(), StatusCode::OK);
        let body = response.text().await.unwrap();
        assert!(!body.contains("decisions-so-far") && !body.contains("tighter"));
    }
    // The overview links to the read-only page.
    let index = html(s.project.owner.get(&s.project.path("/reconcile")).await).await;
    let link = scraper::Selector::parse(&format!("#waiting a[href=\"{page_path}\"]")).unwrap();
    assert_eq!(index.select(&link).count(), 1);

    // Once Ben submits again the page is the lead's working page once more.
    submit(&s.project, &s.ben, &s.first).await;
    let page = html(s.project.owner.get(&page_path).await).await;
    assert!(absent(&page, "#paused-notice"));
    assert!(!absent(&page, "#decision-buttons"));
}

/// Every open discrepancy of the first transcript decided: A where there is an
/// A side, else B.
async fn reconcile_all(s: &Study<'_>) {
    let rec = s.rec(&s.project.owner).await;
    for item in rec["items"].as_array().unwrap() {
        if item["resolved"] == true {
            continue;
        }
        let kind = if item["discrepancy"]["a"].is_null() {
            "accept_b"
        } else {
            "accept_a"
        };
        let key = item["key"].as_str().unwrap();
        let mut extra = json!({});
        if let Some(last) = item["history"].as_array().and_then(|h| h.last()) {
            extra["supersedes"] = last["id"].clone();
        }
        s.decided(key, kind, extra).await;
    }
    let rec = s.rec(&s.project.owner).await;
    assert_eq!(rec["reconciled"], true, "{rec}");
}

async fn map(s: &Study<'_>, coder_code: &str, agreed: &str) {
    let path = s.project.api(&format!("/alignment/{coder_code}"));
    let response = s
        .project
        .owner
        .send_json(Method::PUT, &path, &json!({ "agreed_code_id": agreed }))
        .await;
    expect(response, StatusCode::NO_CONTENT).await;
}

fn transcript_progress<'v>(progress: &'v Value, transcript: &str) -> &'v Value {
    progress["transcripts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["transcript_id"] == transcript)
        .expect("the transcript's progress")
}

#[tokio::test]
async fn re_aligning_a_decided_code_reopens_its_discrepancy_until_decided_again() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    reconcile_all(&s).await;
    let rec = s.rec(&s.project.owner).await;
    let only_b = key(&rec, "only_b");
    let accepted = by_key(&rec, &only_b)["current"].clone();
    assert!(s.spans().await.contains(&s.span("Fatigue", fatigue())));
    assert_eq!(
        transcript_progress(&s.progress().await, &s.first)["reconciled"],
        true
    );

    // Ben's "fatigue" was kept as its own agreed code; now it is mapped onto Admin.
    let unalign = s
        .project
        .owner
        .delete(
            &s.project
                .api(&format!("/alignment/{}", s.coder_codes["ben fatigue"])),
        )
        .await;
    assert!(unalign.status().is_success(), "{}", unalign.status());
    map(&s, &s.coder_codes["ben fatigue"], &s.agreed["Admin"]).await;

    let rec = s.rec(&s.project.owner).await;
    let item = by_key(&rec, &only_b);
    assert_eq!(
        item["discrepancy"]["b"]["code_id"],
        s.agreed["Admin"].as_str()
    );
    assert_eq!(item["resolved"], false, "open again: {item}");
    assert_eq!(item["current"], Value::Null);
    assert_eq!(item["outdated"]["id"], accepted["id"]);
    assert_eq!(rec["reconciled"], false);
    assert_eq!(
        rec["resolved"].as_u64().unwrap() + 1,
        rec["total"].as_u64().unwrap()
    );
    let progress = s.progress().await;
    assert_eq!(
        transcript_progress(&progress, &s.first)["reconciled"],
        false
    );
    assert_eq!(progress["reconciled"], 0);
    // The outdated decision's span is still there, and only a decision replaces it.
    assert!(s.spans().await.contains(&s.span("Fatigue", fatigue())));

    let again = s
        .decided(&only_b, "accept_b", json!({ "supersedes": accepted["id"] }))
        .await;
    assert_eq!(again["supersedes"], accepted["id"]);
    let spans = s.spans().await;
    assert!(spans.contains(&s.span("Admin", fatigue())), "{spans:?}");
    assert!(!spans.contains(&s.span("Fatigue", fatigue())), "{spans:?}");
    let rec = s.rec(&s.project.owner).await;
    assert_eq!(rec["reconciled"], true);
    assert_eq!(by_key(&rec, &only_b)["outdated"], Value::Null);
    assert_eq!(
        transcript_progress(&s.progress().await, &s.first)["reconciled"],
        true
    );
}

#[tokio::test]
async fn merging_agreed_codes_keeps_the_decisions_on_them_in_force() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    reconcile_all(&s).await;
    let merge = s
        .project
        .owner
        .post_json(
            &s.project
                .api(&format!("/consensus/codes/{}/merge", s.agreed["Fatigue"])),
            &json!({ "into": s.agreed["Admin"] }),
        )
        .await;
    assert!(merge.status().is_success(), "{}", merge.status());
    let rec = s.rec(&s.project.owner).await;
    let only_b = item(&rec, "only_b");
    assert_eq!(
        only_b["discrepancy"]["b"]["code_id"],
        s.agreed["Admin"].as_str()
    );
    assert_eq!(only_b["resolved"], true, "{only_b}");
    assert_eq!(only_b["outdated"], Value::Null);
    assert_eq!(rec["reconciled"], true);
}

#[tokio::test]
async fn a_resubmitted_layer_with_a_new_unaligned_code_is_not_reconciled() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    reconcile_all(&s).await;

    // Ben's layer is reopened; he adds a coding under a new code and resubmits.
    let assignments = expect(
        s.project.owner.get(&s.project.api("/assignments")).await,
        StatusCode::OK,
    )
    .await;
    let bens = assignments
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == s.ben.id.to_string() && a["transcript_id"] == s.first.as_str())
        .expect("Ben's assignment");
    let reopen = s
        .project
        .owner
        .post_json(
            &s.project.api(&format!("/assignments/{}/reopen", id(bens))),
            &json!({}),
        )
        .await;
    expect(reopen, StatusCode::OK).await;
    let new_code = code(&s.project, &s.ben, &s.first, "paperwork", admin()).await;
    submit(&s.project, &s.ben, &s.first).await;

    let rec = s.rec(&s.project.owner).await;
    assert_eq!(rec["reconciled"], false, "{rec}");
    assert_eq!(
        rec["resolved"], rec["total"],
        "every listed discrepancy is decided"
    );
    let unaligned = rec["unaligned"].as_array().unwrap();
    assert_eq!(unaligned.len(), 1);
    assert_eq!(unaligned[0]["name"], "paperwork");
    assert_eq!(unaligned[0]["codings"], 1);
    assert_eq!(unaligned[0]["coder"], s.ben.id.to_string());
    let progress = s.progress().await;
    let first = transcript_progress(&progress, &s.first);
    assert_eq!(first["reconciled"], false);
    assert_eq!(first["unaligned"], 1);
    let page = html(
        s.project
            .owner
            .get(&format!("/projects/{}/reconcile", s.project.id))
            .await,
    )
    .await;
    let page = page.html();
    assert!(
        page.contains("1 coding(s) under codes not aligned yet"),
        "{page}"
    );

    // Aligned onto Admin, Ben's new coding agrees with Ana's Admin span: the
    // discrepancy that was "A only" is gone (its decision is listed apart) and
    // the agreement is accepted automatically.
    map(&s, &new_code, &s.agreed["Admin"]).await;
    let rec = s.rec(&s.project.owner).await;
    assert_eq!(rec["unaligned"], json!([]));
    assert!(items_of(&rec, "only_a").is_empty());
    let admin_agreement = items_of(&rec, "agreement")
        .into_iter()
        .find(|i| side_span(&i["discrepancy"]["a"]) == admin())
        .expect("an agreement on the admin line");
    assert_eq!(admin_agreement["resolved"], true);
    assert_eq!(rec["orphans"].as_array().unwrap().len(), 1);
    assert_eq!(rec["reconciled"], true, "{rec}");
}

#[tokio::test]
async fn a_merge_is_undone_exactly_as_far_as_what_it_moved_is_still_there() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    reconcile_all(&s).await;
    let before_layer = s.spans().await;
    let merge_path = s
        .project
        .api(&format!("/consensus/codes/{}/merge", s.agreed["Fatigue"]));
    let merged = expect(
        s.project
            .owner
            .post_json(&merge_path, &json!({ "into": s.agreed["Admin"] }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(merged["moved"], 1);
    let moved: Vec<_> = s
        .layer()
        .await
        .into_iter()
        .filter(|c| c["code_id"] == s.agreed["Admin"].as_str())
        .collect();
    assert_eq!(moved.len(), 2, "Ana's admin span and Ben's fatigue span");

    // After the merge the lead adds a consensus coding under Admin by hand:
    // undoing the merge leaves it there.
    let added = json!({
        "id": Uuid::new_v4(), "code_id": s.agreed["Admin"], "start": line(1).0, "end": line(1).0 + 11,
    });
    expect(
        s.project.owner.post_json(&s.layer_path(), &added).await,
        StatusCode::CREATED,
    )
    .await;
    let unmerge = s
        .project
        .api(&format!("/consensus/codes/{}/unmerge", s.agreed["Fatigue"]));
    // Only a lead may undo it.
    let refused = s.ana.post_json(&unmerge, &json!({})).await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    let undone = expect(
        s.project.owner.post_json(&unmerge, &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(undone["consensus_codings_moved_back"], 1);
    assert_eq!(undone["coder_codes_realigned"], 1);
    assert_eq!(undone["left_in_place"], 0);
    assert_eq!(undone["code"]["merged_into"], Value::Null);
    let mut expected = before_layer.clone();
    expected.push((s.agreed["Admin"].clone(), line(1).0, line(1).0 + 11));
    expected.sort();
    assert_eq!(s.spans().await, expected);
    // The alignment is back too, so the decisions on Fatigue stay in force.
    let rec = s.rec(&s.project.owner).await;
    assert_eq!(
        item(&rec, "only_b")["discrepancy"]["b"]["code_id"],
        s.agreed["Fatigue"].as_str()
    );
    assert_eq!(rec["reconciled"], true, "{rec}");
    // Once undone there is nothing to undo; a code never merged has nothing either.
    expect(
        s.project.owner.post_json(&unmerge, &json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    let never = s
        .project
        .api(&format!("/consensus/codes/{}/unmerge", s.agreed["Cost"]));
    expect(
        s.project.owner.post_json(&never, &json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    // Both steps are on the audit log.
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where project_id = $1 and action like 'agreed_code.merge%' order by id",
    )
    .bind(s.project.id.0)
    .fetch_all(&s.app.pool)
    .await
    .unwrap();
    assert_eq!(actions, ["agreed_code.merged", "agreed_code.merge_undone"]);
}

#[tokio::test]
async fn the_codebook_suggests_a_typical_example_that_the_lead_can_take_or_replace() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    reconcile_all(&s).await;
    let book = s.codebook().await;
    let infection = &book["Infection"];
    assert_eq!(infection["example"], "");
    let suggested = infection["suggested_example"]
        .as_str()
        .expect("a suggestion");
    assert_eq!(infection["quotes"][0]["coding_id"], suggested);
    let page = html(s.project.owner.get(&s.project.path("/consensus")).await)
        .await
        .html();
    assert!(page.contains("suggested ("), "{page}");

    let owner = &s.project.owner;
    let path = s.project.path(&format!(
        "/consensus/codes/{}/example",
        s.agreed["Infection"]
    ));
    let version = infection["version"].to_string();
    let bad = owner
        .post_form(
            &path,
            &[("version", version.as_str()), ("example_coding_id", "nope")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let used = owner
        .post_form(
            &path,
            &[
                ("version", version.as_str()),
                ("example_coding_id", suggested),
            ],
        )
        .await;
    assert_eq!(used.status(), StatusCode::SEE_OTHER);
    let book = s.codebook().await;
    let infection = &book["Infection"];
    assert_eq!(infection["example_coding_id"], suggested);
    assert_eq!(infection["example"], infection["quotes"][0]["text"]);
    assert_eq!(infection["name"], "Infection", "nothing else changed");
    // A stale version changes nothing.
    let stale = owner
        .post_form(
            &path,
            &[
                ("version", version.as_str()),
                ("example_coding_id", suggested),
            ],
        )
        .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn new_codes_take_colours_no_other_code_of_their_codebook_has() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    // Each coder's codebook: four codes, four colours.
    let codes = expect(s.ana.get(&s.project.api("/codes")).await, StatusCode::OK).await;
    let mut colors: Vec<&str> = codes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["color"].as_str().unwrap())
        .collect();
    colors.sort();
    colors.dedup();
    assert_eq!(colors.len(), 4, "{codes}");
    // The agreed codes were made from both coders' codes, whose colours repeat
    // across codebooks: still six agreed codes, six colours.
    let book = s.codebook().await;
    let mut agreed: Vec<&str> = book
        .values()
        .map(|c| c["color"].as_str().unwrap())
        .collect();
    agreed.sort();
    agreed.dedup();
    assert_eq!(agreed.len(), 6, "{book:?}");
}

/// The transcript page as `user` sees it with `layer` (None: the default).
async fn transcript_page(
    s: &Study<'_>,
    user: &TestUser,
    transcript: &str,
    layer: Option<&str>,
) -> Response {
    let query = layer.map(|l| format!("?layer={l}")).unwrap_or_default();
    user.get(&s.project.path(&format!("/transcripts/{transcript}{query}")))
        .await
}

#[tokio::test]
async fn the_transcript_page_lays_over_it_only_the_layers_the_member_may_see() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    // The lead's visit accepts the agreement into the consensus layer.
    s.rec(&s.project.owner).await;
    let ana = s.ana.id.to_string();
    let ben = s.ben.id.to_string();

    // The owner: every layer, the consensus by default.
    let response = transcript_page(&s, &s.project.owner, &s.first, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = html(response).await;
    let switch = select_texts(&page, "#layer-switch a");
    assert_eq!(switch.len(), 4, "{switch:?}");
    assert_eq!(switch[0], "Text only");
    assert_eq!(switch[1], "Consensus");
    assert_eq!(
        select_texts(&page, "#layer-switch a.current"),
        ["Consensus"]
    );
    assert_eq!(
        select_texts(&page, "mark.coded"),
        ["Infection is the big risk for these patients."]
    );
    assert_eq!(select_texts(&page, "#L2 .code-tag"), ["Infection"]);
    assert!(select_texts(&page, "#code-link").is_empty(), "not assigned");

    // Ben's layer: his own codes, each on its line.
    let page = html(transcript_page(&s, &s.project.owner, &s.first, Some(&ben)).await).await;
    let legend = select_texts(&page, "#layer-legend li");
    let names: Vec<&str> = legend
        .iter()
        .map(|l| l.rsplit_once(' ').unwrap().0)
        .collect();
    assert_eq!(names, ["doctors", "fatigue", "infection risk", "money"]);
    assert_eq!(select_texts(&page, "#L3 .code-tag"), ["money"]);
    assert_eq!(select_texts(&page, "#L4 .code-tag"), Vec::<String>::new());
    // The text alone.
    let page = html(transcript_page(&s, &s.project.owner, &s.first, Some("none")).await).await;
    assert!(select_texts(&page, "mark.coded").is_empty());
    assert!(select_texts(&page, "#layer-legend").is_empty());

    // Ben has not submitted the second transcript: his own layer only.
    let page = html(transcript_page(&s, &s.ben, &s.second, None).await).await;
    let own = format!("{} (yours)", s.ben.email.split('@').next().unwrap());
    assert_eq!(
        select_texts(&page, "#layer-switch a"),
        ["Text only", own.as_str()]
    );
    assert_eq!(
        select_texts(&page, "#layer-legend"),
        ["No codings in this layer yet."]
    );
    assert_eq!(select_texts(&page, "#code-link"), ["Open the coding page"]);
    for layer in [ana.as_str(), "consensus"] {
        let status = transcript_page(&s, &s.ben, &s.second, Some(layer))
            .await
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{layer}");
    }
    // Ana has submitted it, but its consensus layer waits for Ben.
    let status = transcript_page(&s, &s.ana, &s.second, Some("consensus"))
        .await
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Both have submitted the first: Ana reads Ben's layer and the consensus.
    let page = html(transcript_page(&s, &s.ana, &s.first, Some(&ben)).await).await;
    assert_eq!(select_texts(&page, "#L5 .code-tag"), ["fatigue"]);

    // A reviewer reads the consensus layer, no coder's.
    let reviewer = join(&s.project, "rita", Role::Reviewer).await;
    let page = html(transcript_page(&s, &reviewer, &s.first, None).await).await;
    assert_eq!(
        select_texts(&page, "#layer-switch a"),
        ["Text only", "Consensus"]
    );
    assert_eq!(select_texts(&page, "#L2 .code-tag"), ["Infection"]);
    let status = transcript_page(&s, &reviewer, &s.first, Some(&ana))
        .await
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A coder of neither transcript sees the text alone, and no switch.
    let carl = join(&s.project, "carl", Role::Coder).await;
    let page = html(transcript_page(&s, &carl, &s.first, None).await).await;
    assert!(select_texts(&page, "#layer-switch").is_empty());
    assert!(select_texts(&page, "mark.coded").is_empty());
    assert!(select_texts(&page, "#code-link").is_empty());

    // A layer that is no layer of this transcript is refused with a reason.
    for bad in ["bogus", &Uuid::new_v4().to_string()] {
        let response = transcript_page(&s, &s.project.owner, &s.first, Some(bad)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(response.text().await.unwrap().contains("No such layer"));
    }
}

/// In a shared codebook, the two coders of each of six transcripts code the
/// same line with the same code and submit at the same moment, and the
/// transcripts are submitted all at once too.
#[tokio::test]
async fn coders_submitting_at_once_get_their_agreements_accepted_once() {
    let app = TestApp::spawn().await;
    let project = shared_project(&app).await;
    let ana = join(&project, "ana", Role::Coder).await;
    let ben = join(&project, "ben", Role::Coder).await;
    let mut transcripts = Vec::new();
    for i in 0..6 {
        transcripts.push(
            project
                .import_text(
                    &format!("t{i}.txt"),
                    &format!("P01: line {i}.\nP01: another."),
                )
                .await,
        );
    }
    let assign = json!({ "transcript_ids": transcripts, "user_ids": [ana.id, ben.id] });
    expect(
        project
            .owner
            .post_json(&project.api("/assignments"), &assign)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let mut codes = Vec::new();
    for (i, transcript) in transcripts.iter().enumerate() {
        // A code of its own for each transcript, so that every submit has
        // a code to mirror into the agreed codebook.
        let code = Uuid::new_v4().to_string();
        expect(
            ana.post_json(
                &project.api("/codes"),
                &json!({ "id": code, "name": format!("code {i}") }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        for coder in [&ana, &ben] {
            let coding = json!({ "id": Uuid::new_v4(), "code_id": code, "start": 0, "end": 12 });
            expect(
                coder
                    .post_json(
                        &project.api(&format!("/transcripts/{transcript}/codings")),
                        &coding,
                    )
                    .await,
                StatusCode::CREATED,
            )
            .await;
        }
        codes.push(code);
    }
    let submits = transcripts.iter().flat_map(|t| {
        [&ana, &ben].map(|coder| {
            let path = project.api(&format!("/transcripts/{t}/submit"));
            async move { coder.post_json(&path, &json!({})).await.status() }
        })
    });
    let statuses = futures_util::future::join_all(submits).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );

    let count = |sql: &'static str| {
        let pool = app.pool.clone();
        let id = project.id.0;
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        count("select count(*) from decisions where project_id = $1 and auto").await,
        6
    );
    assert_eq!(
        count("select count(*) from consensus_codings where project_id = $1").await,
        6
    );
    assert_eq!(
        count("select count(*) from agreed_codes where project_id = $1").await,
        6
    );
    assert_eq!(
        count("select count(*) from audit_events where project_id = $1 and action = 'decision.auto_accepted'").await,
        6
    );
    for transcript in &transcripts {
        let rec = expect(
            project
                .owner
                .get(&project.api(&format!("/transcripts/{transcript}/reconciliation")))
                .await,
            StatusCode::OK,
        )
        .await;
        let agreement = item(&rec, "agreement");
        assert_eq!(agreement["history"].as_array().unwrap().len(), 1);
        assert_eq!(agreement["current"]["auto"], true);
    }
    assert_eq!(codes.len(), 6);
}

/// Ana and Ben agree and submit; Cal, assigned too, has coded nothing. The
/// lead withdraws Cal's assignment, which completes the transcript.
#[tokio::test]
async fn withdrawing_the_last_coder_who_had_not_submitted_accepts_the_agreements() {
    let app = TestApp::spawn().await;
    let project = shared_project(&app).await;
    let ana = join(&project, "ana", Role::Coder).await;
    let ben = join(&project, "ben", Role::Coder).await;
    let cal = join(&project, "cal", Role::Coder).await;
    let transcript = project
        .import_text("t.txt", "P01: one line.\nP01: another.")
        .await;
    let assign = json!({ "transcript_ids": [transcript], "user_ids": [ana.id, ben.id, cal.id] });
    expect(
        project
            .owner
            .post_json(&project.api("/assignments"), &assign)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let code = Uuid::new_v4().to_string();
    expect(
        ana.post_json(&project.api("/codes"), &json!({ "id": code, "name": "x" }))
            .await,
        StatusCode::CREATED,
    )
    .await;
    for coder in [&ana, &ben] {
        let coding = json!({ "id": Uuid::new_v4(), "code_id": code, "start": 0, "end": 14 });
        let path = project.api(&format!("/transcripts/{transcript}/codings"));
        expect(coder.post_json(&path, &coding).await, StatusCode::CREATED).await;
        submit(&project, coder, &transcript).await;
    }
    let decisions = |pool: sqlx::PgPool, id: Uuid| async move {
        sqlx::query_scalar::<_, i64>("select count(*) from decisions where project_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(decisions(app.pool.clone(), project.id.0).await, 0);

    let list = expect(
        project.owner.get(&project.api("/assignments")).await,
        StatusCode::OK,
    )
    .await;
    let cals = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == cal.id.to_string())
        .expect("Cal's assignment");
    let path = project.api(&format!("/assignments/{}", cals["id"].as_str().unwrap()));
    let response = project.owner.delete(&path).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(decisions(app.pool.clone(), project.id.0).await, 1);
    let rec = expect(
        project
            .owner
            .get(&project.api(&format!("/transcripts/{transcript}/reconciliation")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(item(&rec, "agreement")["current"]["auto"], true);
}

/// Ana's "trust" and Ben's "doctors" (the same span) are aligned onto
/// "Fatigue" by two leads at the same moment: only both changes together make
/// the agreement, and it is accepted, whichever commits first.
#[tokio::test]
async fn two_alignments_at_once_that_make_an_agreement_together_accept_it() {
    let app = TestApp::spawn().await;
    for round in 0..4 {
        let s = study(&app).await;
        let lena = join(&s.project, &format!("lena{round}"), Role::Lead).await;
        let body = json!({ "agreed_code_id": s.agreed["Fatigue"] });
        let path = |code: &str| {
            s.project
                .api(&format!("/alignment/{}", s.coder_codes[code]))
        };
        let (ana, ben) = (path("ana trust"), path("ben doctors"));
        let (a, b) = futures_util::future::join(
            s.project.owner.send_json(Method::PUT, &ana, &body),
            lena.send_json(Method::PUT, &ben, &body),
        )
        .await;
        let (a, b) = (a.status(), b.status());
        assert_eq!((a, b), (StatusCode::NO_CONTENT, StatusCode::NO_CONTENT));
        let mut expected = vec![s.span("Infection", infection()), s.span("Fatigue", trust())];
        expected.sort();
        assert_eq!(s.spans().await, expected, "round {round}");
    }
}

/// A new project whose coders share one codebook.
async fn shared_project(app: &TestApp) -> TestProject<'_> {
    let project = app.project().await;
    let mode = json!({ "codebook_mode": "shared" });
    expect(
        project
            .owner
            .send_json(Method::PUT, &project.api("/codebook-mode"), &mode)
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    project
}
