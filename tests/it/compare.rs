use concord::projects::model::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::browser::Browser;
use crate::harness::{PASSWORD, TestApp, TestProject, TestUser, html, select_texts};

const TEXT: &str = "Interviewer: What worries you?\n\
                    P01: Infection is the big risk for these patients.\n\
                    P01: And the travel costs families a lot.\n\
                    P01: Paperwork slows us down.";

fn line(n: usize) -> (i64, i64) {
    let mut start = 0;
    for (i, l) in TEXT.split('\n').enumerate() {
        let len = l.chars().count();
        if i + 1 == n {
            return (start as i64, (start + len) as i64);
        }
        start += len + 1;
    }
    unreachable!()
}

pub(crate) struct Study<'a> {
    project: TestProject<'a>,
    first: String,
    second: String,
    ana: TestUser,
    ben: TestUser,
    codes: std::collections::HashMap<&'static str, String>,
}

async fn code(
    project: &TestProject<'_>,
    user: &TestUser,
    transcript: &str,
    name: &str,
    start: i64,
    end: i64,
) -> String {
    let id = Uuid::new_v4().to_string();
    assert_eq!(
        user.post_json(&project.api("/codes"), &json!({ "id": id, "name": name }))
            .await
            .status(),
        StatusCode::CREATED
    );
    let path = project.api(&format!("/transcripts/{transcript}/codings"));
    let coding = json!({ "id": Uuid::new_v4(), "code_id": id, "start": start, "end": end });
    assert_eq!(
        user.post_json(&path, &coding).await.status(),
        StatusCode::CREATED
    );
    id
}

/// Two coders with planned differences on the first transcript, both
/// submitted; on the second only Ana has submitted.
async fn study(app: &TestApp) -> Study<'_> {
    let project = app.project().await;
    let first = project.import_text("first.txt", TEXT).await;
    let second = project
        .import_text("second.txt", "P02: Something else entirely.\nP02: More.")
        .await;
    let ana = project.member(Role::Coder).await;
    let ben = project.member(Role::Coder).await;
    let assign = json!({ "transcript_ids": [first, second], "user_ids": [ana.id, ben.id] });
    assert_eq!(
        project
            .owner
            .post_json(&project.api("/assignments"), &assign)
            .await
            .status(),
        StatusCode::CREATED
    );
    let (l2, l3, l4) = (line(2), line(3), line(4));
    let mut codes = std::collections::HashMap::new();
    codes.insert(
        "ana infection",
        code(&project, &ana, &first, "infection risk", l2.0 + 5, l2.1).await,
    );
    codes.insert(
        "ana cost",
        code(&project, &ana, &first, "cost", l3.0 + 5, l3.1).await,
    );
    codes.insert(
        "ben infection",
        code(
            &project,
            &ben,
            &first,
            "risk of infection in immunocompromised patients",
            l2.0 + 5,
            l2.1 - 14,
        )
        .await,
    );
    codes.insert(
        "ben money",
        code(&project, &ben, &first, "money worries", l3.0 + 13, l3.1).await,
    );
    codes.insert(
        "ben admin",
        code(&project, &ben, &first, "admin burden", l4.0 + 5, l4.1).await,
    );
    for user in [&ana, &ben] {
        assert_eq!(
            user.post_json(
                &project.api(&format!("/transcripts/{first}/submit")),
                &json!({})
            )
            .await
            .status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        ana.post_json(
            &project.api(&format!("/transcripts/{second}/submit")),
            &json!({})
        )
        .await
        .status(),
        StatusCode::OK
    );
    Study {
        project,
        first,
        second,
        ana,
        ben,
        codes,
    }
}

impl Study<'_> {
    async fn report(&self, user: &TestUser, level: &str) -> Value {
        let response = user
            .get(&self.project.api(&format!("/agreement?level={level}")))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    async fn accept(&self, name: &str, codes: &[&str]) -> Value {
        let ids: Vec<&String> = codes.iter().map(|c| &self.codes[c]).collect();
        let response = self
            .project
            .owner
            .post_json(
                &self.project.api("/agreed-codes"),
                &json!({ "name": name, "code_ids": ids }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }
}

/// Units coded by Ana and by Ben.
fn coded_by(report: &Value, name: &str, s: &Study<'_>) -> [u64; 2] {
    let counts = &per_code(report, name)["counts"]["coded_by"];
    let at = |user: &TestUser| {
        let i = report["coders"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c["user_id"] == user.id.to_string())
            .unwrap();
        counts[i].as_u64().unwrap()
    };
    [at(&s.ana), at(&s.ben)]
}

fn per_code<'v>(report: &'v Value, name: &str) -> &'v Value {
    let index = report["codes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["name"] == name)
        .expect("code in report");
    report["report"]["units"]["overall"]["per_code"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == index)
        .unwrap()
}

#[tokio::test]
async fn suggestions_rank_overlapping_and_alike_codes_first() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let view: Value = s
        .project
        .owner
        .get(&s.project.api("/alignment"))
        .await
        .json()
        .await
        .unwrap();
    let pairs: Vec<(String, String)> = view["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let mut pair = [
                p["a"].as_str().unwrap().to_owned(),
                p["b"].as_str().unwrap().to_owned(),
            ];
            pair.sort();
            (pair[0].clone(), pair[1].clone())
        })
        .collect();
    let pair = |a: &str, b: &str| {
        let mut p = [s.codes[a].clone(), s.codes[b].clone()];
        p.sort();
        (p[0].clone(), p[1].clone())
    };
    assert_eq!(
        pairs[0],
        pair("ana infection", "ben infection"),
        "largest overlap and alike names first"
    );
    assert_eq!(pairs[1], pair("ana cost", "ben money"));
    assert!(
        !pairs
            .iter()
            .any(|(a, b)| [a, b].contains(&&s.codes["ben admin"])),
        "no evidence, no suggestion"
    );
    assert!(
        view["suggestions"][0]["quotes"][0]
            .as_str()
            .unwrap()
            .contains("Infection is the big risk")
    );
    let page = html(s.project.owner.get(&s.project.path("/alignment")).await).await;
    assert_eq!(select_texts(&page, "#suggestions tr.suggestion").len(), 2);
}

#[tokio::test]
async fn accepting_and_changing_alignments_changes_the_statistics_at_once() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let before = s.report(&s.project.owner, "line").await;
    assert_eq!(before["codes"], json!([]));
    assert_eq!(before["unaligned_codes"], 5);
    assert_eq!(before["included"].as_array().unwrap().len(), 1);
    assert_eq!(
        before["excluded"][0]["reason"],
        "not every coder has submitted"
    );

    s.accept("infection risk", &["ana infection", "ben infection"])
        .await;
    s.accept("cost", &["ana cost", "ben money"]).await;
    let admin = s.accept("admin burden", &["ben admin"]).await;
    let lines = s.report(&s.project.owner, "line").await;
    assert_eq!(lines["unaligned_codes"], 0);
    let infection = per_code(&lines, "infection risk");
    assert_eq!(
        infection["coefficients"]["cohen_kappa"]["value"], 1.0,
        "same line for both coders"
    );
    assert_eq!(
        infection["counts"]["table"],
        json!({ "both": 1, "only_a": 0, "only_b": 0, "neither": 3 })
    );
    let chars = s.report(&s.project.owner, "character").await;
    let kappa = per_code(&chars, "infection risk")["coefficients"]["cohen_kappa"]["value"]
        .as_f64()
        .unwrap();
    assert!(kappa < 1.0, "boundaries differ at character level: {kappa}");
    assert_eq!(coded_by(&lines, "admin burden", &s), [0, 1]);

    // Undoing an alignment takes its codings out at once.
    let path = s
        .project
        .api(&format!("/alignment/{}", s.codes["ben admin"]));
    assert_eq!(
        s.project.owner.delete(&path).await.status(),
        StatusCode::NO_CONTENT
    );
    let after = s.report(&s.project.owner, "line").await;
    assert_eq!(coded_by(&after, "admin burden", &s), [0, 0]);
    assert_eq!(after["unaligned_codes"], 1);
    let remap = s
        .project
        .owner
        .send_json(
            reqwest::Method::PUT,
            &path,
            &json!({ "agreed_code_id": admin["id"] }),
        )
        .await;
    assert_eq!(remap.status(), StatusCode::NO_CONTENT);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where action like 'code.%align%' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(actions.len(), 7, "{actions:?}");
}

#[tokio::test]
async fn the_report_pages_show_the_table_chart_discrepancies_and_csv() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    s.accept("infection risk", &["ana infection", "ben infection"])
        .await;
    s.accept("cost", &["ana cost", "ben money"]).await;
    s.accept("admin burden", &["ben admin"]).await;
    let page = html(
        s.project
            .owner
            .get(&s.project.path("/agreement?level=line"))
            .await,
    )
    .await;
    let names = select_texts(&page, "#agreement-table tbody tr td.code-name");
    assert_eq!(
        names,
        [
            "All codes (pooled)",
            "admin burden",
            "cost",
            "infection risk"
        ]
    );
    assert_eq!(select_texts(&page, "#alpha-chart rect").len(), 3);
    assert_eq!(select_texts(&page, "#levels strong"), ["Line"]);
    assert_eq!(
        select_texts(&page, "#excluded li"),
        ["second: not every coder has submitted"]
    );

    let transcript = html(
        s.project
            .owner
            .get(
                &s.project
                    .path(&format!("/agreement/transcripts/{}", s.first)),
            )
            .await,
    )
    .await;
    // Ana was assigned first, so she is A: Ben's extra code is "B only".
    let kinds = select_texts(&transcript, "section.discrepancies h4");
    assert!(
        kinds.iter().any(|k| k == "Coded by B only (1)"),
        "{kinds:?}"
    );
    let links = select_texts(&transcript, "section.discrepancies[data-kind=only_b] li a");
    assert_eq!(links, ["line 4"]);

    let csv = s
        .project
        .owner
        .get(&s.project.path("/agreement.csv?level=line"))
        .await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with(
        "code,units,pairable_units,both,only_a,only_b,neither,percent_agreement,cohen_kappa"
    ));
    assert!(lines.next().unwrap().starts_with("(pooled),"));
    assert_eq!(text.lines().count(), 5);
    let bad = s
        .project
        .owner
        .get(&s.project.api("/agreement?level=word"))
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_report_and_alignment_keep_coders_blind() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    s.accept("infection risk", &["ana infection", "ben infection"])
        .await;
    // Ana has submitted both transcripts: she sees the first (both submitted).
    let ana = s.report(&s.ana, "line").await;
    assert_eq!(ana["included"].as_array().unwrap().len(), 1);
    // A coder on neither transcript sees none; a reviewer is refused.
    let idle = s.project.member(Role::Coder).await;
    let idle_report = s.report(&idle, "line").await;
    assert_eq!(idle_report["included"], json!([]));
    let reviewer = s.project.member(Role::Reviewer).await;
    assert_eq!(
        reviewer.get(&s.project.api("/agreement")).await.status(),
        StatusCode::FORBIDDEN
    );
    // Only leads align, and not while they are still coding themselves.
    assert_eq!(
        s.ben.get(&s.project.api("/alignment")).await.status(),
        StatusCode::FORBIDDEN
    );
    let lead = s.project.member(Role::Lead).await;
    assert_eq!(
        lead.get(&s.project.api("/alignment")).await.status(),
        StatusCode::OK
    );
    let assign = json!({ "transcript_ids": [s.second], "user_ids": [lead.id] });
    s.project
        .owner
        .post_json(&s.project.api("/assignments"), &assign)
        .await;
    assert_eq!(
        lead.get(&s.project.api("/alignment")).await.status(),
        StatusCode::CONFLICT
    );
    let _ = &s.first;
}

#[tokio::test]
async fn a_lead_aligns_codes_from_the_suggestions_and_opens_the_report_in_the_browser() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let browser = Browser::open(&app).await;
    browser.sign_in(&s.project.owner.email, PASSWORD).await;

    browser.visit(&s.project.path("/alignment")).await;
    browser.element("#suggestions tr.suggestion").await;
    assert_eq!(browser.texts("#suggestions tr.suggestion").await.len(), 2);
    let first = "#suggestions tr.suggestion:first-child .accept-form";
    browser
        .submit(
            first,
            &[
                ("name", "infection risk"),
                ("definition", "Risk of infection for the patient"),
            ],
        )
        .await;
    browser.element("tr.coder-code td.aligned strong").await;
    // The accepted pair leaves the suggestions; the other is next.
    assert_eq!(browser.texts("#suggestions tr.suggestion").await.len(), 1);
    browser.submit(first, &[("name", "cost")]).await;
    // Each action updates the page in place: wait for it before the next.
    browser
        .wait_until(
            "both pairs accepted",
            "//body[count(.//tr[contains(@class, 'coder-code')]//td[contains(@class, 'aligned')]/strong) = 4]",
        )
        .await;
    let keep = format!(
        "tr.coder-code[data-code-id=\"{}\"] form[action$=\"/alignment/agreed\"]",
        s.codes["ben admin"]
    );
    browser.submit(&keep, &[]).await;
    browser
        .wait_until(
            "every code aligned",
            "//body[count(.//tr[contains(@class, 'coder-code')]//td[contains(@class, 'aligned')]/strong) = 5]",
        )
        .await;
    let aligned = browser.texts("tr.coder-code td.aligned strong").await;
    assert_eq!(aligned.len(), 5, "every code aligned: {aligned:?}");

    browser.visit(&s.project.path("/agreement")).await;
    browser.element("#agreement-table").await;
    assert_eq!(
        browser.texts("#agreement-table tbody td.code-name").await,
        [
            "All codes (pooled)",
            "admin burden",
            "cost",
            "infection risk"
        ]
    );
    assert_eq!(browser.texts("#alpha-chart .bar-label").await.len(), 3);
    assert_eq!(
        browser.texts("#macro-means li").await.len(),
        3,
        "agreement, α and κ means"
    );
    browser
        .element("#table-filter")
        .await
        .send_keys("cost")
        .await
        .expect("typing a filter");
    browser
        .wait_until(
            "two rows filtered out",
            "//table[@id='agreement-table']//tr[@hidden][2]",
        )
        .await;
    assert_eq!(
        browser
            .attrs("#agreement-table tr.code-row:not([hidden])", "class")
            .await
            .len(),
        1
    );
    browser
        .element("#included li a")
        .await
        .click()
        .await
        .expect("opening the transcript's report");
    browser.element("section.discrepancies").await;
    assert!(browser.path().await.ends_with(&s.first));
    let rows: i64 = sqlx::query_scalar("select count(*) from code_alignments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows, 5);
}

#[tokio::test]
async fn with_a_shared_codebook_the_report_needs_no_alignment() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let mode = json!({ "codebook_mode": "shared" });
    let response = project
        .owner
        .send_json(reqwest::Method::PUT, &project.api("/codebook-mode"), &mode)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let transcript = project.import_text("first.txt", TEXT).await;
    let ana = project.member(Role::Coder).await;
    let ben = project.member(Role::Coder).await;
    let assign = json!({ "transcript_ids": [transcript], "user_ids": [ana.id, ben.id] });
    project
        .owner
        .post_json(&project.api("/assignments"), &assign)
        .await;
    let shared = code(
        &project,
        &ana,
        &transcript,
        "infection risk",
        line(2).0,
        line(2).1,
    )
    .await;
    let coding =
        json!({ "id": Uuid::new_v4(), "code_id": shared, "start": line(3).0, "end": line(3).1 });
    let path = project.api(&format!("/transcripts/{transcript}/codings"));
    assert_eq!(
        ben.post_json(&path, &coding).await.status(),
        StatusCode::CREATED
    );
    for user in [&ana, &ben] {
        user.post_json(
            &project.api(&format!("/transcripts/{transcript}/submit")),
            &json!({}),
        )
        .await;
    }
    let report: Value = project
        .owner
        .get(&project.api("/agreement"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["unaligned_codes"], 0);
    assert_eq!(report["codes"][0]["name"], "infection risk");
    let table = &per_code(&report, "infection risk")["counts"]["table"];
    assert_eq!(table["both"], 0, "different lines: {table}");
    assert_eq!(
        table["only_a"].as_u64().unwrap() + table["only_b"].as_u64().unwrap(),
        2
    );
}

/// Sets a user's display name (the report's coder order must not follow it).
async fn rename(app: &TestApp, user: &TestUser, name: &str) {
    sqlx::query("update users set display_name = $1 where id = $2")
        .bind(name)
        .bind(user.id.0)
        .execute(&app.pool)
        .await
        .unwrap();
}

/// A project with one shared code "x" and one transcript of `text`: a coder per
/// name, assigned in that order, each coding `spans[i]` with "x", all submitted.
async fn shared_study<'a>(
    app: &'a TestApp,
    text: &str,
    names: &[&str],
    spans: &[&[(i64, i64)]],
) -> (TestProject<'a>, String, Vec<TestUser>) {
    let project = app.project().await;
    let mode = json!({ "codebook_mode": "shared" });
    let response = project
        .owner
        .send_json(reqwest::Method::PUT, &project.api("/codebook-mode"), &mode)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let transcript = project.import_text("one.txt", text).await;
    let mut coders = Vec::new();
    for name in names {
        let coder = project.member(Role::Coder).await;
        rename(app, &coder, name).await;
        coders.push(coder);
    }
    let ids: Vec<String> = coders.iter().map(|c| c.id.to_string()).collect();
    let assign = json!({ "transcript_ids": [transcript], "user_ids": ids });
    let response = project
        .owner
        .post_json(&project.api("/assignments"), &assign)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let code_id = Uuid::new_v4().to_string();
    let response = coders[0]
        .post_json(
            &project.api("/codes"),
            &json!({ "id": code_id, "name": "x" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let path = project.api(&format!("/transcripts/{transcript}/codings"));
    for (coder, spans) in coders.iter().zip(spans) {
        for &(start, end) in *spans {
            let coding =
                json!({ "id": Uuid::new_v4(), "code_id": code_id, "start": start, "end": end });
            let response = coder.post_json(&path, &coding).await;
            assert_eq!(response.status(), StatusCode::CREATED);
        }
        let response = coder
            .post_json(
                &project.api(&format!("/transcripts/{transcript}/submit")),
                &json!({}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    (project, transcript, coders)
}

/// Twelve lines and no blank line: one paragraph. Each line is 10 characters
/// and its newline.
const TWELVE_LINES: &str = "P01: l01 .\nP01: l02 .\nP01: l03 .\nP01: l04 .\nP01: l05 .\nP01: l06 .\n\
                            P01: l07 .\nP01: l08 .\nP01: l09 .\nP01: l10 .\nP01: l11 .\nP01: l12 .";

fn twelve(line: i64) -> (i64, i64) {
    ((line - 1) * 11, (line - 1) * 11 + 10)
}

#[tokio::test]
async fn a_level_with_too_few_units_warns_and_marks_its_values_in_the_page_json_and_csv() {
    let app = TestApp::spawn().await;
    let (project, transcript, _) = shared_study(
        &app,
        TWELVE_LINES,
        &["Ana", "Ben"],
        &[&[twelve(1), twelve(2)], &[twelve(1)]],
    )
    .await;
    let get = |level: &'static str| {
        let path = project.api(&format!("/agreement?level={level}"));
        let owner = &project.owner;
        async move {
            let response = owner.get(&path).await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };

    // One paragraph: the figures are there, and so is the warning.
    let paragraphs = get("paragraph").await;
    let overall = &paragraphs["report"]["units"]["overall"];
    assert_eq!(
        overall["warning"],
        json!({ "reason": "too_few_units", "pairable_units": 1, "transcripts": 1, "minimum": 10 })
    );
    assert_eq!(
        paragraphs["report"]["units"]["per_transcript"][0]["warning"]["reason"],
        "too_few_units"
    );
    assert_eq!(
        overall["per_code"][0]["coefficients"]["percent_agreement"]["value"],
        1.0
    );
    // Twelve lines are enough.
    let lines = get("line").await;
    assert_eq!(lines["report"]["units"]["overall"]["warning"], Value::Null);
    assert_eq!(
        lines["report"]["units"]["per_transcript"][0]["warning"],
        Value::Null
    );

    let csv = |level: &'static str| {
        let path = project.path(&format!("/agreement.csv?level={level}"));
        let owner = &project.owner;
        async move { owner.get(&path).await.text().await.unwrap() }
    };
    let text = csv("paragraph").await;
    let mut rows = text.lines();
    assert!(
        rows.next()
            .unwrap()
            .ends_with(",binary_u_alpha,unit_warning")
    );
    let rows: Vec<&str> = rows.collect();
    assert_eq!(rows.len(), 2, "pooled and x: {text}");
    assert!(rows.iter().all(|r| r.ends_with(",too_few_units")), "{text}");
    let text = csv("line").await;
    assert!(text.lines().skip(1).all(|r| r.ends_with(',')), "{text}");

    let page = html(
        project
            .owner
            .get(&project.path("/agreement?level=paragraph"))
            .await,
    )
    .await;
    let warning = select_texts(&page, "#units-warning");
    assert_eq!(warning.len(), 1);
    assert!(
        warning[0].starts_with("At the paragraph level these figures say little: only 1 unit(s)"),
        "{warning:?}"
    );
    // Agreement, κ, BP κ, α and AC1 of the pooled row and of x; |uα is on characters.
    assert_eq!(select_texts(&page, "#agreement-table td.marked").len(), 10);
    assert_eq!(
        select_texts(&page, "#agreement-table td.marked .mark").len(),
        10
    );
    let means = select_texts(&page, "#macro-means li");
    assert!(means.iter().all(|m| m.contains(" * over ")), "{means:?}");
    let transcript_page = html(
        project
            .owner
            .get(&project.path(&format!(
                "/agreement/transcripts/{transcript}?level=paragraph"
            )))
            .await,
    )
    .await;
    assert_eq!(select_texts(&transcript_page, "#units-warning").len(), 1);

    let page = html(
        project
            .owner
            .get(&project.path("/agreement?level=line"))
            .await,
    )
    .await;
    assert!(select_texts(&page, "#units-warning").is_empty());
    assert!(select_texts(&page, "#agreement-table td.marked").is_empty());
}

#[tokio::test]
async fn coders_are_a_and_b_in_assignment_order_and_discrepancies_name_coding_ids() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    // By name Ben would come first; he was assigned second.
    rename(&app, &s.ana, "Zoë Zimmer").await;
    rename(&app, &s.ben, "Abe Abbott").await;
    s.accept("infection risk", &["ana infection", "ben infection"])
        .await;
    s.accept("cost", &["ana cost", "ben money"]).await;
    s.accept("admin burden", &["ben admin"]).await;
    let report = s.report(&s.project.owner, "line").await;
    assert_eq!(report["coders"][0]["user_id"], s.ana.id.to_string());
    assert_eq!(report["coders"][1]["user_id"], s.ben.id.to_string());

    let codings_of = |user: &TestUser| {
        let id = user.id.0;
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>("select id from codings where coder_id = $1")
                .bind(id)
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .map(|u| u.to_string())
                .collect::<std::collections::BTreeSet<String>>()
        }
    };
    let (ana, ben) = (codings_of(&s.ana).await, codings_of(&s.ben).await);
    let pair = &report["report"]["discrepancies"]["per_transcript"][0]["pairs"][0];
    assert_eq!((&pair["coder_a"], &pair["coder_b"]), (&json!(0), &json!(1)));
    let mut seen = std::collections::BTreeSet::new();
    for d in pair["discrepancies"].as_array().unwrap() {
        for (side, theirs) in [("a", &ana), ("b", &ben)] {
            for id in d[side]["codings"].as_array().into_iter().flatten() {
                let id = id.as_str().expect("a coding id, not a key").to_owned();
                assert!(theirs.contains(&id), "{side} {id} in {d}");
                seen.insert(id);
            }
        }
    }
    assert_eq!(seen.len(), 5, "every coding of the transcript, once");
    let only_b = pair["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "only_b")
        .expect("Ben's admin burden");
    assert_eq!(only_b["b"]["codings"].as_array().unwrap().len(), 1);

    // Ben assigned before Ana: Ben is A, and stays A when a later transcript
    // lists Ana first.
    let (project, _, coders) =
        shared_study(&app, TEXT, &["Ben", "Ana"], &[&[line(2)], &[line(3)]]).await;
    let (ben, ana) = (&coders[0], &coders[1]);
    let later = project
        .import_text("later.txt", "P02: Another interview.")
        .await;
    let assign = json!({ "transcript_ids": [later], "user_ids": [ana.id, ben.id] });
    let response = project
        .owner
        .post_json(&project.api("/assignments"), &assign)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let report: Value = project
        .owner
        .get(&project.api("/agreement"))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = report["coders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ben", "Ana"]);
    assert_eq!(
        report["coders"][0]["user_id"],
        ben.id.to_string(),
        "the first assignment in the project counts"
    );
}

#[tokio::test]
async fn kappas_and_means_have_one_shape_and_three_coders_get_no_pair_columns() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    s.accept("infection risk", &["ana infection", "ben infection"])
        .await;
    let two = s.report(&s.project.owner, "line").await;
    let infection = &per_code(&two, "infection risk")["coefficients"];
    assert_eq!(infection["cohen_kappa"]["undefined_reason"], Value::Null);
    assert!(infection["fleiss_kappa"]["value"].is_f64(), "{infection}");
    let means = &two["report"]["units"]["overall"]["macro_mean"];
    for name in ["cohen_kappa", "fleiss_kappa", "krippendorff_alpha_nominal"] {
        let mean = means[name].as_object().expect(name);
        assert!(mean.contains_key("value") && mean.contains_key("undefined_reason"));
    }

    let (project, transcript, _) = shared_study(
        &app,
        TEXT,
        &["Ada", "Ben", "Cara"],
        &[&[line(2)], &[line(2)], &[line(3)]],
    )
    .await;
    let three: Value = project
        .owner
        .get(&project.api("/agreement"))
        .await
        .json()
        .await
        .unwrap();
    let overall = &three["report"]["units"]["overall"];
    let not_two = json!({ "value": null, "undefined_reason": "more_than_two_coders" });
    assert_eq!(
        overall["per_code"][0]["coefficients"]["cohen_kappa"],
        not_two
    );
    assert_eq!(overall["pooled"]["coefficients"]["cohen_kappa"], not_two);
    assert_eq!(
        overall["macro_mean"]["cohen_kappa"]["undefined_reason"],
        "more_than_two_coders"
    );
    assert!(overall["per_code"][0]["coefficients"]["fleiss_kappa"]["value"].is_f64());

    let page = html(project.owner.get(&project.path("/agreement")).await).await;
    let headers = select_texts(&page, "#agreement-table thead th");
    assert_eq!(
        headers,
        [
            "Code",
            "Units",
            "Ada",
            "Ben",
            "Cara",
            "Agreement",
            "Fleiss κ",
            "BP κ",
            "α",
            "AC1",
            "|uα"
        ]
    );
    for row in page.select(&scraper::Selector::parse("#agreement-table tbody tr").unwrap()) {
        let cells = row.select(&scraper::Selector::parse("td").unwrap()).count();
        assert_eq!(cells, headers.len(), "no empty pair columns");
    }
    let compared: Vec<String> = select_texts(&page, "#compared")
        .iter()
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        compared,
        ["Compared: Ada, Ben and Cara, on 1 transcript(s) at the line level."]
    );
    let transcript_page = html(
        project
            .owner
            .get(&project.path(&format!("/agreement/transcripts/{transcript}")))
            .await,
    )
    .await;
    assert_eq!(
        select_texts(&transcript_page, ".pair-heading strong"),
        [
            "Ada (A) and Ben (B)",
            "Ada (A) and Cara (B)",
            "Ben (A) and Cara (B)"
        ]
    );
}

#[tokio::test]
async fn overlap_is_the_same_exact_ratio_in_the_report_and_the_reconciliation() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    s.accept("infection risk", &["ana infection", "ben infection"])
        .await;
    let report = s.report(&s.project.owner, "line").await;
    let boundary =
        report["report"]["discrepancies"]["per_transcript"][0]["pairs"][0]["discrepancies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == "boundary")
            .expect("the infection boundary")
            .clone();
    // Ana's span is line 2 after "P01: ", Ben's 14 characters shorter.
    let l2 = line(2);
    let ana = l2.1 - (l2.0 + 5);
    let expected = {
        let (num, den) = (ana - 14, ana);
        let g = (1..=num)
            .rev()
            .find(|g| num % g == 0 && den % g == 0)
            .unwrap();
        format!("{}/{}", num / g, den / g)
    };
    assert_eq!(boundary["overlap"], expected.as_str());

    let response = s
        .project
        .owner
        .get(
            &s.project
                .api(&format!("/transcripts/{}/reconciliation", s.first)),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let rec: Value = response.json().await.unwrap();
    let item = rec["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["discrepancy"]["kind"] == "boundary")
        .expect("the boundary item")
        .clone();
    assert_eq!(item["overlap"], boundary["overlap"]);
}

#[tokio::test]
async fn a_partial_overlap_of_one_code_is_labelled_as_the_same_code() {
    let app = TestApp::spawn().await;
    // Lines 1–2 against lines 2–6: 10 of 65 characters in common, under one half.
    let (project, transcript, _) = shared_study(
        &app,
        TWELVE_LINES,
        &["Ana", "Ben"],
        &[&[(twelve(1).0, twelve(2).1)], &[(twelve(2).0, twelve(6).1)]],
    )
    .await;
    let page = html(
        project
            .owner
            .get(&project.path(&format!("/agreement/transcripts/{transcript}")))
            .await,
    )
    .await;
    assert_eq!(
        select_texts(&page, "section.discrepancies h4"),
        ["Partly overlapping, same code (1)"]
    );
    assert_eq!(
        select_texts(
            &page,
            "section.discrepancies[data-kind=partial_overlap_same_code] li a"
        ),
        ["line 1"]
    );
}

#[tokio::test]
async fn shared_codes_mirrored_into_the_agreed_codebook_are_on_the_record() {
    let app = TestApp::spawn().await;
    let (project, transcript, _) = shared_study(
        &app,
        TWELVE_LINES,
        &["Ana", "Ben"],
        &[&[twelve(1)], &[twelve(1)]],
    )
    .await;
    let visit = project
        .owner
        .get(&project.api(&format!("/transcripts/{transcript}/reconciliation")))
        .await;
    assert_eq!(visit.status(), StatusCode::OK);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where project_id = $1 and action in ('agreed_code.created', 'code.aligned') order by id",
    )
    .bind(project.id.0)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(actions, ["agreed_code.created", "code.aligned"]);
    let agreed: i64 = sqlx::query_scalar("select count(*) from agreed_codes where project_id = $1")
        .bind(project.id.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(agreed, 1, "one agreed code for the one shared code");
}

/// Where each coder's column and its controls sit, and whether the page
/// scrolls sideways.
const ALIGNMENT_LAYOUT: &str = r#"
const box = (e) => { const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom }; };
const columns = [...document.querySelectorAll("table.coder-codes")].map((table) => ({
  section: box(table.closest("section")),
  table: box(table),
  spills: [...table.querySelectorAll("td select, td button, td input:not([type=hidden])")].filter((control) => {
    const cell = control.closest("td").getBoundingClientRect();
    const r = control.getBoundingClientRect();
    return r.width === 0 || r.left < cell.left - 1 || r.right > cell.right + 1;
  }).length,
}));
return { columns, client_width: document.documentElement.clientWidth, scroll_width: document.documentElement.scrollWidth };
"#;

/// Scrolls the code's row to the middle of the window, marks the page (a reload
/// would drop the mark) and answers where the row is.
const MARK_AND_PLACE: &str = r#"
const row = document.querySelector(`tr.coder-code[data-code-id="${arguments[0]}"]`);
if (arguments[1]) row.scrollIntoView({ block: "center" });
window.alignmentMark = window.alignmentMark ?? "not reloaded";
return { top: row.getBoundingClientRect().top, scroll_y: window.scrollY };
"#;

/// Is the mark still there, where is the code's row, and where is the focus?
const STILL_THERE: &str = r#"
const row = document.querySelector(`tr.coder-code[data-code-id="${arguments[0]}"]`);
return {
  mark: window.alignmentMark ?? null,
  top: row.getBoundingClientRect().top,
  focus_row: document.activeElement?.closest("tr")?.dataset.codeId ?? null,
  select_value: row.querySelector("select[name=agreed_code_id]")?.value ?? null,
  options: row.querySelectorAll("select[name=agreed_code_id] option").length,
};
"#;

async fn alignment_of(app: &TestApp, code: &str) -> Option<String> {
    sqlx::query_scalar::<_, String>(
        "select agreed_code_id::text from code_alignments where code_id = $1::uuid",
    )
    .bind(code)
    .fetch_optional(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_alignment_page_holds_three_coders_maps_nothing_by_default_and_acts_in_place() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let transcript = project.import_text("first.txt", TEXT).await;
    let coders = [
        project.member(Role::Coder).await,
        project.member(Role::Coder).await,
        project.member(Role::Coder).await,
    ];
    let ids: Vec<_> = coders.iter().map(|c| c.id).collect();
    let assign = json!({ "transcript_ids": [transcript], "user_ids": ids });
    let response = project
        .owner
        .post_json(&project.api("/assignments"), &assign)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let names = [
        "Infection risk for immunocompromised patients",
        "Travel costs for families living far away",
        "Paperwork slowing the ward nurses down",
        "Fatigue after long night shifts on call",
        "Trust in doctors who call back",
        "Waiting times at the outpatient clinic",
    ];
    let mut codes: Vec<Vec<String>> = Vec::new();
    for coder in &coders {
        let mut mine = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let (start, end) = line(i % 3 + 2);
            mine.push(code(&project, coder, &transcript, name, start + 5, end).await);
        }
        let submit = project.api(&format!("/transcripts/{transcript}/submit"));
        assert_eq!(
            coder.post_json(&submit, &json!({})).await.status(),
            StatusCode::OK
        );
        codes.push(mine);
    }
    let mut agreed = Vec::new();
    for (name, code) in [
        ("Trust in doctors", &codes[0][4]),
        ("Waiting", &codes[0][5]),
    ] {
        let response = project
            .owner
            .post_json(
                &project.api("/agreed-codes"),
                &json!({ "name": name, "code_ids": [code] }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        agreed.push(body["id"].as_str().unwrap().to_owned());
    }

    let browser = Browser::open(&app).await;
    browser
        .set_window_size(1280, 800)
        .await
        .expect("resizing the window");
    browser.sign_in(&project.owner.email, PASSWORD).await;
    browser.visit(&project.path("/alignment")).await;
    browser.element("tr.coder-code select").await;

    // Three columns that neither overlap nor spill.
    let layout = browser
        .execute(ALIGNMENT_LAYOUT, Vec::new())
        .await
        .expect("measuring the columns");
    let columns = layout["columns"].as_array().expect("columns");
    assert_eq!(columns.len(), 3, "{layout}");
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap();
    for (i, a) in columns.iter().enumerate() {
        assert!(
            f(&a["table"], "right") <= f(&a["section"], "right") + 1.0
                && f(&a["table"], "left") >= f(&a["section"], "left") - 1.0,
            "column {i}'s table spills out of it: {layout}"
        );
        assert_eq!(a["spills"], 0, "column {i}'s controls spill: {layout}");
        for b in &columns[i + 1..] {
            let (a, b) = (&a["section"], &b["section"]);
            let apart = f(a, "right") <= f(b, "left") + 1.0
                || f(b, "right") <= f(a, "left") + 1.0
                || f(a, "bottom") <= f(b, "top") + 1.0
                || f(b, "bottom") <= f(a, "top") + 1.0;
            assert!(apart, "two columns overlap: {layout}");
        }
    }
    assert!(
        f(&layout, "scroll_width") <= f(&layout, "client_width"),
        "{layout}"
    );

    // No code is mapped by default.
    let values = browser
        .execute(
            "return [...document.querySelectorAll('tr.coder-code select[name=agreed_code_id]')].map((s) => s.value);",
            Vec::new(),
        )
        .await
        .expect("reading the selects");
    let values = values.as_array().expect("values");
    assert_eq!(values.len(), 16, "{values:?}");
    assert!(values.iter().all(|v| v == ""), "{values:?}");

    // Map without choosing: refused in the row, nothing stored, no reload.
    let target = codes[2][3].clone();
    let row = format!("tr.coder-code[data-code-id=\"{target}\"]");
    let placed = browser
        .execute(MARK_AND_PLACE, vec![json!(target), json!(true)])
        .await
        .expect("placing the row");
    assert!(placed["scroll_y"].as_f64().unwrap() > 100.0, "{placed}");
    browser
        .element(&format!("{row} form[action$=\"/alignment/map\"] button"))
        .await
        .click()
        .await
        .expect("clicking Map");
    let alert = browser.element(&format!("{row} [role=alert]")).await;
    let message = alert.text().await.unwrap();
    assert!(
        message.contains("Choose") && message.contains(names[3]),
        "{message}"
    );
    assert_eq!(alignment_of(&app, &target).await, None);

    // Mapped in place: the row stays where it was, with the focus in it.
    let before = browser
        .execute(MARK_AND_PLACE, vec![json!(target), json!(false)])
        .await
        .unwrap();
    browser
        .element(&format!("{row} select[name=agreed_code_id]"))
        .await
        .select_by_value(&agreed[0])
        .await
        .expect("choosing an agreed code");
    browser
        .element(&format!("{row} form[action$=\"/alignment/map\"] button"))
        .await
        .click()
        .await
        .expect("clicking Map");
    let strong = browser.element(&format!("{row} td.aligned strong")).await;
    assert_eq!(strong.text().await.unwrap(), "Trust in doctors");
    assert_eq!(
        alignment_of(&app, &target).await.as_deref(),
        Some(agreed[0].as_str())
    );
    let after = browser
        .execute(STILL_THERE, vec![json!(target)])
        .await
        .unwrap();
    assert_eq!(after["mark"], "not reloaded", "{after}");
    assert!(
        (f(&after, "top") - f(&before, "top")).abs() <= 2.0,
        "{before} → {after}"
    );
    assert_eq!(after["focus_row"], json!(target), "{after}");
    assert!(
        browser
            .texts(&format!("{row} [role=alert]"))
            .await
            .iter()
            .all(|t| t.is_empty())
    );

    // Undone in place: the choice is empty again.
    browser
        .element(&format!(
            "{row} form[action$=\"/alignment/unalign\"] button"
        ))
        .await
        .click()
        .await
        .expect("clicking undo");
    browser
        .element(&format!("{row} select[name=agreed_code_id]"))
        .await;
    assert_eq!(alignment_of(&app, &target).await, None);
    let after = browser
        .execute(STILL_THERE, vec![json!(target)])
        .await
        .unwrap();
    assert_eq!(after["mark"], "not reloaded", "{after}");
    assert_eq!(after["select_value"], "", "{after}");
    assert!(
        (f(&after, "top") - f(&before, "top")).abs() <= 2.0,
        "{before} → {after}"
    );

    // Kept as its own agreed code in place: every other row can choose it now.
    let other = codes[2][4].clone();
    browser
        .element(&format!(
            "tr.coder-code[data-code-id=\"{other}\"] form[action$=\"/alignment/agreed\"] button"
        ))
        .await
        .click()
        .await
        .expect("keeping a code as its own");
    let strong = browser
        .element(&format!(
            "tr.coder-code[data-code-id=\"{other}\"] td.aligned strong"
        ))
        .await;
    assert_eq!(strong.text().await.unwrap(), names[4]);
    assert!(alignment_of(&app, &other).await.is_some());
    let after = browser
        .execute(STILL_THERE, vec![json!(target)])
        .await
        .unwrap();
    assert_eq!(after["mark"], "not reloaded", "{after}");
    assert_eq!(
        after["options"], 4,
        "a placeholder and three agreed codes: {after}"
    );

    // A suggested pair accepted in place.
    let suggestions = browser.texts("#suggestions tr.suggestion").await.len();
    assert!(suggestions > 1);
    browser
        .submit(
            "#suggestions tr.suggestion:first-child .accept-form",
            &[("name", "Accepted pair")],
        )
        .await;
    browser
        .wait_until(
            "a suggestion fewer",
            &format!("//body[count(.//tr[contains(@class, 'suggestion')]) < {suggestions}]"),
        )
        .await;
    let after = browser
        .execute(STILL_THERE, vec![json!(target)])
        .await
        .unwrap();
    assert_eq!(after["mark"], "not reloaded", "{after}");
}

#[tokio::test]
async fn the_alignment_page_follows_another_leads_alignments_live() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let agreed = s.accept("infection risk", &["ana infection"]).await;
    let other = s.project.member(Role::Lead).await;
    let coder = s.project.member(Role::Coder).await;

    let browser = Browser::open(&app).await;
    browser.sign_in(&s.project.owner.email, PASSWORD).await;
    browser.visit(&s.project.path("/alignment")).await;
    let ben = s.codes["ben infection"].clone();
    browser
        .element(&format!(
            "tr.coder-code[data-code-id=\"{ben}\"] form[action$=\"/alignment/map\"]"
        ))
        .await;
    browser.mark_page().await;

    // Another lead maps Ben's code: the row shows it, the page not reloaded.
    let response = other
        .send_json(
            reqwest::Method::PUT,
            &s.project.api(&format!("/alignment/{ben}")),
            &json!({ "agreed_code_id": agreed["id"] }),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    browser
        .wait_until(
            "Ben's code to show its agreed code",
            &format!(
                "//tr[@data-code-id='{ben}']//td[contains(@class,'aligned')]/strong[normalize-space()='infection risk']"
            ),
        )
        .await;
    // And keeps one as its own agreed code: every select offers it.
    let admin = s.codes["ben admin"].clone();
    let response = other
        .post_json(
            &s.project.api("/agreed-codes"),
            &json!({ "name": "admin burden", "code_ids": [admin] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    browser
        .wait_until(
            "the new agreed code in the map choices",
            "//tr[contains(@class,'coder-code')]//select/option[normalize-space()='admin burden']",
        )
        .await;
    browser.assert_not_reloaded().await;

    // A coder's stream carries no alignment (it maps the other codebooks),
    // up to a change everyone hears of.
    let project: Value = s
        .project
        .owner
        .get(&s.project.api(""))
        .await
        .json()
        .await
        .unwrap();
    let renamed = s
        .project
        .owner
        .patch_json(
            &s.project.api(""),
            &json!({ "name": "Renamed", "version": project["version"] }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let mut stream = coder
        .http
        .get(coder.url(&s.project.api("/events")))
        .header("last-event-id", "0")
        .send()
        .await
        .unwrap();
    let mut buffer = String::new();
    loop {
        let event = crate::coding::read_event(&mut stream, &mut buffer).await;
        assert_ne!(event["kind"], "alignment.changed", "{event}");
        if event["kind"] == "project.updated" {
            break;
        }
    }
}
