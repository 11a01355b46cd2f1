use concord::projects::model::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, html, select_texts};

#[tokio::test]
async fn each_change_writes_its_audit_event_and_a_failed_change_writes_none() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    assert_eq!(
        app.audit_count(Some(project.id)).await,
        1,
        "project.created"
    );

    let renamed = project
        .owner
        .patch_json(
            &project.api(""),
            &json!({ "name": "Renamed", "version": 1 }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(app.audit_count(Some(project.id)).await, 2);

    let failures = [
        project
            .owner
            .patch_json(&project.api(""), &json!({ "name": "Stale", "version": 1 }))
            .await
            .status(),
        project
            .owner
            .patch_json(&project.api(""), &json!({ "name": "  ", "version": 2 }))
            .await
            .status(),
        project
            .owner
            .post_json(
                &project.api("/members"),
                &json!({ "email": "ghost@example.org", "role": "coder" }),
            )
            .await
            .status(),
    ];
    assert_eq!(
        failures,
        [
            StatusCode::CONFLICT,
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::UNPROCESSABLE_ENTITY
        ]
    );
    assert_eq!(
        app.audit_count(Some(project.id)).await,
        2,
        "failed changes leave no trace"
    );

    let log: Value = project
        .owner
        .get(&project.api("/audit"))
        .await
        .json()
        .await
        .unwrap();
    let newest = &log["events"][0];
    assert_eq!(newest["action"], "project.updated");
    assert_eq!(newest["before"]["name"], "Pain study");
    assert_eq!(newest["after"]["name"], "Renamed");
    assert_eq!(newest["actor_id"], project.owner.id.to_string());
}

#[tokio::test]
async fn audit_log_page_is_newest_first_and_paged() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    for version in 1..=55 {
        let response = project
            .owner
            .patch_json(
                &project.api(""),
                &json!({ "name": format!("Name {version}"), "version": version }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let first = html(project.owner.get(&project.path("/audit")).await).await;
    let actions = actions_on(&first);
    assert_eq!(actions.len(), 50);
    assert!(actions.iter().all(|a| a == "project.updated"));
    assert_eq!(select_texts(&first, "a[rel=next]"), ["Older"]);
    let second = html(project.owner.get(&project.path("/audit?page=2")).await).await;
    let actions = actions_on(&second);
    assert_eq!(actions.len(), 6);
    assert_eq!(actions.last().unwrap(), "project.created");
    assert!(select_texts(&second, "a[rel=next]").is_empty());

    let bad_page = project.owner.get(&project.api("/audit?page=0")).await;
    assert_eq!(bad_page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let coder = project.member(Role::Coder).await;
    assert_eq!(
        coder.get(&project.path("/audit")).await.status(),
        StatusCode::FORBIDDEN
    );
}

fn actions_on(page: &scraper::Html) -> Vec<String> {
    let selector = scraper::Selector::parse("#audit tr.event").unwrap();
    page.select(&selector)
        .filter_map(|row| row.value().attr("data-action"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn audit_events_cannot_be_changed_or_deleted() {
    let app = TestApp::spawn().await;
    let _project = app.project().await;
    let update = sqlx::query("update audit_events set action = 'forged'")
        .execute(&app.pool)
        .await;
    assert!(update.is_err());
    let delete = sqlx::query("delete from audit_events")
        .execute(&app.pool)
        .await;
    assert!(delete.is_err());
    let count: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action <> 'forged'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(count >= 2);
}

/// Whether `text` holds a UUID anywhere (what people cannot read).
fn holds_a_uuid(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(36)
        .any(|w| uuid::Uuid::parse_str(&w.iter().collect::<String>()).is_ok())
}

struct Coded<'a> {
    project: crate::harness::TestProject<'a>,
    first: String,
    second: String,
    ana: crate::harness::TestUser,
    ben: crate::harness::TestUser,
    code: String,
}

/// Two transcripts, two coders assigned to both; Ana codes the first under a
/// code she then renames, Ben codes the second.
async fn coded(app: &TestApp) -> Coded<'_> {
    let project = app.project().await;
    let first = project
        .import_text("Interview one.txt", "P01: The pump frightened me at first.")
        .await;
    let second = project
        .import_text("Interview two.txt", "P02: Refills are a long drive away.")
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
    let code = uuid::Uuid::new_v4().to_string();
    let created = ana
        .post_json(
            &project.api("/codes"),
            &json!({ "id": code, "name": "Fear" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let coding = ana
        .post_json(
            &project.api(&format!("/transcripts/{first}/codings")),
            &json!({ "id": uuid::Uuid::new_v4(), "code_id": code, "start": 5, "end": 20 }),
        )
        .await;
    assert_eq!(coding.status(), StatusCode::CREATED);
    let renamed = ana
        .patch_json(
            &project.api(&format!("/codes/{code}")),
            &json!({ "name": "Fear of the device", "version": 1 }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let bens = uuid::Uuid::new_v4().to_string();
    ben.post_json(
        &project.api("/codes"),
        &json!({ "id": bens, "name": "Distance" }),
    )
    .await;
    let coding = ben
        .post_json(
            &project.api(&format!("/transcripts/{second}/codings")),
            &json!({ "id": uuid::Uuid::new_v4(), "code_id": bens, "start": 5, "end": 12 }),
        )
        .await;
    assert_eq!(coding.status(), StatusCode::CREATED);
    let renamed = project
        .owner
        .patch_json(
            &project.api(""),
            &json!({ "name": "Pain study, wave 2", "version": 1 }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    Coded {
        project,
        first,
        second,
        ana,
        ben,
        code,
    }
}

async fn name_of(user: &crate::harness::TestUser) -> String {
    let me: Value = user.get("/api/v1/me").await.json().await.unwrap();
    me["display_name"].as_str().unwrap().to_owned()
}

async fn events(c: &Coded<'_>, query: &str) -> Vec<Value> {
    let response = c
        .project
        .owner
        .get(&c.project.api(&format!("/audit?{query}")))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let body: Value = response.json().await.unwrap();
    body["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_audit_log_says_who_changed_which_named_thing_and_how() {
    let app = TestApp::spawn().await;
    let c = coded(&app).await;
    let ana = name_of(&c.ana).await;
    let page = html(c.project.owner.get(&c.project.path("/audit")).await).await;
    let table = select_texts(&page, "#audit tbody").join(" ");
    assert!(!holds_a_uuid(&table), "ids shown: {table}");

    let row = |action: &str| {
        let selector =
            scraper::Selector::parse(&format!("#audit tr.event[data-action='{action}']")).unwrap();
        let cell = |row: scraper::ElementRef<'_>, css: &str| {
            let s = scraper::Selector::parse(css).unwrap();
            row.select(&s)
                .map(|e| {
                    e.text()
                        .collect::<String>()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
        };
        // The oldest such row.
        let found = page
            .select(&selector)
            .next_back()
            .unwrap_or_else(|| panic!("no {action} row"));
        (
            cell(found, "td.who").join(""),
            cell(found, "td.what").join(""),
            cell(found, "td.thing").join(""),
            cell(found, "td.transcript").join(""),
            cell(found, "td.changes li"),
        )
    };
    let (who, what, thing, _, changes) = row("code.updated");
    assert_eq!(who, ana);
    assert_eq!(what, "Changed a code");
    assert!(thing.contains("Fear of the device"), "{thing}");
    assert_eq!(changes, ["name: Fear → Fear of the device"]);

    let (who, what, thing, transcript, _) = row("coding.created");
    assert_eq!(who, ana);
    assert_eq!(what, "Coded a passage");
    assert!(thing.contains("Fear of the device"), "{thing}");
    assert_eq!(transcript, "Interview one");

    let (_, what, thing, transcript, _) = row("assignment.created");
    assert_eq!(what, "Assigned a coder");
    assert!(
        thing.contains(&ana) || thing.contains(&name_of(&c.ben).await),
        "{thing}"
    );
    assert!(transcript.starts_with("Interview"), "{transcript}");

    let (_, _, thing, _, changes) = row("project.updated");
    assert!(thing.contains("Pain study, wave 2"), "{thing}");
    assert_eq!(changes, ["name: Pain study → Pain study, wave 2"]);

    let (_, what, thing, _, _) = row("member.added");
    assert_eq!(what, "Added a member");
    assert!(!thing.is_empty());

    // The JSON twin carries the same reading beside the raw record.
    let all = events(&c, "").await;
    let renamed = all.iter().find(|e| e["action"] == "code.updated").unwrap();
    assert_eq!(renamed["action_label"], "Changed a code");
    assert_eq!(renamed["actor_name"], ana.as_str());
    assert_eq!(renamed["entity_name"], "Fear of the device");
    assert_eq!(
        renamed["changes"],
        json!([{ "field": "name", "before": "Fear", "after": "Fear of the device" }])
    );
    assert_eq!(renamed["before"]["name"], "Fear");
    let coding = all
        .iter()
        .rfind(|e| e["action"] == "coding.created")
        .unwrap();
    assert_eq!(coding["transcript_id"], c.first.as_str());
    assert_eq!(coding["transcript_title"], "Interview one");
    assert_eq!(coding["entity_name"], "Fear of the device");
}

#[tokio::test]
async fn the_audit_log_is_filtered_by_person_kind_transcript_and_date_and_downloads_as_csv() {
    let app = TestApp::spawn().await;
    let c = coded(&app).await;
    let all = events(&c, "").await;
    assert!(all.len() < 50, "one page holds them all");

    let by_ana = events(&c, &format!("person={}", c.ana.id)).await;
    assert!(!by_ana.is_empty());
    assert!(by_ana.iter().all(|e| e["actor_id"] == c.ana.id.to_string()));
    assert!(by_ana.iter().any(|e| e["action"] == "coding.created"));

    let codings = events(&c, "kind=coding").await;
    assert_eq!(codings.len(), 2, "{codings:?}");
    assert!(codings.iter().all(|e| e["entity_type"] == "coding"));
    let renames = events(&c, "kind=code.updated").await;
    assert_eq!(renames.len(), 1);

    let first = events(&c, &format!("transcript={}", c.first)).await;
    assert!(first.iter().all(|e| e["transcript_id"] == c.first.as_str()));
    let actions: Vec<&str> = first
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"transcript.imported"), "{actions:?}");
    assert!(actions.contains(&"assignment.created"), "{actions:?}");
    assert_eq!(
        actions.iter().filter(|a| **a == "coding.created").count(),
        1
    );
    let bens_on_first = events(
        &c,
        &format!("person={}&transcript={}&kind=coding", c.ben.id, c.first),
    )
    .await;
    assert!(bens_on_first.is_empty());
    let bens_on_second = events(
        &c,
        &format!("person={}&transcript={}&kind=coding", c.ben.id, c.second),
    )
    .await;
    assert_eq!(bens_on_second.len(), 1);

    // Dates are whole days in UTC, both ends included.
    let day = all[0]["created_at"].as_str().unwrap()[..10].to_owned();
    let date = time::Date::from_calendar_date(
        day[..4].parse().unwrap(),
        time::Month::try_from(day[5..7].parse::<u8>().unwrap()).unwrap(),
        day[8..10].parse().unwrap(),
    )
    .unwrap();
    let iso = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let (before, after) = (
        iso(date.previous_day().unwrap()),
        iso(date.next_day().unwrap()),
    );
    assert_eq!(
        events(&c, &format!("from={day}&to={day}")).await.len(),
        all.len()
    );
    assert!(events(&c, &format!("from={after}")).await.is_empty());
    assert!(events(&c, &format!("to={before}")).await.is_empty());
    assert_eq!(
        events(&c, &format!("from={before}&to={after}")).await.len(),
        all.len()
    );

    // The page offers the filters and a CSV of what it shows.
    let query = format!("person={}&kind=coding", c.ana.id);
    let page = html(
        c.project
            .owner
            .get(&c.project.path(&format!("/audit?{query}")))
            .await,
    )
    .await;
    let shown = select_texts(&page, "#audit tr.event");
    assert_eq!(shown.len(), 1, "{shown:?}");
    for name in ["person", "kind", "transcript", "from", "to"] {
        assert_eq!(
            select_texts(&page, &format!("form#audit-filters [name={name}]")).len(),
            1,
            "filter {name}"
        );
    }
    let selector = scraper::Selector::parse("a#audit-csv").unwrap();
    let href = page
        .select(&selector)
        .next()
        .and_then(|a| a.value().attr("href"))
        .expect("a CSV link")
        .to_owned();
    assert!(
        href.contains("kind=coding") && href.contains(&c.ana.id.to_string()),
        "{href}"
    );
    let csv = c.project.owner.get(&href).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"),
        "{:?}",
        csv.headers()
    );
    let text = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    for column in [
        "when_utc",
        "who",
        "action",
        "what",
        "thing",
        "name",
        "transcript",
        "changes",
    ] {
        assert!(
            headers.iter().any(|h| h == column),
            "{column} in {headers:?}"
        );
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1, "{text}");
    let row = |column: &str| rows[0][headers.iter().position(|h| h == column).unwrap()].to_owned();
    assert_eq!(row("who"), name_of(&c.ana).await);
    assert_eq!(row("action"), "coding.created");
    assert_eq!(row("name"), "Fear of the device");
    assert_eq!(row("transcript"), "Interview one");
    let everything = c
        .project
        .owner
        .get(&c.project.path("/audit.csv"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv::Reader::from_reader(everything.as_bytes())
            .records()
            .count(),
        all.len()
    );

    // Bad filters are refused by name, on the page, the CSV and the API.
    let stranger = uuid::Uuid::new_v4();
    for bad in [
        "kind=bogus".to_owned(),
        "from=2026-02-30".to_owned(),
        "to=yesterday".to_owned(),
        format!("from={after}&to={before}"),
        "transcript=not-an-id".to_owned(),
        format!("transcript={stranger}"),
        "person=nobody".to_owned(),
    ] {
        for path in [
            c.project.api(&format!("/audit?{bad}")),
            c.project.path(&format!("/audit?{bad}")),
            c.project.path(&format!("/audit.csv?{bad}")),
        ] {
            let response = c.project.owner.get(&path).await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}"
            );
        }
    }
    let coder = c.ana.get(&c.project.path("/audit.csv")).await;
    assert_eq!(coder.status(), StatusCode::FORBIDDEN);
    let _ = &c.code;
}

#[tokio::test]
async fn an_owner_still_coding_a_transcript_reads_the_log_only_after_submitting() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let transcript = project
        .import_text("Interview one.txt", "P01: The pump frightened me at first.")
        .await;
    let ana = project.member(Role::Coder).await;
    let assigned = project
        .owner
        .post_json(
            &project.api("/assignments"),
            &json!({ "transcript_ids": [transcript], "user_ids": [ana.id, project.owner.id] }),
        )
        .await;
    assert_eq!(assigned.status(), StatusCode::CREATED);
    let code = uuid::Uuid::new_v4().to_string();
    ana.post_json(
        &project.api("/codes"),
        &json!({ "id": code, "name": "Fear of the device" }),
    )
    .await;
    let coded = ana
        .post_json(
            &project.api(&format!("/transcripts/{transcript}/codings")),
            &json!({ "id": uuid::Uuid::new_v4(), "code_id": code, "start": 5, "end": 20 }),
        )
        .await;
    assert_eq!(coded.status(), StatusCode::CREATED);
    let submitted = ana
        .post_json(
            &project.api(&format!("/transcripts/{transcript}/submit")),
            &json!({}),
        )
        .await;
    assert!(submitted.status().is_success(), "{}", submitted.status());

    for path in [
        project.path("/audit"),
        project.path("/audit.csv"),
        project.api("/audit"),
    ] {
        let response = project.owner.get(&path).await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("Fear of the device"), "{path}: {body}");
    }

    let mine = uuid::Uuid::new_v4().to_string();
    project
        .owner
        .post_json(
            &project.api("/codes"),
            &json!({ "id": mine, "name": "Mine" }),
        )
        .await;
    project
        .owner
        .post_json(
            &project.api(&format!("/transcripts/{transcript}/codings")),
            &json!({ "id": uuid::Uuid::new_v4(), "code_id": mine, "start": 0, "end": 3 }),
        )
        .await;
    let submitted = project
        .owner
        .post_json(
            &project.api(&format!("/transcripts/{transcript}/submit")),
            &json!({}),
        )
        .await;
    assert!(submitted.status().is_success(), "{}", submitted.status());
    let page = project.owner.get(&project.path("/audit")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Fear of the device"));
}
