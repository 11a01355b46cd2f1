//! The quote bank: selecting consensus quotes, their order under two writers,
//! publication edits that only leave words out or add bracketed ones, what
//! happens to a quote when its coding changes, blinding, and the exports.

use std::io::Read;

use concord::projects::model::Role;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::browser::wait_for_file;
use crate::harness::{TestApp, TestUser, html, select_texts};
use crate::themes::{Study, study};

async fn expect(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The consensus quotes of an agreed code, in transcript order.
async fn quotes_of(s: &Study<'_>, code: &str) -> Vec<Value> {
    let path = s
        .project
        .api(&format!("/themes/quotes?code={}", s.agreed[code]));
    expect(s.project.owner.get(&path).await, StatusCode::OK).await["quotes"]
        .as_array()
        .unwrap()
        .clone()
}

async fn bank(s: &Study<'_>, user: &TestUser) -> Value {
    expect(
        user.get(&s.project.api("/quote-bank")).await,
        StatusCode::OK,
    )
    .await
}

async fn select(s: &Study<'_>, user: &TestUser, body: Value) -> Response {
    user.post_json(&s.project.api("/quote-bank/quotes"), &body)
        .await
}

/// Every current quote of the bank, in page order.
fn current(bank: &Value) -> Vec<Value> {
    bank["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["quotes"].as_array().unwrap().clone())
        .collect()
}

fn group<'v>(bank: &'v Value, code_id: &str) -> &'v Value {
    bank["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["code_id"] == code_id)
        .unwrap_or_else(|| panic!("no group for {code_id} in {bank}"))
}

fn refs(group: &Value, order: &[usize]) -> Value {
    let quotes = group["quotes"].as_array().unwrap();
    Value::Array(
        order
            .iter()
            .map(|i| json!({ "id": quotes[*i]["id"], "version": quotes[*i]["version"] }))
            .collect(),
    )
}

/// A study with a theme "Risks" holding Infection (Cost stays unplaced), the
/// Infection quotes of P01 and P02 selected, and the Cost quote of P01 in
/// three sub-spans.
async fn selected(app: &TestApp) -> Study<'_> {
    let s = study(app).await;
    let refs = s.refs(&["Infection"]).await;
    s.node(json!({ "name": "Risks", "codes": refs })).await;
    for q in quotes_of(&s, "Infection").await {
        expect(
            select(&s, &s.project.owner, json!({ "coding_id": q["coding_id"] })).await,
            StatusCode::CREATED,
        )
        .await;
    }
    // "The pump costs a lot": three sub-spans of one coding.
    let cost = quotes_of(&s, "Cost").await[0].clone();
    let start = cost["start"].as_i64().unwrap();
    for (a, b) in [(0, 3), (4, 8), (9, 14)] {
        expect(
            select(
                &s,
                &s.project.owner,
                json!({ "coding_id": cost["coding_id"], "start": start + a, "end": start + b }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    s
}

#[tokio::test]
async fn selected_quotes_are_grouped_by_theme_and_code_and_attributed_by_role() {
    let app = TestApp::spawn().await;
    let s = selected(&app).await;
    let owner = &s.project.owner;
    let b = bank(&s, owner).await;
    assert_eq!(
        b["attribute"]["name"], "Role",
        "the default: a variable named Role"
    );
    assert_eq!(b["attribute"]["chosen"], false);
    let groups: Vec<&str> = b["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        groups,
        ["Infection", "Cost"],
        "placed codes first, in tree order"
    );
    let infection = group(&b, &s.agreed["Infection"]);
    assert_eq!(infection["theme_path"], json!(["Risks"]));
    let quotes = infection["quotes"].as_array().unwrap();
    assert_eq!(quotes[0]["text"], "Infection is the big risk");
    assert_eq!(quotes[0]["attribution"], "— Nurse, P01");
    assert_eq!(
        quotes[0]["attributed"],
        "“Infection is the big risk” — Nurse, P01"
    );
    assert_eq!(quotes[1]["attribution"], "— Oncologist, P02");
    let cost: Vec<&str> = group(&b, &s.agreed["Cost"])["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        cost,
        ["The", "pump", "costs"],
        "sub-spans, in the order chosen"
    );
    assert_eq!(group(&b, &s.agreed["Cost"])["theme_path"], json!([]));

    // The page shows the same quotes in the same order.
    let page = html(owner.get(&s.project.path("/quote-bank")).await).await;
    let texts = select_texts(&page, "li.qb-quote .qb-text");
    let api: Vec<String> = current(&b)
        .iter()
        .map(|q| q["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, api);
    assert_eq!(
        select_texts(&page, "h3.qb-theme"),
        ["Risks", "Unplaced codes"]
    );

    // A retry with the same id is the same selection; the same span again is refused.
    let coding = quotes_of(&s, "Training").await[0]["coding_id"].clone();
    let id = Uuid::new_v4();
    let body = json!({ "id": id, "coding_id": coding });
    let first = expect(select(&s, owner, body.clone()).await, StatusCode::CREATED).await;
    let again = expect(select(&s, owner, body).await, StatusCode::OK).await;
    assert_eq!(first["id"], again["id"]);
    let twice = expect(
        select(&s, owner, json!({ "coding_id": coding })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        twice["errors"]["coding_id"][0]
            .as_str()
            .unwrap()
            .contains("selected already")
    );
    let before = app.audit_count(Some(s.project.id)).await;
    let outside = expect(
        select(
            &s,
            owner,
            json!({ "coding_id": quotes_of(&s, "Guidelines").await[0]["coding_id"], "start": 0, "end": 500 }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(outside["errors"]["start"].is_array(), "{outside}");
    let unknown = select(&s, owner, json!({ "coding_id": Uuid::new_v4() })).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count(Some(s.project.id)).await, before);

    // The lead chooses another attribute; a stale choice is 409.
    let experience = b["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "Experience")
        .unwrap()["id"]
        .clone();
    let put = |body: Value| {
        let path = s.project.api("/quote-bank/attribute");
        async move { owner.send_json(Method::PUT, &path, &body).await }
    };
    let chosen = expect(
        put(json!({ "variable_id": experience, "version": 0 })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(chosen["name"], "Experience");
    expect(
        put(json!({ "variable_id": null, "version": 0 })).await,
        StatusCode::CONFLICT,
    )
    .await;
    let b = bank(&s, owner).await;
    assert_eq!(current(&b)[0]["attribution"], "— 10, P01");
    expect(
        put(json!({ "variable_id": null, "version": chosen["version"] })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(current(&bank(&s, owner).await)[0]["attribution"], "— P01");

    // Each change went out as a live event of its own kind.
    let live: i64 = sqlx::query_scalar(
        "select count(*) from project_events where project_id = $1 and kind = 'quote_bank.changed'",
    )
    .bind(s.project.id.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(live, 8, "six selections and two choices of attribute");

    // Reviewers and coders who are done read the bank; only leads change it.
    let reviewer = s.project.member(Role::Reviewer).await;
    assert_eq!(current(&bank(&s, &reviewer).await).len(), 6);
    let coder_try = select(
        &s,
        &s.ana,
        json!({ "coding_id": quotes_of(&s, "Guidelines").await[0]["coding_id"] }),
    )
    .await;
    assert_eq!(coder_try.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn publication_text_may_only_leave_words_out_or_add_bracketed_ones_and_a_refused_edit_stores_nothing()
 {
    let app = TestApp::spawn().await;
    let s = selected(&app).await;
    let owner = &s.project.owner;
    let q = current(&bank(&s, owner).await)[0].clone();
    assert_eq!(q["original_text"], "Infection is the big risk");
    let path = s
        .project
        .api(&format!("/quote-bank/quotes/{}", q["id"].as_str().unwrap()));

    let before = app.audit_count(Some(s.project.id)).await;
    for bad in [
        "Infection is the risk",
        "Infection is a big risk",
        "Infection is the big risk for us",
        "… [nothing of it]",
    ] {
        let refused = expect(
            owner
                .patch_json(
                    &path,
                    &json!({ "version": q["version"], "publication_text": bad }),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let message = refused["errors"]["publication_text"][0].as_str().unwrap();
        assert!(!message.is_empty(), "{bad}: {refused}");
    }
    let refused = expect(
        owner
            .patch_json(
                &path,
                &json!({ "version": q["version"], "publication_text": "Infection is the risk" }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        refused["errors"]["publication_text"][0],
        "“risk” is not the coded text’s next word after “the”. An edit may only leave words out, marked with … or […], and add words in [square brackets]."
    );
    assert_eq!(
        app.audit_count(Some(s.project.id)).await,
        before,
        "nothing stored"
    );
    let unchanged = current(&bank(&s, owner).await)[0].clone();
    assert_eq!(unchanged["version"], q["version"]);
    assert_eq!(unchanged["publication_text"], Value::Null);

    // A preview says the same and stores nothing.
    let preview = expect(
        owner
            .post_json(
                &format!("{path}/preview"),
                &json!({ "publication_text": "Infection is … risk" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(preview["ok"], true);
    assert_eq!(preview["attributed"], "“Infection is … risk” — Nurse, P01");
    let preview = expect(
        owner
            .post_json(
                &format!("{path}/preview"),
                &json!({ "publication_text": "Infection is risk" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(preview["ok"], false);
    assert_eq!(app.audit_count(Some(s.project.id)).await, before);

    let edited = expect(
        owner
            .patch_json(
                &path,
                &json!({ "version": q["version"], "publication_text": "[Post-operative] infection is … risk" }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        edited["errors"]["publication_text"][0]
            .as_str()
            .unwrap()
            .contains("“infection”")
    );
    let edited = expect(
        owner
            .patch_json(
                &path,
                &json!({ "version": q["version"], "publication_text": "Infection [after the pump is fitted] is … risk" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        edited["text"],
        "Infection [after the pump is fitted] is … risk"
    );
    assert_eq!(
        edited["original_text"], "Infection is the big risk",
        "the coded text stays"
    );
    assert_eq!(
        edited["attributed"],
        "“Infection [after the pump is fitted] is … risk” — Nurse, P01"
    );
    // The consensus layer is untouched.
    let coding = quotes_of(&s, "Infection").await[0].clone();
    assert_eq!(coding["text"], "Infection is the big risk");

    // A stale write is 409 with the current quote; null clears the edit.
    let stale = expect(
        owner
            .patch_json(
                &path,
                &json!({ "version": q["version"], "publication_text": null }),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        stale["current"]["publication_text"], edited["text"],
        "{stale}"
    );
    let cleared = expect(
        owner
            .patch_json(
                &path,
                &json!({ "version": edited["version"], "publication_text": null }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["publication_text"], Value::Null);
    assert_eq!(cleared["text"], "Infection is the big risk");

    // A selection with a bad edit is refused whole.
    let before = app.audit_count(Some(s.project.id)).await;
    let training = quotes_of(&s, "Training").await[0]["coding_id"].clone();
    expect(
        select(
            &s,
            owner,
            json!({ "coding_id": training, "publication_text": "Training missing" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(app.audit_count(Some(s.project.id)).await, before);
    assert_eq!(current(&bank(&s, owner).await).len(), 5);
}

#[tokio::test]
async fn two_leads_reordering_at_once_one_wins_and_the_other_gets_409_with_the_order_as_it_is() {
    let app = TestApp::spawn().await;
    let s = selected(&app).await;
    let owner = &s.project.owner;
    let other = s.project.member(Role::Lead).await;
    let cost = s.agreed["Cost"].clone();
    let b = bank(&s, owner).await;
    let g = group(&b, &cost).clone();
    let order = s.project.api("/quote-bank/order");

    // Both saw the same versions and send at once: exactly one order wins.
    let mine = json!({ "code_id": cost, "quotes": refs(&g, &[2, 1, 0]) });
    let theirs = json!({ "code_id": cost, "quotes": refs(&g, &[1, 2, 0]) });
    let (a, b2) = tokio::join!(
        owner.send_json(Method::PUT, &order, &mine),
        other.send_json(Method::PUT, &order, &theirs),
    );
    let statuses = [a.status(), b2.status()];
    assert!(
        statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let (winner, loser) = if a.status() == StatusCode::OK {
        (["costs", "pump", "The"], b2)
    } else {
        (["pump", "costs", "The"], a)
    };
    let conflict: Value = loser.json().await.unwrap();
    let now = bank(&s, owner).await;
    let texts: Vec<&str> = group(&now, &cost)["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, winner);
    assert_eq!(
        conflict["current"]["group"]["quotes"],
        group(&now, &cost)["quotes"],
        "the 409 carries the order as it is"
    );

    // An edit with a version from before the reorder is stale too.
    let q = &g["quotes"][0];
    let stale = owner
        .patch_json(
            &s.project
                .api(&format!("/quote-bank/quotes/{}", q["id"].as_str().unwrap())),
            &json!({ "version": q["version"], "publication_text": "The …" }),
        )
        .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);

    // An order that leaves a quote out, or names one twice, changes nothing.
    let g = group(&now, &cost).clone();
    let before = app.audit_count(Some(s.project.id)).await;
    expect(
        owner
            .send_json(
                Method::PUT,
                &order,
                &json!({ "code_id": cost, "quotes": refs(&g, &[0, 1]) }),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    expect(
        owner
            .send_json(
                Method::PUT,
                &order,
                &json!({ "code_id": cost, "quotes": refs(&g, &[0, 0, 1]) }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(app.audit_count(Some(s.project.id)).await, before);

    // A later select goes to the end; a reorder with fresh versions passes.
    let moved = expect(
        owner
            .send_json(
                Method::PUT,
                &order,
                &json!({ "code_id": cost, "quotes": refs(&g, &[2, 0, 1]) }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let texts: Vec<&str> = moved["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, [winner[2], winner[0], winner[1]]);
    // Unselecting with a stale version is 409; with the current one it goes.
    let last = &moved["quotes"][2];
    let path = s.project.api(&format!(
        "/quote-bank/quotes/{}",
        last["id"].as_str().unwrap()
    ));
    expect(
        owner.delete(&format!("{path}?version=1")).await,
        StatusCode::CONFLICT,
    )
    .await;
    expect(
        owner
            .delete(&format!("{path}?version={}", last["version"]))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(
        group(&bank(&s, owner).await, &cost)["quotes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

fn changed<'v>(bank: &'v Value, id: &Value) -> Option<&'v Value> {
    bank["changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == *id)
}

#[tokio::test]
async fn a_quote_whose_coding_changes_is_shown_apart_unchanged_until_the_lead_files_it_again() {
    let app = TestApp::spawn().await;
    let s = selected(&app).await;
    let owner = &s.project.owner;
    let b = bank(&s, owner).await;
    let infection = group(&b, &s.agreed["Infection"]).clone();
    let p01 = infection["quotes"][0].clone();
    let coding = p01["coding_id"].as_str().unwrap().to_owned();
    let consensus = |rest: &str| s.project.api(&format!("/consensus/codings/{coding}{rest}"));
    let csv_rows = || async {
        let text = owner
            .get(&s.project.path("/quote-bank/quotes.csv"))
            .await
            .text()
            .await
            .unwrap();
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap()[11].to_owned())
            .collect::<Vec<String>>()
    };

    // Deleted: apart, out of the exports; restored: back as it was.
    let version = quotes_of(&s, "Infection").await[0]["version"].clone();
    expect(owner.delete(&consensus("")).await, StatusCode::OK).await;
    let b = bank(&s, owner).await;
    let apart = changed(&b, &p01["id"]).expect("shown apart");
    assert_eq!(apart["source"], "coding_deleted");
    assert_eq!(apart["text"], p01["text"], "never altered");
    assert!(
        !csv_rows()
            .await
            .contains(&p01["id"].as_str().unwrap().to_owned())
    );
    expect(
        owner.post_json(&consensus("/restore"), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    let b = bank(&s, owner).await;
    assert!(changed(&b, &p01["id"]).is_none());
    assert_eq!(current(&b)[0]["id"], p01["id"]);
    assert_ne!(version, Value::Null);

    // Split off into a new code: "code changed" until filed again under it.
    let split = expect(
        owner
            .post_json(
                &s.project
                    .api(&format!("/consensus/codes/{}/split", s.agreed["Infection"])),
                &json!({ "name": "Infection risk", "codings": [coding] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let b = bank(&s, owner).await;
    let apart = changed(&b, &p01["id"]).expect("shown apart").clone();
    assert_eq!(apart["source"], "code_changed");
    assert_eq!(apart["now_code_name"], "Infection risk");
    assert_eq!(
        apart["code_name"], "Infection",
        "still says what it was chosen for"
    );
    let page = html(owner.get(&s.project.path("/quote-bank")).await).await;
    assert_eq!(
        select_texts(&page, "#qb-changed li.qb-quote .qb-text"),
        [p01["text"].as_str().unwrap()]
    );
    let refile = s.project.api(&format!(
        "/quote-bank/quotes/{}/refile",
        p01["id"].as_str().unwrap()
    ));
    let filed = expect(
        owner
            .post_json(&refile, &json!({ "version": apart["version"] }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(filed["source"], "current");
    assert_eq!(filed["code_id"], split["new_code"]["id"]);
    assert_eq!(
        filed["theme_path"],
        json!(["Risks"]),
        "the split code sits beside Infection"
    );

    // Re-spanned so it no longer covers the quote: apart, and cannot be filed again.
    let c = expect(
        owner
            .get(&s.project.api(&format!(
                "/themes/quotes?code={}",
                split["new_code"]["id"].as_str().unwrap()
            )))
            .await,
        StatusCode::OK,
    )
    .await["quotes"][0]
        .clone();
    expect(
        owner
            .patch_json(
                &consensus(""),
                &json!({ "start": c["start"], "end": c["end"].as_i64().unwrap() - 5, "version": c["version"] }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let b = bank(&s, owner).await;
    let apart = changed(&b, &p01["id"]).expect("shown apart").clone();
    assert_eq!(apart["source"], "span_changed");
    assert_eq!(apart["text"], p01["text"], "the quote keeps its span");
    expect(
        owner
            .post_json(&refile, &json!({ "version": apart["version"] }))
            .await,
        StatusCode::CONFLICT,
    )
    .await;

    // A code merged into another: its quotes wait to be filed under it.
    let p02 = infection["quotes"][1].clone();
    expect(
        owner
            .post_json(
                &s.project
                    .api(&format!("/consensus/codes/{}/merge", s.agreed["Infection"])),
                &json!({ "into": s.agreed["Cost"] }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let b = bank(&s, owner).await;
    let apart = changed(&b, &p02["id"]).expect("shown apart");
    assert_eq!(apart["source"], "code_changed");
    assert_eq!(apart["now_code_name"], "Cost");
    // Undoing the merge brings it back where it was, as it was.
    expect(
        owner
            .post_json(
                &s.project.api(&format!(
                    "/consensus/codes/{}/unmerge",
                    s.agreed["Infection"]
                )),
                &json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let b = bank(&s, owner).await;
    assert!(changed(&b, &p02["id"]).is_none(), "{b}");
    assert_eq!(
        group(&b, &s.agreed["Infection"])["quotes"][0]["id"],
        p02["id"]
    );

    // A code moved to another theme takes its quotes along: no source change.
    let cost_node = s.node(json!({ "name": "Money" })).await;
    expect(s.place(&["Cost"], &cost_node["id"]).await, StatusCode::OK).await;
    let b = bank(&s, owner).await;
    assert_eq!(group(&b, &s.agreed["Cost"])["theme_path"], json!(["Money"]));
    assert_eq!(
        group(&b, &s.agreed["Cost"])["quotes"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        b["changed"].as_array().unwrap().len(),
        1,
        "only the re-spanned one"
    );
}

#[tokio::test]
async fn a_member_still_coding_gets_403_and_never_sees_a_quote() {
    let app = TestApp::spawn().await;
    let s = selected(&app).await;
    // Ana is given a third interview and has not submitted it.
    let third = s
        .project
        .import_text("P03.txt", "P03: Nobody told me about the pump.")
        .await;
    expect(
        s.project
            .owner
            .post_json(
                &s.project.api("/assignments"),
                &json!({ "transcript_ids": [third], "user_ids": [s.ana.id] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    for path in [
        s.project.api("/quote-bank"),
        s.project.path("/quote-bank"),
        s.project.path("/quote-bank/quotes.csv"),
        s.project.path("/quote-bank/quotes.docx"),
    ] {
        let response = s.ana.get(&path).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("Infection is the big risk"), "{path}");
    }
    let q = current(&bank(&s, &s.project.owner).await)[0].clone();
    let preview = s
        .ana
        .post_json(
            &s.project.api(&format!(
                "/quote-bank/quotes/{}/preview",
                q["id"].as_str().unwrap()
            )),
            &json!({ "publication_text": "x" }),
        )
        .await;
    assert_eq!(preview.status(), StatusCode::FORBIDDEN);
    // Ben, who is done, still reads it.
    assert_eq!(current(&bank(&s, &s.ben).await).len(), 5);
}

/// Each table row of word/document.xml, as its cells' texts.
fn docx_tables(bytes: &[u8]) -> Vec<Vec<Vec<String>>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .unwrap();
    assert!(archive.by_name("[Content_Types].xml").is_ok());
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut tables: Vec<Vec<Vec<String>>> = Vec::new();
    let mut in_text = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) => match e.name().as_ref() {
                "w:tbl" => tables.push(Vec::new()),
                "w:tr" => tables.last_mut().unwrap().push(Vec::new()),
                "w:tc" => tables
                    .last_mut()
                    .unwrap()
                    .last_mut()
                    .unwrap()
                    .push(String::new()),
                "w:t" => in_text = true,
                _ => {}
            },
            quick_xml::events::Event::Empty(e) if e.name().as_ref() == "w:br" => {
                if let Some(cell) = tables
                    .last_mut()
                    .and_then(|t| t.last_mut())
                    .and_then(|r| r.last_mut())
                {
                    cell.push('\n');
                }
            }
            quick_xml::events::Event::End(e) if e.name().as_ref() == "w:t" => in_text = false,
            quick_xml::events::Event::Text(t) if in_text => {
                if let Some(cell) = tables
                    .last_mut()
                    .and_then(|t| t.last_mut())
                    .and_then(|r| r.last_mut())
                {
                    cell.push_str(&t.xml10_content());
                }
            }
            quick_xml::events::Event::GeneralRef(r) if in_text => {
                let c = match &*r {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("entity {other}"),
                };
                if let Some(cell) = tables
                    .last_mut()
                    .and_then(|t| t.last_mut())
                    .and_then(|r| r.last_mut())
                {
                    cell.push_str(c);
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    tables
}

#[tokio::test]
async fn the_csv_and_the_docx_hold_the_quotes_of_the_page_in_its_order() {
    let app = TestApp::spawn().await;
    let s = selected(&app).await;
    let owner = &s.project.owner;
    let q = current(&bank(&s, owner).await)[1].clone();
    expect(
        owner
            .patch_json(
                &s.project
                    .api(&format!("/quote-bank/quotes/{}", q["id"].as_str().unwrap())),
                &json!({ "version": q["version"], "publication_text": "Infection [&] worries …" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let b = bank(&s, owner).await;
    let page = html(owner.get(&s.project.path("/quote-bank")).await).await;
    let shown: Vec<String> = select_texts(&page, "li.qb-quote .qb-text")
        .into_iter()
        .zip(select_texts(&page, "li.qb-quote .qb-attribution"))
        .map(|(text, who)| format!("“{text}” {who}"))
        .collect();
    assert_eq!(shown.len(), 5);
    assert_eq!(shown[1], "“Infection [&] worries …” — Oncologist, P02");

    let response = owner.get(&s.project.path("/quote-bank/quotes.csv")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("-quote-bank-")
    );
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        headers,
        [
            "theme_path",
            "code",
            "participant",
            "attribute: Role",
            "attributed_quote",
            "publication_text",
            "original_text",
            "transcript",
            "line",
            "start",
            "end",
            "quote_id"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let quoted: Vec<String> = rows.iter().map(|r| r[4].to_owned()).collect();
    assert_eq!(quoted, shown, "the page's quotes, in its order");
    let api = current(&b);
    for (row, q) in rows.iter().zip(&api) {
        assert_eq!(&row[6], q["original_text"].as_str().unwrap());
        assert_eq!(row[9].parse::<i64>().unwrap(), q["start"].as_i64().unwrap());
        assert_eq!(row[10].parse::<i64>().unwrap(), q["end"].as_i64().unwrap());
        assert_eq!(row[8].parse::<i64>().unwrap(), q["line"].as_i64().unwrap());
    }
    assert_eq!(&rows[0][0], "Risks");
    assert_eq!(&rows[1][3], "Oncologist");
    assert_eq!(&rows[1][5], "Infection [&] worries …");
    assert_eq!(&rows[1][6], "Infection worries me");
    assert_eq!(&rows[4][0], "");

    let response = owner.get(&s.project.path("/quote-bank/quotes.docx")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let docx = response.bytes().await.unwrap();
    let tables = docx_tables(&docx);
    // The headings, as the shared DOCX reader sees them: the project, then a
    // theme before each table.
    let project_name = bank_project_name(&s).await;
    let headings: Vec<(String, String)> = concord::docx::read::blocks(&docx)
        .expect("a document the shared writer wrote")
        .iter()
        .filter(|b| b.style().starts_with("Heading"))
        .map(|b| (b.style().to_owned(), b.text()))
        .collect();
    assert_eq!(
        headings,
        [
            ("Heading1".to_owned(), format!("Quote bank: {project_name}")),
            ("Heading2".to_owned(), "Risks".to_owned()),
            ("Heading2".to_owned(), "Unplaced codes".to_owned()),
        ]
    );
    assert_eq!(
        tables.len(),
        2,
        "a table per theme: Risks, then the unplaced codes"
    );
    assert_eq!(tables[0][0], ["Code", "Quote", "Source"]);
    let in_docx: Vec<String> = tables
        .iter()
        .flat_map(|t| t[1..].iter().map(|row| row[1].clone()))
        .collect();
    assert_eq!(in_docx, shown);
    assert_eq!(tables[0][1][0], "Infection");
    assert_eq!(tables[1][1][2], "P01, line 2");
    let audit = app.audit_count(Some(s.project.id)).await;
    owner.get(&s.project.path("/quote-bank/quotes.csv")).await;
    assert_eq!(
        app.audit_count(Some(s.project.id)).await,
        audit + 1,
        "exports are on the record"
    );
}

#[tokio::test]
async fn a_lead_selects_reorders_edits_and_downloads_quotes_in_the_browser() {
    use crate::harness::browser::Browser;
    use fantoccini::key::Key;

    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let refs = s.refs(&["Infection"]).await;
    let risks = s.node(json!({ "name": "Risks", "codes": refs })).await;
    let browser = Browser::open(&app).await;
    browser
        .sign_in(&s.project.owner.email, crate::harness::PASSWORD)
        .await;

    // Select both Infection quotes from the quote list.
    browser
        .visit(&s.project.path(&format!(
            "/themes/quotes?node={}",
            risks["id"].as_str().unwrap()
        )))
        .await;
    for i in 1..=2 {
        browser
            .wait_until(
                "the select buttons",
                "//body[count(.//button[contains(@class, 'bank-select') and starts-with(normalize-space(), 'Select for')]) > 0]",
            )
            .await;
        browser
            .element("button.bank-select[aria-pressed='false']")
            .await
            .click()
            .await
            .unwrap();
        browser
            .wait_until(
                "the quote selected",
                &format!("//body[count(.//button[@aria-pressed='true']) = {i}]"),
            )
            .await;
    }
    assert_eq!(current(&bank(&s, &s.project.owner).await).len(), 2);

    // Reorder with the keyboard: Alt+↑ on the second quote.
    browser.visit(&s.project.path("/quote-bank")).await;
    assert_eq!(
        browser.texts("li.qb-quote .qb-text").await,
        ["Infection is the big risk", "Infection worries me"]
    );
    let second = browser.element("li.qb-quote:nth-child(2)").await;
    second
        .send_keys(&(Key::Alt + &Key::Up))
        .await
        .expect("Alt+Up");
    browser
        .wait_until(
            "the order saved",
            "//*[@id='qb-status' and normalize-space() = 'Order saved.']",
        )
        .await;
    let order: Vec<String> = current(&bank(&s, &s.project.owner).await)
        .iter()
        .map(|q| q["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(order, ["Infection worries me", "Infection is the big risk"]);
    browser.visit(&s.project.path("/quote-bank")).await;
    assert_eq!(browser.texts("li.qb-quote .qb-text").await, order);

    // Another lead puts them back: the open page follows without a reload.
    let other = s.project.member(Role::Lead).await;
    let infection = s.agreed["Infection"].clone();
    let g = group(&bank(&s, &other).await, &infection).clone();
    expect(
        other
            .send_json(
                Method::PUT,
                &s.project.api("/quote-bank/order"),
                &json!({ "code_id": infection, "quotes": self::refs(&g, &[1, 0]) }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    browser
        .wait_until(
            "the other lead's order, live",
            "//li[contains(@class, 'qb-quote')][1]//blockquote[normalize-space() = 'Infection is the big risk']",
        )
        .await;
    let second = browser.element("li.qb-quote:nth-child(2)").await;
    second
        .send_keys(&(Key::Alt + &Key::Up))
        .await
        .expect("Alt+Up on the refreshed list");
    browser
        .wait_until(
            "the order saved again",
            "//*[@id='qb-status' and normalize-space() = 'Order saved.']",
        )
        .await;
    assert_eq!(
        current(&bank(&s, &s.project.owner).await)
            .iter()
            .map(|q| q["text"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        order
    );

    // Edit the first for publication: a refused edit shows why and saves nothing.
    let first = "li.qb-quote:nth-child(1)";
    browser
        .element(&format!("{first} .qb-edit"))
        .await
        .click()
        .await
        .unwrap();
    let input = browser.element(&format!("{first} .qb-input")).await;
    input.clear().await.unwrap();
    input.send_keys("Infection worries").await.unwrap();
    browser
        .wait_until(
            "the inline refusal",
            "//*[contains(@class, 'qb-error') and contains(., 'without an ellipsis')]",
        )
        .await;
    browser
        .element(&format!("{first} .qb-save"))
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "the refusal on saving",
            "//*[contains(@class, 'qb-error') and contains(., 'without an ellipsis')]",
        )
        .await;
    assert_eq!(
        current(&bank(&s, &s.project.owner).await)[0]["publication_text"],
        Value::Null
    );
    input.send_keys(" [us] …").await.unwrap();
    browser
        .wait_until(
            "the live preview",
            "//*[contains(@class, 'qb-preview') and normalize-space() = '“Infection worries [us] …” — Oncologist, P02']",
        )
        .await;
    browser
        .element(&format!("{first} .qb-save"))
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "the edit saved",
            "//*[contains(@class, 'qb-text') and normalize-space() = 'Infection worries [us] …']",
        )
        .await;
    assert_eq!(
        current(&bank(&s, &s.project.owner).await)[0]["publication_text"],
        "Infection worries [us] …"
    );

    // Download the CSV: the page's quotes, in its order.
    browser.element("#qb-csv").await.click().await.unwrap();
    let name = format!(
        "{}-quote-bank-{}.csv",
        concord::exports::model::slug(&bank_project_name(&s).await),
        time::OffsetDateTime::now_utc().date()
    );
    let saved = wait_for_file(&browser.downloads().join(&name)).await;
    let mut reader = csv::Reader::from_reader(saved.as_slice());
    let quoted: Vec<String> = reader.records().map(|r| r.unwrap()[4].to_owned()).collect();
    assert_eq!(
        quoted,
        [
            "“Infection worries [us] …” — Oncologist, P02",
            "“Infection is the big risk” — Nurse, P01"
        ]
    );
}

async fn bank_project_name(s: &Study<'_>) -> String {
    let project = expect(
        s.project.owner.get(&s.project.api("")).await,
        StatusCode::OK,
    )
    .await;
    project["name"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_demo_study_has_ordered_quotes_with_one_light_edit_attributed_by_role() {
    let app = TestApp::spawn().await;
    let state = concord::state::AppState::new(app.pool.clone(), app.config.clone());
    let demo = concord::demo::create(&state).await.expect("the demo study");
    let lead = app.client();
    let response = lead
        .sign_in("lead@demo.concord", concord::demo::PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let api = format!("/api/v1/projects/{}/quote-bank", demo.project_id);
    let b = expect(lead.get(&api).await, StatusCode::OK).await;
    assert_eq!(b["attribute"]["name"], "Role");
    let quotes = current(&b);
    assert_eq!(quotes.len(), demo.selected_quotes);
    assert_eq!(quotes.len(), 4);
    assert!(b["changed"].as_array().unwrap().is_empty());
    let edited: Vec<&Value> = quotes
        .iter()
        .filter(|q| !q["publication_text"].is_null())
        .collect();
    assert_eq!(edited.len(), 1, "one light edit");
    assert!(edited[0]["text"].as_str().unwrap().contains(" … "));
    assert_ne!(edited[0]["text"], edited[0]["original_text"]);
    let roles = [
        "Palliative Care Consultant",
        "Oncologist",
        "Pain Specialist/ Neurosurgeon",
        "Service Manager",
        "Nurse",
    ];
    for q in &quotes {
        let who = q["attribution"].as_str().unwrap();
        let role = q["attribute"].as_str().unwrap();
        assert!(roles.contains(&role), "{who}");
        assert_eq!(
            who,
            format!("— {role}, {}", q["participant"].as_str().unwrap())
        );
        assert_eq!(
            q["theme_path"].as_array().unwrap().len(),
            2,
            "theme › subcategory"
        );
    }
    let first = &b["groups"][0]["quotes"];
    assert_eq!(first.as_array().unwrap().len(), 2);
    assert!(
        first[0]["participant"].as_str() > first[1]["participant"].as_str(),
        "the lead put the later participant first"
    );
}
