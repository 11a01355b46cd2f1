//! The `concord` binary with its private cluster: restarts, crashes, stale lock files.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) port: u16,
}

pub(crate) struct DataDir(pub(crate) PathBuf);

impl DataDir {
    /// A new folder under the temp folder, short enough for a socket path.
    pub(crate) fn new() -> Self {
        Self(std::env::temp_dir().join(format!(
            "concord-serve-test-{}",
            uuid::Uuid::new_v4().simple()
        )))
    }
}

impl Drop for DataDir {
    // Whatever happened, leave no cluster running and no folder behind.
    fn drop(&mut self) {
        if let Some(pid) = postmaster_pid(&self.0) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGQUIT);
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn postmaster_pid(root: &Path) -> Option<i32> {
    std::fs::read_to_string(root.join("pg/postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(root: &Path) -> Server {
    start_with(root, &[]).await
}

/// `concord serve` on a free port with its cluster under `root`, once healthy;
/// its log goes to `root/serve-<port>.log`.
pub(crate) async fn start_with(root: &Path, args: &[&str]) -> Server {
    let port = free_port();
    std::fs::create_dir_all(root).unwrap();
    let log = std::fs::File::create(root.join(format!("serve-{port}.log"))).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_concord"))
        .arg("--data-dir")
        .arg(root)
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .args(args)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("starting concord");
    let server = Server { child, port };
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(response) = client.get(server.url("/healthz")).send().await
            && response.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("concord did not become healthy on port {port}");
}

impl Server {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub(crate) async fn client_with_csrf(&self) -> (reqwest::Client, String) {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let session: Value = client
            .get(self.url("/api/v1/session"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (client, session["csrf_token"].as_str().unwrap().to_owned())
    }

    pub(crate) async fn sign_in(&self) -> (reqwest::Client, String) {
        let (client, csrf) = self.client_with_csrf().await;
        let response = client
            .post(self.url("/api/v1/session"))
            .header("x-csrf-token", csrf)
            .json(&json!({ "email": "ana@example.org", "password": "a long enough password" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        (client, body["csrf_token"].as_str().unwrap().to_owned())
    }

    async fn projects(&self, client: &reqwest::Client) -> Value {
        let response = client
            .get(self.url("/api/v1/projects"))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    async fn project_names(&self) -> Vec<String> {
        let (client, _) = self.sign_in().await;
        let projects = self.projects(&client).await;
        projects
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    }

    fn kill_hard(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the exit status; a server that does not drain in time fails the test.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).unwrap();
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("concord did not stop within a minute of SIGTERM");
    }
}

#[tokio::test]
async fn private_cluster_keeps_committed_data_across_restarts_and_crashes() {
    let dir = DataDir(std::env::temp_dir().join(format!(
        "concord-serve-test-{}",
        uuid::Uuid::new_v4().simple()
    )));

    let server = start(&dir.0).await;
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
    let created = client
        .post(server.url("/api/v1/projects"))
        .header("x-csrf-token", session["csrf_token"].as_str().unwrap())
        .json(&json!({ "name": "Survives crashes" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "acknowledged");

    // kill -9 of the app and of PostgreSQL itself: a stale lock file is left.
    let postmaster = postmaster_pid(&dir.0).expect("cluster running");
    server.kill_hard();
    kill(Pid::from_raw(postmaster), Signal::SIGKILL).unwrap();
    for _ in 0..100 {
        if !Path::new(&format!("/proc/{postmaster}")).exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        dir.0.join("pg/postmaster.pid").exists(),
        "the crash leaves its lock file"
    );

    let server = start(&dir.0).await;
    assert_eq!(server.project_names().await, ["Survives crashes"]);
    // An open live-update stream must not keep the server from stopping.
    let (client, _) = server.sign_in().await;
    let projects = server.projects(&client).await;
    let events = format!(
        "/api/v1/projects/{}/events",
        projects[0]["id"].as_str().unwrap()
    );
    let stream = client.get(server.url(&events)).send().await.unwrap();
    assert_eq!(stream.status(), 200);

    // A clean stop (SIGTERM) stops the cluster too.
    let status = server.terminate();
    assert!(status.success(), "{status}");
    drop(stream);
    assert!(postmaster_pid(&dir.0).is_none(), "the cluster was stopped");

    // A lock file naming a live process that is not PostgreSQL (after a reboot,
    // pids are reused) must not block the start either.
    std::fs::write(
        dir.0.join("pg/postmaster.pid"),
        format!("{}\n", std::process::id()),
    )
    .unwrap();
    let server = start(&dir.0).await;
    assert_eq!(server.project_names().await, ["Survives crashes"]);
    assert!(server.terminate().success());
}

/// `concord create-admin`, typing `password` at its prompt.
fn create_admin(database_url: &str, email: &str, password: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_concord"))
        .env("DATABASE_URL", database_url)
        .args([
            "--log",
            "warn",
            "create-admin",
            "--email",
            email,
            "--name",
            "Root",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn create_admin_makes_a_site_admin_from_the_command_line() {
    let app = crate::harness::TestApp::spawn().await;
    let output = create_admin(
        &app.database_url,
        "root@example.org",
        "a long enough password",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let is_admin: bool =
        sqlx::query_scalar("select is_admin from users where email = 'root@example.org'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(is_admin);
    let signed_in = app
        .client()
        .sign_in("root@example.org", "a long enough password")
        .await;
    assert_eq!(signed_in.status(), 303);

    let output = create_admin(&app.database_url, "x@example.org", "short");
    assert!(!output.status.success(), "a short password is refused");
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 1);
}
