//! The theme hierarchy: nodes and placements with versions, counts over the
//! consensus layers, quotes for constant comparison, traceability, blinding.

use std::collections::HashMap;

use concord::projects::model::Role;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, TestProject, TestUser, html, select_texts};

async fn expect(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

const P01: &str = "P01: Infection is the big risk for us.\nP01: The pump costs a lot.\nP01: Training is missing on the ward.";
const P02: &str = "P02: Infection worries me as well.\nP02: Cost is the main barrier.\nP02: Guidelines would help a lot.";

fn span(text: &str, phrase: &str) -> (usize, usize) {
    let byte = text.find(phrase).expect(phrase);
    let start = text[..byte].chars().count();
    (start, start + phrase.chars().count())
}

pub struct Study<'a> {
    pub project: TestProject<'a>,
    pub ana: TestUser,
    pub ben: TestUser,
    pub transcripts: Vec<String>,
    /// Agreed codes by name.
    pub agreed: HashMap<&'static str, String>,
    /// Ana's coding ids by phrase.
    pub ana_codings: HashMap<&'static str, String>,
}

/// Two transcripts of two participants (P01 a nurse of 10 years, P02 an
/// oncologist of 25), both coded alike by Ana and Ben, submitted, aligned onto
/// five agreed codes (one unused) and reconciled by the automatic acceptance
/// of agreements.
pub async fn study(app: &TestApp) -> Study<'_> {
    let project = app.project().await;
    for (name, kind) in [("Role", "text"), ("Experience", "number")] {
        expect(
            project
                .owner
                .post_json(
                    &project.api("/variables"),
                    &json!({ "name": name, "kind": kind }),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let mut transcripts = Vec::new();
    for (label, role, years, text) in [
        ("P01", "Nurse", "10", P01),
        ("P02", "Oncologist", "25", P02),
    ] {
        let participant = expect(
            project
                .owner
                .post_json(
                    &project.api("/participants"),
                    &json!({ "label": label, "values": { "Role": role, "Experience": years } }),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        let id = project.import_text(&format!("{label}.txt"), text).await;
        let current = expect(
            project
                .owner
                .get(&project.api(&format!("/transcripts/{id}")))
                .await,
            StatusCode::OK,
        )
        .await;
        expect(
            project
                .owner
                .patch_json(
                    &project.api(&format!("/transcripts/{id}")),
                    &json!({ "participant_id": participant["id"], "version": current["version"] }),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        transcripts.push(id);
    }
    let ana = project.member(Role::Coder).await;
    let ben = project.member(Role::Coder).await;
    expect(
        project
            .owner
            .post_json(
                &project.api("/assignments"),
                &json!({ "transcript_ids": transcripts, "user_ids": [ana.id, ben.id] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let plan: [(usize, &str, &str, &str); 4] = [
        (0, P01, "Infection is the big risk", "infection"),
        (1, P02, "Infection worries me", "infection"),
        (0, P01, "The pump costs a lot", "cost"),
        (1, P02, "Cost is the main barrier", "cost"),
    ];
    let extra: [(usize, &str, &str, &str); 2] = [
        (0, P01, "Training is missing", "training"),
        (1, P02, "Guidelines would help", "guidelines"),
    ];
    let mut codes: HashMap<(u8, &str), String> = HashMap::new();
    let mut ana_codings = HashMap::new();
    for (who, user) in [(0u8, &ana), (1u8, &ben)] {
        for (t, text, phrase, code) in plan.iter().chain(extra.iter()) {
            let code_id = match codes.get(&(who, *code)) {
                Some(id) => id.clone(),
                None => {
                    let id = Uuid::new_v4().to_string();
                    expect(
                        user.post_json(&project.api("/codes"), &json!({ "id": id, "name": code }))
                            .await,
                        StatusCode::CREATED,
                    )
                    .await;
                    codes.insert((who, code), id.clone());
                    id
                }
            };
            let (start, end) = span(text, phrase);
            let coding = Uuid::new_v4().to_string();
            expect(
                user.post_json(
                    &project.api(&format!("/transcripts/{}/codings", transcripts[*t])),
                    &json!({ "id": coding, "code_id": code_id, "start": start, "end": end }),
                )
                .await,
                StatusCode::CREATED,
            )
            .await;
            if who == 0 {
                ana_codings.insert(*phrase, coding);
            }
        }
        for t in &transcripts {
            expect(
                user.post_json(
                    &project.api(&format!("/transcripts/{t}/submit")),
                    &json!({}),
                )
                .await,
                StatusCode::OK,
            )
            .await;
        }
    }
    let mut agreed = HashMap::new();
    for (name, code) in [
        ("Infection", Some("infection")),
        ("Cost", Some("cost")),
        ("Training", Some("training")),
        ("Guidelines", Some("guidelines")),
        ("Unused", None),
    ] {
        let ids: Vec<String> = code
            .map(|c| vec![codes[&(0, c)].clone(), codes[&(1, c)].clone()])
            .unwrap_or_default();
        let response = if ids.is_empty() {
            let body = json!({ "id": Uuid::new_v4(), "name": name });
            project
                .owner
                .post_json(&project.api("/consensus/codes"), &body)
                .await
        } else {
            let body = json!({ "name": name, "code_ids": ids });
            project
                .owner
                .post_json(&project.api("/agreed-codes"), &body)
                .await
        };
        let body = expect(response, StatusCode::CREATED).await;
        agreed.insert(name, body["id"].as_str().unwrap().to_owned());
    }
    // The lead's visit accepts the agreements into the consensus layer.
    for t in &transcripts {
        expect(
            project
                .owner
                .get(&project.api(&format!("/transcripts/{t}/reconciliation")))
                .await,
            StatusCode::OK,
        )
        .await;
    }
    Study {
        project,
        ana,
        ben,
        transcripts,
        agreed,
        ana_codings,
    }
}

impl Study<'_> {
    pub async fn hierarchy(&self, user: &TestUser) -> Value {
        expect(user.get(&self.project.api("/themes")).await, StatusCode::OK).await
    }

    pub async fn node(&self, body: Value) -> Value {
        expect(
            self.project
                .owner
                .post_json(&self.project.api("/themes/nodes"), &body)
                .await,
            StatusCode::CREATED,
        )
        .await
    }

    /// The codes as `{id, version}` refs, with their current placement versions.
    pub async fn refs(&self, names: &[&str]) -> Vec<Value> {
        let h = self.hierarchy(&self.project.owner).await;
        names
            .iter()
            .map(|n| {
                let id = &self.agreed[n];
                let code = h["codes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["id"] == id.as_str())
                    .unwrap();
                json!({ "id": id, "version": code["placement_version"] })
            })
            .collect()
    }

    pub async fn place(&self, names: &[&str], node: &Value) -> Response {
        let refs = self.refs(names).await;
        self.project
            .owner
            .post_json(
                &self.project.api("/themes/placements"),
                &json!({ "codes": refs, "node_id": node }),
            )
            .await
    }
}

fn node_of<'v>(h: &'v Value, name: &str) -> &'v Value {
    h["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no node {name} in {h}"))
}

#[tokio::test]
async fn counts_are_unions_over_each_subtree_and_unplaced_codes_are_listed_apart() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let theme = s.node(json!({ "name": "Barriers & benefits" })).await;
    let refs = s.refs(&["Infection"]).await;
    let complications = s
        .node(json!({ "name": "Complications", "parent_id": theme["id"], "codes": refs }))
        .await;
    let cost = s
        .node(json!({ "name": "Cost", "parent_id": theme["id"] }))
        .await;
    expect(s.place(&["Cost"], &cost["id"]).await, StatusCode::OK).await;

    let h = s.hierarchy(&s.project.owner).await;
    assert_eq!(h["participants_total"], 2);
    assert_eq!(
        node_of(&h, "Complications")["counts"],
        json!({ "codes": 1, "codings": 2, "transcripts": 2, "participants": 2 })
    );
    assert_eq!(
        node_of(&h, "Barriers & benefits")["counts"],
        json!({ "codes": 2, "codings": 4, "transcripts": 2, "participants": 2 }),
        "both participants once, four codings"
    );
    assert_eq!(node_of(&h, "Barriers & benefits")["depth"], 0);
    assert_eq!(node_of(&h, "Cost")["depth"], 1);
    assert_eq!(h["unplaced"], 3, "Training, Guidelines and Unused");
    let names: Vec<&str> = h["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Barriers & benefits", "Complications", "Cost"]);
    assert_eq!(complications["parent_id"], theme["id"]);

    // Each change is on the record and announced as theme.changed.
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action like 'theme%' and project_id = $1",
    )
    .bind(s.project.id.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 5, "three nodes and two placements");
    let events: i64 = sqlx::query_scalar(
        "select count(*) from project_events where kind = 'theme.changed' and project_id = $1",
    )
    .bind(s.project.id.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(events, 5);
}

#[tokio::test]
async fn a_cycle_and_stale_versions_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let theme = s.node(json!({ "name": "Education" })).await;
    let sub = s
        .node(json!({ "name": "Awareness", "parent_id": theme["id"] }))
        .await;
    let deeper = s
        .node(json!({ "name": "Guidelines", "parent_id": sub["id"] }))
        .await;
    let owner = &s.project.owner;
    let move_path = |id: &Value| {
        s.project
            .api(&format!("/themes/nodes/{}/move", id.as_str().unwrap()))
    };

    // Under its own descendant: 422, nothing moved.
    let before = s.hierarchy(owner).await;
    let refused = expect(
        owner
            .post_json(
                &move_path(&theme["id"]),
                &json!({ "version": theme["version"], "parent_id": deeper["id"] }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused["errors"]["parent_id"].is_array(), "{refused}");
    // Under itself.
    expect(
        owner
            .post_json(
                &move_path(&theme["id"]),
                &json!({ "version": theme["version"], "parent_id": theme["id"] }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(s.hierarchy(owner).await["nodes"], before["nodes"]);

    // A move with the version seen before a rename: 409 with the current node.
    let renamed = expect(
        owner
            .patch_json(
                &s.project
                    .api(&format!("/themes/nodes/{}", sub["id"].as_str().unwrap())),
                &json!({ "version": sub["version"], "name": "Awareness of IDDS" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let stale = expect(
        owner
            .post_json(
                &move_path(&sub["id"]),
                &json!({ "version": sub["version"], "parent_id": null }),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(stale["current"]["name"], "Awareness of IDDS", "{stale}");
    // With the current version it moves to the top level, first.
    let moved = expect(
        owner
            .post_json(
                &move_path(&sub["id"]),
                &json!({ "version": renamed["version"], "parent_id": null, "position": 0 }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["parent_id"], Value::Null);
    let h = s.hierarchy(owner).await;
    let top: Vec<&str> = h["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["parent_id"].is_null())
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(top, ["Awareness of IDDS", "Education"]);

    // Two leads place the same unplaced code at once: one wins, the other is
    // told with a 409, and the code is where the winner put it.
    let refs = s.refs(&["Training"]).await;
    let path = s.project.api("/themes/placements");
    let body_a = json!({ "codes": refs, "node_id": theme["id"] });
    let body_b = json!({ "codes": refs, "node_id": deeper["id"] });
    let a = owner.post_json(&path, &body_a);
    let b = owner.post_json(&path, &body_b);
    let (a, b) = tokio::join!(a, b);
    let statuses = [a.status(), b.status()];
    assert!(
        statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let winner = if a.status() == StatusCode::OK {
        &theme
    } else {
        &deeper
    };
    let h = s.hierarchy(owner).await;
    let training = h["codes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Training")
        .unwrap();
    assert_eq!(training["node_id"], winner["id"]);
    assert_eq!(training["placement_version"], 1);

    // Bad input: unknown node, blank name, bad colour, codes of nowhere.
    let audit = app.audit_count(Some(s.project.id)).await;
    for (path, body, status) in [
        (
            s.project
                .api(&format!("/themes/nodes/{}/move", Uuid::new_v4())),
            json!({ "version": 1, "parent_id": null }),
            StatusCode::NOT_FOUND,
        ),
        (
            s.project.api("/themes/nodes"),
            json!({ "name": "  " }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            s.project.api("/themes/nodes"),
            json!({ "name": "X", "color": "red" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            s.project.api("/themes/nodes"),
            json!({ "name": "X", "parent_id": Uuid::new_v4() }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            s.project.api("/themes/placements"),
            json!({ "codes": [{ "id": Uuid::new_v4(), "version": 0 }], "node_id": theme["id"] }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            s.project.api("/themes/placements"),
            json!({ "codes": [], "node_id": theme["id"] }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        expect(owner.post_json(&path, &body).await, status).await;
    }
    expect(
        owner
            .get(&s.project.api("/themes/nodes/not-an-id/move"))
            .await,
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    assert_eq!(app.audit_count(Some(s.project.id)).await, audit);
}

#[tokio::test]
async fn delete_restore_merge_and_split_keep_every_code_accounted_for() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let owner = &s.project.owner;
    let theme = s.node(json!({ "name": "Barriers" })).await;
    let refs = s.refs(&["Infection", "Cost"]).await;
    let sub = s
        .node(json!({ "name": "Risks", "parent_id": theme["id"], "codes": refs }))
        .await;
    let refs = s.refs(&["Training"]).await;
    let other = s.node(json!({ "name": "Education", "codes": refs })).await;

    // Delete the theme: its subcategory moves up, its codes (none) unplaced.
    let h = s.hierarchy(owner).await;
    let version = node_of(&h, "Barriers")["version"].clone();
    expect(
        owner
            .delete(&s.project.api(&format!(
                "/themes/nodes/{}?version={version}",
                theme["id"].as_str().unwrap()
            )))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let h = s.hierarchy(owner).await;
    assert_eq!(node_of(&h, "Risks")["parent_id"], Value::Null);
    assert_eq!(h["deleted_nodes"][0]["name"], "Barriers");
    // Restore: Risks goes back under it.
    expect(
        owner
            .post_json(
                &s.project.api(&format!(
                    "/themes/nodes/{}/restore",
                    theme["id"].as_str().unwrap()
                )),
                &json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let h = s.hierarchy(owner).await;
    assert_eq!(node_of(&h, "Risks")["parent_id"], theme["id"]);
    assert_eq!(h["deleted_nodes"], json!([]));

    // Split Cost off Risks into a new sibling.
    let risks = node_of(&h, "Risks").clone();
    let split = expect(
        owner
            .post_json(
                &s.project.api(&format!("/themes/nodes/{}/split", sub["id"].as_str().unwrap())),
                &json!({ "version": risks["version"], "name": "Money", "codes": [s.agreed["Cost"]] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let h = s.hierarchy(owner).await;
    assert_eq!(node_of(&h, "Money")["parent_id"], theme["id"]);
    assert_eq!(node_of(&h, "Money")["own_codes"], 1);
    assert_eq!(node_of(&h, "Risks")["own_codes"], 1);

    // Merge Education into Money: its code follows, it is gone.
    let education = node_of(&h, "Education").clone();
    expect(
        owner
            .post_json(
                &s.project.api(&format!(
                    "/themes/nodes/{}/merge",
                    other["id"].as_str().unwrap()
                )),
                &json!({ "version": education["version"], "into": split["id"] }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let h = s.hierarchy(owner).await;
    assert_eq!(node_of(&h, "Money")["own_codes"], 2);
    assert!(
        h["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["name"] != "Education")
    );
    assert_eq!(h["unplaced"], 2, "Guidelines and Unused");

    // Deleting a node with codes unplaces them; restoring puts them back.
    let money = node_of(&h, "Money").clone();
    expect(
        owner
            .delete(&s.project.api(&format!(
                "/themes/nodes/{}?version={}",
                money["id"].as_str().unwrap(),
                money["version"]
            )))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(s.hierarchy(owner).await["unplaced"], 4);
    expect(
        owner
            .post_json(
                &s.project.api(&format!(
                    "/themes/nodes/{}/restore",
                    money["id"].as_str().unwrap()
                )),
                &json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let h = s.hierarchy(owner).await;
    assert_eq!(h["unplaced"], 2);
    assert_eq!(node_of(&h, "Money")["own_codes"], 2);

    // Agreed codes merged or split in the consensus codebook keep their
    // consensus codings under the theme: Training (under Money) merged into
    // the unplaced Unused puts Unused where Training was; a code split off
    // Infection sits beside it under Risks.
    expect(
        owner
            .post_json(
                &s.project
                    .api(&format!("/consensus/codes/{}/merge", s.agreed["Training"])),
                &json!({ "into": s.agreed["Unused"] }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let h = s.hierarchy(owner).await;
    let code = |name: &str| {
        h["codes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(code("Unused")["node_id"], money["id"]);
    assert_eq!(code("Unused")["counts"]["codings"], 1);
    assert_eq!(code("Training"), Value::Null, "merged away");
    assert_eq!(node_of(&h, "Money")["own_codes"], 2);
    assert_eq!(h["unplaced"], 1, "Guidelines");
    let quotes = expect(
        owner
            .get(
                &s.project
                    .api(&format!("/themes/quotes?code={}", s.agreed["Infection"])),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let first = quotes["quotes"][0]["coding_id"].clone();
    let split = expect(
        owner
            .post_json(
                &s.project
                    .api(&format!("/consensus/codes/{}/split", s.agreed["Infection"])),
                &json!({ "name": "Infection risk", "codings": [first] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let h = s.hierarchy(owner).await;
    let new = h["codes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Infection risk")
        .expect("the new code")
        .clone();
    assert_eq!(new["node_id"], sub["id"], "{split}");
    assert_eq!(node_of(&h, "Risks")["counts"]["codings"], 2);
}

#[tokio::test]
async fn quotes_filter_by_attribute_and_trace_down_to_each_coders_span_and_back() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let owner = &s.project.owner;
    let theme = s.node(json!({ "name": "Barriers & benefits" })).await;
    let refs = s.refs(&["Infection", "Cost"]).await;
    let sub = s
        .node(json!({ "name": "Complications", "parent_id": theme["id"], "codes": refs }))
        .await;
    let theme_id = theme["id"].as_str().unwrap();
    let quotes = |q: &str| {
        let path = s.project.api(&format!("/themes/quotes?{q}"));
        async move { expect(owner.get(&path).await, StatusCode::OK).await }
    };
    let all = quotes(&format!("node={theme_id}")).await;
    assert_eq!(all["total"], 4);
    let texts: Vec<&str> = all["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Infection is the big risk",
            "The pump costs a lot",
            "Infection worries me",
            "Cost is the main barrier"
        ]
    );
    let first = &all["quotes"][0];
    assert_eq!(first["participant"], "P01");
    assert_eq!(first["attributes"]["Role"], "Nurse");
    assert_eq!(first["line"], 1);
    assert_eq!(first["speaker"], "P01");
    assert_eq!(all["quotes"][1]["line"], 2);

    let nurses = quotes(&format!("node={theme_id}&where=Role%3DNurse")).await;
    assert_eq!(nurses["quotes"].as_array().unwrap().len(), 2);
    let senior = quotes(&format!("node={theme_id}&where=Experience%3E%3D20")).await;
    let who: Vec<&str> = senior["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["participant"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["P02", "P02"]);
    let second = quotes(&format!("node={theme_id}&transcript={}", s.transcripts[1])).await;
    assert_eq!(second["quotes"].as_array().unwrap().len(), 2);
    assert_eq!(second["quotes"][0]["participant"], "P02");
    let searched = quotes(&format!("node={theme_id}&q=pump")).await;
    assert_eq!(searched["quotes"].as_array().unwrap().len(), 1);
    let by_code = quotes(&format!("code={}", s.agreed["Infection"])).await;
    assert_eq!(by_code["total"], 2);
    let sorted = quotes(&format!("node={theme_id}&sort=Experience")).await;
    assert_eq!(sorted["quotes"][3]["participant"], "P02");
    expect(
        owner
            .get(
                &s.project
                    .api(&format!("/themes/quotes?node={theme_id}&where=Role")),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect(
        owner
            .get(&s.project.api("/themes/quotes?node=nonsense"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // The example quote of a node is one of its codings.
    let coding = first["coding_id"].clone();
    let h = s.hierarchy(owner).await;
    let version = node_of(&h, "Complications")["version"].clone();
    expect(
        owner
            .patch_json(
                &s.project
                    .api(&format!("/themes/nodes/{}", sub["id"].as_str().unwrap())),
                &json!({ "version": version, "example_coding_id": coding }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let h = s.hierarchy(owner).await;
    assert_eq!(
        node_of(&h, "Complications")["example"]["text"],
        "Infection is the big risk"
    );

    // Down: theme, code, decision, both coders' spans.
    let trace = expect(
        owner
            .get(&s.project.api(&format!(
                "/themes/trace/consensus/{}",
                coding.as_str().unwrap()
            )))
            .await,
        StatusCode::OK,
    )
    .await;
    let path: Vec<&str> = trace["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(path, ["Barriers & benefits", "Complications"]);
    assert_eq!(trace["agreed_code_name"], "Infection");
    assert_eq!(trace["decisions"][0]["in_force"], true);
    assert_eq!(trace["decisions"][0]["auto"], true);
    let originals = trace["originals"].as_array().unwrap();
    assert_eq!(originals.len(), 2, "{trace}");
    assert!(
        originals
            .iter()
            .all(|o| o["code_name"] == "infection" && o["text"] == "Infection is the big risk")
    );
    // Up: from Ana's coding to the agreed code, its theme and the consensus coding.
    let ana = &s.ana_codings["Infection is the big risk"];
    let up = expect(
        owner
            .get(&s.project.api(&format!("/themes/trace/codings/{ana}")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(up["agreed_code_name"], "Infection");
    assert_eq!(up["path"][1]["name"], "Complications");
    assert_eq!(up["consensus"][0]["coding_id"], coding);

    // The pages: quotes side by side, and the trace.
    let page = html(
        owner
            .get(&s.project.path(&format!(
                "/themes/quotes?node={theme_id}&where=Role%3DNurse&vs_where=Role%3DOncologist"
            )))
            .await,
    )
    .await;
    assert_eq!(select_texts(&page, ".quote-column h3").len(), 2);
    assert_eq!(
        select_texts(&page, ".quote-column[data-column='1'] .quote .participant"),
        ["P02", "P02"]
    );
    let page = html(
        owner
            .get(
                &s.project
                    .path(&format!("/themes/trace/{}", coding.as_str().unwrap())),
            )
            .await,
    )
    .await;
    assert_eq!(select_texts(&page, ".original").len(), 2);
    // And up again from Ana's coding, one click away.
    let page = html(
        owner
            .get(&s.project.path(&format!("/themes/trace/codings/{ana}")))
            .await,
    )
    .await;
    assert_eq!(select_texts(&page, "#trace-up .agreed-code"), ["Infection"]);
    assert_eq!(
        select_texts(&page, "#trace-up .trace-path a"),
        ["Barriers & benefits", "Complications"]
    );
    assert_eq!(select_texts(&page, "#trace-up .consensus-link").len(), 1);
}

#[tokio::test]
async fn a_member_still_coding_sees_no_hierarchy_and_reviewers_only_read() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    s.node(json!({ "name": "Education" })).await;
    let cleo = s.project.member(Role::Coder).await;
    let more = s
        .project
        .import_text("P03.txt", "P03: A third interview.")
        .await;
    expect(
        s.project
            .owner
            .post_json(
                &s.project.api("/assignments"),
                &json!({ "transcript_ids": [more], "user_ids": [cleo.id] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let refused = expect(
        cleo.get(&s.project.api("/themes")).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(!refused.to_string().contains("Education"));
    expect(
        cleo.get(
            &s.project
                .api(&format!("/themes/quotes?code={}", s.agreed["Infection"])),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let page = cleo.get(&s.project.path("/themes")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = html(page).await;
    assert_eq!(
        select_texts(&page, "#themes-closed").len(),
        1,
        "it says why"
    );
    assert!(select_texts(&page, "#themes").is_empty());

    // Ana submitted everything: she reads but does not edit.
    s.hierarchy(&s.ana).await;
    expect(
        s.ana
            .post_json(&s.project.api("/themes/nodes"), &json!({ "name": "Mine" }))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let reviewer = s.project.member(Role::Reviewer).await;
    let h = s.hierarchy(&reviewer).await;
    assert_eq!(h["nodes"][0]["name"], "Education");
    expect(
        reviewer
            .post_json(&s.project.api("/themes/nodes"), &json!({ "name": "Mine" }))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // So does Ben, who has submitted everything too.
    s.hierarchy(&s.ben).await;
}

#[tokio::test]
async fn a_second_lead_hears_of_each_change_live_and_a_blind_coder_does_not() {
    use crate::live::Reader as Stream;
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let lead = s.project.member(Role::Lead).await;
    let cleo = s.project.member(Role::Coder).await;
    let more = s
        .project
        .import_text("P03.txt", "P03: A third interview.")
        .await;
    expect(
        s.project
            .owner
            .post_json(
                &s.project.api("/assignments"),
                &json!({ "transcript_ids": [more], "user_ids": [cleo.id] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let events = s.project.api("/events");
    let mut second = Stream::open(&lead.client, &events, None).await;
    let mut blind = Stream::open(&cleo.client, &events, None).await;
    let theme = s.node(json!({ "name": "Education" })).await;
    expect(s.place(&["Training"], &theme["id"]).await, StatusCode::OK).await;
    let heard = second.until_count("theme.changed", 2).await;
    let entities: Vec<&Value> = heard
        .iter()
        .filter(|e| e.data["kind"] == "theme.changed")
        .map(|e| &e.data)
        .collect();
    assert_eq!(entities.len(), 2);
    // Something Cleo may see comes after: nothing of the themes came before it.
    let project = expect(
        s.project.owner.get(&s.project.api("")).await,
        StatusCode::OK,
    )
    .await;
    expect(
        s.project
            .owner
            .patch_json(
                &s.project.api(""),
                &json!({ "description": "Phase 2 under way", "version": project["version"] }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let seen = blind.until_count("project.updated", 1).await;
    assert!(
        seen.iter().all(|e| e.data["kind"] != "theme.changed"),
        "{:?}",
        seen.iter().map(|e| &e.data).collect::<Vec<_>>()
    );
}

/// Drags the element matching `from` onto the one matching `to`, with the
/// events a browser sends for a mouse drag (dragstart, dragover, drop).
const DRAG: &str = r#"
const [from, to, upper] = arguments;
const source = document.querySelector(from);
const target = document.querySelector(to);
const box = target.getBoundingClientRect();
const at = { clientX: box.left + 5, clientY: upper ? box.top + 1 : box.top + box.height * 0.75 };
const data = new DataTransfer();
source.dispatchEvent(new DragEvent("dragstart", { bubbles: true, dataTransfer: data }));
target.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: data, ...at }));
target.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: data, ...at }));
source.dispatchEvent(new DragEvent("dragend", { bubbles: true, dataTransfer: data }));
"#;

#[tokio::test]
async fn in_the_browser_a_lead_drags_a_code_moves_a_subcategory_by_keys_and_follows_a_quote_down() {
    use crate::harness::PASSWORD;
    use crate::harness::browser::Browser;
    use fantoccini::Locator;
    use fantoccini::key::Key;

    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let theme = s.node(json!({ "name": "Barriers & benefits" })).await;
    let other = s.node(json!({ "name": "Education" })).await;
    let sub = s
        .node(json!({ "name": "Complications", "parent_id": theme["id"] }))
        .await;
    let (theme_id, sub_id) = (theme["id"].as_str().unwrap(), sub["id"].as_str().unwrap());
    let infection = &s.agreed["Infection"];

    let browser = Browser::open(&app).await;
    browser.sign_in(&s.project.owner.email, PASSWORD).await;
    browser.visit(&s.project.path("/themes")).await;
    browser
        .wait_until(
            "the unplaced codes",
            "//*[@id='unplaced-heading' and normalize-space() = 'Unplaced: 5 of 5']",
        )
        .await;

    // Drag Infection from the unplaced list onto Complications.
    browser
        .execute(
            DRAG,
            vec![
                json!(format!("li.theme-code[data-code='{infection}']")),
                json!(format!(".node-head[data-node='{sub_id}']")),
                json!(false),
            ],
        )
        .await
        .expect("dragging");
    browser
        .wait_until(
            "Infection under Complications",
            &format!("//ul[@data-node='{sub_id}']/li[@data-code='{infection}']"),
        )
        .await;
    browser
        .wait_until(
            "the counts rolled up",
            &format!(
                "//*[@data-node='{theme_id}' and contains(@class, 'node-head')]//a[starts-with(normalize-space(), 'n = 2 of 2 participants')]"
            ),
        )
        .await;
    let h = s.hierarchy(&s.project.owner).await;
    let placed = h["codes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == infection.as_str())
        .unwrap();
    assert_eq!(placed["node_id"], sub["id"]);

    // Move Complications under Education by keys: Alt+Left outdents it to the
    // top level (after its old theme), Alt+Down moves it below Education,
    // Alt+Right indents it under the theme above, Education.
    let other_id = other["id"].as_str().unwrap();
    for (key, what, place) in [
        (
            Key::Left,
            "Complications at the top level",
            format!("//ul[@id='theme-tree']/li[@data-node='{sub_id}']"),
        ),
        (
            Key::Down,
            "Complications after Education",
            format!("//ul[@id='theme-tree']/li[last()][@data-node='{sub_id}']"),
        ),
        (
            Key::Right,
            "Complications under Education",
            format!(
                "//li[@data-node='{other_id}']/ul[contains(@class, 'theme-children')]/li[@data-node='{sub_id}']"
            ),
        ),
    ] {
        // The tree is drawn anew after each move (and again when the move's
        // live event comes back): find the theme again, and once more if it
        // was redrawn between finding it and pressing the keys.
        let keys = format!(
            "{}{}{}",
            char::from(Key::Alt),
            char::from(key),
            char::from(Key::Null)
        );
        let mut tries = 0;
        loop {
            let head = browser
                .element(&format!(".node-head[data-node='{sub_id}']"))
                .await;
            match head.send_keys(&keys).await {
                Ok(()) => break,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference
                        && tries < 5 =>
                {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("Alt and an arrow: {e:?}"),
            }
        }
        browser.wait_until(what, &place).await;
    }
    let h = s.hierarchy(&s.project.owner).await;
    assert_eq!(node_of(&h, "Complications")["parent_id"], other["id"]);

    // Dragged onto the upper part of a theme, a theme goes before it.
    browser
        .execute(
            DRAG,
            vec![
                json!(format!(".node-head[data-node='{other_id}']")),
                json!(format!(".node-head[data-node='{theme_id}']")),
                json!(true),
            ],
        )
        .await
        .expect("dragging Education");
    browser
        .wait_until(
            "Education first",
            &format!("//ul[@id='theme-tree']/li[1][@data-node='{other_id}']"),
        )
        .await;

    // Quotes of Education, filtered to nurses, then down to the coders' spans.
    browser
        .visit(&s.project.path(&format!("/themes/quotes?node={other_id}")))
        .await;
    assert_eq!(browser.texts(".quote-column .quote").await.len(), 2);
    browser
        .submit("#quote-filters", &[("where", "Role=Nurse")])
        .await;
    browser
        .wait_until(
            "one nurse's quote",
            "//*[contains(@class, 'quote-count') and normalize-space() = '1 of 2 quotes']",
        )
        .await;
    assert_eq!(browser.texts(".quote .participant").await, ["P01"]);
    browser
        .find(Locator::Css(".quote a.trace-link"))
        .await
        .expect("the trace link")
        .click()
        .await
        .expect("following it");
    browser.element("#trace").await;
    assert_eq!(
        browser.texts(".trace-path a").await,
        ["Education", "Complications"]
    );
    let originals = browser.texts(".original").await;
    assert_eq!(originals.len(), 2, "{originals:?}");
    assert!(
        originals
            .iter()
            .all(|o| o.contains("infection") && o.contains("Infection is the big risk")),
        "{originals:?}"
    );

    // From the quote list, recode one quote as Training (unplaced): a
    // recorded consensus edit, and the quote leaves Education.
    browser
        .visit(&s.project.path(&format!("/themes/quotes?node={other_id}")))
        .await;
    let training = &s.agreed["Training"];
    browser
        .execute(
            "document.getElementById('recode-to').value = arguments[0];",
            vec![json!(training)],
        )
        .await
        .expect("choosing the code");
    browser
        .find(Locator::Css(".quote button.recode"))
        .await
        .expect("a Recode button")
        .click()
        .await
        .expect("recoding");
    browser
        .wait_until(
            "one quote left under Education",
            "//*[contains(@class, 'quote-count') and normalize-space() = '1 of 1 quotes']",
        )
        .await;
    let recorded: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'consensus_coding.updated' and project_id = $1",
    )
    .bind(s.project.id.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(recorded, 1);

    // Split Infection off Complications into a new subcategory beside it.
    browser.visit(&s.project.path("/themes")).await;
    browser
        .element(&format!(
            "li.theme-code[data-code='{infection}'] input.select-code"
        ))
        .await
        .click()
        .await
        .expect("ticking Infection");
    browser
        .element("#split-selected:not([disabled])")
        .await
        .click()
        .await
        .expect("splitting");
    let name = browser.element("#node-form input[name=name]").await;
    name.send_keys("Infection alone").await.expect("naming it");
    browser
        .element("#node-save")
        .await
        .click()
        .await
        .expect("saving");
    browser
        .wait_until(
            "the new subcategory beside Complications, holding Infection",
            &format!(
                "//li[@data-node='{other_id}']/ul[contains(@class, 'theme-children')]/li[.//strong[normalize-space() = 'Infection alone']]//li[@data-code='{infection}']"
            ),
        )
        .await;
}
