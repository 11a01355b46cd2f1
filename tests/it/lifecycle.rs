//! The `concord` process when things fail: SIGTERM with clients that never
//! finish their requests, a port already in use, PostgreSQL dying, file
//! descriptors running out; and its command line.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::embedded::{DataDir, Server, free_port, postmaster_pid, start_with};
use crate::harness::TestApp;

const BIN: &str = env!("CARGO_BIN_EXE_concord");

/// The exit status, or a panic naming `what` when `child` runs past `within`.
fn wait_for_exit(child: &mut Child, within: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "concord did not exit within {within:?} {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn server_log(root: &Path, port: u16) -> String {
    std::fs::read_to_string(root.join(format!("serve-{port}.log"))).unwrap_or_default()
}

/// The first admin, signed in: the client and its CSRF token.
async fn set_up(server: &Server) -> (reqwest::Client, String) {
    let (client, csrf) = server.client_with_csrf().await;
    let setup = client
        .post(server.url("/api/v1/setup"))
        .header("x-csrf-token", csrf)
        .json(&json!({ "email": "ana@example.org", "display_name": "Ana", "password": "a long enough password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(setup.status(), 201);
    let session: Value = setup.json().await.unwrap();
    (client, session["csrf_token"].as_str().unwrap().to_owned())
}

fn postmaster_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres")
}

#[tokio::test]
async fn sigterm_stops_at_the_shutdown_deadline_with_clients_holding_half_sent_requests() {
    let dir = DataDir::new();
    let mut server = start_with(
        &dir.0,
        &[
            "--shutdown-timeout-secs",
            "2",
            "--header-read-timeout-secs",
            "300",
            "--idle-timeout-secs",
            "300",
        ],
    )
    .await;

    // An anonymous CSRF cookie and its token, for a raw request.
    let session = reqwest::get(server.url("/api/v1/session")).await.unwrap();
    let cookie = session
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("concord_csrf="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let token = session.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // A sign-in whose body stops half way: "100 Continue" shows its handler is
    // reading the body when the signal comes.
    let mut half_body = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    half_body
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        half_body,
        "POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\n\
         X-CSRF-Token: {token}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\
         Expect: 100-continue\r\n\r\n"
    )
    .unwrap();
    let mut interim = [0; 64];
    let n = half_body.read(&mut interim).unwrap();
    assert!(
        String::from_utf8_lossy(&interim[..n]).starts_with("HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&interim[..n])
    );
    half_body.write_all(b"{\"email\": \"ana@").unwrap();
    // And a request whose headers never end.
    let mut half_head = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    half_head
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    half_head
        .write_all(b"GET /api/v1/session HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .unwrap();

    kill(Pid::from_raw(server.child.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait_for_exit(
        &mut server.child,
        Duration::from_secs(30),
        "of SIGTERM (the deadline is 2 s)",
    );
    assert!(status.success(), "{status}");
    assert!(
        postmaster_pid(&dir.0).is_none(),
        "the cluster was stopped cleanly"
    );
    let log = server_log(&dir.0, server.port);
    assert!(
        log.contains("closing connections still open at the shutdown deadline"),
        "{log}"
    );
    drop((half_body, half_head));
}

#[test]
fn a_port_in_use_leaves_no_private_cluster_running() {
    let dir = DataDir::new();
    std::fs::create_dir_all(&dir.0).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let log = std::fs::File::create(dir.0.join("serve.log")).unwrap();
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(&dir.0)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let status = wait_for_exit(&mut child, Duration::from_secs(120), "with its port taken");
    let log = std::fs::read_to_string(dir.0.join("serve.log")).unwrap();
    assert!(!status.success(), "{log}");
    assert!(log.contains(&format!("binding 127.0.0.1:{port}")), "{log}");
    let left = postmaster_pid(&dir.0);
    assert!(
        left.is_none_or(|pid| !postmaster_alive(pid)),
        "PostgreSQL was left running: {log}"
    );
    drop(taken);
}

#[tokio::test]
async fn postgres_dying_gets_quick_503s_then_the_private_cluster_is_back_with_every_acknowledged_write()
 {
    let dir = DataDir::new();
    let server = start_with(&dir.0, &[]).await;
    let (client, csrf) = set_up(&server).await;
    let create = |name: String| {
        client
            .post(server.url("/api/v1/projects"))
            .header("x-csrf-token", &csrf)
            .json(&json!({ "name": name }))
            .timeout(Duration::from_secs(15))
            .send()
    };
    let before = create("Before the crash".into()).await.unwrap();
    assert_eq!(before.status(), 201);
    let mut acknowledged = vec!["Before the crash".to_owned()];

    let killed = postmaster_pid(&dir.0).expect("cluster running");
    kill(Pid::from_raw(killed), Signal::SIGKILL).unwrap();

    let deadline = Instant::now() + Duration::from_secs(120);
    let mut unavailable = 0;
    for attempt in 0.. {
        assert!(
            Instant::now() < deadline,
            "PostgreSQL was not brought back: {}",
            server_log(&dir.0, server.port)
        );
        let started = Instant::now();
        let health = client
            .get(server.url("/healthz"))
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .unwrap();
        let took = started.elapsed();
        assert!(took < Duration::from_millis(1500), "/healthz took {took:?}");

        let name = format!("During the outage {attempt}");
        let started = Instant::now();
        let created = create(name.clone()).await.unwrap();
        let took = started.elapsed();
        let status = created.status();
        assert!(
            took < Duration::from_secs(3),
            "a write took {took:?} ({status})"
        );
        match status {
            StatusCode::CREATED => acknowledged.push(name),
            StatusCode::SERVICE_UNAVAILABLE => {
                unavailable += 1;
                assert_eq!(
                    created.headers()["content-type"],
                    "application/problem+json"
                );
                let problem: Value = created.json().await.unwrap();
                assert_eq!(problem["status"], 503);
            }
            other => panic!("a write during the outage got {other}"),
        }
        let restarted = postmaster_pid(&dir.0).is_some_and(|p| p != killed && postmaster_alive(p));
        if health.status() == StatusCode::OK && status == StatusCode::CREATED && restarted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = server_log(&dir.0, server.port);
    assert!(log.contains("restarting it"), "{unavailable} 503s; {log}");

    let (client, _) = server.sign_in().await;
    let projects: Value = client
        .get(server.url("/api/v1/projects"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored: Vec<&str> = projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in &acknowledged {
        assert!(
            stored.contains(&name.as_str()),
            "{name} was acknowledged but lost"
        );
    }
    assert!(server.terminate().success());
}

/// `concord serve` against the test's database, with the open-files limit
/// (soft, hard) it is started with; its log goes to a file in `dir`.
fn spawn_limited(app: &TestApp, dir: &Path, port: u16, limit: (u64, u64), args: &[&str]) -> Child {
    std::fs::create_dir_all(dir).unwrap();
    let log = std::fs::File::create(dir.join(format!("serve-{port}.log"))).unwrap();
    let mut command = Command::new(BIN);
    command
        .args(["--database-url", &app.database_url])
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(args)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    // SAFETY: setrlimit is async-signal-safe, and nothing else runs between
    // fork and exec.
    unsafe {
        command.pre_exec(move || {
            setrlimit(Resource::RLIMIT_NOFILE, limit.0, limit.1).map_err(std::io::Error::from)
        });
    }
    command.spawn().unwrap()
}

async fn wait_healthy(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    loop {
        assert!(child.try_wait().unwrap().is_none(), "concord exited");
        assert!(Instant::now() < deadline, "concord did not become healthy");
        if let Ok(response) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && response.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// (soft, hard) as /proc says for `pid`.
fn open_files_limit(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let mut fields = line["Max open files".len()..].split_whitespace();
    (
        fields.next().unwrap().to_owned(),
        fields.next().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn the_open_files_limit_is_raised_to_the_hard_limit_at_start() {
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    assert!(
        hard > 256,
        "this test needs a hard limit above 256, not {hard}"
    );
    let app = TestApp::spawn().await;
    let dir = DataDir::new();
    let port = free_port();
    let mut child = spawn_limited(&app, &dir.0, port, (256, hard), &[]);
    wait_healthy(port, &mut child).await;
    let (soft_now, hard_now) = open_files_limit(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(soft_now, hard_now);
    assert_eq!(hard_now, hard.to_string());
}

#[tokio::test]
async fn idle_connections_past_the_open_files_limit_are_closed_and_health_answers_again() {
    let app = TestApp::spawn().await;
    let dir = DataDir::new();
    let port = free_port();
    let mut child = spawn_limited(&app, &dir.0, port, (64, 64), &["--idle-timeout-secs", "1"]);
    wait_healthy(port, &mut child).await;

    // Far more idle clients than descriptors.
    let idle: Vec<std::net::TcpStream> = (0..150)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    wait_healthy(port, &mut child).await;
    for mut stream in idle {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut rest = Vec::new();
        let closed = match stream.read_to_end(&mut rest) {
            Ok(_) => true,
            Err(error) => {
                error.kind() != std::io::ErrorKind::WouldBlock
                    && error.kind() != std::io::ErrorKind::TimedOut
            }
        };
        assert!(closed, "an idle connection was left open");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let log = server_log(&dir.0, port);
    assert!(log.contains("could not accept a connection"), "{log}");
}

#[tokio::test]
async fn settings_may_come_before_or_after_the_subcommand() {
    for args in [
        ["serve", "--data-dir", "/srv/concord"],
        ["--data-dir", "/srv/concord", "serve"],
    ] {
        let cli = concord::cli::Cli::try_parse_from(std::iter::once("concord").chain(args))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_eq!(cli.config.data_dir, Path::new("/srv/concord"), "{args:?}");
    }

    let app = TestApp::spawn().await;
    for args in [
        [
            "migrate",
            "--log",
            "warn",
            "--database-url",
            app.database_url.as_str(),
        ],
        [
            "--log",
            "warn",
            "migrate",
            "--database-url",
            app.database_url.as_str(),
        ],
    ] {
        let output = Command::new(BIN)
            .args(args)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let output = Command::new(BIN)
        .args(["migrate", "--db-max-connections", "many"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--db-max-connections"));
}
