//! Real-browser tests: headless Chromium through chromedriver (see harness/browser.rs).

use std::collections::{BTreeMap, BTreeSet};

use concord::projects::model::Role;
use fantoccini::key::Key;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::browser::Browser;
use crate::harness::{PASSWORD, TestApp, TestProject, TestUser};

#[tokio::test]
async fn a_new_install_is_set_up_and_signed_into_in_the_browser() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app).await;

    browser.visit("/").await;
    assert_eq!(
        browser.texts("h1").await,
        ["Welcome to Concord"],
        "a new install opens on setup"
    );
    browser
        .submit(
            "#setup-form",
            &[
                ("email", "ana@example.org"),
                ("display_name", "Ana Admin"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;

    browser.element("#new-project-form").await;
    assert_eq!(browser.path().await, "/");
    assert_eq!(
        browser.texts(".topbar nav a").await,
        ["Projects", "Users", "Ana Admin"],
        "signed in as the new site admin"
    );
    assert!(browser.texts("#projects tr.project").await.is_empty());

    browser
        .submit(
            "#new-project-form",
            &[
                ("name", "Pain study"),
                ("description", "Interviews with ward nurses"),
            ],
        )
        .await;
    browser.element(".project-header").await;
    assert!(browser.path().await.starts_with("/projects/"));
    assert_eq!(browser.texts(".project-header h1").await, ["Pain study"]);
    assert_eq!(
        browser.texts("p.description").await,
        ["Interviews with ward nurses"]
    );
    assert_eq!(
        browser.texts("#members tbody td:first-child").await,
        ["Ana Admin"]
    );

    browser.sign_out().await;
    browser.visit("/").await;
    browser.element("#login-form").await;
    assert_eq!(browser.path().await, "/login", "signed out for good");

    browser.sign_in("ana@example.org", PASSWORD).await;
    assert_eq!(
        browser.texts("#projects tr.project td:first-child a").await,
        ["Pain study"]
    );

    let (admins,): (i64,) = sqlx::query_as("select count(*) from users where is_admin")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(admins, 1);
}

/// "Zoë 👋" comes before the coded passages, so their offsets differ in code
/// points, UTF-16 units and bytes.
const INTERVIEW: &str = "Interviewer: How were the nights, Zo\u{eb}? \u{1f44b}\n\
                         P01: The pain was worse at night.\n\
                         Interviewer: What helped?\n\
                         P01: Nothing really helped until we changed the routine.";

/// The coding page once its script has taken over the text.
const READY: &str = "#coding-text[data-ready=\"true\"]";

/// Selects `[start, end)`, in code points of the transcript, in the coding
/// page's text as a mouse would: a DOM Range over the text nodes, then the mouse
/// events the page listens to. Answers the selected text.
const SELECT: &str = r#"
const [start, end, done] = arguments;
const root = document.getElementById("coding-text");
// Two frames: the page renders its text in an animation frame.
requestAnimationFrame(() => requestAnimationFrame(() => {
  const rows = [...root.querySelectorAll(".line[data-start]")];
  const point = (cp) => {
    let row = rows[0];
    for (const r of rows) if (Number(r.dataset.start) <= cp) row = r;
    let want = cp - Number(row.dataset.start);
    const walker = document.createTreeWalker(row.querySelector(":scope > .text"), NodeFilter.SHOW_TEXT);
    let last = null;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const chars = [...node.data];
      if (want <= chars.length) return [node, chars.slice(0, want).join("").length];
      want -= chars.length;
      last = node;
    }
    return [last, last.data.length];
  };
  const range = document.createRange();
  range.setStart(...point(start));
  range.setEnd(...point(end));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  root.dispatchEvent(new MouseEvent("mousedown", { bubbles: true, button: 0 }));
  root.dispatchEvent(new MouseEvent("mouseup", { bubbles: true, button: 0 }));
  done(range.toString());
}));
"#;

#[tokio::test]
async fn two_coders_code_one_transcript_blind_in_their_own_browsers() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let ana = project.member(Role::Coder).await;
    let ben = project.member(Role::Coder).await;
    let transcript = import_and_assign(&project, &[&ana, &ben]).await;
    let page = project.path(&format!("/transcripts/{transcript}/code"));
    let layer = project.api(&format!("/transcripts/{transcript}/coding"));
    let data: Value = ana.get(&layer).await.json().await.expect("json");
    let text = data["transcript"]["text"]
        .as_str()
        .expect("text")
        .to_owned();

    let ana_browser = Browser::open(&app).await;
    let ben_browser = Browser::open(&app).await;
    for (browser, user) in [(&ana_browser, &ana), (&ben_browser, &ben)] {
        browser.sign_in(&user.email, PASSWORD).await;
        browser.visit(&page).await;
        browser.element(READY).await;
    }

    let pain = "pain was worse at night";
    let helped = "Nothing really helped";
    let routine = "changed the routine";
    code_passage(&ana_browser, &text, pain, "Night pain", 1).await;
    code_passage(&ben_browser, &text, helped, "Helplessness", 1).await;
    code_passage(&ana_browser, &text, routine, "Night pain", 2).await;

    let ana_layer = layer_of(&ana, &layer).await;
    let ben_layer = layer_of(&ben, &layer).await;
    assert_eq!(
        passages(&ana_layer),
        [
            ("Night pain".to_owned(), span_of(&text, pain)),
            ("Night pain".to_owned(), span_of(&text, routine)),
        ],
        "Ana's layer, in code points"
    );
    assert_eq!(
        passages(&ben_layer),
        [("Helplessness".to_owned(), span_of(&text, helped))],
        "Ben's layer, in code points"
    );
    let stored: Vec<(uuid::Uuid, i32, i32)> = sqlx::query_as(
        "select coder_id, start_offset, end_offset from codings
          where transcript_id = $1 and deleted_at is null order by start_offset",
    )
    .bind(transcript.parse::<uuid::Uuid>().expect("uuid"))
    .fetch_all(&app.pool)
    .await
    .expect("codings");
    let coders: Vec<uuid::Uuid> = stored.iter().map(|(coder, _, _)| *coder).collect();
    assert_eq!(coders, [ana.id.0, ben.id.0, ana.id.0]);

    // Each browser shows its own layer and nothing of the other's.
    for (browser, layer, count) in [
        (&ana_browser, &ana_layer, "2"),
        (&ben_browser, &ben_layer, "1"),
    ] {
        assert_eq!(shown_codings(browser).await, ids(layer));
        assert_eq!(browser.texts(".code-item .code-count").await, [count]);
    }
    assert_eq!(
        ana_browser.texts(".code-item .code-name").await,
        ["Night pain"]
    );
    assert_eq!(
        ben_browser.texts(".code-item .code-name").await,
        ["Helplessness"]
    );

    ana_browser.refresh().await.expect("reload");
    ana_browser.element(READY).await;
    ana_browser
        .wait_until("Ana's codings after a reload", &highlights(2))
        .await;
    assert_eq!(shown_codings(&ana_browser).await, ids(&ana_layer));
    assert_eq!(ana_browser.texts(".code-item .code-count").await, ["2"]);

    for (browser, user) in [(&ana_browser, &ana), (&ben_browser, &ben)] {
        submit_layer(browser).await;
        let data: Value = user.get(&layer).await.json().await.expect("json");
        assert_eq!(data["assignment"]["state"], "submitted", "{}", user.email);
        assert_eq!(data["assignment"]["can_edit"], false);
    }
    assert_eq!(layer_of(&ana, &layer).await, ana_layer, "kept as coded");
    assert_eq!(layer_of(&ben, &layer).await, ben_layer, "kept as coded");
}

async fn import_and_assign(project: &TestProject<'_>, coders: &[&TestUser]) -> String {
    import_text_and_assign(project, coders, "P01.txt", INTERVIEW).await
}

async fn import_text_and_assign(
    project: &TestProject<'_>,
    coders: &[&TestUser],
    file: &str,
    text: &str,
) -> String {
    let transcript = project.import_text(file, text).await;
    let user_ids: Vec<_> = coders.iter().map(|coder| coder.id).collect();
    let response = project
        .owner
        .post_json(
            &project.api("/assignments"),
            &json!({ "transcript_ids": [transcript], "user_ids": user_ids }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    transcript
}

/// Submits the coding page's layer with its button, confirming the prompt.
async fn submit_layer(browser: &Browser) {
    browser
        .element("#submit-layer")
        .await
        .click()
        .await
        .expect("submit");
    browser.accept_alert().await.expect("confirming the submit");
    browser
        .element("#layer-state[data-state=\"submitted\"]")
        .await;
}

/// `[start, end)` of `phrase` in `text`, in code points.
fn span_of(text: &str, phrase: &str) -> (i64, i64) {
    let byte = text.find(phrase).expect("the phrase is in the text");
    let start = text[..byte].chars().count() as i64;
    (start, start + phrase.chars().count() as i64)
}

/// Selects `phrase` and codes it `name` through the code picker (a new code or
/// an existing one), then waits until the page has saved `total` codings.
async fn code_passage(browser: &Browser, text: &str, phrase: &str, name: &str, total: usize) {
    let (start, end) = span_of(text, phrase);
    let selected = browser
        .execute_async(SELECT, vec![json!(start), json!(end)])
        .await
        .expect("selecting text");
    assert_eq!(selected, json!(phrase));
    browser
        .element("#code-picker:not([hidden]) #code-picker-input")
        .await
        .send_keys(&format!("{name}{}", char::from(Key::Enter)))
        .await
        .expect("typing a code name");
    let saved = format!(
        "{}[.//*[@id='save-state' and normalize-space() = 'All changes saved']]",
        highlights(total)
    );
    browser
        .wait_until(&format!("{total} saved codings"), &saved)
        .await;
}

/// XPath: the page shows exactly `n` highlights, none of them still unsaved.
fn highlights(n: usize) -> String {
    let class = |c: &str| format!("contains(concat(' ', normalize-space(@class), ' '), ' {c} ')");
    format!(
        "//body[count(.//*[@id='coding-text']//span[{} and not({})]) = {n}]",
        class("coding-hl"),
        class("pending")
    )
}

/// One coding: its id, its code's name and its `(start, end)`.
type Coded = (String, String, (i64, i64));

/// A layer as the API gives it, in text order.
async fn layer_of(user: &TestUser, layer: &str) -> Vec<Coded> {
    let data: Value = user.get(layer).await.json().await.expect("json");
    let names: BTreeMap<&str, &str> = data["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("id"),
                c["name"].as_str().expect("name"),
            )
        })
        .collect();
    let mut codings: Vec<_> = data["codings"]
        .as_array()
        .expect("codings")
        .iter()
        .collect();
    codings.sort_by_key(|c| c["start"].as_i64());
    codings
        .into_iter()
        .map(|c| {
            let name = names[c["code_id"].as_str().expect("code id")].to_owned();
            let span = (
                c["start"].as_i64().expect("start"),
                c["end"].as_i64().expect("end"),
            );
            (c["id"].as_str().expect("id").to_owned(), name, span)
        })
        .collect()
}

fn ids(layer: &[Coded]) -> BTreeSet<String> {
    layer.iter().map(|(id, _, _)| id.clone()).collect()
}

fn passages(layer: &[Coded]) -> Vec<(String, (i64, i64))> {
    layer
        .iter()
        .map(|(_, name, span)| (name.clone(), *span))
        .collect()
}

async fn shown_codings(browser: &Browser) -> BTreeSet<String> {
    browser
        .attrs(".coding-hl[data-coding-id]", "data-coding-id")
        .await
        .into_iter()
        .collect()
}

#[tokio::test]
async fn the_leads_progress_table_follows_coding_live() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let coder = project.member(Role::Coder).await;
    let transcript = import_and_assign(&project, &[&coder]).await;
    let browser = Browser::open(&app).await;
    browser.sign_in(&project.owner.email, PASSWORD).await;
    browser.visit(&project.path("")).await;
    browser.element("#assignment-list tr.assignment").await;
    assert_eq!(
        browser.texts("#assignment-list td.state").await,
        ["assigned"]
    );
    assert_eq!(browser.texts("#assignment-list td.progress").await, ["0%"]);

    // The coder codes from elsewhere; the open dashboard updates by itself.
    let code = uuid::Uuid::new_v4();
    let response = coder
        .post_json(
            &project.api("/codes"),
            &json!({ "id": code, "name": "families" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let (start, end) = span_of(INTERVIEW, INTERVIEW.lines().next().expect("a line"));
    let coding = json!({ "id": uuid::Uuid::new_v4(), "code_id": code, "start": start, "end": end });
    let path = project.api(&format!("/transcripts/{transcript}/codings"));
    assert_eq!(
        coder.post_json(&path, &coding).await.status(),
        StatusCode::CREATED
    );
    browser
        .wait_until(
            "the state to change without a reload",
            "//table[@id='assignment-list']//td[contains(@class, 'state') and normalize-space() = 'in progress']",
        )
        .await;
    let progress = browser.texts("#assignment-list td.progress").await;
    assert_ne!(progress, ["0%"], "progress follows: {progress:?}");
}

const PUMP: &str = "Interviewer: Tell me about the pump.\n\
                    P02: The paperwork never ends.\n\
                    P02: Refills cost us a fortune, and the clinic is far away.\n\
                    P02: I worry about infection every single week.\n\
                    P02: My daughter helps me with everything now.\n\
                    P02: Nobody trained the ward nurses on the pump.";

/// The reconciliation page once its script has drawn the list.
const RECONCILE_READY: &str = "body[data-reconcile-ready=\"true\"]";

#[tokio::test]
async fn a_lead_resolves_every_discrepancy_with_the_keyboard() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let ana = project.member(Role::Coder).await;
    let ben = project.member(Role::Coder).await;
    let transcript = import_text_and_assign(&project, &[&ana, &ben], "P02.txt", PUMP).await;
    let coding_page = project.path(&format!("/transcripts/{transcript}/code"));
    let layer = project.api(&format!("/transcripts/{transcript}/coding"));
    let data: Value = ana.get(&layer).await.json().await.expect("json");
    let text = data["transcript"]["text"]
        .as_str()
        .expect("text")
        .to_owned();

    // The planned differences: an agreement, a boundary, one span each coder
    // alone coded, and one span under two different codes.
    let paperwork = "The paperwork never ends.";
    let cost_a = "Refills cost us a fortune, and the clinic";
    let cost_b = "Refills cost us a fortune, and the clinic is far away.";
    let infection = "I worry about infection every single week.";
    let daughter = "My daughter helps me with everything now.";
    let nurses = "Nobody trained the ward nurses on the pump.";
    let ana_browser = Browser::open(&app).await;
    let ben_browser = Browser::open(&app).await;
    for (browser, user) in [(&ana_browser, &ana), (&ben_browser, &ben)] {
        browser.sign_in(&user.email, PASSWORD).await;
        browser.visit(&coding_page).await;
        browser.element(READY).await;
    }
    code_passage(&ana_browser, &text, paperwork, "Paperwork", 1).await;
    code_passage(&ana_browser, &text, cost_a, "Cost", 2).await;
    code_passage(&ana_browser, &text, infection, "Infection", 3).await;
    code_passage(&ana_browser, &text, nurses, "Training", 4).await;
    code_passage(&ben_browser, &text, paperwork, "Admin burden", 1).await;
    code_passage(&ben_browser, &text, cost_b, "Money", 2).await;
    code_passage(&ben_browser, &text, daughter, "Family", 3).await;
    code_passage(&ben_browser, &text, nurses, "Staff gaps", 4).await;
    for browser in [&ana_browser, &ben_browser] {
        submit_layer(browser).await;
    }

    // The lead aligns the two codebooks.
    let view: Value = project
        .owner
        .get(&project.api("/alignment"))
        .await
        .json()
        .await
        .expect("json");
    let code_id = |name: &str| {
        view["codes"]
            .as_array()
            .expect("codes")
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("code {name}"))["id"]
            .clone()
    };
    for (agreed, codes) in [
        ("Administration", vec!["Paperwork", "Admin burden"]),
        ("Cost", vec!["Cost", "Money"]),
        ("Infection risk", vec!["Infection"]),
        ("Family support", vec!["Family"]),
        ("Training", vec!["Training"]),
        ("Staffing", vec!["Staff gaps"]),
    ] {
        let ids: Vec<Value> = codes.iter().map(|c| code_id(c)).collect();
        let response = project
            .owner
            .post_json(
                &project.api("/agreed-codes"),
                &json!({ "name": agreed, "code_ids": ids }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{agreed}");
    }

    // Ana follows the meeting on the same page, read only.
    let reconcile_page = project.path(&format!("/transcripts/{transcript}/reconcile"));
    ana_browser.visit(&reconcile_page).await;
    ana_browser.element(RECONCILE_READY).await;
    ana_browser.element("#read-only-note").await;
    assert!(
        ana_browser
            .texts("#decision-buttons button")
            .await
            .is_empty(),
        "coders do not decide"
    );

    // The lead resolves all four discrepancies from the keyboard.
    let lead_browser = Browser::open(&app).await;
    lead_browser.sign_in(&project.owner.email, PASSWORD).await;
    lead_browser
        .visit(&project.path(&format!("/transcripts/{transcript}/reconcile")))
        .await;
    lead_browser.element(RECONCILE_READY).await;
    let progress = |n: usize| {
        format!(
            "//*[@id='reconcile-progress' and starts-with(normalize-space(), '{n} of 4 discrepancies resolved')]"
        )
    };
    lead_browser
        .wait_until("nothing resolved yet", &progress(0))
        .await;
    // Coders are A and B in the order of their names.
    let shown: Value = project
        .owner
        .get(&project.api(&format!("/transcripts/{transcript}/reconciliation")))
        .await
        .json()
        .await
        .expect("json");
    let ana_is_a = shown["coders"][0]["id"] == json!(ana.id);
    let (ana_only, ben_only, ana_key, ben_key) = if ana_is_a {
        ("Coded by A only", "Coded by B only", "a", "b")
    } else {
        ("Coded by B only", "Coded by A only", "b", "a")
    };
    assert_eq!(
        lead_browser.texts("#discrepancy-list .item .what").await,
        [
            "Same code, different boundaries",
            ana_only,
            ben_only,
            "Same span, different codes"
        ]
    );
    assert_eq!(
        lead_browser.texts("#agreement-list .item").await.len(),
        1,
        "the agreement is listed apart"
    );
    let keys = lead_browser.element("#reconcile-text").await;
    let selected = |line: usize| {
        format!("//li[contains(@class, 'sel')]/span[@class='where' and text()='L{line}']")
    };
    lead_browser
        .wait_until("the first open discrepancy", &selected(3))
        .await;
    keys.send_keys("j").await.expect("j");
    lead_browser.wait_until("j moves down", &selected(4)).await;
    keys.send_keys("k").await.expect("k");
    lead_browser.wait_until("k moves up", &selected(3)).await;
    keys.send_keys("u").await.expect("union");
    lead_browser.wait_until("the union", &progress(1)).await;
    lead_browser
        .wait_until("the next open one", &selected(4))
        .await;
    keys.send_keys(ana_key).await.expect("accept Ana's");
    lead_browser.wait_until("accept Ana's", &progress(2)).await;
    lead_browser
        .wait_until("the next open one", &selected(5))
        .await;
    lead_browser
        .element("#rationale")
        .await
        .send_keys("Family help is context here, not a finding.")
        .await
        .expect("typing a reason");
    keys.click().await.expect("back to the text");
    keys.send_keys("x").await.expect("reject");
    lead_browser.wait_until("reject", &progress(3)).await;
    lead_browser
        .wait_until("the next open one", &selected(6))
        .await;
    keys.send_keys(ben_key).await.expect("accept Ben's");
    let reconciled = "//*[@id='reconcile-progress' and normalize-space() = '4 of 4 discrepancies resolved · reconciled']";
    lead_browser.wait_until("all resolved", reconciled).await;

    // Ana's page followed live; her comment reaches the lead's page live.
    ana_browser
        .wait_until("the decisions, live on Ana's page", reconciled)
        .await;
    ana_browser
        .element("#discrepancy-list li[data-key]:last-child")
        .await
        .click()
        .await
        .expect("choosing the last discrepancy");
    ana_browser.wait_until("Ana's choice", &selected(6)).await;
    let remark = "I read the nurses line as staffing too.";
    ana_browser
        .element("#comment-body")
        .await
        .send_keys(remark)
        .await
        .expect("typing a comment");
    ana_browser
        .element("#comment-form button[type=submit]")
        .await
        .click()
        .await
        .expect("commenting");
    let shown = format!("//*[@id='comments']//li[contains(., '{remark}')]");
    ana_browser.wait_until("Ana's comment", &shown).await;
    lead_browser
        .wait_until("Ana's comment, live on the lead's page", &shown)
        .await;

    // The consensus layer is the planned result, and the reason is on the record.
    let data: Value = project
        .owner
        .get(&project.api(&format!("/transcripts/{transcript}/reconciliation")))
        .await
        .json()
        .await
        .expect("json");
    let consensus_layer = project.api(&format!("/consensus/transcripts/{transcript}/coding"));
    let consensus = passages(&layer_of(&project.owner, &consensus_layer).await);
    assert_eq!(
        consensus,
        [
            ("Administration".to_owned(), span_of(&text, paperwork)),
            ("Cost".to_owned(), span_of(&text, cost_b)),
            ("Infection risk".to_owned(), span_of(&text, infection)),
            ("Staffing".to_owned(), span_of(&text, nurses)),
        ]
    );
    let reject = data["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["line"] == 5)
        .expect("Ben's span on line 5");
    assert_eq!(reject["current"]["kind"], "reject");
    assert_eq!(
        reject["current"]["rationale"],
        "Family help is context here, not a finding."
    );
    assert_eq!(data["reconciled"], true);

    // The consensus layer opens in the coding page, where the lead edits it.
    lead_browser
        .visit(&project.path(&format!("/transcripts/{transcript}/consensus")))
        .await;
    lead_browser.element(READY).await;
    lead_browser
        .wait_until("the four consensus codings", &highlights(4))
        .await;
    assert_eq!(
        lead_browser.texts("#layer-state").await,
        ["editable by you"]
    );
    let pump = "Tell me about the pump.";
    code_passage(&lead_browser, &text, pump, "Device questions", 5).await;
    let layer: Value = project
        .owner
        .get(&project.api(&format!("/consensus/transcripts/{transcript}/coding")))
        .await
        .json()
        .await
        .expect("json");
    let added = layer["codings"]
        .as_array()
        .expect("codings")
        .iter()
        .find(|c| c["decision_id"].is_null())
        .expect("the lead's own consensus coding");
    assert_eq!(
        (added["start"].as_i64(), added["end"].as_i64()),
        (Some(span_of(&text, pump).0), Some(span_of(&text, pump).1))
    );
    assert!(
        layer["codes"]
            .as_array()
            .expect("codes")
            .iter()
            .any(|c| c["name"] == "Device questions" && c["id"] == added["code_id"]),
        "a new agreed code made from the picker"
    );

    // A coder who submitted reads it, and cannot edit it.
    ana_browser
        .visit(&project.path(&format!("/transcripts/{transcript}/consensus")))
        .await;
    ana_browser.element(READY).await;
    ana_browser
        .wait_until("the five consensus codings", &highlights(5))
        .await;
    assert_eq!(ana_browser.texts("#layer-state").await, ["read-only"]);

    // Ben's "Family" is mapped onto "Infection risk" after all: the rejected
    // discrepancy is open again, its outdated decision shown beside it.
    let family = code_id("Family");
    let path = project.api(&format!("/alignment/{}", family.as_str().unwrap()));
    let infection_risk = layer["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .find(|c| c["name"] == "Infection risk")
        .expect("the agreed code")["id"]
        .clone();
    let moved = project
        .owner
        .send_json(
            Method::PUT,
            &path,
            &json!({ "agreed_code_id": infection_risk }),
        )
        .await;
    assert!(moved.status().is_success(), "{}", moved.status());
    lead_browser.visit(&reconcile_page).await;
    lead_browser.element(RECONCILE_READY).await;
    lead_browser
        .wait_until(
            "open again",
            "//*[@id='reconcile-progress' and normalize-space() = '3 of 4 discrepancies resolved']",
        )
        .await;
    lead_browser
        .wait_until(
            "the outdated decision",
            "//*[@id='outdated-note' and contains(., 'Decided earlier as “Reject”')]",
        )
        .await;
    // Relabel offers the coders' own code first: `r`, then `1` for Ben's.
    let keys = lead_browser.element("#reconcile-text").await;
    keys.send_keys("r").await.expect("relabel");
    lead_browser
        .wait_until(
            "Ben's code offered",
            "//*[@id='code-choices']//button[contains(., \"B's code: Infection risk\")]",
        )
        .await;
    lead_browser
        .element("#code-choices button")
        .await
        .send_keys("1")
        .await
        .expect("choosing Ben's code");
    lead_browser
        .wait_until(
            "decided again",
            "//*[@id='reconcile-progress' and normalize-space() = '4 of 4 discrepancies resolved · reconciled']",
        )
        .await;
    let data: Value = project
        .owner
        .get(&project.api(&format!("/transcripts/{transcript}/reconciliation")))
        .await
        .json()
        .await
        .expect("json");
    let family_item = data["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["line"] == 5)
        .expect("Ben's span on line 5");
    assert_eq!(family_item["current"]["kind"], "relabel");
    assert_eq!(family_item["current"]["agreed_code_id"], infection_risk);
}

#[tokio::test]
async fn the_lead_reconciles_a_practice_interview_and_a_reviewer_reads_the_study() {
    let app = TestApp::spawn().await;
    let state = concord::state::AppState::new(app.pool.clone(), app.config.clone());
    let demo = concord::demo::create(&state).await.expect("the demo study");
    let browser = Browser::open(&app).await;
    browser
        .sign_in("lead@demo.concord", concord::demo::PASSWORD)
        .await;
    let practice = &demo.practice;
    browser
        .visit(&format!(
            "{}/transcripts/{}/reconcile",
            practice.path, practice.transcripts[0]
        ))
        .await;
    browser.element(RECONCILE_READY).await;
    let keys = browser.element("#reconcile-text").await;
    // The practice project is left to reconcile: the lead takes each open
    // discrepancy's first offered decision with its key until none is left.
    let mut rounds = 0;
    loop {
        let progress = browser.texts("#reconcile-progress").await.join("");
        let counts: Vec<usize> = progress
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let [resolved, total] = counts[..] else {
            panic!("progress reads {progress:?}")
        };
        if resolved == total {
            assert!(progress.ends_with("· reconciled"), "{progress}");
            break;
        }
        rounds += 1;
        assert!(rounds <= total, "no progress: {progress}");
        let key = browser
            .texts("#decision-buttons button kbd")
            .await
            .into_iter()
            .next()
            .expect("a decision to take");
        keys.send_keys(&key).await.expect("deciding");
        browser
            .wait_until(
                "the decision",
                &format!(
                    "//*[@id='reconcile-progress' and starts-with(normalize-space(), '{} of {total} ')]",
                    resolved + 1
                ),
            )
            .await;
    }
    assert!(rounds > 0, "the demo left something open");

    // Every transcript's count follows on the consensus codebook.
    browser.visit(&format!("{}/consensus", practice.path)).await;
    let counts: usize = browser
        .texts("#codebook-table td.codings")
        .await
        .iter()
        .map(|n| n.parse::<usize>().expect("a count"))
        .sum();
    let live: i64 = sqlx::query_scalar(
        "select count(*) from consensus_codings where project_id = $1 and deleted_at is null",
    )
    .bind(practice.project_id.0)
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(counts as i64, live);
    assert!(live > 0);

    // The reviewer reads the study's codebook and a consensus layer, and
    // cannot edit it.
    browser.sign_out().await;
    browser
        .sign_in("rita@demo.concord", concord::demo::PASSWORD)
        .await;
    browser.visit(&format!("{}/consensus", demo.path)).await;
    assert!(browser.texts("#codebook-table .codebook-row").await.len() >= 60);
    assert!(
        browser.texts(".codebook-edit").await.is_empty(),
        "reviewers do not edit"
    );
    browser
        .element("#consensus-layers a")
        .await
        .click()
        .await
        .expect("opening a consensus layer");
    browser.element(READY).await;
    browser
        .wait_until(
            "the consensus codings",
            "//body[count(.//*[@id='coding-text']//span[contains(concat(' ', normalize-space(@class), ' '), ' coding-hl ')]) > 0]",
        )
        .await;
    assert_eq!(browser.texts("#layer-state").await, ["read-only"]);
    for css in EDITING {
        assert!(!shown(&browser, css).await, "{css} is shown to a reviewer");
    }
}

/// The viewport box of the character at code point `cp` of the coding page's
/// text (as `SELECT` finds it), or, with a CSS selector instead, of that element.
const RECT: &str = r##"
const [what, done] = arguments;
requestAnimationFrame(() => requestAnimationFrame(() => {
  let r;
  if (typeof what === "string") {
    r = document.querySelector(what).getBoundingClientRect();
  } else {
    const rows = [...document.querySelectorAll("#coding-text .line[data-start]")];
    let row = rows[0];
    for (const x of rows) if (Number(x.dataset.start) <= what) row = x;
    const walker = document.createTreeWalker(row.querySelector(":scope > .text"), NodeFilter.SHOW_TEXT);
    let want = what - Number(row.dataset.start);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const chars = [...node.data];
      if (want < chars.length) {
        const range = document.createRange();
        const at = chars.slice(0, want).join("").length;
        range.setStart(node, at);
        range.setEnd(node, at + chars[want].length);
        r = range.getBoundingClientRect();
        break;
      }
      want -= chars.length;
    }
  }
  done({ left: r.left, right: r.right, top: r.top, bottom: r.bottom });
}));
"##;

#[derive(Debug, Clone, Copy)]
struct Rect {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Rect {
    fn middle(&self) -> f64 {
        (self.top + self.bottom) / 2.0
    }
}

async fn rect_of(browser: &Browser, what: Value) -> Rect {
    let r = browser
        .execute_async(RECT, vec![what.clone()])
        .await
        .unwrap_or_else(|e| panic!("the box of {what}: {e}"));
    let n = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} of {r}"));
    Rect {
        left: n("left"),
        right: n("right"),
        top: n("top"),
        bottom: n("bottom"),
    }
}

/// A real mouse drag (press, move in steps, release) between two viewport points.
async fn drag(browser: &Browser, from: (f64, f64), to: (f64, f64)) {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let step = std::time::Duration::from_millis(60);
    let mut mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveTo {
            duration: None,
            x: from.0,
            y: from.1,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        });
    for i in 1..=4 {
        let t = f64::from(i) / 4.0;
        mouse = mouse.then(PointerAction::MoveTo {
            duration: Some(step),
            x: from.0 + (to.0 - from.0) * t,
            y: from.1 + (to.1 - from.1) * t,
        });
    }
    mouse = mouse.then(PointerAction::Up {
        button: MOUSE_BUTTON_LEFT,
    });
    browser.perform_actions(mouse).await.expect("dragging");
    browser
        .release_actions()
        .await
        .expect("releasing the mouse");
}

/// A click at a viewport point.
async fn click_at(browser: &Browser, x: f64, y: f64) {
    drag(browser, (x, y), (x, y)).await;
}

/// XPath: every change is saved.
const SAVED: &str = "//*[@id='save-state' and normalize-space() = 'All changes saved']";

/// A coder with one transcript assigned, on its coding page.
async fn coding_page_of_one_coder(app: &TestApp) -> (Browser, TestUser, String, String) {
    let project = app.project().await;
    let ana = project.member(Role::Coder).await;
    let transcript = import_and_assign(&project, &[&ana]).await;
    let layer = project.api(&format!("/transcripts/{transcript}/coding"));
    let data: Value = ana.get(&layer).await.json().await.expect("json");
    let text = data["transcript"]["text"]
        .as_str()
        .expect("text")
        .to_owned();
    let browser = Browser::open(app).await;
    browser.sign_in(&ana.email, PASSWORD).await;
    browser
        .visit(&project.path(&format!("/transcripts/{transcript}/code")))
        .await;
    browser.element(READY).await;
    (browser, ana, layer, text)
}

#[tokio::test]
async fn a_drag_from_a_new_codings_first_word_selects_text_and_only_its_handle_moves_its_start() {
    let app = TestApp::spawn().await;
    let (browser, ana, layer, text) = coding_page_of_one_coder(&app).await;
    let pain = "pain was worse at night";
    code_passage(&browser, &text, pain, "Night pain", 1).await;
    let coded = vec![("Night pain".to_owned(), span_of(&text, pain))];
    browser.element(".hl-handle.start:not([hidden])").await;

    // Right after coding, a drag from the coding's first letter to the end of
    // "worse" selects that text: it does not move the coding's start.
    let (start, _) = span_of(&text, pain);
    let first = rect_of(&browser, json!(start)).await;
    let worse = rect_of(&browser, json!(span_of(&text, "worse").1 - 1)).await;
    drag(
        &browser,
        (first.left + 2.0, first.middle()),
        (worse.right - 1.0, worse.middle()),
    )
    .await;
    browser
        .wait_until(
            "the picker for the new selection",
            "//*[@id='code-picker' and not(@hidden)]//*[@id='code-picker-quote' and normalize-space() = '“pain was worse”']",
        )
        .await;
    browser.wait_until("nothing to save", SAVED).await;
    assert_eq!(passages(&layer_of(&ana, &layer).await), coded, "unchanged");
    browser
        .element("#code-picker-input")
        .await
        .send_keys(&char::from(Key::Escape).to_string())
        .await
        .expect("closing the picker");

    // The handle itself (its knob above the line) moves the start, and says so.
    let worse = rect_of(&browser, json!(span_of(&text, "worse").0)).await;
    click_at(&browser, worse.left + 3.0, worse.middle()).await;
    browser.element(".hl-handle.start:not([hidden])").await;
    let handle = rect_of(&browser, json!(".hl-handle.start")).await;
    let was = rect_of(&browser, json!(span_of(&text, "was").0)).await;
    drag(
        &browser,
        (handle.left + 5.0, handle.top - 5.0),
        (was.left + 1.0, was.middle()),
    )
    .await;
    browser
        .wait_until(
            "the move, announced",
            "//*[@id='announcer' and starts-with(normalize-space(), 'Start moved: “was worse at night”')]",
        )
        .await;
    browser
        .wait_until(
            "a toast offering to undo it",
            "//*[@id='toasts']/*[contains(., 'Moved the start of a coding of “Night pain”') and .//button[normalize-space() = 'Undo']]",
        )
        .await;
    browser.wait_until("the move saved", SAVED).await;
    let (_, end) = span_of(&text, pain);
    assert_eq!(
        passages(&layer_of(&ana, &layer).await),
        [(
            "Night pain".to_owned(),
            (span_of(&text, "was worse at night").0, end)
        )]
    );

    // And it is undone like any other change.
    browser
        .element("#coding-text")
        .await
        .send_keys(&format!(
            "{}z{}",
            char::from(Key::Control),
            char::from(Key::Null)
        ))
        .await
        .expect("Ctrl+Z");
    browser
        .wait_until(
            "the undo",
            "//*[@id='announcer' and starts-with(normalize-space(), 'Undone: move the boundaries')]",
        )
        .await;
    browser.wait_until("the undo saved", SAVED).await;
    assert_eq!(passages(&layer_of(&ana, &layer).await), coded, "undone");
    assert!(
        browser
            .texts("#toasts > *")
            .await
            .iter()
            .all(|t| !t.contains("Moved the start")),
        "the toast offering to undo the move is gone"
    );
}

/// XPath: the selected coding's quote in the panel reads `quote`.
fn panel_quote(quote: &str) -> String {
    format!("//*[@id='coding-quote' and normalize-space() = '“{quote}”']")
}

#[tokio::test]
async fn keyboard_selections_and_boundary_nudges_stay_within_the_text_of_a_turn() {
    let app = TestApp::spawn().await;
    let (browser, ana, layer, text) = coding_page_of_one_coder(&app).await;
    let keys = browser.element("#coding-text").await;
    let (shift, ctrl, null) = (
        char::from(Key::Shift),
        char::from(Key::Control),
        char::from(Key::Null),
    );
    let word_right = format!("{shift}{ctrl}{}{null}", char::from(Key::Right));

    // From the end of the first line, a word to the right reaches only the next
    // speaker's label: nothing to code.
    keys.send_keys(&char::from(Key::End).to_string())
        .await
        .expect("End");
    keys.send_keys(&word_right).await.expect("Shift+Ctrl+Right");
    browser
        .wait_until(
            "the caret after the label",
            "//*[@id='caret-info' and starts-with(normalize-space(), 'Line 2')]",
        )
        .await;
    assert!(
        !browser
            .element("#code-picker")
            .await
            .is_displayed()
            .await
            .expect("displayed"),
        "no picker for a label: {:?}",
        browser.texts("#code-picker-quote").await
    );
    // One more word: the selection is that word, without the newline and the label.
    keys.send_keys(&word_right).await.expect("Shift+Ctrl+Right");
    browser
        .wait_until(
            "the picker for the first word of the turn",
            "//*[@id='code-picker' and not(@hidden)]//*[@id='code-picker-quote' and normalize-space() = '“The”']",
        )
        .await;
    browser
        .element("#code-picker-input")
        .await
        .send_keys(&format!("Opening{}", char::from(Key::Enter)))
        .await
        .expect("naming the code");
    browser.wait_until("the coding saved", &highlights(1)).await;
    browser.wait_until("the coding saved", SAVED).await;
    assert_eq!(
        passages(&layer_of(&ana, &layer).await),
        [("Opening".to_owned(), span_of(&text, "The"))]
    );

    // Nudges of a coding at the end of a turn stop at the turn's text, and
    // each nudge is undone by the opposite one.
    let pain = "pain was worse at night";
    code_passage(&browser, &text, pain, "Night pain", 2).await;
    browser.wait_until("selected", &panel_quote(pain)).await;
    for (key, quote) in [
        ("}", "pain was worse at night."),
        ("}", "pain was worse at night."),
        ("{", "pain was worse at night"),
        ("{", "pain was worse at"),
        ("}", "pain was worse at night"),
        ("]", "was worse at night"),
        ("[", "pain was worse at night"),
        ("[", "The pain was worse at night"),
        ("[", "The pain was worse at night"),
        ("]", "pain was worse at night"),
    ] {
        keys.send_keys(key).await.expect("a nudge");
        browser
            .wait_until(&format!("{key} to “{quote}”"), &panel_quote(quote))
            .await;
    }
    browser.wait_until("the nudges saved", SAVED).await;
    assert_eq!(
        passages(&layer_of(&ana, &layer).await),
        [
            ("Opening".to_owned(), span_of(&text, "The")),
            ("Night pain".to_owned(), span_of(&text, pain)),
        ]
    );
}

#[tokio::test]
async fn an_undo_toast_disappears_once_its_change_is_undone() {
    let app = TestApp::spawn().await;
    let (browser, ana, layer, text) = coding_page_of_one_coder(&app).await;
    let pain = "pain was worse at night";
    code_passage(&browser, &text, pain, "Night pain", 1).await;
    let keys = browser.element("#coding-text").await;
    keys.send_keys(&char::from(Key::Delete).to_string())
        .await
        .expect("Delete");
    let toast = "//*[@id='toasts']/*[contains(., 'Deleted a coding of “Night pain”')]";
    browser.wait_until("the toast", toast).await;
    browser.wait_until("the delete saved", &highlights(0)).await;
    browser.wait_until("the delete saved", SAVED).await;
    keys.send_keys(&format!(
        "{}z{}",
        char::from(Key::Control),
        char::from(Key::Null)
    ))
    .await
    .expect("Ctrl+Z");
    browser.wait_until("the coding back", &highlights(1)).await;
    browser.wait_until("the restore saved", SAVED).await;
    assert_eq!(layer_of(&ana, &layer).await.len(), 1);
    assert!(
        browser
            .client
            .find(fantoccini::Locator::XPath(toast))
            .await
            .is_err(),
        "the toast offering to undo the delete is gone"
    );
}

/// Whether any element matching `css` is shown.
async fn shown(browser: &Browser, css: &str) -> bool {
    for element in browser
        .client
        .find_all(fantoccini::Locator::Css(css))
        .await
        .expect("find_all")
    {
        if element.is_displayed().await.expect("displayed") {
            return true;
        }
    }
    false
}

/// Controls that edit a layer; a read-only view shows none of them.
const EDITING: [&str; 8] = [
    "#undo",
    "#redo",
    ".code-more",
    "#coding-delete",
    "#coding-recode",
    "[data-nudge]",
    ".hl-handle",
    ".picker-hint",
];

#[tokio::test]
async fn a_submitted_layer_shows_no_editing_controls_or_hints() {
    let app = TestApp::spawn().await;
    let (browser, _ana, _layer, text) = coding_page_of_one_coder(&app).await;
    let pain = "pain was worse at night";
    code_passage(&browser, &text, pain, "Night pain", 1).await;
    assert!(shown(&browser, "#undo").await, "an editable layer can undo");
    submit_layer(&browser).await;
    browser.refresh().await.expect("reload");
    browser.element(READY).await;
    browser.wait_until("the coding", &highlights(1)).await;
    let worse = rect_of(&browser, json!(span_of(&text, "worse").0)).await;
    click_at(&browser, worse.left + 3.0, worse.middle()).await;
    browser.wait_until("selected", &panel_quote(pain)).await;
    for css in EDITING {
        assert!(!shown(&browser, css).await, "{css} is shown");
    }
    let hint = browser.texts("#caret-info").await.join(" ");
    assert!(!hint.contains("code name"), "an editing hint: {hint}");
    let memo = browser.element("#coding-memo").await;
    assert_eq!(
        memo.attr("placeholder").await.expect("placeholder"),
        None,
        "no invitation to write"
    );
}

/// Where the agreement table's headings end, and whether its scroll box hides
/// anything, in the page's own pixels.
const TABLE_FIT: &str = r#"
const table = document.getElementById("agreement-table");
const box = table.closest(".table-scroll");
const columns = Array.from(table.tHead.rows[0].cells).map((th) => ({
  text: th.textContent.trim(),
  right: th.getBoundingClientRect().right,
}));
return {
  viewport: document.documentElement.clientWidth,
  scroll_width: box.scrollWidth,
  client_width: box.clientWidth,
  columns,
};
"#;

#[tokio::test]
async fn the_agreement_tables_statistics_fit_a_1440_pixel_wide_window() {
    let app = TestApp::spawn().await;
    let state = concord::state::AppState::new(app.pool.clone(), app.config.clone());
    let demo = concord::demo::create(&state).await.expect("the demo study");
    let browser = Browser::open(&app).await;
    browser
        .set_window_size(1440, 900)
        .await
        .expect("resizing the window");
    browser
        .sign_in("lead@demo.concord", concord::demo::PASSWORD)
        .await;
    // Lines; and paragraphs, one per demo transcript, whose values are all marked.
    for level in ["line", "paragraph"] {
        browser
            .visit(&format!("{}/agreement?level={level}", demo.path))
            .await;
        browser.element("#agreement-table").await;
        if level == "paragraph" {
            browser.element("#units-warning").await;
            assert!(!browser.texts("#agreement-table td.marked").await.is_empty());
        }
        let fit = browser
            .execute(TABLE_FIT, Vec::new())
            .await
            .expect("measuring the table");
        let viewport = fit["viewport"].as_f64().expect("viewport width");
        assert!(viewport <= 1440.0, "{fit}");
        let right = |heading: &str| {
            fit["columns"]
                .as_array()
                .expect("columns")
                .iter()
                .find(|c| c["text"] == heading)
                .and_then(|c| c["right"].as_f64())
                .unwrap_or_else(|| panic!("no {heading} column in {fit}"))
        };
        for heading in ["Cohen κ", "BP κ", "α", "AC1", "|uα"] {
            assert!(
                right(heading) <= viewport,
                "{level}: {heading} ends at {} of {viewport} px",
                right(heading)
            );
        }
        assert!(
            fit["scroll_width"].as_f64() <= fit["client_width"].as_f64(),
            "{level}: the table scrolls sideways: {fit}"
        );
    }
}

/// A new code of `user`'s with one coding on `phrase` of `text`, through the API.
async fn code_by_api(
    project: &TestProject<'_>,
    user: &TestUser,
    transcript: &str,
    text: &str,
    phrase: &str,
    name: &str,
) -> String {
    let code = uuid::Uuid::new_v4().to_string();
    let response = user
        .post_json(&project.api("/codes"), &json!({ "id": code, "name": name }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let (start, end) = span_of(text, phrase);
    let coding = json!({ "id": uuid::Uuid::new_v4(), "code_id": code, "start": start, "end": end });
    let response = user
        .post_json(
            &project.api(&format!("/transcripts/{transcript}/codings")),
            &coding,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    code
}

async fn assignment_state(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("select state from assignments where id = $1::uuid")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("assignment state")
}

#[tokio::test]
async fn reopening_a_layer_asks_first_and_its_reconciliation_is_then_read_only() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let ana = project.member(Role::Coder).await;
    let ben = project.member(Role::Coder).await;
    let transcript = import_and_assign(&project, &[&ana, &ben]).await;
    for (user, phrase, name) in [
        (&ana, "The pain was worse at night.", "Night pain"),
        (&ben, "Nothing really helped", "Helplessness"),
    ] {
        let code = code_by_api(&project, user, &transcript, INTERVIEW, phrase, name).await;
        let submit = project.api(&format!("/transcripts/{transcript}/submit"));
        assert_eq!(
            user.post_json(&submit, &json!({})).await.status(),
            StatusCode::OK
        );
        let response = project
            .owner
            .post_json(
                &project.api("/agreed-codes"),
                &json!({ "name": name, "code_ids": [code] }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let assignments: Value = project
        .owner
        .get(&project.api("/assignments"))
        .await
        .json()
        .await
        .expect("assignments");
    let bens = assignments
        .as_array()
        .expect("assignments")
        .iter()
        .find(|a| a["user_id"] == ben.id.to_string())
        .expect("Ben's assignment")["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let browser = Browser::open(&app).await;
    browser.sign_in(&project.owner.email, PASSWORD).await;
    browser.visit(&project.path("")).await;
    let row = format!("//tr[@data-assignment-id='{bens}']");
    browser
        .client
        .find(fantoccini::Locator::XPath(&format!(
            "{row}//*[(self::summary or self::button) and starts-with(normalize-space(), 'Reopen')]"
        )))
        .await
        .expect("the row's Reopen control")
        .click()
        .await
        .expect("clicking Reopen");
    // It asks first, saying what happens to the reconciliation; nothing changed yet.
    let confirm = browser
        .element(&format!(
            "tr[data-assignment-id=\"{bens}\"] .reopen-confirm"
        ))
        .await;
    assert!(confirm.is_displayed().await.unwrap());
    let says = confirm.text().await.unwrap();
    assert!(
        says.contains("reconciliation") && says.contains("read-only") && says.contains("kept"),
        "{says}"
    );
    assert_eq!(assignment_state(&app, &bens).await, "submitted");
    confirm
        .find(fantoccini::Locator::Css("button[type=submit]"))
        .await
        .expect("the confirming button")
        .click()
        .await
        .expect("confirming");
    browser
        .wait_until(
            "the layer reopened",
            &format!("{row}/td[contains(@class, 'state') and normalize-space() = 'in progress']"),
        )
        .await;
    assert_eq!(assignment_state(&app, &bens).await, "in_progress");

    // The reconciliation page is read-only meanwhile, and says why.
    browser
        .visit(&project.path(&format!("/transcripts/{transcript}/reconcile")))
        .await;
    let notice = browser
        .element("#paused-notice")
        .await
        .text()
        .await
        .unwrap();
    let ben_name = ben.email.split('@').next().unwrap();
    assert!(
        notice.contains(ben_name) && notice.contains("reopened"),
        "{notice}"
    );
    assert!(browser.texts("#decision-buttons").await.is_empty());
    assert_eq!(browser.texts("#reconcile-text .line").await.len(), 4);
}

/// For every element matching `arguments[0]`: its text, the number of lines it
/// is laid out on, and whether its text would fit on one line of its container
/// (`arguments[1]`, the closest ancestor matching it).
const LINES: &str = r##"
const [css, container] = arguments;
return [...document.querySelectorAll(css)].map((el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
  const probe = document.createElement("span");
  probe.style.whiteSpace = "nowrap";
  probe.style.font = getComputedStyle(el).font;
  probe.textContent = el.textContent;
  document.body.appendChild(probe);
  const natural = probe.getBoundingClientRect().width;
  probe.remove();
  const box = el.closest(container);
  const room = box.clientWidth - parseFloat(getComputedStyle(box).paddingLeft) - parseFloat(getComputedStyle(box).paddingRight);
  return { text: el.textContent.trim(), lines: tops.size, fits: natural <= room };
});
"##;

async fn lines_of(browser: &Browser, css: &str, container: &str) -> Vec<Value> {
    let measured = browser
        .execute(LINES, vec![json!(css), json!(container)])
        .await
        .expect("measuring lines");
    let rows = measured.as_array().expect("a list").clone();
    assert!(!rows.is_empty(), "nothing matches {css}");
    rows
}

#[tokio::test]
async fn the_demo_passwords_on_the_sign_in_page_stay_on_one_line() {
    let app = TestApp::spawn().await;
    let state = concord::state::AppState::new(app.pool.clone(), app.config.clone());
    concord::demo::create(&state).await.expect("the demo study");
    let browser = Browser::open(&app).await;
    for width in [1280, 800] {
        browser
            .set_window_size(width, 900)
            .await
            .expect("resizing the window");
        browser.visit("/login").await;
        browser.element(".demo-accounts").await;
        for cell in lines_of(&browser, ".demo-accounts td code", ".demo-accounts").await {
            assert_eq!(cell["lines"], 1, "at {width} px: {cell}");
        }
    }
}

#[tokio::test]
async fn participant_attributes_that_fit_the_panel_are_not_wrapped() {
    let app = TestApp::spawn().await;
    let state = concord::state::AppState::new(app.pool.clone(), app.config.clone());
    let demo = concord::demo::create(&state).await.expect("the demo study");
    let browser = Browser::open(&app).await;
    browser
        .sign_in("owner@demo.concord", concord::demo::PASSWORD)
        .await;
    // The first five interviews hold every role, the longest values among them.
    for transcript in &demo.transcripts[..5] {
        browser
            .visit(&format!("{}/transcripts/{transcript}", demo.path))
            .await;
        browser.element("dl.attributes").await;
        for css in ["dl.attributes dt", "dl.attributes dd"] {
            for item in lines_of(&browser, css, "aside").await {
                if item["fits"] == true {
                    assert_eq!(item["lines"], 1, "{item}");
                }
            }
        }
    }
}

/// Every coded run of the transcript page: its colour as drawn, the colour
/// its code has, and whether its line's code tags sit beside the text.
const CODED_RUNS: &str = r#"
const hex = (h) => { const n = parseInt(h.slice(1), 16); return `rgb(${n >> 16}, ${(n >> 8) & 255}, ${n & 255})`; };
return Array.from(document.querySelectorAll("mark.coded")).map((m) => {
  const line = m.closest(".line");
  const tags = line.querySelector(".code-tags");
  const text = line.querySelector(".text").getBoundingClientRect();
  return {
    drawn: getComputedStyle(m).borderBottomColor,
    code: hex(m.dataset.color),
    beside: !tags || tags.getBoundingClientRect().left >= text.right - 1,
  };
});
"#;

#[tokio::test]
async fn the_transcript_page_switches_between_layers_drawn_in_their_codes_colours() {
    let app = TestApp::spawn().await;
    let state = concord::state::AppState::new(app.pool.clone(), app.config.clone());
    let demo = concord::demo::create(&state).await.expect("the demo study");
    let browser = Browser::open(&app).await;
    browser
        .sign_in("owner@demo.concord", concord::demo::PASSWORD)
        .await;
    browser
        .visit(&format!(
            "{}/transcripts/{}",
            demo.path, demo.transcripts[0]
        ))
        .await;
    let keys = browser.attrs("#layer-switch a", "data-layer").await;
    assert!(keys.len() >= 3, "text, consensus and coders: {keys:?}");
    let mut drawn = 0;
    for key in keys {
        browser
            .element(&format!("#layer-switch a[data-layer='{key}']"))
            .await
            .click()
            .await
            .expect("choosing a layer");
        browser
            .element(&format!("#layer-switch a.current[data-layer='{key}']"))
            .await;
        let runs = browser
            .execute(CODED_RUNS, vec![])
            .await
            .expect("measuring coded runs");
        let runs = runs.as_array().expect("a list");
        if key == "none" {
            assert!(runs.is_empty(), "the text alone shows no codings");
        }
        for run in runs {
            assert_eq!(run["drawn"], run["code"], "{key}: {run}");
            assert_eq!(run["beside"], true, "{key}: {run}");
        }
        drawn += runs.len();
    }
    assert!(
        drawn > 0,
        "some layer of the demo's first interview has codings"
    );
}
