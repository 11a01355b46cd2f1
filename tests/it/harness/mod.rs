//! `TestApp::spawn()`: the real router on 127.0.0.1:0 over a fresh database.

pub mod browser;
mod db;

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use concord::auth::{password, store as users};
use concord::config::Config;
use concord::db::ids::{ProjectId, UserId};
use concord::projects::model::Role;
use concord::state::AppState;
use reqwest::{Response, StatusCode};
use scraper::{Html, Selector};
use serde_json::Value;
use sqlx::PgPool;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: SocketAddr,
    pub pool: PgPool,
    pub config: Config,
    /// For running the `concord` binary against this test's database.
    pub database_url: String,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        init_logs();
        let options = db::test_db().create_database().await;
        let database_url = db::url_of(&options);
        // Patient, unlike the server's own pools: test runs load the machine.
        let pool = concord::db::connect_with_timeout(options, 5, Duration::from_secs(10))
            .await
            .expect("test pool");
        let mut config = Config::for_tests(database_url.clone());
        configure(&mut config);
        let mut app = Self::serve(pool, config).await;
        app.database_url = database_url;
        app
    }

    /// Another app instance on the same database (as several servers would run).
    pub async fn serve(pool: PgPool, config: Config) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let app = concord::router(AppState::new(pool.clone(), config.clone()));
        // The server loop `concord serve` uses, with its timeouts.
        tokio::spawn(concord::web::server::serve(
            listener,
            app,
            config.server_timeouts(),
            std::future::pending(),
        ));
        let database_url = config.database_url.clone().unwrap_or_default();
        TestApp {
            address,
            pool,
            config,
            database_url,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// A browser-like client with its own cookie jar, not signed in.
    pub fn client(&self) -> TestClient {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            // Well below the server's idle timeout, so no request is sent on a
            // connection the server is closing.
            .pool_idle_timeout(std::time::Duration::from_secs(1))
            .build()
            .expect("client");
        TestClient {
            http,
            base: format!("http://{}", self.address),
            csrf: Mutex::new(None),
        }
    }

    /// An account made directly in the database.
    pub async fn create_user(&self, email: &str, name: &str, is_admin: bool) -> UserId {
        let hash = password::hash_password(PASSWORD.into())
            .await
            .expect("hash");
        let mut conn = self.pool.acquire().await.expect("conn");
        users::insert_user(&mut conn, email, name, &hash, is_admin)
            .await
            .expect("insert user")
            .id
    }

    /// A signed-in client for a new account.
    pub async fn signed_in(&self, email: &str, is_admin: bool) -> TestUser {
        let name = email.split('@').next().unwrap_or(email).to_owned();
        let id = self.create_user(email, &name, is_admin).await;
        let client = self.client();
        let response = client.sign_in(email, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in of {email}"
        );
        TestUser {
            id,
            email: email.to_owned(),
            client,
        }
    }

    pub async fn admin(&self) -> TestUser {
        self.signed_in("admin@example.org", true).await
    }

    /// A project with an owner, ready for members.
    pub async fn project(&self) -> TestProject<'_> {
        let owner = self
            .signed_in(&format!("owner-{}@example.org", short_id()), false)
            .await;
        let response = owner
            .client
            .post_json(
                "/api/v1/projects",
                &serde_json::json!({ "name": "Pain study" }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("json");
        let id: ProjectId = body["id"].as_str().expect("id").parse().expect("uuid");
        TestProject {
            app: self,
            id,
            owner,
        }
    }

    pub async fn audit_count(&self, project_id: Option<ProjectId>) -> i64 {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from audit_events where project_id is not distinct from $1",
        )
        .bind(project_id.map(|p| p.0))
        .fetch_one(&self.pool)
        .await
        .expect("count")
    }
}

/// Runs the shell `cleanup` once this test process is gone, however it ends:
/// services started for the run (the database, the browser driver) must not
/// outlive it.
#[expect(
    clippy::zombie_processes,
    reason = "the watchdog must outlive this process, so it is never waited for"
)]
pub fn after_this_process(what: &str, cleanup: &str) {
    use std::os::unix::process::CommandExt;
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {cleanup}",
        pid = std::process::id()
    );
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting the {what} watchdog: {e}"));
}

pub fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

pub struct TestUser {
    pub id: UserId,
    pub email: String,
    pub client: TestClient,
}

impl std::ops::Deref for TestUser {
    type Target = TestClient;
    fn deref(&self) -> &TestClient {
        &self.client
    }
}

pub struct TestProject<'a> {
    pub app: &'a TestApp,
    pub id: ProjectId,
    pub owner: TestUser,
}

impl TestProject<'_> {
    pub fn path(&self, rest: &str) -> String {
        format!("/projects/{}{}", self.id, rest)
    }

    pub fn api(&self, rest: &str) -> String {
        format!("/api/v1/projects/{}{}", self.id, rest)
    }

    /// Imports `text` as a transcript file named `file`; answers its id.
    pub async fn import_text(&self, file: &str, text: &str) -> String {
        let response = self
            .owner
            .upload(
                &self.api("/transcripts"),
                "files",
                &[(file, text.as_bytes().to_vec())],
                &[],
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "importing {file}");
        let body: serde_json::Value = response.json().await.expect("json");
        body["files"][0]["transcript_id"]
            .as_str()
            .expect("transcript id")
            .to_owned()
    }

    /// A new signed-in user holding `role` in this project.
    pub async fn member(&self, role: Role) -> TestUser {
        let user = self
            .app
            .signed_in(
                &format!("{}-{}@example.org", role.as_str(), short_id()),
                false,
            )
            .await;
        let response = self
            .owner
            .post_json(
                &self.api("/members"),
                &serde_json::json!({ "email": user.email, "role": role.as_str() }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "adding a {role}");
        user
    }
}

pub struct TestClient {
    pub http: reqwest::Client,
    base: String,
    csrf: Mutex<Option<String>>,
}

impl Clone for TestClient {
    fn clone(&self) -> Self {
        TestClient {
            http: self.http.clone(),
            base: self.base.clone(),
            csrf: Mutex::new(self.csrf.lock().unwrap().clone()),
        }
    }
}

impl TestClient {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    /// The CSRF token of this client's session (or of its anonymous cookie).
    pub async fn csrf_token(&self) -> String {
        if let Some(token) = self.csrf.lock().expect("lock").clone() {
            return token;
        }
        let body: Value = self
            .get("/api/v1/session")
            .await
            .json()
            .await
            .expect("session json");
        let token = body["csrf_token"].as_str().expect("csrf_token").to_owned();
        *self.csrf.lock().expect("lock") = Some(token.clone());
        token
    }

    fn forget_csrf(&self) {
        *self.csrf.lock().expect("lock") = None;
    }

    /// A form post with this client's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("_csrf", &token));
        let response = self
            .http
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .expect("POST");
        self.forget_csrf();
        response
    }

    /// A JSON request with the `X-CSRF-Token` header.
    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: &Value) -> Response {
        let token = self.csrf_token().await;
        self.http
            .request(method, self.url(path))
            .header("x-csrf-token", token)
            .json(body)
            .send()
            .await
            .expect("JSON request")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> Response {
        self.send_json(reqwest::Method::PATCH, path, body).await
    }

    /// A multipart upload of `files` (name, bytes) as field `field`, plus text fields.
    pub async fn upload(
        &self,
        path: &str,
        field: &str,
        files: &[(&str, Vec<u8>)],
        fields: &[(&str, &str)],
    ) -> Response {
        let token = self.csrf_token().await;
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        for (name, bytes) in files {
            form = form.part(
                field.to_owned(),
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
            );
        }
        self.http
            .post(self.url(path))
            .header("x-csrf-token", token)
            .multipart(form)
            .send()
            .await
            .expect("upload")
    }

    pub async fn delete(&self, path: &str) -> Response {
        let token = self.csrf_token().await;
        self.http
            .delete(self.url(path))
            .header("x-csrf-token", token)
            .send()
            .await
            .expect("DELETE")
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.post_form("/login", &[("email", email), ("password", password)])
            .await
    }
}

/// The page's HTML, parsed.
pub async fn html(response: Response) -> Html {
    Html::parse_document(&response.text().await.expect("body"))
}

pub fn select_texts(page: &Html, selector: &str) -> Vec<String> {
    let selector = Selector::parse(selector).expect("selector");
    page.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("concord=debug,tower_http=debug")
            .with_test_writer()
            .try_init();
    }
}
