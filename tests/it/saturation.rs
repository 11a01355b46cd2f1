//! The saturation page and its JSON twin over a small reconciled study, its
//! figures checked against values computed by hand.

use concord::projects::model::Role;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, html, select_texts};
use crate::themes::{Study, study};

pub async fn expect(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

pub const P03: &str = "P03: Infection scares the patients.\nP03: We lack time for everything.";

pub fn span(text: &str, phrase: &str) -> (usize, usize) {
    let byte = text.find(phrase).expect(phrase);
    let start = text[..byte].chars().count();
    (start, start + phrase.chars().count())
}

/// The themes study (P01 nurse of 10 years: Infection, Cost, Training; P02
/// oncologist of 25: Infection, Cost, Guidelines) and a third transcript, P03
/// (a nurse of 5 years, nobody assigned), which the owner codes in the
/// consensus layer directly: Infection on "Infection scares the patients" and
/// Unused on "the patients. P03: We" (the two overlap). P01 also gets a second
/// Training coding on "Infection" (inside its Infection coding). Themes: Risks
/// holds Infection, and its subcategory Costs holds Cost.
pub struct Three<'a> {
    pub s: Study<'a>,
    pub p03: String,
    pub risks: String,
    pub costs: String,
}

pub async fn three(app: &TestApp) -> Three<'_> {
    let s = study(app).await;
    let owner = &s.project.owner;
    let participant = expect(
        owner
            .post_json(
                &s.project.api("/participants"),
                &json!({ "label": "P03", "values": { "Role": "Nurse", "Experience": "5" } }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let p03 = s.project.import_text("P03.txt", P03).await;
    let current = expect(
        owner
            .get(&s.project.api(&format!("/transcripts/{p03}")))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        owner
            .patch_json(
                &s.project.api(&format!("/transcripts/{p03}")),
                &json!({ "participant_id": participant["id"], "version": current["version"] }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let p01_text = "P01: Infection is the big risk for us.\nP01: The pump costs a lot.\nP01: Training is missing on the ward.";
    for (transcript, text, phrase, code) in [
        (&p03, P03, "Infection scares the patients", "Infection"),
        (&p03, P03, "the patients.\nP03: We", "Unused"),
        (&s.transcripts[0], p01_text, "Infection", "Training"),
    ] {
        let (start, end) = span(text, phrase);
        expect(
            owner
                .post_json(
                    &s.project
                        .api(&format!("/consensus/transcripts/{transcript}/codings")),
                    &json!({ "id": Uuid::new_v4(), "code_id": s.agreed[code], "start": start, "end": end }),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let refs = s.refs(&["Infection"]).await;
    let risks = s.node(json!({ "name": "Risks", "codes": refs })).await;
    let refs = s.refs(&["Cost"]).await;
    let costs = s
        .node(json!({ "name": "Costs", "parent_id": risks["id"], "codes": refs }))
        .await;
    Three {
        p03,
        risks: risks["id"].as_str().unwrap().to_owned(),
        costs: costs["id"].as_str().unwrap().to_owned(),
        s,
    }
}

impl Three<'_> {
    pub async fn saturation(&self, query: &str) -> Value {
        expect(
            self.s
                .project
                .owner
                .get(&self.s.project.api(&format!("/saturation?{query}")))
                .await,
            StatusCode::OK,
        )
        .await
    }
}

fn column(v: &Value, key: &str) -> Vec<Value> {
    v["transcripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t[key].clone())
        .collect()
}

#[tokio::test]
async fn new_codes_per_transcript_the_method_and_every_order_match_the_hand_computed_values() {
    let app = TestApp::spawn().await;
    let t = three(&app).await;

    // Import order P01, P02, P03:
    //   P01 {Infection, Cost, Training}  new 3, cumulative 3
    //   P02 {Infection, Cost, Guidelines} new 1 (Guidelines), cumulative 4
    //   P03 {Infection, Unused}           new 1 (Unused), cumulative 5
    // Base 1 (3 codes), run 1, 40 %: run 2 adds 1, 1/3 = 33.3 % <= 40 %: reached at 2.
    let v = t.saturation("base=1&run=1&threshold=40").await;
    assert_eq!(
        column(&v, "participant"),
        [json!("P01"), json!("P02"), json!("P03")]
    );
    assert_eq!(column(&v, "new"), [json!(3), json!(1), json!(1)]);
    assert_eq!(column(&v, "cumulative"), [json!(3), json!(4), json!(5)]);
    assert_eq!(v["transcripts"][1]["new_codes"], json!(["Guidelines"]));
    assert_eq!(v["total_codes"], 5);
    assert_eq!(v["quiet_tail"], 0);
    assert_eq!(v["guest"]["base_codes"], 3);
    assert_eq!(v["guest"]["outcome"], json!({ "kind": "reached", "at": 2 }));
    let steps: Vec<(Value, Value, bool)> = v["guest"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["first"].clone(),
                s["new"].clone(),
                s["meets_threshold"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [(json!(2), json!(1), true), (json!(3), json!(1), true)]
    );
    assert_eq!(
        v["sentence"],
        "Saturation was assessed with the method of Guest, Namey and Chen (2020), with a base size of 1 transcript, a run length of 1 transcript and a new-information threshold of ≤40%: it was reached at transcript 2 of 3, where transcript 2 added 1 new agreed code to the 3 of the base (33.3%)."
    );
    // Every order of three (3! = 6 <= 1,000), A = P01, B = P02, C = P03:
    // after 1: 3 3 3 3 2 2 -> median 3, band 2-3; after 2: every pair holds 4
    // codes; after 3: 5. Saturated: ABC, ACB, BAC, BCA at 2 (1/3); CAB and CBA
    // (new 2, 2, 1 over a base of 2: 100 %, 50 %) never.
    let free = &v["order_free"];
    assert_eq!(free["exhaustive"], true);
    assert_eq!(free["orders"], 6);
    let bands: Vec<(f64, u64, u64, u64)> = free["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["median"].as_f64().unwrap(),
                b["low"].as_u64().unwrap(),
                b["high"].as_u64().unwrap(),
                b["saturated"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(bands, [(3.0, 2, 3, 0), (4.0, 4, 4, 4), (5.0, 5, 5, 4)]);

    // At 30 % neither run (33.3 %) meets it.
    let v = t.saturation("base=1&run=1&threshold=30").await;
    assert_eq!(v["guest"]["outcome"], json!({ "kind": "not_reached" }));
    // The defaults (4, 2, 5 %) need six transcripts.
    let v = t.saturation("").await;
    assert_eq!(
        v["guest"]["outcome"],
        json!({ "kind": "too_few_transcripts", "have": 3, "need": 6 })
    );
    assert_eq!(
        v["params"],
        json!({ "base": 4, "run": 2, "threshold": 5.0 })
    );
    assert_eq!(
        (v["permutations"].clone(), v["seed"].clone()),
        (json!(1000), json!(2020))
    );

    // By Experience: P03 (5), P01 (10), P02 (25): new 2, 2 (Cost, Training), 1.
    let v = t.saturation("order=experience").await;
    assert_eq!(v["order"], "Experience");
    assert_eq!(
        column(&v, "participant"),
        [json!("P03"), json!("P01"), json!("P02")]
    );
    assert_eq!(column(&v, "new"), [json!(2), json!(2), json!(1)]);
    assert_eq!(
        column(&v, "order_value"),
        [json!("5"), json!("10"), json!("25")]
    );
    assert_eq!(v["order_variables"], json!(["Experience"]));

    // Under Risks (Infection, and Cost under Costs): new 2, 0, 0.
    let v = t.saturation(&format!("node={}", t.risks)).await;
    assert_eq!(column(&v, "new"), [json!(2), json!(0), json!(0)]);
    assert_eq!(v["quiet_tail"], 2);
    assert_eq!(v["codes_in_scope"], 2);
    assert_eq!(v["node"]["name"], "Risks");
    let v = t.saturation(&format!("node={}", t.costs)).await;
    assert_eq!(column(&v, "new"), [json!(1), json!(0), json!(0)]);
}

#[tokio::test]
async fn bad_parameters_get_422_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let t = three(&app).await;
    let owner = &t.s.project.owner;
    for (query, field) in [
        ("base=0", "base"),
        ("base=x", "base"),
        ("run=0", "run"),
        ("threshold=abc", "threshold"),
        ("threshold=101", "threshold"),
        ("permutations=0", "permutations"),
        ("permutations=10001", "permutations"),
        ("seed=-1", "seed"),
        ("order=Role", "order"),
        ("order=Nope", "order"),
        ("node=nope", "node"),
    ] {
        let body = expect(
            owner
                .get(&t.s.project.api(&format!("/saturation?{query}")))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(body["errors"][field].is_array(), "{query}: {body}");
        let page = owner
            .get(&t.s.project.path(&format!("/saturation?{query}")))
            .await;
        assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }
    let unknown = Uuid::new_v4();
    let body = expect(
        owner
            .get(&t.s.project.api(&format!("/saturation?node={unknown}")))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["errors"]["node"].is_array(), "{body}");
}

#[tokio::test]
async fn the_page_draws_the_chart_and_says_the_sentence_and_blind_members_get_the_notice() {
    let app = TestApp::spawn().await;
    let t = three(&app).await;
    let reviewer = t.s.project.member(Role::Reviewer).await;
    let page = html(
        reviewer
            .get(&t.s.project.path("/saturation?base=1&run=1&threshold=40"))
            .await,
    )
    .await;
    let sentence = select_texts(&page, "#sentence");
    assert!(
        sentence[0].contains("it was reached at transcript 2 of 3"),
        "{sentence:?}"
    );
    assert_eq!(
        select_texts(&page, "#saturation-chart rect.new-bar").len(),
        3
    );
    assert_eq!(
        select_texts(&page, "#saturation-chart circle.cumulative-point").len(),
        3
    );
    assert_eq!(select_texts(&page, "#saturation-marker").len(), 1);
    assert_eq!(
        select_texts(&page, "#saturation-table td.new"),
        ["3", "1", "1"]
    );
    assert_eq!(
        select_texts(&page, "#saturation-table td.band"),
        ["2–3", "4–4", "5–5"]
    );
    assert_eq!(
        select_texts(&page, "#saturation-table td.share"),
        ["0.0%", "66.7%", "66.7%"]
    );
    assert!(select_texts(&page, "#orders-note")[0].contains("Every one of the 6"));

    // A coder assigned to P03 is blind: the notice on the page, 409 from the API;
    // P03 then leaves everyone's figures, with the reason.
    let carl = t.s.project.member(Role::Coder).await;
    expect(
        t.s.project
            .owner
            .post_json(
                &t.s.project.api("/assignments"),
                &json!({ "transcript_ids": [t.p03], "user_ids": [carl.id] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let page = html(carl.get(&t.s.project.path("/saturation")).await).await;
    assert_eq!(select_texts(&page, "#saturation-closed").len(), 1);
    assert!(select_texts(&page, "#saturation-chart").is_empty());
    let closed = carl.get(&t.s.project.api("/saturation")).await;
    assert_eq!(closed.status(), StatusCode::CONFLICT);
    let v = t.saturation("").await;
    assert_eq!(v["transcripts"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["excluded"][0]["reason"],
        "not every coder has submitted it"
    );
}

#[tokio::test]
async fn in_the_browser_a_lead_reads_the_saturation_chart_and_downloads_a_table() {
    use crate::harness::PASSWORD;
    use crate::harness::browser::Browser;

    let app = TestApp::spawn().await;
    let t = three(&app).await;
    let browser = Browser::open(&app).await;
    browser.sign_in(&t.s.project.owner.email, PASSWORD).await;
    browser.visit(&t.s.project.path("/saturation")).await;
    browser
        .wait_until(
            "the sentence",
            "//*[@id='sentence' and contains(., 'it cannot be assessed with 3 transcripts')]",
        )
        .await;
    // The Tables and Saturation tabs sit beside Themes.
    let tabs = browser.texts(".project-header nav.tabs a").await;
    let themes = tabs
        .iter()
        .position(|t| t == "Themes")
        .expect("a Themes tab");
    assert_eq!(tabs[themes + 1..themes + 3], ["Saturation", "Tables"]);

    // Change the parameters in the form, as a user would.
    browser
        .submit(
            "#saturation-form",
            &[("base", "1"), ("run", "1"), ("threshold", "40")],
        )
        .await;
    browser
        .wait_until(
            "the saturation point",
            "//*[@id='sentence' and contains(., 'it was reached at transcript 2 of 3')]",
        )
        .await;
    assert_eq!(
        browser
            .attrs("#saturation-chart rect.new-bar", "height")
            .await
            .len(),
        3
    );
    let bars: Vec<f64> = browser
        .attrs("#saturation-chart rect.new-bar", "height")
        .await
        .iter()
        .map(|h| h.parse().unwrap())
        .collect();
    // New codes 3, 1, 1 on one scale: the first bar three times the others.
    assert!(
        (bars[0] - 3.0 * bars[1]).abs() < 0.2 && bars[1] == bars[2],
        "{bars:?}"
    );
    assert_eq!(browser.texts("#saturation-marker").await.len(), 1);
    let shown = browser
        .client
        .find(fantoccini::Locator::Css("#saturation-chart"))
        .await
        .expect("the chart")
        .is_displayed()
        .await
        .expect("displayed?");
    assert!(shown);

    // The tables page: split by Role, then fetch its CSV link with the
    // browser's own session.
    browser.visit(&t.s.project.path("/tables")).await;
    browser.element("#participants-table").await;
    browser
        .execute(
            "const s = document.querySelector('#tables-form select[name=by]'); s.value = 'Role';",
            vec![],
        )
        .await
        .expect("choosing Role");
    browser
        .find(fantoccini::Locator::Css("#tables-form button[type=submit]"))
        .await
        .expect("the Show button")
        .click()
        .await
        .expect("submitting");
    browser
        .wait_until(
            "the split by Role",
            "//table[@id='participants-table']//th[normalize-space() = 'Role: Nurse']",
        )
        .await;
    let csv = browser
        .execute(
            "return fetch(document.getElementById('participants-csv').href).then(r => r.text());",
            vec![],
        )
        .await
        .expect("downloading the CSV");
    let csv = csv.as_str().expect("text").to_owned();
    assert!(csv.contains("Split by: Role"), "{csv}");
    assert!(
        csv.contains("theme,Risks,0,3,3,100,2,2,100,1,1,100"),
        "{csv}"
    );
}
