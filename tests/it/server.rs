//! Answers while the database is unreachable.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;

use crate::harness::{TestApp, html, select_texts};

#[tokio::test]
async fn requests_get_a_503_within_about_a_second_while_the_database_is_unreachable() {
    let test = TestApp::spawn().await;
    // An instance with the server's own pool settings.
    let pool = concord::db::connect((*test.pool.connect_options()).clone(), 5)
        .await
        .unwrap();
    let app = TestApp::serve(pool, test.config.clone()).await;
    let ben = app.signed_in("ben@example.org", false).await;
    ben.csrf_token().await;
    let reachable = (*app.pool.connect_options()).clone();

    // A socket nobody listens on: connecting is refused, as when PostgreSQL is down.
    let dead = std::env::temp_dir().join(format!("concord-dead-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dead).unwrap();
    drop(std::os::unix::net::UnixListener::bind(dead.join(".s.PGSQL.5432")).unwrap());
    app.pool.set_connect_options(
        PgConnectOptions::new()
            .socket(&dead)
            .port(5432)
            .username("concord")
            .database("gone"),
    );
    let mut admin = sqlx::PgConnection::connect_with(&reachable).await.unwrap();
    sqlx::query(
        "select pg_terminate_backend(pid) from pg_stat_activity \
          where datname = current_database() and pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .await
    .unwrap();

    let started = Instant::now();
    let health = reqwest::get(app.url("/healthz")).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);

    let started = Instant::now();
    let api = ben
        .post_json("/api/v1/projects", &json!({ "name": "Lost?" }))
        .await;
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
    assert!(api.headers().contains_key("retry-after"));
    let problem: Value = api.json().await.unwrap();
    assert_eq!(problem["status"], 503);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("database is unavailable"),
        "{problem}"
    );

    let page = ben.get("/").await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        select_texts(&html(page).await, "h1"),
        ["Service Unavailable"]
    );

    // Back as soon as the database is: nothing to restart, the session still valid.
    app.pool.set_connect_options(reachable);
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(app.url("/healthz")).await.unwrap().status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "the pool did not reconnect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let projects: Value = ben.get("/api/v1/projects").await.json().await.unwrap();
    assert_eq!(projects, json!([]), "the refused write stored nothing");
    let _ = std::fs::remove_dir_all(&dead);
}
