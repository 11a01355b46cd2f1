use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, html, select_texts};

#[tokio::test]
async fn unknown_pages_get_an_html_404_and_unknown_api_paths_problem_json() {
    let app = TestApp::spawn().await;
    let ben = app.signed_in("ben@example.org", false).await;
    let page = ben.get("/no/such/page").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(select_texts(&html(page).await, "h1"), ["Not Found"]);

    let api = ben.get("/api/v1/nothing").await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["status"], 404);
    assert_eq!(body["title"], "Not Found");
}

#[tokio::test]
async fn malformed_and_mistyped_json_get_clear_errors() {
    let app = TestApp::spawn().await;
    let ben = app.signed_in("ben@example.org", false).await;
    let token = ben.csrf_token().await;
    let syntax = ben
        .http
        .post(ben.url("/api/v1/projects"))
        .header("x-csrf-token", &token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(syntax.status(), StatusCode::BAD_REQUEST);
    let body: Value = syntax.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().len() > 5);

    let types = ben
        .post_json("/api/v1/projects", &json!({ "name": 42 }))
        .await;
    assert_eq!(types.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let not_json = ben
        .http
        .post(ben.url("/api/v1/projects"))
        .header("x-csrf-token", &token)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let projects: i64 = sqlx::query_scalar("select count(*) from projects")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(projects, 0);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 1024).await;
    let ben = app.signed_in("ben@example.org", false).await;
    let big = "x".repeat(4096);
    let json = ben
        .post_json("/api/v1/projects", &json!({ "name": big }))
        .await;
    assert_eq!(json.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let form = ben.post_form("/projects", &[("name", &big)]).await;
    assert_eq!(form.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let projects: i64 = sqlx::query_scalar("select count(*) from projects")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(projects, 0);
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    app.create_user("ben@example.org", "Ben", false).await;
    for path in [
        "/login",
        "/healthz",
        "/static/css/app.css",
        "/api/v1/session",
    ] {
        let response = app.client().get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(!headers["x-request-id"].is_empty());
    }
}

#[tokio::test]
async fn health_check_answers_when_the_database_does() {
    let app = TestApp::spawn().await;
    let response = app.client().get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    app.pool.close().await;
    assert_eq!(
        app.client().get("/healthz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let app = TestApp::spawn().await;
    let response = reqwest::Client::new()
        .get(app.url("/static/css/app.css"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn every_constraint_that_refuses_a_write_with_a_message_exists_in_the_schema() {
    let app = TestApp::spawn().await;
    // A constraint renamed in a migration would otherwise turn its clear
    // message back into a 500.
    for name in concord::error::refusing_constraints() {
        let exists: bool = sqlx::query_scalar(
            "select exists (select 1 from pg_constraint where conname = $1)
                 or exists (select 1 from pg_class where relkind = 'i' and relname = $1)
                 or exists (select 1 from pg_proc where prosrc like '%' || $1 || '%')",
        )
        .bind(name)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert!(
            exists,
            "no constraint, unique index or raising function named {name}"
        );
    }
    // And one of them, end to end: a second code of the same name in one
    // codebook is a 422 on `name`, with the table's message.
    let project = app.project().await;
    let coder = project.member(concord::projects::model::Role::Coder).await;
    let body = |name: &str| json!({ "id": uuid::Uuid::new_v4(), "name": name });
    let first = coder
        .post_json(&project.api("/codes"), &body("Trust"))
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let again = coder
        .post_json(&project.api("/codes"), &body("trust"))
        .await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = again.json().await.unwrap();
    assert_eq!(
        problem["errors"]["name"][0],
        "Your codebook has a code of this name already."
    );
}
