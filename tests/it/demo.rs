//! `concord demo`: the demo study, made end to end, and the setup-page button.

use std::collections::BTreeSet;

use concord::demo::{self, DemoSummary};
use concord::error::AppError;
use concord::state::AppState;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, TestClient, html, location, select_texts};

const EMAILS: [&str; 5] = [
    "owner@demo.concord",
    "lead@demo.concord",
    "ada@demo.concord",
    "ben@demo.concord",
    "rita@demo.concord",
];

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&app.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Rows of every table the demo writes to.
async fn row_counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in [
        "users",
        "projects",
        "project_members",
        "variables",
        "participants",
        "participant_values",
        "transcripts",
        "assignments",
        "codes",
        "codings",
        "agreed_codes",
        "code_alignments",
        "decisions",
        "consensus_codings",
        "discrepancy_comments",
        "audit_events",
    ] {
        out.push((
            table,
            count(app, &format!("select count(*) from {table}")).await,
        ));
    }
    out
}

async fn signed_in_as(app: &TestApp, email: &str) -> TestClient {
    let client = app.client();
    let response = client.sign_in(email, demo::PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "sign-in of {email}"
    );
    client
}

async fn create(app: &TestApp) -> DemoSummary {
    let state = AppState::new(app.pool.clone(), app.config.clone());
    demo::create(&state).await.expect("demo study")
}

#[tokio::test]
async fn the_demo_study_is_made_end_to_end() {
    let app = TestApp::spawn().await;
    let summary = create(&app).await;
    let p = summary.project_id;
    assert_eq!(summary.path, format!("/projects/{p}"));
    let emails: Vec<&str> = summary.accounts.iter().map(|a| a.email.as_str()).collect();
    assert_eq!(emails, EMAILS);
    assert!(
        summary
            .accounts
            .iter()
            .all(|a| a.password == "concord-demo")
    );

    // Accounts: one site admin, all with the shown password, members with their roles.
    let admins: Vec<String> = sqlx::query_scalar("select email from users where is_admin")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(admins, ["owner@demo.concord"]);
    assert_eq!(
        count(
            &app,
            "select count(*) from users where demo_password = 'concord-demo'"
        )
        .await,
        5
    );
    let roles: Vec<(String, String)> = sqlx::query_as(
        "select u.email, m.role from project_members m join users u on u.id = m.user_id order by u.email",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let roles: Vec<(&str, &str)> = roles
        .iter()
        .map(|(e, r)| (e.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("ada@demo.concord", "coder"),
            ("ben@demo.concord", "coder"),
            ("lead@demo.concord", "lead"),
            ("owner@demo.concord", "owner"),
            ("rita@demo.concord", "reviewer"),
        ]
    );

    let lead = signed_in_as(&app, "lead@demo.concord").await;
    let api = |rest: &str| format!("/api/v1/projects/{p}{rest}");

    // 18 participants, each with a role.
    let body: Value = lead.get(&api("/participants")).await.json().await.unwrap();
    let participants = body["participants"].as_array().unwrap();
    assert_eq!(participants.len(), 18);
    for participant in participants {
        assert!(
            participant["values"]["Role"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{participant}"
        );
    }

    // Four transcripts, each of a participant, both coders' layers submitted.
    assert_eq!(summary.transcripts.len(), 4);
    assert_eq!(
        count(
            &app,
            "select count(*) from transcripts where participant_id is not null and char_count > 0"
        )
        .await,
        4
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from assignments where state = 'submitted' and submitted_at is not null"
        )
        .await,
        8
    );
    assert_eq!(
        count(
            &app,
            "select count(distinct coder_id) from codings where deleted_at is null"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from codes c where not exists (select 1 from code_alignments a where a.code_id = c.id)"
        )
        .await,
        0,
        "every coder code is aligned"
    );

    // The lead has reconciled the first transcript, half of the second.
    let progress: Value = lead
        .get(&api("/reconciliation"))
        .await
        .json()
        .await
        .unwrap();
    let of = |t: usize| {
        progress["transcripts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["transcript_id"] == json!(summary.transcripts[t]))
            .unwrap_or_else(|| panic!("transcript {t} in {progress}"))
            .clone()
    };
    assert_eq!(of(0)["reconciled"], true, "{progress}");
    assert!(of(0)["total"].as_u64().unwrap() >= 5);
    assert_eq!(of(1)["reconciled"], false, "{progress}");
    assert!(of(1)["resolved"].as_u64().unwrap() >= 1, "{progress}");

    // Every kind of discrepancy is in the first transcript.
    let first: Value = lead
        .get(&api(&format!(
            "/transcripts/{}/reconciliation",
            summary.transcripts[0]
        )))
        .await
        .json()
        .await
        .unwrap();
    let kinds: BTreeSet<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["discrepancy"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "agreement",
            "boundary",
            "different_code",
            "partial_overlap",
            "only_a",
            "only_b"
        ])
    );
    for item in first["items"].as_array().unwrap() {
        assert_eq!(item["resolved"], true, "{item}");
        if item["discrepancy"]["kind"] != "agreement" {
            assert!(
                !item["current"]["rationale"].as_str().unwrap().is_empty(),
                "{item}"
            );
        }
    }
    assert!(!first["consensus"].as_array().unwrap().is_empty());

    // Coder A's comment on an open discrepancy of the second transcript.
    let second: Value = lead
        .get(&api(&format!(
            "/transcripts/{}/reconciliation",
            summary.transcripts[1]
        )))
        .await
        .json()
        .await
        .unwrap();
    let commented: Vec<&Value> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["comments"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(commented.len(), 1);
    assert_eq!(commented[0]["resolved"], false);
    assert!(
        commented[0]["comments"][0]["body"]
            .as_str()
            .unwrap()
            .starts_with("I coded this because")
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from audit_events where action = 'demo.created'"
        )
        .await,
        1
    );

    // The sign-in page lists the demo accounts with their password.
    let page = html(app.client().get("/login").await).await;
    assert_eq!(select_texts(&page, ".demo-accounts h2"), ["Demo accounts"]);
    let rows = select_texts(&page, ".demo-accounts tbody tr");
    assert_eq!(rows.len(), 5);
    for (row, email) in rows.iter().zip(EMAILS) {
        assert!(row.contains(email), "{row}");
        assert!(row.contains("concord-demo"), "{row}");
    }
    assert!(rows[0].contains("Olivia Owner") && rows[0].contains("Site admin"));
    assert!(rows[1].contains("Dr Lena Lead") && rows[1].contains("Lead researcher"));

    // A second run is refused and changes nothing.
    let before = row_counts(&app).await;
    let state = AppState::new(app.pool.clone(), app.config.clone());
    match demo::create(&state).await {
        Err(AppError::State(message)) => {
            assert!(message.contains("exists already"), "{message}")
        }
        Err(other) => panic!("unexpected error {other:?}"),
        Ok(_) => panic!("a second demo study was made"),
    }
    assert_eq!(row_counts(&app).await, before);

    // A changed password is no longer shown.
    let ada = signed_in_as(&app, "ada@demo.concord").await;
    let response = ada
        .post_json(
            "/api/v1/me/password",
            &json!({ "current_password": "concord-demo", "new_password": "a new secret phrase" }),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let rows = select_texts(
        &html(app.client().get("/login").await).await,
        ".demo-accounts tbody tr",
    );
    assert_eq!(rows.len(), 4);
    assert!(!rows.iter().any(|r| r.contains("ada@demo.concord")));
}

#[tokio::test]
async fn the_setup_page_loads_the_demo_only_on_an_empty_install() {
    let app = TestApp::spawn().await;
    let visitor = app.client();
    let page = html(visitor.get("/setup").await).await;
    assert_eq!(
        select_texts(&page, "form#demo-form button"),
        ["Load the demo study"]
    );

    let response = visitor.post_form("/setup/demo", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    assert_eq!(count(&app, "select count(*) from users").await, 5);
    assert_eq!(count(&app, "select count(*) from projects").await, 1);
    let page = html(visitor.get("/login").await).await;
    assert_eq!(select_texts(&page, ".demo-accounts tbody tr").len(), 5);
    signed_in_as(&app, "owner@demo.concord").await;

    // Once accounts exist, the button is refused.
    let before = row_counts(&app).await;
    let again = app.client().post_form("/setup/demo", &[]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(row_counts(&app).await, before);

    // Also on an install whose accounts are not demo ones.
    let other = TestApp::spawn().await;
    other.create_user("ana@example.org", "Ana", true).await;
    let refused = other.client().post_form("/setup/demo", &[]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(count(&other, "select count(*) from users").await, 1);
    assert_eq!(count(&other, "select count(*) from projects").await, 0);
}

#[tokio::test]
async fn concord_demo_prints_links_on_the_address_it_is_told_to_bind() {
    let app = TestApp::spawn().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
        .env("DATABASE_URL", &app.database_url)
        .env_remove("CONCORD_PUBLIC_URL")
        .env_remove("CONCORD_BIND")
        .args(["--log", "warn", "--bind", "0.0.0.0:4181", "demo"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let project: String = sqlx::query_scalar("select id::text from projects")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        stdout.contains(&format!("(open http://127.0.0.1:4181/projects/{project})")),
        "{stdout}"
    );
    assert!(!stdout.contains(":8080"), "{stdout}");
}

#[tokio::test]
async fn a_reviewers_dashboard_leads_with_reading_the_consensus() {
    let app = TestApp::spawn().await;
    let summary = create(&app).await;
    let rita = signed_in_as(&app, "rita@demo.concord").await;
    let page = html(rita.get(&summary.path).await).await;
    let headings = select_texts(&page, "main h2");
    assert_eq!(
        headings.first().map(String::as_str),
        Some("Your review"),
        "{headings:?}"
    );
    assert!(
        !select_texts(&page, "main")
            .join(" ")
            .contains("No assignments yet"),
        "a reviewer is never assigned"
    );
    let selector = scraper::Selector::parse("#review a").unwrap();
    let links: Vec<String> = page
        .select(&selector)
        .filter_map(|a| a.value().attr("href"))
        .map(str::to_owned)
        .collect();
    assert!(
        links.contains(&format!("{}/consensus", summary.path)),
        "{links:?}"
    );
    let reconciled = format!(
        "{}/transcripts/{}/consensus",
        summary.path, summary.transcripts[0]
    );
    assert!(links.contains(&reconciled), "{links:?}");
    assert_eq!(
        rita.get(&reconciled).await.status(),
        StatusCode::OK,
        "each link opens for her"
    );

    // Coders still lead with their assignments.
    let ada = signed_in_as(&app, "ada@demo.concord").await;
    let page = html(ada.get(&summary.path).await).await;
    assert_eq!(
        select_texts(&page, "main h2").first().map(String::as_str),
        Some("Your assignments")
    );
}
