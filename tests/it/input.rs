//! Input PostgreSQL cannot store is refused before any handler sees it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, TestClient, html, select_texts};

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// 422, with the message on `field`: in `errors` for the API, listed on the
/// error page for pages.
async fn assert_refused(response: reqwest::Response, field: &str) {
    let status = response.status();
    let is_json = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("json");
    if is_json {
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
        assert!(
            body["errors"][field][0]
                .as_str()
                .is_some_and(|m| m.contains("NUL")),
            "{field}: {body}"
        );
    } else {
        let items = select_texts(&html(response).await, "main li");
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {items:?}"
        );
        assert!(
            items
                .iter()
                .any(|i| i.starts_with(&format!("{field}: ")) && i.contains("NUL")),
            "{field}: {items:?}"
        );
    }
}

async fn raw_form(client: &TestClient, path: &str, body: &str) -> reqwest::Response {
    let token = client.csrf_token().await;
    client
        .http
        .post(client.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{body}&_csrf={token}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_nul_character_in_any_text_field_gets_422_naming_the_field_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let owner = &project.owner;
    let before = (
        count(&app, "projects").await,
        count(&app, "audit_events").await,
    );

    // JSON bodies, at the top level and nested in maps and lists.
    assert_refused(
        owner
            .post_json("/api/v1/projects", &json!({ "name": "Pain\u{0}study" }))
            .await,
        "name",
    )
    .await;
    let current: Value = owner.get(&project.api("")).await.json().await.unwrap();
    assert_refused(
        owner
            .patch_json(
                &project.api(""),
                &json!({ "name": "Renamed", "description": "\u{0}", "version": current["version"] }),
            )
            .await,
        "description",
    )
    .await;
    assert_refused(
        owner
            .post_json(
                &project.api("/variables"),
                &json!({ "name": "Role", "kind": "category", "allowed_values": ["Nurse", "Doc\u{0}tor"] }),
            )
            .await,
        "allowed_values[1]",
    )
    .await;
    assert_refused(
        owner
            .post_json(
                &project.api("/participants"),
                &json!({ "label": "P01", "values": { "Role": "Nurse\u{0}" } }),
            )
            .await,
        "values.Role",
    )
    .await;
    assert_refused(
        owner
            .post_json(
                &project.api("/codes"),
                &json!({ "id": uuid::Uuid::new_v4(), "name": "Pain", "definition": "x\u{0}" }),
            )
            .await,
        "definition",
    )
    .await;

    // Forms, the query string and multipart fields.
    assert_refused(
        raw_form(owner, "/projects", "name=Pain%00study").await,
        "name",
    )
    .await;
    assert_refused(owner.get("/login?next=%2F%00").await, "next").await;
    assert_refused(
        owner
            .upload(
                &project.api("/transcripts"),
                "files",
                &[("P01.txt", b"Interviewer: Hello.\n".to_vec())],
                &[("encoding", "utf-8\u{0}")],
            )
            .await,
        "encoding",
    )
    .await;

    // Signing in with one is not a failed attempt, it is not an attempt.
    let stranger = app.client();
    assert_refused(
        raw_form(&stranger, "/login", "email=a%00@example.org&password=x").await,
        "email",
    )
    .await;
    assert_refused(
        stranger
            .post_json(
                "/api/v1/session",
                &json!({ "email": "ben@example.org", "password": "\u{0}" }),
            )
            .await,
        "password",
    )
    .await;

    assert_eq!(
        (
            count(&app, "projects").await,
            count(&app, "audit_events").await
        ),
        before
    );
    for table in [
        "variables",
        "participants",
        "codes",
        "transcripts",
        "login_failures",
    ] {
        assert_eq!(count(&app, table).await, 0, "{table}");
    }
    let unchanged: Value = owner.get(&project.api("")).await.json().await.unwrap();
    assert_eq!(unchanged["version"], current["version"]);

    // The escape for a backslash followed by "u0000" is ordinary text.
    let fine = owner
        .post_json("/api/v1/projects", &json!({ "name": "Literally \\u0000" }))
        .await;
    assert_eq!(fine.status(), StatusCode::CREATED);
}
