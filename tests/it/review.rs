//! Member checking: review rounds sent to reviewers, comments on themes, codes
//! and quotes with the lead's answers, sign-offs, and what changed since.

use concord::projects::model::Role;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{PASSWORD, TestApp, html, select_texts};
use crate::themes::study;

async fn expect(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_round_freezes_the_themes_collects_comments_and_sign_offs_and_shows_what_changed() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let owner = &s.project.owner;
    let theme = s.node(json!({ "name": "Barriers" })).await;
    let refs = s.refs(&["Infection"]).await;
    let sub = s
        .node(json!({ "name": "Complications", "parent_id": theme["id"], "codes": refs }))
        .await;
    let quotes = expect(
        owner
            .get(&s.project.api(&format!(
                "/themes/quotes?node={}",
                sub["id"].as_str().unwrap()
            )))
            .await,
        StatusCode::OK,
    )
    .await;
    let example = quotes["quotes"][0]["coding_id"].clone();
    expect(
        owner
            .patch_json(
                &s.project
                    .api(&format!("/themes/nodes/{}", sub["id"].as_str().unwrap())),
                &json!({ "version": sub["version"], "example_coding_id": example }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let expert = s.project.member(Role::Reviewer).await;
    let other = s.project.member(Role::Reviewer).await;
    let rounds = s.project.api("/review-rounds");

    // Only reviewers can be sent a round; a bad date is refused.
    for body in [
        json!({ "reviewers": [s.ana.id] }),
        json!({ "reviewers": [] }),
        json!({ "reviewers": [expert.id], "due_on": "31/12/2026" }),
    ] {
        expect(
            owner.post_json(&rounds, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let round = expect(
        owner
            .post_json(
                &rounds,
                &json!({ "reviewers": [expert.id], "message": "Please read the themes", "due_on": "2026-12-20" }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(round["number"], 1);
    assert_eq!(round["due_on"], "2026-12-20");
    let round_id = round["id"].as_str().unwrap();
    let round_api = s.project.api(&format!("/review-rounds/{round_id}"));

    // The reviewer reads the frozen snapshot, attributed by role and pseudonym.
    let view = expect(expert.get(&round_api).await, StatusCode::OK).await;
    let nodes = view["snapshot"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[1]["example"]["attribution"], "Nurse, P01");
    assert_eq!(
        view["changes"],
        Value::Null,
        "reviewers do not see the lead's view"
    );
    // Others see nothing of it.
    expect(other.get(&round_api).await, StatusCode::NOT_FOUND).await;
    let listed = expect(other.get(&rounds).await, StatusCode::OK).await;
    assert_eq!(listed, json!([]));
    expect(s.ana.get(&rounds).await, StatusCode::FORBIDDEN).await;

    // Comments on the node, its code, the quote and the round.
    let comments = format!("{round_api}/comments");
    let mut made = Vec::new();
    for (kind, id) in [
        ("node", sub["id"].clone()),
        ("code", json!(s.agreed["Infection"])),
        ("quote", example.clone()),
        ("round", Value::Null),
    ] {
        let c = expect(
            expert
                .post_json(&comments, &json!({ "target_kind": kind, "target_id": id, "body": format!("About the {kind}") }))
                .await,
            StatusCode::CREATED,
        )
        .await;
        made.push(c);
    }
    for body in [
        json!({ "target_kind": "node", "target_id": Uuid::new_v4(), "body": "x" }),
        json!({ "target_kind": "node", "target_id": sub["id"], "body": "  " }),
        json!({ "target_kind": "elsewhere", "body": "x" }),
    ] {
        expect(
            expert.post_json(&comments, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    expect(
        other
            .post_json(&comments, &json!({ "target_kind": "round", "body": "x" }))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // The lead answers: addressed, dismissed; a stale answer is 409.
    let answer = |c: &Value| format!("{comments}/{}", c["id"].as_str().unwrap());
    let addressed = expect(
        owner
            .patch_json(&answer(&made[0]), &json!({ "status": "addressed", "reply": "Renamed it", "version": made[0]["version"] }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(addressed["status"], "addressed");
    expect(
        owner
            .patch_json(&answer(&made[1]), &json!({ "status": "dismissed", "reply": "Out of scope", "version": made[1]["version"] }))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        owner
            .patch_json(
                &answer(&made[0]),
                &json!({ "status": "open", "version": made[0]["version"] }),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    expect(
        owner
            .patch_json(
                &answer(&made[2]),
                &json!({ "status": "maybe", "version": made[2]["version"] }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect(
        expert
            .patch_json(
                &answer(&made[2]),
                &json!({ "status": "dismissed", "version": made[2]["version"] }),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Sign-off: reservations need a note.
    let signoff = format!("{round_api}/signoff");
    expect(
        expert
            .post_json(&signoff, &json!({ "verdict": "reservations" }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect(
        expert
            .post_json(
                &signoff,
                &json!({ "verdict": "reservations", "note": "Cost is a theme of its own" }),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;

    // The lead renames and moves the subcategory: the comment stays on it, and
    // the round shows what changed.
    let h = s.hierarchy(owner).await;
    let now = h["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "Complications")
        .unwrap()
        .clone();
    let renamed = expect(
        owner
            .patch_json(
                &s.project
                    .api(&format!("/themes/nodes/{}", sub["id"].as_str().unwrap())),
                &json!({ "version": now["version"], "name": "Infection risk" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        owner
            .post_json(
                &s.project.api(&format!(
                    "/themes/nodes/{}/move",
                    sub["id"].as_str().unwrap()
                )),
                &json!({ "version": renamed["version"], "parent_id": null }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let view = expect(owner.get(&round_api).await, StatusCode::OK).await;
    let changes: Vec<(String, String)> = view["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["how"].as_str().unwrap().to_owned(),
                d["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("renamed".to_owned(), "Infection risk".to_owned()),
            ("moved".to_owned(), "Infection risk".to_owned())
        ]
    );
    assert_eq!(
        view["by_status"],
        json!([["open", 2], ["addressed", 1], ["dismissed", 1]])
    );
    assert_eq!(view["signoffs"][0]["verdict"], "reservations");
    let page = html(
        owner
            .get(&s.project.path(&format!("/review/{round_id}")))
            .await,
    )
    .await;
    assert_eq!(
        select_texts(
            &page,
            &format!(
                "#node-{} > ul.comments > .review-comment",
                sub["id"].as_str().unwrap()
            )
        )
        .len(),
        1
    );
    assert_eq!(select_texts(&page, "#changes tr.change").len(), 2);

    // Closed: no more comments or sign-offs; the next round is number 2.
    expect(
        owner
            .post_json(&format!("{round_api}/close"), &json!({}))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect(
        expert
            .post_json(
                &comments,
                &json!({ "target_kind": "round", "body": "late" }),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let next = expect(
        owner
            .post_json(&rounds, &json!({ "reviewers": [expert.id, other.id] }))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(next["number"], 2);
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action like 'review%' and project_id = $1",
    )
    .bind(s.project.id.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        audited,
        2 + 4 + 2 + 1 + 1,
        "rounds, comments, answers, sign-off, close"
    );
}

#[tokio::test]
async fn in_the_browser_a_reviewer_comments_on_a_theme_and_signs_the_round_off() {
    use crate::harness::browser::Browser;
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let theme = s.node(json!({ "name": "Education" })).await;
    let expert = s.project.member(Role::Reviewer).await;
    let round = expect(
        s.project
            .owner
            .post_json(
                &s.project.api("/review-rounds"),
                &json!({ "reviewers": [expert.id] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let browser = Browser::open(&app).await;
    browser.sign_in(&expert.email, PASSWORD).await;
    browser.visit(&s.project.path("/review")).await;
    browser
        .find(fantoccini::Locator::LinkText("Round 1"))
        .await
        .expect("the round")
        .click()
        .await
        .expect("opening it");
    let node = format!("#node-{}", theme["id"].as_str().unwrap());
    browser
        .element(&format!("{node} details.comment-on summary"))
        .await
        .click()
        .await
        .expect("opening the comment form");
    browser
        .submit(
            &format!("{node} form.comment-form"),
            &[("body", "Add training for ward nurses")],
        )
        .await;
    browser
        .wait_until(
            "the comment",
            "//li[contains(@class, 'review-comment')]//p[contains(@class, 'body') and normalize-space() = 'Add training for ward nurses']",
        )
        .await;
    browser.submit("#signoff-form", &[("note", "")]).await;
    browser
        .wait_until(
            "the sign-off",
            "//li[contains(@class, 'signoff')]/strong[normalize-space() = 'confirmed']",
        )
        .await;
    let view = expect(
        s.project
            .owner
            .get(
                &s.project
                    .api(&format!("/review-rounds/{}", round["id"].as_str().unwrap())),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["comments"][0]["body"], "Add training for ward nurses");
    assert_eq!(view["signoffs"][0]["verdict"], "confirmed");
}
