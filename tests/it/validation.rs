//! Peer debriefing, memos and journals, project search and the interview
//! order, over the two-transcript study of the themes tests.

use concord::projects::model::Role;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestUser, html, select_texts};
use crate::themes::{Study, study};

async fn expect(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn audit_rows(s: &Study<'_>, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_events where project_id = $1 and action = $2")
        .bind(s.project.id.0)
        .bind(action)
        .fetch_one(&s.project.app.pool)
        .await
        .expect("count")
}

const P03: &str = "P03: Infection again, and chemotherapy.\nP03: Nothing more.";

/// Cara, a third coder, still coding a third transcript: blind to the others.
/// She has coded "Infection again" with her own code "Germs".
async fn blind_coder(s: &Study<'_>) -> (TestUser, String) {
    let t = s.project.import_text("P03.txt", P03).await;
    let cara = s.project.member(Role::Coder).await;
    expect(
        s.project
            .owner
            .post_json(
                &s.project.api("/assignments"),
                &json!({ "transcript_ids": [t], "user_ids": [cara.id] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let code = Uuid::new_v4().to_string();
    expect(
        cara.post_json(
            &s.project.api("/codes"),
            &json!({ "id": code, "name": "Germs" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect(
        cara.post_json(
            &s.project.api(&format!("/transcripts/{t}/codings")),
            &json!({ "id": Uuid::new_v4(), "code_id": code, "start": 5, "end": 20 }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    (cara, t)
}

#[tokio::test]
async fn a_debriefing_records_who_met_and_what_changed_and_its_themes_and_codes_say_so() {
    let app = crate::harness::TestApp::spawn().await;
    let s = study(&app).await;
    let owner = &s.project.owner;
    let theme = s.node(json!({ "name": "Barriers" })).await;
    let api = s.project.api("/debriefings");
    let good = json!({
        "held_on": "2026-03-12",
        "title": "Second debriefing",
        "notes": "We read the barriers together.",
        "decisions": "Merge cost into barriers.",
        "attendees": [s.ana.id],
        "guests": ["Dr Outside", "  "],
        "nodes": [theme["id"]],
        "codes": [s.agreed["Infection"]],
    });
    let before = app.audit_count(Some(s.project.id)).await;
    for (change, field) in [
        (json!({ "held_on": "12/03/2026" }), "held_on"),
        (json!({ "held_on": "2026-02-30" }), "held_on"),
        (json!({ "notes": "", "decisions": " " }), "notes"),
        (json!({ "attendees": [Uuid::new_v4()] }), "attendees"),
        (json!({ "nodes": [Uuid::new_v4()] }), "nodes"),
        (json!({ "codes": [Uuid::new_v4()] }), "codes"),
    ] {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let problem = expect(
            owner.post_json(&api, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(problem["errors"][field].is_array(), "{field}: {problem}");
    }
    assert_eq!(app.audit_count(Some(s.project.id)).await, before);

    let made = expect(owner.post_json(&api, &good).await, StatusCode::CREATED).await;
    assert_eq!(made["held_on"], "2026-03-12");
    assert_eq!(made["guests"], json!(["Dr Outside"]));
    assert_eq!(made["attendees"][0]["id"], json!(s.ana.id));
    assert_eq!(made["nodes"][0]["name"], "Barriers");
    assert_eq!(made["codes"][0]["name"], "Infection");
    let one = s
        .project
        .api(&format!("/debriefings/{}", made["id"].as_str().unwrap()));

    // The team reads it; coders do not write it; reviewers and the blind see nothing.
    let listed = expect(s.ana.get(&api).await, StatusCode::OK).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    expect(s.ana.post_json(&api, &good).await, StatusCode::FORBIDDEN).await;
    let reviewer = s.project.member(Role::Reviewer).await;
    expect(reviewer.get(&api).await, StatusCode::FORBIDDEN).await;
    let (cara, _) = blind_coder(&s).await;
    expect(cara.get(&one).await, StatusCode::CONFLICT).await;

    // A change needs the version read.
    let mut edit = good.clone();
    edit["version"] = json!(0);
    edit["decisions"] = json!("Keep cost apart.");
    expect(owner.patch_json(&one, &edit).await, StatusCode::CONFLICT).await;
    edit["version"] = made["version"].clone();
    edit["codes"] = json!([s.agreed["Infection"], s.agreed["Cost"]]);
    let changed = expect(owner.patch_json(&one, &edit).await, StatusCode::OK).await;
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["codes"].as_array().unwrap().len(), 2);
    assert_eq!(audit_rows(&s, "debriefing.recorded").await, 1);
    assert_eq!(audit_rows(&s, "debriefing.updated").await, 1);

    // The node and the codes say where they were discussed.
    let discussed = expect(
        s.ana.get(&s.project.api("/debriefings/discussed")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        discussed["nodes"][theme["id"].as_str().unwrap()],
        "Discussed in the debriefing of 12 March 2026"
    );
    let page = html(
        s.ana
            .get(
                &s.project
                    .path(&format!("/memos?node={}", theme["id"].as_str().unwrap())),
            )
            .await,
    )
    .await;
    assert!(
        select_texts(&page, "#discussed")[0]
            .starts_with("Discussed in the debriefing of 12 March 2026")
    );
    let codebook = html(s.ana.get(&s.project.path("/consensus")).await).await;
    let notes = select_texts(&codebook, ".code-discussed");
    assert_eq!(notes.len(), 2, "{notes:?}");
    let list = html(s.ana.get(&s.project.path("/debriefings")).await).await;
    assert_eq!(select_texts(&list, ".debriefing-row a"), ["12 March 2026"]);
    assert!(
        select_texts(&list, "#debriefing-form").is_empty(),
        "coders get no form"
    );

    // The page form records one too, and the page shows it.
    let form = html(owner.get(&s.project.path("/debriefings")).await).await;
    assert_eq!(select_texts(&form, "#debriefing-form").len(), 1);
    let response = owner
        .post_form(
            &s.project.path("/debriefings"),
            &[
                ("held_on", "2026-04-03"),
                ("notes", "Third session"),
                ("guests", "Prof. A\nProf. B"),
                ("nodes", theme["id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let shown = html(owner.get(&crate::harness::location(&response)).await).await;
    assert_eq!(select_texts(&shown, "#held-on"), ["3 April 2026"]);
    assert_eq!(
        select_texts(&shown, "#attendees .guest"),
        ["Prof. A", "Prof. B"]
    );
}

#[tokio::test]
async fn memos_and_journals_are_read_by_whom_they_concern_and_changed_by_their_author() {
    let app = crate::harness::TestApp::spawn().await;
    let s = study(&app).await;
    let theme = s.node(json!({ "name": "Barriers" })).await;
    let api = s.project.api("/memos");
    let mut made = Vec::new();
    for body in [
        json!({ "kind": "project", "title": "Early thoughts", "body": "Infection comes up everywhere.", "written_on": "2026-03-01" }),
        json!({ "kind": "code", "target_id": s.agreed["Infection"], "body": "Infection: fear more than fact." }),
        json!({ "kind": "node", "target_id": theme["id"], "body": "Barriers are mostly money." }),
        json!({ "kind": "journal", "body": "I trained as a nurse, which shapes how I read infection." }),
    ] {
        made.push(expect(s.ana.post_json(&api, &body).await, StatusCode::CREATED).await);
    }
    assert_eq!(made[0]["written_on"], "2026-03-01");
    assert_eq!(made[1]["target_name"], "Infection");
    for body in [
        json!({ "kind": "elsewhere", "body": "x" }),
        json!({ "kind": "code", "target_id": Uuid::new_v4(), "body": "x" }),
        json!({ "kind": "node", "body": "x" }),
        json!({ "kind": "project", "body": "  " }),
        json!({ "kind": "project", "body": "x", "written_on": "yesterday" }),
    ] {
        expect(
            s.ana.post_json(&api, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    assert_eq!(audit_rows(&s, "memo.written").await, 4);

    // Ben reads the analytic memos, not Ana's journal; the owner reads both.
    let ben_sees = expect(s.ben.get(&api).await, StatusCode::OK).await;
    let kinds: Vec<&str> = ben_sees
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 3);
    assert!(!kinds.contains(&"journal"));
    let journals = expect(
        s.project
            .owner
            .get(&s.project.api("/memos?kind=journal"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(journals.as_array().unwrap().len(), 1);
    let on_code = expect(
        s.ben
            .get(
                &s.project
                    .api(&format!("/memos?code={}", s.agreed["Infection"])),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(on_code.as_array().unwrap().len(), 1);

    // A coder still coding writes and reads only their own journal.
    let (cara, _) = blind_coder(&s).await;
    expect(
        cara.post_json(&api, &json!({ "kind": "project", "body": "x" }))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    expect(
        cara.post_json(
            &api,
            &json!({ "kind": "journal", "body": "Hard to stay neutral." }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let cara_sees = expect(cara.get(&api).await, StatusCode::OK).await;
    assert_eq!(cara_sees.as_array().unwrap().len(), 1);
    assert_eq!(cara_sees[0]["kind"], "journal");
    expect(
        cara.get(&s.project.api("/memos?kind=project")).await,
        StatusCode::CONFLICT,
    )
    .await;
    let page = html(cara.get(&s.project.path("/memos")).await).await;
    assert_eq!(select_texts(&page, ".memo-body"), ["Hard to stay neutral."]);
    assert_eq!(select_texts(&page, "#memos-closed").len(), 1);
    let reviewer = s.project.member(Role::Reviewer).await;
    expect(reviewer.get(&api).await, StatusCode::FORBIDDEN).await;

    // Only the author changes a memo; the lead may delete an analytic memo but
    // not someone's journal.
    let first = s
        .project
        .api(&format!("/memos/{}", made[0]["id"].as_str().unwrap()));
    let edit = json!({ "body": "Infection and cost.", "version": 1 });
    expect(s.ben.patch_json(&first, &edit).await, StatusCode::FORBIDDEN).await;
    expect(
        s.ana
            .patch_json(&first, &json!({ "body": "x", "version": 9 }))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let changed = expect(s.ana.patch_json(&first, &edit).await, StatusCode::OK).await;
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["written_on"], "2026-03-01", "the date is kept");
    let journal = s
        .project
        .api(&format!("/memos/{}", made[3]["id"].as_str().unwrap()));
    expect(
        s.project.owner.delete(&journal).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect(s.project.owner.delete(&first).await, StatusCode::NO_CONTENT).await;
    expect(s.ana.get(&first).await, StatusCode::NOT_FOUND).await;
    assert_eq!(audit_rows(&s, "memo.updated").await, 1);
    assert_eq!(audit_rows(&s, "memo.deleted").await, 1);

    // The page's form writes a memo on the theme.
    let node = theme["id"].as_str().unwrap();
    let response = s
        .ben
        .post_form(
            &s.project.path("/memos"),
            &[
                ("kind", "node"),
                ("target_id", node),
                ("body", "Ben's view"),
                ("back", &format!("?node={node}")),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = html(
        s.ben
            .get(&s.project.path(&format!("/memos?node={node}")))
            .await,
    )
    .await;
    assert_eq!(select_texts(&page, "#target-name"), ["Barriers"]);
    assert_eq!(select_texts(&page, ".memo-body").len(), 2);
}

#[tokio::test]
async fn search_finds_every_transcript_and_shows_only_the_codes_the_searcher_may_see() {
    let app = crate::harness::TestApp::spawn().await;
    let s = study(&app).await;
    let (cara, _) = blind_coder(&s).await;
    expect(
        s.ana
            .post_json(
                &s.project.api("/memos"),
                &json!({ "kind": "journal", "body": "Infection scares me." }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    expect(
        cara.post_json(
            &s.project.api("/memos"),
            &json!({ "kind": "journal", "body": "Infection again and again." }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let search = |q: &str| s.project.api(&format!("/search?q={q}"));
    let codes = |hit: &Value| -> Vec<(String, String)> {
        hit["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["layer"].as_str().unwrap().to_owned(),
                    c["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };

    let lead = expect(s.project.owner.get(&search("INFECT")).await, StatusCode::OK).await;
    assert_eq!(lead["total_hits"], 3);
    assert_eq!(lead["transcripts_matched"], 3);
    let hits = lead["hits"].as_array().unwrap();
    assert_eq!(hits[0]["participant"], "P01");
    assert_eq!(hits[0]["line"], 1);
    assert_eq!(hits[0]["matched"], "Infect");
    assert_eq!(
        (hits[0]["start"].as_u64(), hits[0]["end"].as_u64()),
        (Some(5), Some(11))
    );
    assert_eq!(
        codes(&hits[0]),
        [("consensus".to_owned(), "Infection".to_owned())]
    );
    assert!(hits[0]["link"].as_str().unwrap().ends_with("#L1"));
    assert!(
        codes(&hits[2]).is_empty(),
        "Cara's layer is hers: {:?}",
        codes(&hits[2])
    );
    // The owner reads the journals of the team; a lead's own is none here.
    assert_eq!(lead["memos"].as_array().unwrap().len(), 2);

    let ana = expect(s.ana.get(&search("infection")).await, StatusCode::OK).await;
    assert_eq!(
        codes(&ana["hits"][0]),
        [
            ("consensus".to_owned(), "Infection".to_owned()),
            ("mine".to_owned(), "infection".to_owned())
        ]
    );
    assert!(codes(&ana["hits"][2]).is_empty());
    assert_eq!(
        ana["memos"].as_array().unwrap().len(),
        1,
        "her own journal only"
    );

    let blind = expect(cara.get(&search("infection")).await, StatusCode::OK).await;
    assert_eq!(blind["consensus_codes"], false);
    assert!(
        codes(&blind["hits"][0]).is_empty(),
        "no consensus for the blind"
    );
    assert_eq!(
        codes(&blind["hits"][2]),
        [("mine".to_owned(), "Germs".to_owned())]
    );
    assert_eq!(blind["memos"][0]["matched"], "Infection");
    assert_eq!(blind["memos"].as_array().unwrap().len(), 1);

    // Wildcards are text, short queries are refused, and the page marks each hit.
    let none = expect(s.project.owner.get(&search("%25_")).await, StatusCode::OK).await;
    assert_eq!(none["total_hits"], 0);
    expect(
        s.project.owner.get(&search("a")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let page = html(s.ana.get(&s.project.path("/search?q=chemo")).await).await;
    assert_eq!(select_texts(&page, ".search-hit mark"), ["chemo"]);
    assert_eq!(select_texts(&page, ".search-hit .hit-link"), ["1"]);
    let page = html(s.ana.get(&s.project.path("/search?q=x")).await).await;
    assert_eq!(select_texts(&page, "#search-error").len(), 1);
}

async fn saturation_titles(s: &Study<'_>, query: &str) -> (Vec<String>, Value) {
    let v = expect(
        s.project
            .owner
            .get(&s.project.api(&format!("/saturation{query}")))
            .await,
        StatusCode::OK,
    )
    .await;
    let titles = v["transcripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["participant"].as_str().unwrap_or("").to_owned())
        .collect();
    (titles, v)
}

#[tokio::test]
async fn the_lead_sets_the_interview_order_and_saturation_follows_it() {
    let app = crate::harness::TestApp::spawn().await;
    let s = study(&app).await;
    let api = s.project.api("/interview-order");
    let owner = &s.project.owner;
    let now = expect(owner.get(&api).await, StatusCode::OK).await;
    assert_eq!(
        (now["mode"].as_str(), now["version"].as_i64()),
        (Some("import"), Some(0))
    );
    assert_eq!(saturation_titles(&s, "").await.0, ["P01", "P02"]);

    let (t1, t2) = (&s.transcripts[0], &s.transcripts[1]);
    let set = expect(
        owner
            .send_json(
                reqwest::Method::PUT,
                &api,
                &json!({ "mode": "manual", "transcript_ids": [t2, t1], "version": 0 }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(set["version"], 1);
    let (titles, v) = saturation_titles(&s, "").await;
    assert_eq!(titles, ["P02", "P01"]);
    assert_eq!(v["order_key"], "manual");
    assert_eq!(
        saturation_titles(&s, "?order=import").await.0,
        ["P01", "P02"]
    );

    for (body, status) in [
        (
            json!({ "mode": "import", "version": 0 }),
            StatusCode::CONFLICT,
        ),
        (
            json!({ "mode": "variable", "variable": "Role", "version": 1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({ "mode": "variable", "variable": "Nope", "version": 1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({ "mode": "manual", "transcript_ids": [t1, t1], "version": 1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({ "mode": "manual", "transcript_ids": [Uuid::new_v4()], "version": 1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({ "mode": "sideways", "version": 1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        expect(
            owner.send_json(reqwest::Method::PUT, &api, &body).await,
            status,
        )
        .await;
    }
    expect(
        s.ana
            .send_json(
                reqwest::Method::PUT,
                &api,
                &json!({ "mode": "import", "version": 1 }),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let set = expect(
        owner
            .send_json(
                reqwest::Method::PUT,
                &api,
                &json!({ "mode": "variable", "variable": "experience", "version": 1 }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(set["variable"], "Experience");
    let (_, v) = saturation_titles(&s, "").await;
    assert_eq!(v["order"], "Experience");

    // By hand on the page: "down" on the first moves it below the second.
    let page = html(owner.get(&s.project.path("/saturation/order")).await).await;
    assert_eq!(select_texts(&page, "#order-now"), ["by Experience"]);
    let response = owner
        .post_form(
            &s.project.path("/saturation/order"),
            &[
                ("mode", "variable"),
                ("variable", "Experience"),
                ("version", "2"),
                ("transcript_ids", t1),
                ("transcript_ids", t2),
                ("down", t1),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(saturation_titles(&s, "").await.0, ["P02", "P01"]);
    let page = html(owner.get(&s.project.path("/saturation")).await).await;
    assert!(select_texts(&page, "#quiet-tail")[0].contains("the order set by hand"));
    assert_eq!(audit_rows(&s, "interview_order.set").await, 3);
}

async fn demo_client(app: &crate::harness::TestApp, email: &str) -> crate::harness::TestClient {
    let client = app.client();
    let response = client.sign_in(email, concord::demo::PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "signing in {email}"
    );
    client
}

#[tokio::test]
async fn the_demo_has_a_finished_review_round_a_debriefing_memos_and_table_1_in_its_figures() {
    let app = crate::harness::TestApp::spawn().await;
    let state = concord::state::AppState::new(app.pool.clone(), app.config.clone());
    let demo = concord::demo::create(&state).await.expect("the demo study");
    let lead = demo_client(&app, "lead@demo.concord").await;
    let api = |rest: &str| format!("/api/v1/projects/{}{rest}", demo.project_id);

    // Member checking: closed, comments in every status, replies, two sign-offs.
    let round = expect(
        lead.get(&api(&format!("/review-rounds/{}", demo.review_round)))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(round["round"]["closed_at"].is_string());
    let statuses: Vec<(String, usize)> =
        serde_json::from_value(round["by_status"].clone()).unwrap();
    for (status, n) in &statuses {
        assert!(*n >= 1, "no {status} comment: {statuses:?}");
    }
    for c in round["comments"].as_array().unwrap() {
        if c["status"] != "open" {
            assert!(!c["reply"].as_str().unwrap().is_empty(), "{c}");
        }
    }
    let mut verdicts: Vec<&str> = round["signoffs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["verdict"].as_str().unwrap())
        .collect();
    verdicts.sort_unstable();
    assert_eq!(verdicts, ["confirmed", "reservations"]);
    let expert = demo_client(&app, concord::demo::EXPERT_EMAIL).await;
    expect(
        expert
            .get(&api(&format!("/review-rounds/{}", demo.review_round)))
            .await,
        StatusCode::OK,
    )
    .await;

    // The debriefing, linked to themes and codes, and the memos.
    let debriefings = expect(lead.get(&api("/debriefings")).await, StatusCode::OK).await;
    assert_eq!(debriefings[0]["id"], json!(demo.debriefing));
    let nodes: Vec<&str> = debriefings[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["Complications", "Cost"]);
    assert_eq!(debriefings[0]["codes"].as_array().unwrap().len(), 3);
    let memos = expect(lead.get(&api("/memos")).await, StatusCode::OK).await;
    let mut kinds: Vec<&str> = memos
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["code", "journal", "journal", "node", "project"]);
    let found = expect(lead.get(&api("/search?q=infection")).await, StatusCode::OK).await;
    assert!(found["total_hits"].as_u64().unwrap() > 0);
    assert!(
        found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| !h["codes"].as_array().unwrap().is_empty())
    );

    // Saturation and "n of 18" on Table 1's participants and roles.
    let study: Value = serde_json::from_str(include_str!("../../src/demo/study.json")).unwrap();
    let mut roles: std::collections::BTreeMap<String, usize> = Default::default();
    for p in study["project"]["participants"].as_array().unwrap() {
        *roles.entry(p[1].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let tables = expect(lead.get(&api("/tables?by=Role")).await, StatusCode::OK).await;
    let p = &tables["participants"];
    assert_eq!(p["participants_total"], 18);
    let groups: std::collections::BTreeMap<String, usize> = p["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["value"].as_str().unwrap().to_owned(),
                g["participants"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(groups, roles);
    let saturation = expect(lead.get(&api("/saturation")).await, StatusCode::OK).await;
    let labels: Vec<&str> = saturation["transcripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["participant"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (1..=18).map(|i| format!("P{i:02}")).collect();
    assert_eq!(labels, expected);
    assert!(
        saturation["order_variables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "Experience (years)")
    );
}

#[tokio::test]
async fn in_the_browser_a_lead_records_a_debriefing_writes_a_memo_on_its_theme_and_searches() {
    use crate::harness::browser::Browser;
    let app = crate::harness::TestApp::spawn().await;
    let s = study(&app).await;
    let theme = s.node(json!({ "name": "Barriers" })).await;
    let theme_id = theme["id"].as_str().unwrap();
    let browser = Browser::open(&app).await;
    browser
        .sign_in(&s.project.owner.email, crate::harness::PASSWORD)
        .await;

    // A debriefing, dated today by default, that changed the theme.
    browser.visit(&s.project.path("/debriefings")).await;
    browser
        .element(&format!(
            "#debriefing-form select[name=nodes] option[value=\"{theme_id}\"]"
        ))
        .await
        .click()
        .await
        .expect("choosing the theme");
    browser
        .submit(
            "#debriefing-form",
            &[
                ("title", "First debriefing"),
                ("notes", "We questioned the barriers."),
            ],
        )
        .await;
    browser.element("#held-on").await;
    assert_eq!(
        browser.texts("#notes").await,
        ["We questioned the barriers."]
    );
    assert_eq!(browser.texts("#linked-nodes a").await, ["Barriers"]);

    // The theme's memos page says it was discussed; a memo is written there.
    browser
        .element("#linked-nodes a")
        .await
        .click()
        .await
        .expect("opening the theme's memos");
    browser.element("#discussed .debriefing-link").await;
    assert!(browser.texts("#discussed").await[0].starts_with("Discussed in the debriefing of"));
    browser
        .submit(
            "#memo-form",
            &[("body", "Barriers look like money and distance.")],
        )
        .await;
    browser
        .wait_until(
            "the memo",
            "//li[contains(@class, 'memo')]//p[contains(@class, 'memo-body') and normalize-space() = 'Barriers look like money and distance.']",
        )
        .await;
    let memos = expect(
        s.project
            .owner
            .get(&s.project.api(&format!("/memos?node={theme_id}")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(memos[0]["body"], "Barriers look like money and distance.");

    // A memo Ana writes on the theme appears on the open page, and what the
    // owner is typing in the form meanwhile stays as it was.
    let draft = browser.element("#memo-form textarea[name=body]").await;
    draft
        .send_keys("Half a thought")
        .await
        .expect("typing a draft");
    expect(
        s.ana
            .post_json(
                &s.project.api("/memos"),
                &json!({ "kind": "node", "target_id": theme_id, "body": "Distance is the barrier nobody names." }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    browser
        .wait_until(
            "Ana's memo, live",
            "//li[contains(@class, 'memo')]//p[contains(@class, 'memo-body') and normalize-space() = 'Distance is the barrier nobody names.']",
        )
        .await;
    assert_eq!(
        draft.prop("value").await.expect("the draft").as_deref(),
        Some("Half a thought")
    );
    assert_eq!(browser.texts(".memo-body").await.len(), 2);

    // Search from the tab, then open a hit's line.
    browser
        .find(fantoccini::Locator::LinkText("Search"))
        .await
        .expect("the search tab")
        .click()
        .await
        .expect("opening search");
    browser.submit("#search-form", &[("q", "infection")]).await;
    browser.element(".search-hit mark").await;
    assert_eq!(browser.texts(".search-hit mark").await.len(), 2);
    assert_eq!(
        browser.texts(".search-hit .hit-codes .chip").await,
        ["Infection", "Infection"]
    );
    browser
        .element(".search-hit .hit-link")
        .await
        .click()
        .await
        .expect("opening the hit");
    browser.element("#transcript").await;
    let url = browser.current_url().await.expect("url");
    assert_eq!(url.fragment(), Some("L1"));
    assert_eq!(
        url.path(),
        s.project
            .path(&format!("/transcripts/{}", s.transcripts[0]))
    );
}

#[tokio::test]
async fn memo_and_debriefing_events_reach_only_those_who_may_read_them() {
    use crate::live::Reader;
    let app = crate::harness::TestApp::spawn().await;
    let s = study(&app).await;
    let owner = &s.project.owner;
    let (cara, _) = blind_coder(&s).await;
    let reviewer = s.project.member(Role::Reviewer).await;
    let events = s.project.api("/events");
    let mut streams = Vec::new();
    for who in [owner, &s.ben, &cara, &reviewer] {
        streams.push(Reader::open(who, &events, None).await);
    }
    let api = s.project.api("/memos");
    let mut ids = Vec::new();
    for (who, body) in [
        (
            &s.ana,
            json!({ "kind": "journal", "body": "Ana's journal." }),
        ),
        (
            &cara,
            json!({ "kind": "journal", "body": "Cara's journal." }),
        ),
        (
            &s.ana,
            json!({ "kind": "project", "body": "On the project." }),
        ),
    ] {
        let made = expect(who.post_json(&api, &body).await, StatusCode::CREATED).await;
        ids.push(made["id"].as_str().unwrap().to_owned());
    }
    let debriefing = expect(
        owner
            .post_json(
                &s.project.api("/debriefings"),
                &json!({ "held_on": "2026-03-12", "notes": "We met.", "attendees": [s.ana.id] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    ids.push(debriefing["id"].as_str().unwrap().to_owned());
    // Everyone hears of a rename: it closes each stream's window.
    let project = expect(owner.get(&s.project.api("")).await, StatusCode::OK).await;
    expect(
        owner
            .patch_json(
                &s.project.api(""),
                &json!({ "name": "Renamed", "version": project["version"] }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // Ana's journal: the owner (a lead not coding); Cara's: Cara and the
    // owner; the project memo and the debriefing: the team not coding.
    let expected: [(&str, [bool; 4]); 4] = [
        ("owner", [true, true, true, true]),
        ("ben", [false, false, true, true]),
        ("cara, still coding", [false, true, false, false]),
        ("reviewer", [false, false, false, false]),
    ];
    for ((who, sees), stream) in expected.iter().zip(streams.iter_mut()) {
        let seen = stream.until_count("project.updated", 1).await;
        for (id, may) in ids.iter().zip(sees) {
            let got = seen
                .iter()
                .any(|e| e.data["entity_id"] == id.as_str() && e.data["kind"] != "project.updated");
            assert_eq!(got, *may, "{who}: event of {id}");
        }
        for e in &seen {
            let kind = e.data["kind"].as_str().unwrap();
            if e.data["entity_id"] == ids[3].as_str() {
                assert_eq!(kind, "debriefing.changed");
            } else if ids[..3].iter().any(|id| e.data["entity_id"] == id.as_str()) {
                assert_eq!(kind, "memo.changed");
            }
        }
    }
}

#[tokio::test]
async fn an_open_memo_list_shows_a_memo_another_member_writes_without_a_reload() {
    let app = crate::harness::TestApp::spawn().await;
    let s = study(&app).await;
    let browser = crate::harness::browser::Browser::open(&app).await;
    browser
        .sign_in(&s.ben.email, crate::harness::PASSWORD)
        .await;
    browser.visit(&s.project.path("/memos")).await;
    browser.element("#memo-list").await;
    browser.mark_page().await;
    let memo = json!({ "kind": "project", "title": "Written elsewhere", "body": "Money keeps coming up." });
    expect(
        s.ana.post_json(&s.project.api("/memos"), &memo).await,
        StatusCode::CREATED,
    )
    .await;
    browser
        .wait_until(
            "Ana's memo in Ben's open list",
            "//ol[@id='memos']/li//strong[normalize-space()='Written elsewhere']",
        )
        .await;
    browser.assert_not_reloaded().await;
}
