use std::time::Duration;

use concord::projects::model::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, TestProject, TestUser, html, select_texts};

/// "Zoë 👋" makes UTF-16 and byte offsets differ from code points.
const TEXT: &str = "Interviewer: Tell me about Zoë 👋.\nP01: She calls families the day before.\nP01: That builds trust.";

struct Study<'a> {
    project: TestProject<'a>,
    transcript: String,
    ana: TestUser,
    ben: TestUser,
}

async fn study(app: &TestApp) -> Study<'_> {
    let project = app.project().await;
    let response = project
        .owner
        .upload(
            &project.api("/transcripts"),
            "files",
            &[("P01.txt", TEXT.as_bytes().to_vec())],
            &[],
        )
        .await;
    let body: Value = response.json().await.unwrap();
    let transcript = body["files"][0]["transcript_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ana = project.member(Role::Coder).await;
    let ben = project.member(Role::Coder).await;
    let assigned = project
        .owner
        .post_json(
            &project.api("/assignments"),
            &json!({ "transcript_ids": [transcript], "user_ids": [ana.id, ben.id] }),
        )
        .await;
    assert_eq!(assigned.status(), StatusCode::CREATED);
    Study {
        project,
        transcript,
        ana,
        ben,
    }
}

impl Study<'_> {
    fn layer(&self, rest: &str) -> String {
        self.project
            .api(&format!("/transcripts/{}{rest}", self.transcript))
    }

    async fn code(&self, user: &TestUser, name: &str) -> String {
        let id = Uuid::new_v4().to_string();
        let response = user
            .post_json(
                &self.project.api("/codes"),
                &json!({ "id": id, "name": name }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        id
    }

    async fn coding(&self, user: &TestUser, code: &str, start: i64, end: i64) -> reqwest::Response {
        user.post_json(
            &self.layer("/codings"),
            &json!({ "id": Uuid::new_v4(), "code_id": code, "start": start, "end": end }),
        )
        .await
    }

    async fn data(&self, user: &TestUser) -> Value {
        user.get(&self.layer("/coding")).await.json().await.unwrap()
    }

    async fn count(&self, app: &TestApp, table: &str) -> i64 {
        sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&app.pool)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_retried_create_returns_the_same_record_and_stores_it_once() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let code = s.code(&s.ana, "trust").await;
    let body = json!({ "id": Uuid::new_v4(), "code_id": code, "start": 35, "end": 73, "memo": "key quote" });
    let first = s.ana.post_json(&s.layer("/codings"), &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let retry = s.ana.post_json(&s.layer("/codings"), &body).await;
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    assert_eq!(s.count(&app, "codings").await, 1);
    let audits: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'coding.created'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(audits, 1);

    // The same id with other content is a conflict, never an overwrite.
    let changed = json!({ "id": body["id"], "code_id": code, "start": 35, "end": 40 });
    assert_eq!(
        s.ana
            .post_json(&s.layer("/codings"), &changed)
            .await
            .status(),
        StatusCode::CONFLICT
    );
    // Someone else's id is refused too.
    let code_b = s.code(&s.ben, "families").await;
    let stolen = json!({ "id": body["id"], "code_id": code_b, "start": 35, "end": 73 });
    assert_eq!(
        s.ben
            .post_json(&s.layer("/codings"), &stolen)
            .await
            .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(s.count(&app, "codings").await, 1);
}

#[tokio::test]
async fn a_stale_update_gets_409_with_the_current_record() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let code = s.code(&s.ana, "trust").await;
    let coding: Value = s.coding(&s.ana, &code, 35, 73).await.json().await.unwrap();
    let path = s
        .project
        .api(&format!("/codings/{}", coding["id"].as_str().unwrap()));
    let moved = s
        .ana
        .patch_json(&path, &json!({ "start": 40, "version": 1 }))
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let stale = s
        .ana
        .patch_json(&path, &json!({ "memo": "late", "version": 1 }))
        .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let body: Value = stale.json().await.unwrap();
    assert_eq!(body["current"]["start"], 40);
    assert_eq!(body["current"]["version"], 2);
    assert_eq!(body["current"]["memo"], "");
}

#[tokio::test]
async fn bad_codings_get_clear_errors_and_store_nothing() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let code = s.code(&s.ana, "trust").await;
    let length = TEXT.chars().count() as i64;
    for (start, end, field) in [
        (5, 5, "end"),
        (9, 3, "end"),
        (-1, 4, "start"),
        (0, length + 1, "end"),
    ] {
        let response = s.coding(&s.ana, &code, start, end).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{start}..{end}"
        );
        let body: Value = response.json().await.unwrap();
        assert!(body["errors"][field].is_array(), "{start}..{end}: {body}");
    }
    // The whole text, counted in code points (UTF-16 would count one more).
    assert_eq!(
        s.coding(&s.ana, &code, 0, length).await.status(),
        StatusCode::CREATED
    );

    let bens_code = s.code(&s.ben, "families").await;
    assert_eq!(
        s.coding(&s.ana, &bens_code, 0, 5).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "another coder's code"
    );
    let other = app.project().await;
    let foreign = Uuid::new_v4().to_string();
    other
        .owner
        .post_json(
            &other.api("/codes"),
            &json!({ "id": foreign, "name": "elsewhere" }),
        )
        .await;
    assert_eq!(
        s.coding(&s.ana, &foreign, 0, 5).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a code of another project"
    );
    let unknown = Uuid::new_v4().to_string();
    assert_eq!(
        s.coding(&s.ana, &unknown, 0, 5).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let carl = s.project.member(Role::Coder).await;
    let carls_code = s.code(&carl, "x").await;
    let response = s.coding(&carl, &carls_code, 0, 5).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "not assigned");
    let reviewer = s.project.member(Role::Reviewer).await;
    assert_eq!(
        s.coding(&reviewer, &code, 0, 5).await.status(),
        StatusCode::FORBIDDEN
    );
    let missing = s
        .ana
        .post_json(
            &s.project
                .api(&format!("/transcripts/{}/codings", Uuid::new_v4())),
            &json!({ "id": Uuid::new_v4(), "code_id": code, "start": 0, "end": 2 }),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(s.count(&app, "codings").await, 1);
}

#[tokio::test]
async fn a_submitted_layer_is_read_only_until_the_lead_reopens_it() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let code = s.code(&s.ana, "trust").await;
    let coding: Value = s.coding(&s.ana, &code, 0, 11).await.json().await.unwrap();
    assert_eq!(s.data(&s.ana).await["assignment"]["state"], "in_progress");
    let submitted = s.ana.post_json(&s.layer("/submit"), &json!({})).await;
    assert_eq!(submitted.status(), StatusCode::OK);
    assert_eq!(s.data(&s.ana).await["assignment"]["can_edit"], false);
    assert_eq!(
        s.coding(&s.ana, &code, 20, 30).await.status(),
        StatusCode::FORBIDDEN
    );
    let path = s
        .project
        .api(&format!("/codings/{}", coding["id"].as_str().unwrap()));
    assert_eq!(s.ana.delete(&path).await.status(), StatusCode::FORBIDDEN);

    let assignments: Value = s
        .project
        .owner
        .get(&s.project.api("/assignments"))
        .await
        .json()
        .await
        .unwrap();
    let anas = assignments
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user_id"] == s.ana.id.to_string())
        .unwrap()
        .clone();
    assert_eq!(anas["state"], "submitted");
    assert_eq!(
        s.ana
            .post_json(
                &s.project.api(&format!(
                    "/assignments/{}/reopen",
                    anas["id"].as_str().unwrap()
                )),
                &json!({})
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let reopened = s
        .project
        .owner
        .post_json(
            &s.project.api(&format!(
                "/assignments/{}/reopen",
                anas["id"].as_str().unwrap()
            )),
            &json!({}),
        )
        .await;
    assert_eq!(reopened.status(), StatusCode::OK);
    assert_eq!(
        s.coding(&s.ana, &code, 20, 30).await.status(),
        StatusCode::CREATED
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where entity_type = 'assignment' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "assignment.created",
            "assignment.created",
            "assignment.started",
            "assignment.submitted",
            "assignment.reopened"
        ]
    );
}

#[tokio::test]
async fn coders_see_only_their_own_layer_and_codebook() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let anas = s.code(&s.ana, "reassurance").await;
    let bens = s.code(&s.ben, "home visits").await;
    s.coding(&s.ana, &anas, 0, 11).await;
    s.coding(&s.ben, &bens, 35, 73).await;
    let ana = s.data(&s.ana).await;
    assert_eq!(ana["codings"].as_array().unwrap().len(), 1);
    assert_eq!(ana["codings"][0]["code_id"], anas);
    assert_eq!(
        ana["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["reassurance"]
    );
    let codes: Value = s
        .ben
        .get(&s.project.api("/codes"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(codes.as_array().unwrap().len(), 1);
    // Ben cannot touch Ana's coding, whatever id he knows.
    let path = s.project.api(&format!(
        "/codings/{}",
        ana["codings"][0]["id"].as_str().unwrap()
    ));
    assert_eq!(
        s.ben
            .patch_json(&path, &json!({ "start": 1, "version": 1 }))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.ben.delete(&path).await.status(), StatusCode::NOT_FOUND);
    // The page carries only the viewer's own data.
    let page = s
        .ben
        .get(&format!(
            "{}/code",
            s.project.path(&format!("/transcripts/{}", s.transcript))
        ))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("home visits") && !page.contains("reassurance"),
        "Ana's code must not reach Ben's page"
    );
    let reviewer = s.project.member(Role::Reviewer).await;
    assert_eq!(
        reviewer.get(&s.layer("/coding")).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_shared_codebook_is_visible_to_all_while_applications_stay_blind() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let mode = s
        .project
        .owner
        .send_json(
            reqwest::Method::PUT,
            &s.project.api("/codebook-mode"),
            &json!({ "codebook_mode": "shared" }),
        )
        .await;
    assert_eq!(mode.status(), StatusCode::NO_CONTENT);
    let shared = s.code(&s.ana, "trust").await;
    assert_eq!(
        s.coding(&s.ben, &shared, 35, 73).await.status(),
        StatusCode::CREATED,
        "Ben uses Ana's shared code"
    );
    assert_eq!(s.data(&s.ben).await["codes"].as_array().unwrap().len(), 1);
    assert!(
        s.data(&s.ana).await["codings"]
            .as_array()
            .unwrap()
            .is_empty(),
        "Ben's coding stays hidden from Ana"
    );
    let back = s
        .project
        .owner
        .send_json(
            reqwest::Method::PUT,
            &s.project.api("/codebook-mode"),
            &json!({ "codebook_mode": "independent" }),
        )
        .await;
    assert_eq!(
        back.status(),
        StatusCode::CONFLICT,
        "no change once codes exist"
    );
}

#[tokio::test]
async fn coded_text_is_frozen() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let path = s.project.api(&format!("/transcripts/{}", s.transcript));
    let code = s.code(&s.ana, "trust").await;
    let coding: Value = s.coding(&s.ana, &code, 0, 11).await.json().await.unwrap();
    s.ana
        .delete(
            &s.project
                .api(&format!("/codings/{}", coding["id"].as_str().unwrap())),
        )
        .await;
    // Even a deleted coding can be restored, so it still pins the text.
    let edit = s
        .project
        .owner
        .patch_json(&path, &json!({ "text": "Something else", "version": 1 }))
        .await;
    assert_eq!(edit.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = edit.json().await.unwrap();
    assert!(
        body["errors"]["text"][0]
            .as_str()
            .unwrap()
            .contains("frozen")
    );
    let title = s
        .project
        .owner
        .patch_json(&path, &json!({ "title": "Renamed", "version": 1 }))
        .await;
    assert_eq!(title.status(), StatusCode::OK);
    let text: String = sqlx::query_scalar("select text from transcripts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(text, TEXT);
}

#[tokio::test]
async fn deletes_are_soft_and_codes_can_be_renamed_merged_and_nested() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let trust = s.code(&s.ana, "trust").await;
    let faith = s.code(&s.ana, "faith").await;
    let coding: Value = s.coding(&s.ana, &trust, 0, 11).await.json().await.unwrap();
    s.coding(&s.ana, &faith, 35, 73).await;
    let path = s
        .project
        .api(&format!("/codings/{}", coding["id"].as_str().unwrap()));
    assert_eq!(s.ana.delete(&path).await.status(), StatusCode::OK);
    assert_eq!(s.data(&s.ana).await["codings"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.ana
            .post_json(&format!("{path}/restore"), &json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(s.data(&s.ana).await["codings"].as_array().unwrap().len(), 2);

    let renamed = s.ana.patch_json(&s.project.api(&format!("/codes/{trust}")), &json!({ "name": "trust in the team", "definition": "Confidence in colleagues", "version": 1 })).await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let duplicate = s
        .ana
        .patch_json(
            &s.project.api(&format!("/codes/{faith}")),
            &json!({ "name": "Trust in the team", "version": 1 }),
        )
        .await;
    assert_eq!(duplicate.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let nested = s
        .ana
        .patch_json(
            &s.project.api(&format!("/codes/{faith}")),
            &json!({ "parent_id": trust, "version": 1 }),
        )
        .await;
    assert_eq!(nested.status(), StatusCode::OK);
    let cycle = s
        .ana
        .patch_json(
            &s.project.api(&format!("/codes/{trust}")),
            &json!({ "parent_id": faith, "version": 2 }),
        )
        .await;
    assert_eq!(cycle.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let merged = s
        .ana
        .post_json(
            &s.project.api(&format!("/codes/{faith}/merge")),
            &json!({ "into": trust }),
        )
        .await;
    assert_eq!(merged.status(), StatusCode::OK);
    assert_eq!(merged.json::<Value>().await.unwrap()["moved"], 1);
    let data = s.data(&s.ana).await;
    assert_eq!(data["codes"].as_array().unwrap().len(), 1);
    assert!(
        data["codings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["code_id"] == trust.as_str())
    );
    assert_eq!(
        data["codings"].as_array().unwrap().len(),
        2,
        "every coding kept"
    );
}

/// The next server-sent event of a stream (bounded wait).
pub(crate) async fn read_event(response: &mut reqwest::Response, buffer: &mut String) -> Value {
    let event = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                    return serde_json::from_str(data.trim()).unwrap();
                }
            }
            let chunk = response.chunk().await.unwrap().expect("the stream ended");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    event.expect("no event arrived")
}

/// Reads events until one of `kind` arrives, and returns it.
async fn next_event(response: &mut reqwest::Response, buffer: &mut String, kind: &str) -> Value {
    loop {
        let event = read_event(response, buffer).await;
        if event["kind"] == kind {
            return event;
        }
    }
}

#[tokio::test]
async fn events_reach_every_app_instance_and_respect_blinding() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    // A second app server on the same database, as a second instance would be.
    let second = TestApp::serve(app.pool.clone(), app.config.clone()).await;
    let ana_there = second.client();
    ana_there
        .sign_in(&s.ana.email, crate::harness::PASSWORD)
        .await;
    let lead_there = second.client();
    lead_there
        .sign_in(&s.project.owner.email, crate::harness::PASSWORD)
        .await;

    let events = s.project.api("/events");
    let mut ana_stream = ana_there
        .http
        .get(ana_there.url(&events))
        .send()
        .await
        .unwrap();
    assert_eq!(ana_stream.headers()["content-type"], "text/event-stream");
    let mut lead_stream = lead_there
        .http
        .get(lead_there.url(&events))
        .send()
        .await
        .unwrap();
    let mut ben_stream = s.ben.http.get(s.ben.url(&events)).send().await.unwrap();

    // Ben codes first: Ana, still coding, must not hear of it; the lead does.
    let bens = s.code(&s.ben, "families").await;
    s.coding(&s.ben, &bens, 35, 73).await;
    let anas = s.code(&s.ana, "trust").await;
    let coding: Value = s.coding(&s.ana, &anas, 0, 11).await.json().await.unwrap();

    let (mut a, mut l, mut b) = (String::new(), String::new(), String::new());
    let seen = next_event(&mut ana_stream, &mut a, "coding.created").await;
    assert_eq!(
        seen["entity_id"], coding["id"],
        "Ana's first coding event is her own, not Ben's"
    );
    let lead_first = next_event(&mut lead_stream, &mut l, "coding.created").await;
    assert_eq!(lead_first["coder_id"], s.ben.id.to_string());
    let ben_seen = next_event(&mut ben_stream, &mut b, "coding.created").await;
    assert_eq!(ben_seen["coder_id"], s.ben.id.to_string());
    // Ben's next coding event would be Ana's: it must not come. Send him one of his own and check it is next.
    let own: Value = s.coding(&s.ben, &bens, 75, 90).await.json().await.unwrap();
    let ben_next = next_event(&mut ben_stream, &mut b, "coding.created").await;
    assert_eq!(ben_next["entity_id"], own["id"]);
}

#[tokio::test]
async fn a_client_that_reconnects_catches_up_from_its_last_event_id() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let code = s.code(&s.ana, "trust").await;
    let first: Value = s.coding(&s.ana, &code, 0, 11).await.json().await.unwrap();
    let last_id: i64 = sqlx::query_scalar("select max(id) from project_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // While the browser is away:
    let missed: Value = s.coding(&s.ana, &code, 35, 73).await.json().await.unwrap();
    let mut stream = s
        .ana
        .http
        .get(s.ana.url(&s.project.api("/events")))
        .header("last-event-id", last_id.to_string())
        .send()
        .await
        .unwrap();
    let mut buffer = String::new();
    let event = next_event(&mut stream, &mut buffer, "coding.created").await;
    assert_eq!(event["entity_id"], missed["id"]);
    assert_ne!(event["entity_id"], first["id"]);
}

#[tokio::test]
async fn the_dashboard_shows_each_assignment_with_its_progress() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let code = s.code(&s.ana, "trust").await;
    s.coding(&s.ana, &code, 0, 11).await;
    let lead_view = html(s.project.owner.get(&s.project.path("")).await).await;
    let progress = select_texts(&lead_view, "#assignment-list tr.assignment td.progress");
    assert_eq!(progress.len(), 2);
    assert!(progress.contains(&"33%".to_owned()), "{progress:?}");
    let ana_view = html(s.ana.get(&s.project.path("")).await).await;
    assert_eq!(
        select_texts(&ana_view, "#assignment-list tr.assignment").len(),
        1,
        "a coder sees only their own"
    );
}

/// Every event up to the first `until`, in order.
async fn events_until(response: &mut reqwest::Response, until: &str) -> Vec<Value> {
    let mut buffer = String::new();
    let mut seen = Vec::new();
    loop {
        let event = read_event(response, &mut buffer).await;
        let done = event["kind"] == until;
        seen.push(event);
        if done {
            return seen;
        }
    }
}

#[tokio::test]
async fn layer_events_reach_only_those_each_role_and_state_allows() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    // A lead who also codes this transcript, a lead who does not, a coder who
    // has submitted, a coder not on it, and a reviewer.
    let coding_lead = s.project.member(Role::Lead).await;
    let watching_lead = s.project.member(Role::Lead).await;
    let done_coder = s.project.member(Role::Coder).await;
    let idle_coder = s.project.member(Role::Coder).await;
    let reviewer = s.project.member(Role::Reviewer).await;
    let ids = [coding_lead.id, done_coder.id];
    let assign = json!({ "transcript_ids": [s.transcript], "user_ids": ids });
    s.project
        .owner
        .post_json(&s.project.api("/assignments"), &assign)
        .await;
    assert_eq!(
        done_coder
            .post_json(&s.layer("/submit"), &json!({}))
            .await
            .status(),
        StatusCode::OK
    );

    let viewers = [
        ("owner, not coding", &s.project.owner, true),
        ("lead, not coding", &watching_lead, true),
        ("lead, coding it", &coding_lead, false),
        ("coder, submitted", &done_coder, true),
        ("coder, not on it", &idle_coder, false),
        ("reviewer", &reviewer, false),
        ("coder, still coding", &s.ben, false),
    ];
    let mut streams = Vec::new();
    for (_, viewer, _) in &viewers {
        let stream = viewer
            .http
            .get(viewer.url(&s.project.api("/events")))
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), StatusCode::OK);
        streams.push(stream);
    }
    let code = s.code(&s.ana, "reassurance").await;
    let coding: Value = s.coding(&s.ana, &code, 0, 11).await.json().await.unwrap();
    // Everyone may hear of a rename: it closes each viewer's window of events.
    let renamed = s
        .project
        .owner
        .patch_json(
            &s.project.api(""),
            &json!({ "name": "Renamed", "version": 1 }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    for ((who, _, may_see), stream) in viewers.iter().zip(streams.iter_mut()) {
        let events = events_until(stream, "project.updated").await;
        let saw_coding = events.iter().any(|e| e["entity_id"] == coding["id"]);
        let saw_code = events.iter().any(|e| e["entity_id"] == code.as_str());
        assert_eq!(saw_coding, *may_see, "{who}: Ana's coding");
        assert_eq!(
            saw_code,
            who.starts_with("owner") || who.starts_with("lead, not"),
            "{who}: Ana's code"
        );
    }
}

#[tokio::test]
async fn the_coding_page_sends_its_layer_packed_and_it_unpacks_to_what_the_api_sends() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let trust = s.code(&s.ana, "trust").await;
    let families = s.code(&s.ana, "families").await;
    let length = TEXT.chars().count() as i64;
    let n = 120;
    for i in 0..n {
        let code = if i % 3 == 0 { &families } else { &trust };
        let start = i % (length - 10);
        let memo = if i % 10 == 0 {
            "a memo, with \"quotes\" </script>"
        } else {
            ""
        };
        let response = s
            .ana
            .post_json(
                &s.layer("/codings"),
                &json!({ "id": Uuid::new_v4(), "code_id": code, "start": start, "end": start + 7, "memo": memo }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let page = s
        .ana
        .get(&format!(
            "{}/code",
            s.project.path(&format!("/transcripts/{}", s.transcript))
        ))
        .await
        .text()
        .await
        .unwrap();
    let block = page
        .split_once(r#"<script type="application/json" id="coding-data">"#)
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map(|(json, _)| json)
        .expect("the page's data block");
    let data: Value = serde_json::from_str(block).unwrap();
    assert_eq!(data["codings"], json!([]));
    let packed = &data["packed_codings"];
    let code_ids = packed["code_ids"].as_array().unwrap();
    let mut unpacked: Vec<Value> = packed["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let row = row.as_array().unwrap();
            json!({
                "id": row[0],
                "transcript_id": s.transcript,
                "coder_id": s.ana.id,
                "code_id": code_ids[row[1].as_u64().unwrap() as usize],
                "start": row[2],
                "end": row[3],
                "version": row[4],
                "memo": row.get(5).cloned().unwrap_or(json!("")),
            })
        })
        .collect();
    let api = s.data(&s.ana).await;
    let mut full = api["codings"].as_array().unwrap().clone();
    let by_id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    unpacked.sort_by_key(by_id);
    full.sort_by_key(by_id);
    assert_eq!(unpacked.len(), n as usize);
    assert_eq!(unpacked, full);
    // About 55 bytes a coding where the API's objects take about 250; the
    // rest of the block is the text and its line and turn tables.
    let rows = serde_json::to_string(packed).unwrap().len();
    let objects = serde_json::to_string(&api["codings"]).unwrap().len();
    assert!(rows <= 70 * n as usize, "{rows} bytes for {n} codings");
    assert!(objects > 3 * rows, "{objects} vs {rows}");
    assert!(
        block.len() <= TEXT.len() + 100 * n as usize + 2_000,
        "the data block is {} bytes",
        block.len()
    );
}
