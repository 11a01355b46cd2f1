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
        "theme_nodes",
        "theme_placements",
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

/// Table 1 of Barnosky et al. (2025), as shared/seed-study has it.
const TABLE_1: [&str; 18] = [
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
];

/// Table 2: the themes and their subcategories, in order.
const TABLE_2: [(&str, &[&str]); 4] = [
    ("Education", &["Adoption", "Awareness", "Availability"]),
    (
        "Barriers & benefits",
        &["Barriers", "Complications", "Benefits", "Challenges"],
    ),
    (
        "Technical & administrative",
        &["Cost", "Guidelines", "Definition", "Device management"],
    ),
    (
        "Patient-centered care",
        &[
            "Care pathway",
            "Treatment strategy",
            "Patient",
            "Physical",
            "Emotional",
        ],
    ),
];

const KINDS: [&str; 6] = [
    "agreement",
    "boundary",
    "different_code",
    "only_a",
    "only_b",
    "partial_overlap",
];

/// The kinds of discrepancy in `items` of one transcript's reconciliation.
fn kinds_of(view: &Value) -> BTreeSet<String> {
    view["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["discrepancy"]["kind"].as_str().unwrap().to_owned())
        .collect()
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

    // Accounts: one site admin, all with the shown password, members of both
    // projects with their roles.
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
    for project in [p, summary.practice.project_id] {
        let roles: Vec<(String, String)> = sqlx::query_as(
            "select u.email, m.role from project_members m join users u on u.id = m.user_id
              where m.project_id = $1 order by u.email",
        )
        .bind(project.0)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        let roles: Vec<(&str, &str)> = roles
            .iter()
            .map(|(e, r)| (e.as_str(), r.as_str()))
            .collect();
        let mut expected = vec![
            ("ada@demo.concord", "coder"),
            ("ben@demo.concord", "coder"),
            ("lead@demo.concord", "lead"),
            ("owner@demo.concord", "owner"),
            ("rita@demo.concord", "reviewer"),
        ];
        // The outside expert reviews the study only.
        if project == p {
            expected.push((concord::demo::EXPERT_EMAIL, "reviewer"));
        }
        assert_eq!(roles, expected);
    }

    let lead = signed_in_as(&app, "lead@demo.concord").await;
    let api = |rest: &str| format!("/api/v1/projects/{p}{rest}");

    // The 18 participants of Table 1, one variable per column, the role a category.
    let body: Value = lead.get(&api("/participants")).await.json().await.unwrap();
    let variables: Vec<(&str, &str)> = body["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        variables,
        [
            ("Role", "category"),
            ("Experience (years)", "number"),
            ("Patients in treatment for refractory pain", "number")
        ]
    );
    let rows: Vec<String> = body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let values = &x["values"];
            format!(
                "{},{},{},{}",
                x["label"].as_str().unwrap(),
                values["Role"].as_str().unwrap(),
                values["Experience (years)"].as_str().unwrap(),
                values["Patients in treatment for refractory pain"]
                    .as_str()
                    .unwrap()
            )
        })
        .collect();
    assert_eq!(rows, TABLE_1);

    // One interview per participant, in their order, 40 to 80 lines of
    // speaker turns each; both coders' layers submitted.
    assert_eq!(summary.transcripts.len(), 18);
    let interviews: Vec<(String, i64, i64)> = sqlx::query_as(
        "select p.label, (1 + length(t.text) - length(replace(t.text, chr(10), '')))::bigint,
                jsonb_array_length(t.turns)::bigint
           from transcripts t join participants p on p.id = t.participant_id
          where t.project_id = $1 order by p.label",
    )
    .bind(p.0)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(interviews.len(), 18);
    for ((label, lines, turns), row) in interviews.iter().zip(TABLE_1) {
        assert!(row.starts_with(&format!("{label},")), "{label}");
        assert!((40..=80).contains(lines), "{label}: {lines} lines");
        assert_eq!(turns, lines, "{label}: a turn a line");
    }
    assert_eq!(
        count(
            &app,
            &format!(
                "select count(*) from assignments where project_id = '{p}'
                    and state = 'submitted' and submitted_at is not null"
            )
        )
        .await,
        36
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
    let named_apart = count(
        &app,
        &format!(
            "select count(*) from codes c join code_alignments a on a.code_id = c.id
               join agreed_codes g on g.id = a.agreed_code_id
              where c.project_id = '{p}' and c.name <> g.name"
        ),
    )
    .await;
    assert!(named_apart > 100, "the coders name codes their own way");

    // Every transcript reconciled by the lead, so counts read "of 18".
    let progress: Value = lead
        .get(&api("/reconciliation"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(progress["reconciled"], 18, "{progress}");
    assert_eq!(progress["resolved"], progress["total"], "{progress}");
    for t in progress["transcripts"].as_array().unwrap() {
        assert_eq!(t["reconciled"], true, "{t}");
        assert!(t["total"].as_u64().unwrap() >= 3, "{t}");
    }

    // Every kind of discrepancy (all of them in the first interview), each
    // decided with a reason; some decisions revised, one taken back and
    // redone; coders' comments on a few.
    let mut kinds = BTreeSet::new();
    let (mut revised, mut undone, mut commented) = (0, 0, 0);
    let mut decided = BTreeSet::new();
    for (index, transcript) in summary.transcripts.iter().enumerate() {
        let view: Value = lead
            .get(&api(&format!("/transcripts/{transcript}/reconciliation")))
            .await
            .json()
            .await
            .unwrap();
        if index == 0 {
            assert_eq!(kinds_of(&view), BTreeSet::from(KINDS.map(String::from)));
        }
        kinds.extend(kinds_of(&view));
        assert!(view["orphans"].as_array().unwrap().is_empty(), "{view}");
        assert!(!view["consensus"].as_array().unwrap().is_empty());
        for item in view["items"].as_array().unwrap() {
            assert_eq!(item["resolved"], true, "{item}");
            let history = item["history"].as_array().unwrap();
            if item["discrepancy"]["kind"] != "agreement" {
                assert!(
                    !item["current"]["rationale"].as_str().unwrap().is_empty(),
                    "{item}"
                );
            }
            for d in history {
                decided.insert(d["kind"].as_str().unwrap().to_owned());
            }
            revised += usize::from(history.len() > 1);
            undone += usize::from(history.iter().any(|d| d["kind"] == "undo"));
            commented += item["comments"].as_array().unwrap().len();
        }
    }
    assert_eq!(kinds, BTreeSet::from(KINDS.map(String::from)));
    let every: BTreeSet<String> = [
        "accept_a",
        "accept_b",
        "both",
        "union",
        "intersection",
        "relabel",
        "reject",
        "undo",
    ]
    .map(String::from)
    .into();
    assert_eq!(decided, every);
    assert!(revised >= 5, "{revised} revised");
    assert_eq!(undone, 1);
    assert!(commented >= 3, "{commented} comments");
    let superseded = count(
        &app,
        &format!(
            "select count(*) from decisions d where d.project_id = '{p}'
                and exists (select 1 from decisions n where n.supersedes = d.id)"
        ),
    )
    .await;
    assert!(superseded >= 10, "{superseded} superseded decisions");
    assert_eq!(
        summary.decisions as i64,
        count(
            &app,
            &format!("select count(*) from decisions where project_id = '{p}' and not auto")
        )
        .await
    );

    // The consensus gives the counts the paper reports, out of 18.
    for (code, n) in [
        ("Maximum opioid dose as an indicator", 7),
        ("Eligibility: tumour location", 10),
        ("Eligibility: prognosis", 8),
        ("Eligibility: response to other treatments", 4),
        ("Pain specialist as decision maker", 13),
        ("Oncologist as decision maker", 11),
        ("Patient as main decision maker", 17),
    ] {
        let of_18 = count(
            &app,
            &format!(
                "select count(distinct t.participant_id) from consensus_codings c
                   join agreed_codes a on a.id = c.agreed_code_id
                   join transcripts t on t.id = c.transcript_id
                  where c.project_id = '{p}' and c.deleted_at is null and a.name = '{code}'"
            ),
        )
        .await;
        assert_eq!(of_18, n, "{code}");
    }

    // The agreed codes under Table 2's 4 themes and 16 subcategories, their
    // scopes as definitions; a handful left unplaced.
    let nodes: Vec<(String, Option<String>, String, i32, bool)> = sqlx::query_as(
        "select n.name, p.name, n.definition, n.position, n.example_coding_id is not null
           from theme_nodes n left join theme_nodes p on p.id = n.parent_id
          where n.project_id = $1 and n.deleted_at is null
          order by p.position nulls first, n.position",
    )
    .bind(p.0)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let themes: Vec<&str> = nodes
        .iter()
        .filter(|n| n.1.is_none())
        .map(|n| n.0.as_str())
        .collect();
    assert_eq!(themes, TABLE_2.map(|t| t.0));
    for (theme, subcategories) in TABLE_2 {
        let under: Vec<&str> = nodes
            .iter()
            .filter(|n| n.1.as_deref() == Some(theme))
            .map(|n| n.0.as_str())
            .collect();
        assert_eq!(under, subcategories, "{theme}");
    }
    let scope = |name: &str| {
        nodes
            .iter()
            .find(|n| n.0 == name)
            .map(|n| n.2.clone())
            .unwrap()
    };
    assert_eq!(
        scope("Emotional"),
        "Psychological impact of having a foreign body implanted"
    );
    assert!(
        nodes.iter().filter(|n| n.1.is_some()).all(|n| n.4),
        "each subcategory has an example quote"
    );
    let placed = count(
        &app,
        &format!(
            "select count(*) from theme_placements tp
               join theme_nodes n on n.id = tp.node_id and n.parent_id is not null
              where tp.project_id = '{p}'"
        ),
    )
    .await;
    assert!(placed >= 60, "{placed} placed");
    assert_eq!(placed, summary.placed_codes as i64);
    let unplaced = count(
        &app,
        &format!(
            "select count(*) from agreed_codes a where a.project_id = '{p}' and a.deleted_at is null
                and not exists (select 1 from theme_placements tp where tp.agreed_code_id = a.id)"
        ),
    )
    .await;
    assert!((4..=8).contains(&unplaced), "{unplaced} unplaced");
    assert_eq!(
        count(
            &app,
            &format!(
                "select count(*) from agreed_codes a where a.project_id = '{p}'
                    and not exists (select 1 from consensus_codings c
                                     where c.agreed_code_id = a.id and c.deleted_at is null)"
            )
        )
        .await,
        0,
        "every agreed code has consensus quotes"
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "select count(*) from audit_events where project_id = '{p}' and action = 'theme_node.created'"
            )
        )
        .await,
        20
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "select coalesce(sum(jsonb_array_length(after)), 0) from audit_events where project_id = '{p}' and action = 'theme.codes_placed'"
            )
        )
        .await,
        placed,
        "each placed code is on the record"
    );

    // The practice project: two pilot interviews, both layers submitted, every
    // kind of discrepancy open, nothing decided and no themes.
    let practice = &summary.practice;
    let q = practice.project_id;
    assert_eq!(practice.path, format!("/projects/{q}"));
    assert_eq!(practice.transcripts.len(), 2);
    assert_eq!(
        count(
            &app,
            &format!(
                "select count(*) from assignments where project_id = '{q}' and state = 'submitted'"
            )
        )
        .await,
        4
    );
    let progress: Value = lead
        .get(&format!("/api/v1/projects/{q}/reconciliation"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(progress["reconciled"], 0, "{progress}");
    assert_eq!(progress["resolved"], 0, "{progress}");
    assert!(progress["total"].as_u64().unwrap() >= 8, "{progress}");
    // Nobody has decided anything: the agreements were accepted when the
    // layers were submitted, each into the consensus layer, and that is all.
    let sql = |what: &str| format!("select count(*) from {what} where project_id = '{q}'");
    let automatic = count(&app, &sql("decisions")).await;
    assert!(automatic > 0);
    assert_eq!(
        count(&app, &format!("{} and not auto", sql("decisions"))).await,
        0
    );
    assert_eq!(count(&app, &sql("consensus_codings")).await, automatic);
    assert_eq!(count(&app, &sql("theme_nodes")).await, 0);
    let mut kinds = BTreeSet::new();
    for transcript in &practice.transcripts {
        let view: Value = lead
            .get(&format!(
                "/api/v1/projects/{q}/transcripts/{transcript}/reconciliation"
            ))
            .await
            .json()
            .await
            .unwrap();
        kinds.extend(kinds_of(&view));
    }
    assert_eq!(kinds, BTreeSet::from(KINDS.map(String::from)));
    assert_eq!(
        count(
            &app,
            "select count(*) from audit_events where action = 'demo.created'"
        )
        .await,
        2
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
    assert_eq!(count(&app, "select count(*) from users").await, 6);
    assert_eq!(count(&app, "select count(*) from projects").await, 2);
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
    let projects: Vec<String> = sqlx::query_scalar("select id::text from projects")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(projects.len(), 2);
    for project in projects {
        assert!(
            stdout.contains(&format!("(open http://127.0.0.1:4181/projects/{project})")),
            "{stdout}"
        );
    }
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
