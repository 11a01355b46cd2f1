//! Live events under load and across instances: every committed event reaches
//! every entitled listener once, in one order, live and on catch-up; and a
//! stream ends when its viewer's right to read the project does.

use std::collections::HashSet;
use std::time::Duration;

use concord::projects::model::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{PASSWORD, TestApp, TestClient, TestProject, TestUser, html, select_texts};

/// Long enough for every span the writers make.
fn transcript_text() -> String {
    (0..40)
        .map(|i| format!("P01: Line {i} about the pump, the clinic and the families."))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One server-sent event: its id line and its JSON data.
pub struct Sse {
    pub id: String,
    pub data: Value,
}

/// Reads a stream's events; `next` waits a bounded time for the next one.
pub struct Reader {
    response: reqwest::Response,
    buffer: String,
}

impl Reader {
    pub async fn open(client: &TestClient, path: &str, last_event_id: Option<&str>) -> Reader {
        let mut request = client.http.get(client.url(path));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        Reader {
            response,
            buffer: String::new(),
        }
    }

    /// The next event, or None when the stream ended.
    pub async fn next(&mut self) -> Option<Sse> {
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                while let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let data = block.lines().find_map(|l| l.strip_prefix("data:"));
                    let id = block.lines().find_map(|l| l.strip_prefix("id:"));
                    if let (Some(data), Some(id)) = (data, id) {
                        return Some(Sse {
                            id: id.trim().to_owned(),
                            data: serde_json::from_str(data.trim()).unwrap(),
                        });
                    }
                }
                match self.response.chunk().await {
                    Ok(Some(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                    _ => return None,
                }
            }
        })
        .await
        .expect("no event arrived in time")
    }

    /// Events until `count` of kind `kind` have come; all events in order.
    pub async fn until_count(&mut self, kind: &str, count: usize) -> Vec<Sse> {
        let mut seen = Vec::new();
        let mut matching = 0;
        while matching < count {
            let event = self.next().await.expect("the stream ended early");
            if event.data["kind"] == kind {
                matching += 1;
            }
            seen.push(event);
        }
        seen
    }
}

struct Writers<'a> {
    project: TestProject<'a>,
    transcript: String,
    coders: Vec<TestUser>,
}

/// A project with one transcript and `n` coders assigned to it.
async fn writers(app: &TestApp, n: usize) -> Writers<'_> {
    let project = app.project().await;
    let transcript = project.import_text("P01.txt", &transcript_text()).await;
    let mut coders = Vec::new();
    for _ in 0..n {
        coders.push(project.member(Role::Coder).await);
    }
    let ids: Vec<_> = coders.iter().map(|c| c.id).collect();
    let assigned = project
        .owner
        .post_json(
            &project.api("/assignments"),
            &json!({ "transcript_ids": [transcript], "user_ids": ids }),
        )
        .await;
    assert_eq!(assigned.status(), StatusCode::CREATED);
    Writers {
        project,
        transcript,
        coders,
    }
}

impl Writers<'_> {
    /// Each coder, through `client` (its session on some instance), makes a
    /// code and then `each` codings, all coders at once. Answers the coding ids.
    async fn write(&self, clients: Vec<TestClient>, each: usize) -> Vec<String> {
        let mut all = Vec::new();
        for task in self.start_writing(clients, each) {
            all.extend(task.await.unwrap());
        }
        all
    }

    /// As [`Self::write`], without waiting: one task per writer.
    fn start_writing(
        &self,
        clients: Vec<TestClient>,
        each: usize,
    ) -> Vec<tokio::task::JoinHandle<Vec<String>>> {
        let layer = self
            .project
            .api(&format!("/transcripts/{}/codings", self.transcript));
        let codes = self.project.api("/codes");
        let mut tasks = Vec::new();
        for (n, client) in clients.into_iter().enumerate() {
            let (layer, codes) = (layer.clone(), codes.clone());
            tasks.push(tokio::spawn(async move {
                let code = Uuid::new_v4();
                let made = client
                    .post_json(&codes, &json!({ "id": code, "name": format!("code {n}") }))
                    .await;
                assert_eq!(made.status(), StatusCode::CREATED);
                let mut ids = Vec::new();
                for i in 0..each {
                    let id = Uuid::new_v4();
                    let start = (i * 7 + n) % 1500;
                    let response = client
                        .post_json(
                            &layer,
                            &json!({ "id": id, "code_id": code, "start": start, "end": start + 20 }),
                        )
                        .await;
                    assert_eq!(response.status(), StatusCode::CREATED);
                    ids.push(id.to_string());
                }
                ids
            }));
        }
        tasks
    }
}

async fn session_on(app: &TestApp, email: &str) -> TestClient {
    let client = app.client();
    let response = client.sign_in(email, PASSWORD).await;
    assert!(response.status().is_redirection() || response.status().is_success());
    client
}

fn coding_ids(events: &[Sse]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.data["kind"] == "coding.created")
        .map(|e| e.data["entity_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn thirty_two_writers_on_two_instances_reach_every_listener_once_in_one_order() {
    let app = TestApp::spawn().await;
    let second = TestApp::serve(app.pool.clone(), app.config.clone()).await;
    let w = writers(&app, 32).await;
    let lead = w.project.member(Role::Lead).await;
    let events = w.project.api("/events");
    // Listeners on both instances, before anything is written.
    let mut on_first = Reader::open(&w.project.owner, &events, None).await;
    let lead_on_second = session_on(&second, &lead.email).await;
    let mut on_second = Reader::open(&lead_on_second, &events, None).await;
    let owner_on_second = session_on(&second, &w.project.owner.email).await;
    let mut owner_on_second = Reader::open(&owner_on_second, &events, None).await;

    // Half the writers go through each instance.
    let mut clients = Vec::new();
    for (i, coder) in w.coders.iter().enumerate() {
        clients.push(if i % 2 == 0 {
            coder.client.clone()
        } else {
            session_on(&second, &coder.email).await
        });
    }
    let written = w.write(clients, 25).await;
    assert_eq!(written.len(), 800);
    let expected: HashSet<&String> = written.iter().collect();

    let mut orders = Vec::new();
    for (who, reader) in [
        ("owner on the first instance", &mut on_first),
        ("lead on the second instance", &mut on_second),
        ("owner on the second instance", &mut owner_on_second),
    ] {
        let seen = reader.until_count("coding.created", 800).await;
        let ids = coding_ids(&seen);
        let distinct: HashSet<&String> = ids.iter().collect();
        assert_eq!(ids.len(), 800, "{who}: every event once");
        assert_eq!(distinct, expected, "{who}: exactly the codings written");
        // A stream opened without Last-Event-ID starts at the safe head, which
        // a transaction running elsewhere on the server can hold back: it may
        // also get events committed just before it opened. Every write here
        // starts after all three opened, so the order is compared from the
        // first coding on.
        let first = seen
            .iter()
            .position(|e| e.data["kind"] == "coding.created")
            .unwrap_or_default();
        let positions: Vec<String> = seen[first..].iter().map(|e| e.id.clone()).collect();
        orders.push((who, positions));
    }
    assert_eq!(orders[0].1, orders[1].1, "one order for every listener");
    assert_eq!(orders[0].1, orders[2].1, "one order for every listener");
}

#[tokio::test]
async fn a_listener_that_drops_out_during_1500_writes_catches_up_on_every_one() {
    let app = TestApp::spawn().await;
    let w = writers(&app, 10).await;
    let events = w.project.api("/events");
    let mut reader = Reader::open(&w.project.owner, &events, None).await;
    let clients: Vec<TestClient> = w.coders.iter().map(|c| c.client.clone()).collect();
    let writing = w.start_writing(clients, 150);
    // Hear the first few, then go away mid-stream.
    let first = reader.until_count("coding.created", 40).await;
    let last_id = first.last().unwrap().id.clone();
    drop(reader);
    let mut written = Vec::new();
    for task in writing {
        written.extend(task.await.unwrap());
    }
    assert_eq!(written.len(), 1500);

    // More than a page (1,000) was missed: the catch-up pages through it.
    let mut reader = Reader::open(&w.project.owner, &events, Some(&last_id)).await;
    let already = coding_ids(&first).len();
    let rest = reader.until_count("coding.created", 1500 - already).await;
    let mut ids = coding_ids(&first);
    ids.extend(coding_ids(&rest));
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), 1500, "no event twice");
    assert_eq!(distinct, written.iter().collect(), "every event once");
}

#[tokio::test]
async fn a_lead_still_coding_a_transcript_sees_none_of_the_other_coders_progress_on_it() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let transcript = project.import_text("P01.txt", &transcript_text()).await;
    let ana = project.member(Role::Coder).await;
    let lead = project.member(Role::Lead).await;
    let assigned = project
        .owner
        .post_json(
            &project.api("/assignments"),
            &json!({ "transcript_ids": [transcript], "user_ids": [ana.id, lead.id] }),
        )
        .await;
    assert_eq!(assigned.status(), StatusCode::CREATED);
    let code = Uuid::new_v4();
    ana.post_json(
        &project.api("/codes"),
        &json!({ "id": code, "name": "pump" }),
    )
    .await;
    let coded = ana
        .post_json(
            &project.api(&format!("/transcripts/{transcript}/codings")),
            &json!({ "id": Uuid::new_v4(), "code_id": code, "start": 0, "end": 30 }),
        )
        .await;
    assert_eq!(coded.status(), StatusCode::CREATED);

    let rows: Value = lead
        .get(&project.api("/assignments"))
        .await
        .json()
        .await
        .unwrap();
    for row in rows.as_array().unwrap() {
        if row["user_id"] == ana.id.to_string() {
            assert!(
                row["lines_touched"].is_null(),
                "Ana's progress is hidden: {row}"
            );
        } else {
            assert_eq!(row["lines_touched"], 0, "the lead's own progress shows");
        }
    }
    let page = html(lead.get(&project.path("")).await).await;
    let cells = select_texts(&page, "#assignment-list tr.assignment td.progress");
    assert_eq!(cells.len(), 2);
    assert!(cells.contains(&"hidden".to_owned()), "{cells:?}");
    // The owner, not coding it, sees Ana's progress.
    let rows: Value = project
        .owner
        .get(&project.api("/assignments"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["lines_touched"].is_number())
    );

    // Replaying the whole backlog shows the lead none of Ana's assignment events.
    let renamed = project
        .owner
        .patch_json(
            &project.api(""),
            &json!({ "name": "Renamed", "version": 1 }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let mut reader = Reader::open(&lead, &project.api("/events"), Some("0")).await;
    let seen = reader.until_count("project.updated", 1).await;
    assert!(
        seen.iter()
            .any(|e| e.data["kind"] == "assignment.updated"
                && e.data["coder_id"] == lead.id.to_string()),
        "the lead's own assignment is there"
    );
    for event in seen.iter().filter(|e| e.data["kind"] != "member.changed") {
        assert!(
            event.data["coder_id"] != ana.id.to_string(),
            "an event of Ana's reached the blind lead: {}",
            event.data
        );
    }
}

async fn make_code(project: &TestProject<'_>, user: &TestUser, name: &str) -> Uuid {
    let id = Uuid::new_v4();
    let body = json!({ "id": id, "name": name });
    let made = user.post_json(&project.api("/codes"), &body).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    id
}

async fn code_on(project: &TestProject<'_>, user: &TestUser, transcript: &str, code: Uuid) {
    let path = project.api(&format!("/transcripts/{transcript}/codings"));
    let body = json!({ "id": Uuid::new_v4(), "code_id": code, "start": 0, "end": 30 });
    assert_eq!(
        user.post_json(&path, &body).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn the_unaligned_count_leaves_out_codes_used_only_where_the_viewer_is_blind() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let first = project.import_text("P01.txt", &transcript_text()).await;
    let second = project
        .import_text("P02.txt", &transcript_text().replace("P01", "P02"))
        .await;
    let ana = project.member(Role::Coder).await;
    let ben = project.member(Role::Coder).await;
    let assigned = project
        .owner
        .post_json(
            &project.api("/assignments"),
            &json!({ "transcript_ids": [first, second], "user_ids": [ana.id, ben.id] }),
        )
        .await;
    assert_eq!(assigned.status(), StatusCode::CREATED);
    let anas = make_code(&project, &ana, "pump").await;
    let bens = make_code(&project, &ben, "device").await;
    let secret = make_code(&project, &ben, "only on the second").await;
    code_on(&project, &ana, &first, anas).await;
    code_on(&project, &ben, &first, bens).await;
    code_on(&project, &ben, &second, secret).await;
    for user in [&ana, &ben] {
        let submitted = user
            .post_json(
                &project.api(&format!("/transcripts/{first}/submit")),
                &json!({}),
            )
            .await;
        assert_eq!(submitted.status(), StatusCode::OK);
    }
    // Ana compares the first transcript but is still coding the second.
    let report: Value = ana
        .get(&project.api("/agreement"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        report["unaligned_codes"], 2,
        "her code and Ben's on the first transcript, not Ben's code on the second"
    );
}

#[tokio::test]
async fn a_stream_ends_when_its_member_is_removed_or_its_account_disabled() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let admin = app.admin().await;
    let removed = project.member(Role::Coder).await;
    let disabled = project.member(Role::Coder).await;
    let staying = project.member(Role::Coder).await;
    let events = project.api("/events");
    let mut removed_stream = Reader::open(&removed, &events, None).await;
    let mut disabled_stream = Reader::open(&disabled, &events, None).await;
    let mut staying_stream = Reader::open(&staying, &events, None).await;

    let response = project
        .owner
        .delete(&project.api(&format!("/members/{}", removed.id)))
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let response = admin
        .patch_json(
            &format!("/api/v1/users/{}", disabled.id),
            &json!({ "disabled": true }),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let renamed = project
        .owner
        .patch_json(
            &project.api(""),
            &json!({ "name": "Renamed", "version": 1 }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);

    // Each may hear of its own change, and then nothing more.
    for (who, stream) in [
        ("removed member", &mut removed_stream),
        ("disabled account", &mut disabled_stream),
    ] {
        while let Some(event) = stream.next().await {
            assert_ne!(
                event.data["kind"], "project.updated",
                "{who} still hears the project"
            );
        }
    }
    let seen = staying_stream.until_count("project.updated", 1).await;
    assert!(!seen.is_empty());
}

/// The lead has the project's stream open while the coders work; the second
/// coder's submit files the agreement, and the lead's page hears of it then,
/// without anyone opening the reconciliation.
#[tokio::test]
async fn the_last_submit_announces_the_agreements_it_accepts_to_open_pages() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let mode = json!({ "codebook_mode": "shared" });
    let response = project
        .owner
        .send_json(reqwest::Method::PUT, &project.api("/codebook-mode"), &mode)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let transcript = project.import_text("P01.txt", &transcript_text()).await;
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
    let code = make_code(&project, &ana, "pump").await;
    code_on(&project, &ana, &transcript, code).await;
    code_on(&project, &ben, &transcript, code).await;
    let submit = project.api(&format!("/transcripts/{transcript}/submit"));
    let submitted = ana.post_json(&submit, &json!({})).await;
    assert_eq!(submitted.status(), StatusCode::OK);

    let mut reader = Reader::open(&project.owner, &project.api("/events"), None).await;
    let submitted = ben.post_json(&submit, &json!({})).await;
    assert_eq!(submitted.status(), StatusCode::OK);
    let seen = reader.until_count("decision.made", 1).await;
    let decision = seen.last().unwrap();
    assert_eq!(decision.data["transcript_id"], transcript.as_str());
}
