use concord::projects::model::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, TestProject, html, location, select_texts};

const TABLE: &str = "Participant,Role,Experience (years),Patients in treatment\n\
                     P01,Palliative Care Consultant,5,30\n\
                     P02,Oncologist,25,60\n\
                     P03,Pain Specialist,12,45\n";

fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell.parse::<f64>() {
                Ok(n) => sheet.write_number(r as u32, c as u16, n).unwrap(),
                Err(_) => sheet.write_string(r as u32, c as u16, *cell).unwrap(),
            };
        }
    }
    workbook.save_to_buffer().unwrap()
}

async fn upload(project: &TestProject<'_>, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let response = project
        .owner
        .upload(
            &project.api("/participant-imports"),
            "file",
            &[(name, bytes)],
            &[],
        )
        .await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn commit(
    project: &TestProject<'_>,
    draft: &Value,
    choices: Option<&Value>,
) -> reqwest::Response {
    let path = project.api(&format!("/participant-imports/{}", draft.as_str().unwrap()));
    project
        .owner
        .post_json(&path, &json!({ "choices": choices, "commit": true }))
        .await
}

async fn participants(project: &TestProject<'_>) -> Value {
    project
        .owner
        .get(&project.api("/participants"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_example_table_imports_cleanly_from_csv_and_xlsx() {
    let app = TestApp::spawn().await;
    for (name, bytes) in [
        ("participants.csv", TABLE.as_bytes().to_vec()),
        (
            "participants.xlsx",
            xlsx(&[
                &[
                    "Participant",
                    "Role",
                    "Experience (years)",
                    "Patients in treatment",
                ],
                &["P01", "Palliative Care Consultant", "5", "30"],
                &["P02", "Oncologist", "25", "60"],
                &["P03", "Pain Specialist", "12", "45"],
            ]),
        ),
    ] {
        let project = app.project().await;
        let (status, preview) = upload(&project, name, bytes).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {preview}");
        assert_eq!(preview["row_count"], 3);
        assert_eq!(preview["errors"], json!([]), "{name}");
        assert_eq!(preview["choices"]["label_column"], "Participant");
        let kinds: Vec<&str> = preview["choices"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["text", "number", "number"], "{name}");
        let response = commit(&project, &preview["draft_id"], None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let done: Value = response.json().await.unwrap();
        assert_eq!(done["imported"], 3);
        let list = participants(&project).await;
        let p02 = list["participants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["label"] == "P02")
            .unwrap()
            .clone();
        assert_eq!(p02["values"]["Role"], "Oncologist");
        assert_eq!(p02["values"]["Experience (years)"], "25");
        assert_eq!(list["variables"][1]["kind"], "number");
    }
}

#[tokio::test]
async fn row_errors_are_shown_before_anything_is_saved() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let table = "Participant,Role,Years\nP01,Nurse,5\nP02,Nurse,five\nP01,Doctor,3\n,Doctor,2\nP05,Nurse,4\nP06,Doctor,1\n";
    let (status, preview) = upload(&project, "bad.csv", table.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::CREATED);
    let choices = json!({
        "label_column": "Participant",
        "columns": [
            { "column": "Role", "variable": "Role", "kind": "category", "allowed_values": ["Nurse"] },
            { "column": "Years", "variable": "Years", "kind": "number", "allowed_values": [] },
        ],
    });
    let path = project.api(&format!(
        "/participant-imports/{}",
        preview["draft_id"].as_str().unwrap()
    ));
    let checked: Value = project
        .owner
        .post_json(&path, &json!({ "choices": choices, "commit": false }))
        .await
        .json()
        .await
        .unwrap();
    let messages: Vec<String> = checked["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["row"], e["column"].as_str().unwrap()))
        .collect();
    assert!(
        messages.contains(&"3 Years".to_owned()),
        "bad number: {messages:?}"
    );
    assert!(
        messages.contains(&"4 Role".to_owned()),
        "unknown category: {messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("4 ") && m.ends_with("Participant")),
        "duplicate label: {messages:?}"
    );
    assert!(
        messages.contains(&"5 Participant".to_owned()),
        "empty label: {messages:?}"
    );
    let refused = commit(&project, &preview["draft_id"], Some(&choices)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let stored: i64 = sqlx::query_scalar("select count(*) from participants")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let variables: i64 = sqlx::query_scalar("select count(*) from variables")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!((stored, variables), (0, 0));
}

#[tokio::test]
async fn unreadable_tables_and_existing_labels_get_clear_errors() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let (status, body) = upload(&project, "people.pdf", b"%PDF".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["errors"]["file"][0]
            .as_str()
            .unwrap()
            .contains(".csv or .xlsx")
    );
    let (status, _) = upload(&project, "empty.csv", Vec::new()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = upload(&project, "broken.xlsx", b"PK\x03\x04nonsense".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    project
        .owner
        .post_json(&project.api("/participants"), &json!({ "label": "P01" }))
        .await;
    let (_, preview) = upload(&project, "p.csv", TABLE.as_bytes().to_vec()).await;
    assert!(
        preview["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already")
    );
    assert_eq!(
        commit(&project, &preview["draft_id"], None).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn labels_that_look_like_names_must_be_confirmed_as_pseudonyms() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let response = project
        .owner
        .upload(
            &project.path("/participants/import"),
            "file",
            &[(
                "names.csv",
                b"Name,Role\nMary Jones,Nurse\nP02,Doctor\n".to_vec(),
            )],
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let preview_path = location(&response);
    let page = html(project.owner.get(&preview_path).await).await;
    assert!(
        select_texts(&page, "#name-warning")
            .pop()
            .unwrap()
            .contains("Mary Jones")
    );
    let fields = [
        ("label_column", "Name"),
        ("column_0", "Role"),
        ("variable_0", "Role"),
        ("kind_0", "text"),
        ("allowed_0", ""),
        ("action", "import"),
    ];
    let unconfirmed = project.owner.post_form(&preview_path, &fields).await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let stored: i64 = sqlx::query_scalar("select count(*) from participants")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    let mut confirmed = fields.to_vec();
    confirmed.push(("pseudonyms", "yes"));
    let done = project.owner.post_form(&preview_path, &confirmed).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let page = html(project.owner.get(&project.path("/participants")).await).await;
    assert_eq!(
        select_texts(&page, "#participants td.label"),
        ["Mary Jones", "P02"]
    );
}

#[tokio::test]
async fn participants_are_added_and_edited_in_the_table_page_with_checked_values() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let response = project
        .owner
        .post_form(
            &project.path("/variables"),
            &[
                ("name", "Years"),
                ("kind", "number"),
                ("allowed_values", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let variables: Value = project
        .owner
        .get(&project.api("/variables"))
        .await
        .json()
        .await
        .unwrap();
    let field = format!("value_{}", variables[0]["id"].as_str().unwrap());
    let bad = project
        .owner
        .post_form(
            &project.path("/participants"),
            &[("label", "P01"), (&field, "many")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ok = project
        .owner
        .post_form(
            &project.path("/participants"),
            &[("label", "P01"), (&field, "12")],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let duplicate = project
        .owner
        .post_form(
            &project.path("/participants"),
            &[("label", "p01"), (&field, "3")],
        )
        .await;
    assert_eq!(duplicate.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let list = participants(&project).await;
    let id = list["participants"][0]["id"].as_str().unwrap().to_owned();
    let edit = project
        .owner
        .post_form(
            &project.path(&format!("/participants/{id}")),
            &[("label", "P01"), (&field, "13"), ("version", "1")],
        )
        .await;
    assert_eq!(edit.status(), StatusCode::SEE_OTHER);
    let stale = project
        .owner
        .post_form(
            &project.path(&format!("/participants/{id}")),
            &[("label", "P01"), (&field, "14"), ("version", "1")],
        )
        .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert_eq!(
        participants(&project).await["participants"][0]["values"]["Years"],
        "13"
    );

    let coder = project.member(Role::Coder).await;
    assert_eq!(
        coder.get(&project.path("/participants")).await.status(),
        StatusCode::OK
    );
    let refused = coder
        .post_json(&project.api("/participants"), &json!({ "label": "P09" }))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_column_named_in_other_words_is_matched_to_the_existing_variable() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    for (name, kind) in [("Years of experience", "number"), ("Role", "text")] {
        let created = project
            .owner
            .post_json(
                &project.api("/variables"),
                &json!({ "name": name, "kind": kind }),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED, "{name}");
    }
    let (status, preview) = upload(&project, "participants.csv", TABLE.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::CREATED);
    let columns = preview["choices"]["columns"].as_array().unwrap();
    let variables: Vec<&str> = columns
        .iter()
        .map(|c| c["variable"].as_str().unwrap())
        .collect();
    assert_eq!(
        variables,
        ["Role", "Years of experience", "Patients in treatment"],
        "Experience (years) is the project's Years of experience"
    );
    assert_eq!(columns[1]["kind"], "number");
    assert_eq!(
        preview["matches"],
        json!([
            { "column": "Role", "variable": "Role", "exact": true },
            { "column": "Experience (years)", "variable": "Years of experience", "exact": false },
        ])
    );

    // The page says which variable a column was matched to.
    let response = project
        .owner
        .upload(
            &project.path("/participants/import"),
            "file",
            &[("participants.csv", TABLE.as_bytes().to_vec())],
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = html(project.owner.get(&location(&response)).await).await;
    let notes = select_texts(&page, "#mapping-form .matched");
    assert_eq!(
        notes,
        ["Matches the project's variable “Years of experience”."],
        "{notes:?}"
    );

    let done = commit(&project, &preview["draft_id"], None).await;
    assert_eq!(done.status(), StatusCode::OK);
    let list = participants(&project).await;
    let names: Vec<&str> = list["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Years of experience", "Role", "Patients in treatment"],
        "no new variable for the same thing"
    );
    let p02 = list["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["label"] == "P02")
        .unwrap()
        .clone();
    assert_eq!(p02["values"]["Years of experience"], "25");
}

#[tokio::test]
async fn a_word_in_a_column_of_numbers_is_flagged_as_a_bad_number() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let table = "Participant,Years,Patients\nP01,5,30\nP02,abc,60\nP03,12,45\nP04,7,20\n";
    let (status, preview) = upload(&project, "typo.csv", table.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::CREATED);
    let years = &preview["choices"]["columns"][0];
    assert_eq!(years["column"], "Years");
    assert_eq!(years["kind"], "number", "one typo does not make it text");
    assert_eq!(
        preview["errors"],
        json!([{ "row": 3, "column": "Years", "message": "'abc' is not a number." }])
    );

    let response = project
        .owner
        .upload(
            &project.path("/participants/import"),
            "file",
            &[("typo.csv", table.as_bytes().to_vec())],
            &[],
        )
        .await;
    let page = html(project.owner.get(&location(&response)).await).await;
    assert_eq!(select_texts(&page, "#preview-rows td.bad"), ["abc"]);
    let selector = scraper::Selector::parse("#preview-rows td.bad").unwrap();
    let title = page
        .select(&selector)
        .next()
        .and_then(|td| td.value().attr("title"))
        .unwrap_or_default()
        .to_owned();
    assert_eq!(title, "'abc' is not a number.");

    let refused = commit(&project, &preview["draft_id"], None).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let stored: i64 = sqlx::query_scalar("select count(*) from participants")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}
