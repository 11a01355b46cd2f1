//! The server loop's timeouts, and answers while the database is unreachable,
//! in process (the binary's own behaviour is in `lifecycle`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use concord::state::AppState;
use concord::web::server::Timeouts;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{TestApp, html, select_texts};

struct Served {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// Stops accepting, and answers once the loop has returned.
    async fn shut_down(mut self, within: Duration) {
        let _ = self.stop.take().map(|stop| stop.send(()));
        tokio::time::timeout(within, &mut self.task)
            .await
            .expect("the server loop ended in time")
            .expect("the server loop did not panic");
    }
}

/// The app of `app` (same database) behind `concord::web::server::serve`.
async fn serve(app: &TestApp, timeouts: Timeouts) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = concord::router(AppState::new(app.pool.clone(), app.config.clone()));
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(concord::web::server::serve(
        listener,
        router,
        timeouts,
        async move {
            let _ = stopped.await;
        },
    ));
    Served {
        address,
        stop: Some(stop),
        task,
    }
}

/// Reads until the server closes the connection; panics if it has not within 10 s.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buffer = [0; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_request_head_that_never_ends_is_cut_off_at_the_header_read_timeout() {
    let app = TestApp::spawn().await;
    let served = serve(
        &app,
        Timeouts {
            header_read: Duration::from_secs(1),
            idle: Duration::from_secs(300),
            shutdown: Duration::from_secs(1),
        },
    )
    .await;
    let mut slow = TcpStream::connect(served.address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    let answer = read_until_closed(&mut slow).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    // Other clients were served meanwhile and still are.
    let health = reqwest::get(served.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    served.shut_down(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn idle_connections_are_closed_but_open_event_streams_are_not() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let served = serve(
        &app,
        Timeouts {
            header_read: Duration::from_secs(300),
            idle: Duration::from_secs(1),
            shutdown: Duration::from_secs(1),
        },
    )
    .await;

    // Kept alive after a response, then idle.
    let mut kept = TcpStream::connect(served.address).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut kept).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    // Opened and never used.
    let mut unused = TcpStream::connect(served.address).await.unwrap();
    assert_eq!(read_until_closed(&mut unused).await, "");

    // An event stream is a request in flight, however quiet (the session
    // cookie is for 127.0.0.1, so the owner's client sends it here too).
    let mut events = project
        .owner
        .http
        .get(served.url(&project.api("/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let quiet_until = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        match tokio::time::timeout_at(quiet_until, events.chunk()).await {
            Err(_) => break,
            Ok(Ok(Some(_))) => continue,
            Ok(other) => panic!("the event stream was closed: {other:?}"),
        }
    }
    // It does not hold up shutdown past the deadline either.
    served.shut_down(Duration::from_secs(10)).await;
}

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
