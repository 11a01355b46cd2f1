//! `concord-bench`: HTTP load on the coding API and the transcript pages of a
//! Concord server on this machine, reported as a Markdown table on stdout.
//!
//! By default it starts `target/release/concord` itself, over a fresh private
//! cluster in a temporary folder, and reads the server's peak RSS at the end.
//! Every phase is bounded by a request count and a time limit, and only loopback
//! addresses are accepted, so it can't be pointed at someone else's server.
//!
//! ```sh
//! cargo build --release --features bench
//! target/release/concord-bench
//! ```

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

const PASSWORD: &str = "bench password, not secret";
const CODES_PER_CODER: usize = 12;

#[derive(Debug, Parser)]
#[command(about = "HTTP load on a Concord server's coding API and pages")]
struct Args {
    /// A running server to load (loopback only). Without it, one is started from
    /// --server-bin over a fresh data folder, and its peak RSS is reported.
    #[arg(long)]
    url: Option<String>,
    /// The server binary to start.
    #[arg(long, default_value = "target/release/concord")]
    server_bin: PathBuf,
    /// Admin account: made by setup on a new server, else signed in to.
    #[arg(long, default_value = "bench-admin@example.org")]
    admin_email: String,
    #[arg(long, default_value = PASSWORD)]
    admin_password: String,
    /// Concurrency levels, each a number of tasks with their own session.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    concurrency: Vec<usize>,
    /// Requests per operation and concurrency level.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Time limit per operation and concurrency level, in seconds.
    #[arg(long, default_value_t = 60)]
    max_seconds: u64,
    /// Words in each generated transcript.
    #[arg(long, default_value_t = 10_000)]
    words: usize,
    /// Codings on the transcript whose pages are rendered.
    #[arg(long, default_value_t = 2000)]
    page_codings: usize,
    /// Renders per page.
    #[arg(long, default_value_t = 200)]
    page_requests: usize,
    /// Codings in each of the two layers that are reconciled.
    #[arg(long, default_value_t = 300)]
    reconcile_codings: usize,
    /// Keep the started server's data folder.
    #[arg(long)]
    keep_data: bool,
    /// After each level's creates, measure the raw PostgreSQL ceiling on the
    /// same cluster: pgbench at the same client count, one row insert plus one
    /// audit-row insert per transaction (fsync on), and print the ratio.
    #[arg(long)]
    pgbench: bool,
    /// Seconds each pgbench run lasts.
    #[arg(long, default_value_t = 10)]
    pgbench_seconds: u64,
    /// Only the write path (creates and updates): no reads, pages or reconciliation.
    #[arg(long)]
    writes_only: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        args.concurrency.iter().all(|c| (1..=256).contains(c)),
        "--concurrency levels go from 1 to 256"
    );
    let server = match &args.url {
        Some(url) => {
            check_loopback(url)?;
            None
        }
        None => Some(Server::start(&args.server_bin, args.keep_data)?),
    };
    let base = match (&args.url, &server) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(server)) => server.base.clone(),
        (None, None) => unreachable!("a server was started when no --url was given"),
    };
    if let Some(server) = &server {
        server.wait_until_ready(&base).await?;
    }
    let report = run(&args, &base, server.as_ref()).await?;
    print!("{report}");
    Ok(())
}

fn check_loopback(url: &str) -> anyhow::Result<()> {
    let rest = url
        .strip_prefix("http://")
        .context("--url must be http://127.0.0.1:PORT or similar")?;
    let host = rest.split('/').next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.parse::<u16>().is_ok() => h,
        _ => host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    ensure!(loopback, "--url must be a loopback address, not {host}");
    Ok(())
}

/// A `concord serve` started for this run; stopped (SIGTERM, so it stops its
/// cluster) and its folder removed when dropped.
struct Server {
    child: Child,
    root: PathBuf,
    base: String,
    keep: bool,
}

impl Server {
    fn start(bin: &Path, keep: bool) -> anyhow::Result<Server> {
        ensure!(
            bin.exists(),
            "{} is missing: build it with `cargo build --release --features bench`",
            bin.display()
        );
        let root = std::env::temp_dir().join(format!("concord-bench-{}", std::process::id()));
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        // As root the cluster runs as `postgres`, which must reach its folder.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))?;
        let address = free_port()?;
        let base = format!("http://{address}");
        let log = std::fs::File::create(root.join("server.log"))?;
        let child = Command::new(bin)
            .arg("--data-dir")
            .arg(root.join("data"))
            .args(["--bind", &address.to_string(), "--public-url", &base])
            // JSON lines, so the server's own latency of each request can be read back.
            .arg("--log-json")
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        eprintln!(
            "started {} (pid {}) on {base}, data in {}",
            bin.display(),
            child.id(),
            root.display()
        );
        Ok(Server {
            child,
            root,
            base,
            keep,
        })
    }

    async fn wait_until_ready(&self, base: &str) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(response) = http.get(format!("{base}/healthz")).send().await
                && response.status() == StatusCode::OK
            {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "the server did not answer /healthz within 120 s; see {}",
                self.root.join("server.log").display()
            );
            ensure!(
                Path::new(&format!("/proc/{}", self.child.id())).exists(),
                "the server exited; see {}",
                self.root.join("server.log").display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_len(&self) -> u64 {
        std::fs::metadata(self.root.join("server.log")).map_or(0, |m| m.len())
    }

    /// The latencies the server logged for the requests it finished after the
    /// log was `from` bytes long (tower-http's "finished processing request").
    fn logged_latencies(&self, from: u64) -> anyhow::Result<Vec<Duration>> {
        let log = std::fs::read(self.root.join("server.log")).context("reading the server log")?;
        let tail = log.get(from as usize..).unwrap_or_default();
        let mut latencies = Vec::new();
        for line in tail.split(|b| *b == b'\n') {
            let Ok(entry) = serde_json::from_slice::<Value>(line) else {
                continue;
            };
            if entry["fields"]["message"] != "finished processing request" {
                continue;
            }
            let micros = entry["fields"]["latency"]
                .as_str()
                .and_then(|l| l.strip_suffix(" μs"))
                .and_then(|l| l.parse::<u64>().ok())
                .with_context(|| format!("a request's latency in {entry}"))?;
            latencies.push(Duration::from_micros(micros));
        }
        Ok(latencies)
    }

    /// The private cluster's unix socket folder (src/db/embedded.rs).
    fn socket_dir(&self) -> PathBuf {
        self.root.join("data").join("run")
    }

    /// `VmHWM` (peak resident set) of the server process, in KiB.
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
        if self.keep {
            eprintln!("kept {}", self.root.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// CPU time (user + system, seconds) used so far by the server, by its
/// PostgreSQL cluster (the postmaster, its live backends, and the backends that
/// have exited, which the postmaster has reaped), and by this process and the
/// children it has waited for (pgbench, psql).
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    server: f64,
    postgres: f64,
    client: f64,
    children: f64,
}

/// `/proc/{pid}/stat` CPU fields: (utime + stime, cutime + cstime), in seconds.
fn proc_cpu(pid: &str) -> Option<(f64, f64, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; every field after it is a number.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let number = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    // Field 4 is the parent, 14–17 utime, stime, cutime, cstime (`man 5 proc`),
    // counted in USER_HZ, which is 100 on Linux.
    let ticks = 100.0;
    let own = (number(11)? + number(12)?) / ticks;
    let reaped = (number(13)? + number(14)?) / ticks;
    Some((own, reaped, fields.get(1)?.parse().ok()?))
}

impl Cpu {
    fn now(server: &Server) -> Cpu {
        let (server_cpu, _, _) = proc_cpu(&server.child.id().to_string()).unwrap_or_default();
        let (client, children, _) = proc_cpu("self").unwrap_or_default();
        let postmaster = std::fs::read_to_string(server.root.join("data/pg/postmaster.pid"))
            .ok()
            .and_then(|text| {
                text.lines()
                    .next()
                    .and_then(|l| l.trim().parse::<u32>().ok())
            });
        let mut postgres = 0.0;
        if let Some(postmaster) = postmaster {
            let (own, reaped, _) = proc_cpu(&postmaster.to_string()).unwrap_or_default();
            postgres += own + reaped;
            for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                let name = entry.file_name();
                let Some(pid) = name
                    .to_str()
                    .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                else {
                    continue;
                };
                if let Some((own, _, parent)) = proc_cpu(pid)
                    && parent == postmaster
                {
                    postgres += own;
                }
            }
        }
        Cpu {
            server: server_cpu,
            postgres,
            client,
            children,
        }
    }

    fn since(self, before: Cpu) -> Cpu {
        Cpu {
            server: self.server - before.server,
            postgres: self.postgres - before.postgres,
            client: self.client - before.client,
            children: self.children - before.children,
        }
    }
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?)
}

/// A cookie session with its CSRF token, like one browser.
#[derive(Clone)]
struct Session {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

impl Session {
    async fn anonymous(base: &str) -> anyhow::Result<Session> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()?;
        let mut session = Session {
            http,
            base: base.to_owned(),
            csrf: String::new(),
        };
        let (_, body) = session
            .expect(Method::GET, "/api/v1/session", None, 200)
            .await?;
        session.csrf = text(&body, "csrf_token")?;
        Ok(session)
    }

    /// A new session signed in as `email`; returns it and the user's id.
    async fn sign_in(base: &str, email: &str, password: &str) -> anyhow::Result<(Session, String)> {
        let mut session = Session::anonymous(base).await?;
        let body = json!({ "email": email, "password": password });
        let (_, body) = session
            .expect(Method::POST, "/api/v1/session", Some(&body), 200)
            .await?;
        session.adopt(&body)?;
        Ok((session, text(&body["user"], "id")?))
    }

    /// Signing in rotates the CSRF token: take the new one.
    fn adopt(&mut self, body: &Value) -> anyhow::Result<()> {
        self.csrf = text(body, "csrf_token")?;
        Ok(())
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(StatusCode, Vec<u8>)> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if method != Method::GET {
            request = request.header("x-csrf-token", &self.csrf);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("{method} {path}"))?;
        Ok((status, bytes.to_vec()))
    }

    /// A request that must answer `want`; returns the JSON body (Null if none).
    async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        want: u16,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let (status, bytes) = self.send(method.clone(), path, body).await?;
        if status.as_u16() != want {
            bail!(
                "{method} {path}: {status} (wanted {want}): {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }
}

fn text(value: &Value, field: &str) -> anyhow::Result<String> {
    value[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no {field:?} in {value}"))
}

/// One coder's session and codes.
#[derive(Clone)]
struct Coder {
    session: Session,
    codes: Vec<String>,
}

/// The figures of one operation at one concurrency.
struct Figures {
    operation: String,
    concurrency: usize,
    /// As the client saw them, from sending to the last byte.
    latencies: Vec<Duration>,
    /// As the server logged them (started by us only).
    server_latencies: Option<Vec<Duration>>,
    errors: usize,
    wall: Duration,
    /// CPU used during the run (started by us only).
    cpu: Option<Cpu>,
}

/// Nearest-rank percentile.
fn percentile(latencies: &[Duration], p: f64) -> Duration {
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

impl Figures {
    /// CPU milliseconds per answered request: server, PostgreSQL, this client.
    fn cpu_row(&self) -> Option<String> {
        let cpu = self.cpu?;
        let n = self.latencies.len().max(1) as f64;
        let ms = |s: f64| s * 1000.0 / n;
        Some(format!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            self.operation,
            self.concurrency,
            ms(cpu.server),
            ms(cpu.postgres),
            ms(cpu.client),
            ms(cpu.server + cpu.postgres + cpu.client),
        ))
    }

    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    fn row(&self) -> String {
        let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
        let throughput = self.latencies.len() as f64 / self.wall.as_secs_f64().max(1e-9);
        let (server_p50, server_p99) = match &self.server_latencies {
            Some(server) => (ms(percentile(server, 0.50)), ms(percentile(server, 0.99))),
            None => ("–".to_owned(), "–".to_owned()),
        };
        format!(
            "| {} | {} | {} | {} | {} | {} | {server_p50} | {server_p99} | {:.0} |",
            self.operation,
            self.concurrency,
            self.latencies.len(),
            self.errors,
            ms(percentile(&self.latencies, 0.50)),
            ms(percentile(&self.latencies, 0.99)),
            throughput
        )
    }
}

/// What a task does for one request, given its task number and request number.
type Work<S> = Arc<
    dyn Fn(
            Arc<S>,
            usize,
            usize,
        ) -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<bool>> + Send>>
        + Send
        + Sync,
>;

/// Runs `requests` calls of `work` over `concurrency` tasks, stopping at the
/// deadline; each call reports whether the server answered as it should.
async fn measure<S: Send + Sync + 'static>(
    server: Option<&Server>,
    operation: &str,
    concurrency: usize,
    requests: usize,
    limit: Duration,
    states: Vec<Arc<S>>,
    work: Work<S>,
) -> anyhow::Result<Figures> {
    let next = Arc::new(AtomicUsize::new(0));
    let log_from = server.map(Server::log_len);
    let cpu_before = server.map(Cpu::now);
    let started = Instant::now();
    let deadline = started + limit;
    let mut tasks = Vec::new();
    for (task, state) in states.into_iter().enumerate().take(concurrency) {
        let next = next.clone();
        let work = work.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests || Instant::now() >= deadline {
                    break;
                }
                let sent = Instant::now();
                match work(state.clone(), task, n).await {
                    Ok(true) => latencies.push(sent.elapsed()),
                    Ok(false) => errors += 1,
                    Err(error) => return Err(error),
                }
            }
            anyhow::Ok((latencies, errors))
        }));
    }
    let mut figures = Figures {
        operation: operation.to_owned(),
        concurrency,
        latencies: Vec::new(),
        server_latencies: None,
        errors: 0,
        wall: Duration::ZERO,
        cpu: None,
    };
    for task in tasks {
        let (latencies, errors) = task.await??;
        figures.latencies.extend(latencies);
        figures.errors += errors;
    }
    figures.wall = started.elapsed();
    if let (Some(server), Some(before)) = (server, cpu_before) {
        figures.cpu = Some(Cpu::now(server).since(before));
    }
    // Every answer is in: the server logged each request before answering it.
    if let (Some(server), Some(from)) = (server, log_from) {
        figures.server_latencies = Some(server.logged_latencies(from)?);
    }
    eprintln!("  {}", figures.row());
    Ok(figures)
}

/// A transcript of about `words` words in alternating speaker turns, with some
/// accented letters and emoji, so code points and bytes differ. The seed makes
/// each text distinct (the project refuses duplicates).
fn transcript_text(words: usize, seed: u64) -> String {
    const VOCABULARY: &str = "the pain was worse at night and I could not sleep nurse ward shift medication dose morning family worried doctor explained nothing really helped until we changed routine café naïve résumé über déjà vu 🙂 🏥 so then because patient felt listened to time waiting hours for someone tired hope better week after home care team";
    let vocabulary: Vec<&str> = VOCABULARY.split(' ').collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = format!("Interview {seed}\n\n");
    let mut written = 0;
    let mut turn = 0;
    while written < words {
        let speaker = if turn % 2 == 0 { "Interviewer" } else { "P01" };
        out.push_str(speaker);
        out.push(':');
        let length = rng.gen_range(20..120).min(words - written);
        for i in 0..length {
            out.push(' ');
            out.push_str(vocabulary[rng.gen_range(0..vocabulary.len())]);
            if i % 14 == 13 {
                out.push('.');
            }
        }
        out.push_str(".\n\n");
        written += length;
        turn += 1;
    }
    out
}

struct Project {
    id: String,
    admin: Session,
    coders: Vec<Coder>,
    coder_ids: Vec<String>,
}

async fn set_up(args: &Args, base: &str) -> anyhow::Result<Project> {
    let mut admin = Session::anonymous(base).await?;
    let setup = json!({
        "email": args.admin_email,
        "display_name": "Bench admin",
        "password": args.admin_password,
    });
    let (status, bytes) = admin
        .send(Method::POST, "/api/v1/setup", Some(&setup))
        .await?;
    if status == StatusCode::CREATED {
        admin.adopt(&serde_json::from_slice(&bytes)?)?;
    } else {
        eprintln!(
            "setup answered {status}: signing in as {}",
            args.admin_email
        );
        admin = Session::sign_in(base, &args.admin_email, &args.admin_password)
            .await?
            .0;
    }
    let name = format!("Bench {}", Uuid::new_v4().simple());
    let (_, project) = admin
        .expect(
            Method::POST,
            "/api/v1/projects",
            Some(&json!({ "name": name })),
            201,
        )
        .await?;
    let project_id = text(&project, "id")?;

    let coder_count = args.concurrency.iter().copied().max().unwrap_or(1);
    eprintln!("inviting {coder_count} coders");
    let run = Uuid::new_v4().simple().to_string();
    let mut coders = Vec::new();
    let mut coder_ids = Vec::new();
    for i in 0..coder_count {
        let email = format!("coder{i}-{}@example.org", &run[..8]);
        let (_, link) = admin
            .expect(
                Method::POST,
                "/api/v1/invites",
                Some(&json!({ "email": email })),
                201,
            )
            .await?;
        let url = text(&link, "url")?;
        let token = url.rsplit('/').next().unwrap_or_default();
        let invitee = Session::anonymous(base).await?;
        let accept = json!({ "display_name": format!("Coder {i}"), "password": PASSWORD });
        invitee
            .expect(
                Method::POST,
                &format!("/api/v1/invites/{token}/accept"),
                Some(&accept),
                201,
            )
            .await?;
        admin
            .expect(
                Method::POST,
                &format!("/api/v1/projects/{project_id}/members"),
                Some(&json!({ "email": email, "role": "coder" })),
                201,
            )
            .await?;
        let (session, id) = Session::sign_in(base, &email, PASSWORD).await?;
        let mut codes = Vec::new();
        for k in 0..CODES_PER_CODER {
            let code = Uuid::new_v4().to_string();
            session
                .expect(
                    Method::POST,
                    &format!("/api/v1/projects/{project_id}/codes"),
                    Some(&json!({ "id": code, "name": format!("Code {k}") })),
                    201,
                )
                .await?;
            codes.push(code);
        }
        coders.push(Coder { session, codes });
        coder_ids.push(id);
    }
    Ok(Project {
        id: project_id,
        admin,
        coders,
        coder_ids,
    })
}

/// Imports a generated transcript, assigns every coder to it, and returns its id
/// and length in code points.
async fn add_transcript(
    project: &Project,
    words: usize,
    seed: u64,
    coders: &[String],
) -> anyhow::Result<(String, i64)> {
    let text = transcript_text(words, seed);
    let length = text.trim_end().chars().count() as i64;
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(text.into_bytes())
            .file_name(format!("P01 interview {seed}.txt")),
    );
    let path = format!("/api/v1/projects/{}/transcripts", project.id);
    let response = project
        .admin
        .http
        .post(format!("{}{path}", project.admin.base))
        .header("x-csrf-token", &project.admin.csrf)
        .multipart(form)
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    ensure!(status == StatusCode::CREATED, "import: {status}: {body}");
    let transcript_id = body["files"][0]["transcript_id"]
        .as_str()
        .with_context(|| format!("no transcript id in {body}"))?
        .to_owned();
    project
        .admin
        .expect(
            Method::POST,
            &format!("/api/v1/projects/{}/assignments", project.id),
            Some(&json!({ "transcript_ids": [transcript_id], "user_ids": coders })),
            201,
        )
        .await?;
    // The stored text is canonical; ask for its length rather than trusting ours.
    let (_, data) = project.coders[0]
        .session
        .expect(
            Method::GET,
            &format!(
                "/api/v1/projects/{}/transcripts/{transcript_id}/coding",
                project.id
            ),
            None,
            200,
        )
        .await?;
    let char_count = data["transcript"]["char_count"].as_i64().unwrap_or(length);
    Ok((transcript_id, char_count))
}

/// A task's coder and the codings it made (id, version), for updates.
struct Coding {
    coder: Coder,
    rng: tokio::sync::Mutex<(StdRng, Vec<(String, i64)>)>,
}

fn span(rng: &mut StdRng, length: i64) -> (i64, i64) {
    let start = rng.gen_range(0..length - 1);
    let end = (start + rng.gen_range(1..400)).min(length);
    (start, end)
}

async fn run(args: &Args, base: &str, server: Option<&Server>) -> anyhow::Result<String> {
    let limit = Duration::from_secs(args.max_seconds);
    let load_before = load_average();
    let project = set_up(args, base).await?;
    let mut figures = Vec::new();
    let mut layer_sizes = Vec::new();
    let mut ceilings = Vec::new();
    for (level, &concurrency) in args.concurrency.iter().enumerate() {
        // A transcript per level, so each level's reads see only its own codings.
        let (transcript, length) =
            add_transcript(&project, args.words, level as u64 + 1, &project.coder_ids).await?;
        eprintln!("concurrency {concurrency}: transcript {transcript} ({length} code points)");
        let states: Vec<Arc<Coding>> = project
            .coders
            .iter()
            .take(concurrency)
            .enumerate()
            .map(|(i, coder)| {
                Arc::new(Coding {
                    coder: coder.clone(),
                    rng: tokio::sync::Mutex::new((StdRng::seed_from_u64(i as u64), Vec::new())),
                })
            })
            .collect();
        let project_id = project.id.clone();

        let create_path = format!("/api/v1/projects/{project_id}/transcripts/{transcript}/codings");
        let create: Work<Coding> = Arc::new(move |state, _task, n| {
            let path = create_path.clone();
            Box::pin(async move {
                let id = Uuid::new_v4().to_string();
                let (start, end) = span(&mut state.rng.lock().await.0, length);
                let code = &state.coder.codes[n % state.coder.codes.len()];
                let body =
                    json!({ "id": id, "code_id": code, "start": start, "end": end, "memo": "" });
                let (status, _) = state
                    .coder
                    .session
                    .send(Method::POST, &path, Some(&body))
                    .await?;
                let created = status == StatusCode::CREATED;
                if created {
                    state.rng.lock().await.1.push((id, 1));
                }
                Ok(created)
            })
        });
        let creates = measure(
            server,
            "create coding",
            concurrency,
            args.requests,
            limit,
            states.clone(),
            create,
        )
        .await?;
        if args.pgbench {
            let server = server.context("--pgbench needs the server started by concord-bench")?;
            let ceiling = pgbench_ceiling(server, concurrency, args.pgbench_seconds)?;
            let ids = CreateIds {
                project: project_id.clone(),
                transcript: transcript.clone(),
                coder: project.coder_ids[0].clone(),
                code: project.coders[0].codes[0].clone(),
            };
            let own = pgbench_create_sql(server, &ids, concurrency, args.pgbench_seconds)?;
            let made: Vec<String> = {
                let guard = states[0].rng.lock().await;
                guard.1.iter().map(|(id, _)| id.clone()).collect()
            };
            remove_pgbench_codings(server, &ids, &made)?;
            ceilings.push((concurrency, creates.throughput(), ceiling, own));
        }
        figures.push(creates);

        let update_project = project_id.clone();
        let update: Work<Coding> = Arc::new(move |state, _task, n| {
            let project_id = update_project.clone();
            Box::pin(async move {
                let (id, version, start, end) = {
                    let mut guard = state.rng.lock().await;
                    let (rng, codings) = &mut *guard;
                    if codings.is_empty() {
                        return Ok(false);
                    }
                    let (start, end) = span(rng, length);
                    let (id, version) = codings[n % codings.len()].clone();
                    (id, version, start, end)
                };
                let path = format!("/api/v1/projects/{project_id}/codings/{id}");
                let body = json!({ "start": start, "end": end, "version": version });
                let (status, bytes) = state
                    .coder
                    .session
                    .send(Method::PATCH, &path, Some(&body))
                    .await?;
                if status != StatusCode::OK {
                    return Ok(false);
                }
                let new_version = serde_json::from_slice::<Value>(&bytes)?["version"]
                    .as_i64()
                    .unwrap_or(version + 1);
                let mut guard = state.rng.lock().await;
                if let Some(entry) = guard.1.iter_mut().find(|(i, _)| *i == id) {
                    entry.1 = new_version;
                }
                Ok(true)
            })
        });
        figures.push(
            measure(
                server,
                "update coding",
                concurrency,
                args.requests,
                limit,
                states.clone(),
                update,
            )
            .await?,
        );

        if args.writes_only {
            continue;
        }
        let read_path = format!("/api/v1/projects/{project_id}/transcripts/{transcript}/coding");
        let read: Work<Coding> = Arc::new(move |state, _task, _n| {
            let path = read_path.clone();
            Box::pin(async move {
                let (status, _) = state.coder.session.send(Method::GET, &path, None).await?;
                Ok(status == StatusCode::OK)
            })
        });
        let mut created = 0;
        for state in &states {
            created += state.rng.lock().await.1.len();
        }
        layer_sizes.push((concurrency, created / concurrency.max(1)));
        figures.push(
            measure(
                server,
                "read coding data",
                concurrency,
                args.requests,
                limit,
                states,
                read,
            )
            .await?,
        );
    }

    let mut page_sizes = Vec::new();
    if !args.writes_only {
        pages_and_reconciliation(args, &project, server, limit, &mut figures, &mut page_sizes)
            .await?;
    }

    let mut out = String::new();
    if !ceilings.is_empty() {
        writeln!(
            out,
            "| clients | creates/s | raw PostgreSQL tx/s (pgbench) | ratio | pgbench CPU ms/tx: PostgreSQL + pgbench | a create's own SQL in pgbench, tx/s | its ratio to the raw ceiling | its CPU ms/tx: PostgreSQL + pgbench |"
        )?;
        writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        for (clients, creates, ceiling, own) in &ceilings {
            writeln!(
                out,
                "| {clients} | {creates:.0} | {:.0} | {:.2} | {:.2} + {:.2} | {:.0} | {:.2} | {:.2} + {:.2} |",
                ceiling.tps,
                creates / ceiling.tps,
                ceiling.postgres_ms,
                ceiling.pgbench_ms,
                own.tps,
                own.tps / ceiling.tps,
                own.postgres_ms,
                own.pgbench_ms,
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "| operation | concurrency | requests | errors | p50 ms | p99 ms | server p50 ms | server p99 ms | requests/s |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for f in &figures {
        writeln!(out, "{}", f.row())?;
    }
    writeln!(out)?;
    let cpu_rows: Vec<String> = figures.iter().filter_map(Figures::cpu_row).collect();
    if !cpu_rows.is_empty() {
        writeln!(
            out,
            "| operation | concurrency | server CPU ms/request | PostgreSQL CPU ms/request | client CPU ms/request | total |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|")?;
        for row in cpu_rows {
            writeln!(out, "{row}")?;
        }
        writeln!(out)?;
    }
    match server.and_then(Server::peak_rss_kib) {
        Some(kib) => writeln!(
            out,
            "Server peak RSS (VmHWM): {:.1} MiB ({kib} kB)",
            kib as f64 / 1024.0
        )?,
        None => writeln!(
            out,
            "Server peak RSS: not measured (server not started by concord-bench)"
        )?,
    }
    writeln!(
        out,
        "\np50/p99: as the client saw them, from sending to the last byte, on loopback; \
         server p50/p99: the server's own log (tower-http latency, until the response \
         headers). Load average (1 min) before and after: {load_before} and {}.",
        load_average()
    )?;
    writeln!(
        out,
        "Per level: up to {} requests or {} s per operation; transcripts of {} words. \
         Codings per coder layer when read: {}. Page sizes: {}.",
        args.requests,
        args.max_seconds,
        args.words,
        layer_sizes
            .iter()
            .map(|(c, n)| format!("{n} at concurrency {c}"))
            .collect::<Vec<_>>()
            .join(", "),
        page_sizes
            .iter()
            .map(|(op, bytes)| format!("{op} {} KiB", bytes / 1024))
            .collect::<Vec<_>>()
            .join(", "),
    )?;
    Ok(out)
}

/// Page renders on a transcript holding `page_codings` codings of one coder,
/// then the reconciliation pages and decisions.
async fn pages_and_reconciliation(
    args: &Args,
    project: &Project,
    server: Option<&Server>,
    limit: Duration,
    figures: &mut Vec<Figures>,
    page_sizes: &mut Vec<(String, usize)>,
) -> anyhow::Result<()> {
    // Page renders on a transcript holding `page_codings` codings of one coder.
    let (transcript, length) =
        add_transcript(project, args.words, 1000, &project.coder_ids).await?;
    eprintln!(
        "page renders: adding {} codings to {transcript}",
        args.page_codings
    );
    let coder = project.coders[0].clone();
    let fill_path = format!(
        "/api/v1/projects/{}/transcripts/{transcript}/codings",
        project.id
    );
    let fill_state = Arc::new(Coding {
        coder: coder.clone(),
        rng: tokio::sync::Mutex::new((StdRng::seed_from_u64(1000), Vec::new())),
    });
    let fill: Work<Coding> = Arc::new(move |state, _task, n| {
        let path = fill_path.clone();
        Box::pin(async move {
            let (start, end) = span(&mut state.rng.lock().await.0, length);
            let code = &state.coder.codes[n % state.coder.codes.len()];
            let body = json!({ "id": Uuid::new_v4(), "code_id": code, "start": start, "end": end, "memo": "" });
            let (status, _) = state
                .coder
                .session
                .send(Method::POST, &path, Some(&body))
                .await?;
            Ok(status == StatusCode::CREATED)
        })
    });
    let filled = measure(
        server,
        "(filling)",
        8,
        args.page_codings,
        Duration::from_secs(600),
        vec![fill_state; 8],
        fill,
    )
    .await?;
    ensure!(
        filled.errors == 0 && filled.latencies.len() == args.page_codings,
        "only {} of {} codings were made",
        filled.latencies.len(),
        args.page_codings
    );
    let pages = [
        (
            format!("coding page ({} codings)", args.page_codings),
            format!("/projects/{}/transcripts/{transcript}/code", project.id),
        ),
        (
            "transcript page".to_owned(),
            format!("/projects/{}/transcripts/{transcript}", project.id),
        ),
    ];
    figures.extend(
        measure_pages(
            server,
            &coder.session,
            pages,
            args.page_requests,
            limit,
            page_sizes,
        )
        .await?,
    );

    figures.extend(reconciliation(args, project, server, limit, page_sizes).await?);
    Ok(())
}

/// Raw PostgreSQL on the server's own cluster: `clients` pgbench clients for
/// `seconds`, each transaction one row insert and one audit-row insert, as a
/// coding create writes. Answers transactions per second.
/// What pgbench did: transactions per second, and CPU milliseconds per
/// transaction in PostgreSQL and in pgbench itself.
struct Ceiling {
    tps: f64,
    postgres_ms: f64,
    pgbench_ms: f64,
}

/// Runs `sql` with psql on the server's own cluster, as its superuser.
fn psql(server: &Server, database: &str, sql: &str) -> anyhow::Result<()> {
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(server.socket_dir())
        .args([
            "-U",
            concord::db::embedded::SUPERUSER,
            "-d",
            database,
            "-c",
            sql,
        ])
        .output()
        .context("running psql")?;
    ensure!(
        output.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Removes the codings pgbench's create.sql added to `ids`' layer (all but
/// `keep`, those made through the API), so that the updates, reads, pages and
/// dashboard measured after it see the same project as a run without
/// --pgbench. Their audit rows and live events stay (nothing measured reads them).
fn remove_pgbench_codings(server: &Server, ids: &CreateIds, keep: &[String]) -> anyhow::Result<()> {
    let keep = keep
        .iter()
        .map(|id| Uuid::parse_str(id).map(|u| u.to_string()))
        .collect::<Result<Vec<_>, _>>()?
        .join(",");
    psql(
        server,
        "concord",
        &format!(
            "delete from codings where transcript_id = '{}' and coder_id = '{}' and id <> all('{{{keep}}}'::uuid[])",
            ids.transcript, ids.coder
        ),
    )?;
    psql(server, "concord", "vacuum (analyze) codings")
}

fn pgbench_ceiling(server: &Server, clients: usize, seconds: u64) -> anyhow::Result<Ceiling> {
    let psql = |database: &str, sql: &str| psql(server, database, sql);
    psql("postgres", "drop database if exists ceiling")?;
    psql("postgres", "create database ceiling")?;
    psql(
        "ceiling",
        "create table rows (id uuid primary key, project_id uuid not null, \
         start_offset int not null, end_offset int not null, memo text not null default '', \
         created_at timestamptz not null default now()); \
         create table audit (id bigint generated always as identity primary key, \
         action text not null, entity_id uuid, after jsonb, \
         created_at timestamptz not null default now());",
    )?;
    run_pgbench(
        server,
        "ceiling",
        "ceiling.sql",
        "begin;\n\
         insert into rows (id, project_id, start_offset, end_offset) \
         values (gen_random_uuid(), gen_random_uuid(), 1, 20);\n\
         insert into audit (action, entity_id, after) \
         values ('coding.created', gen_random_uuid(), '{\"start\": 1, \"end\": 20}');\n\
         commit;\n",
        clients,
        seconds,
    )
}

/// Where a coding create's own SQL goes on the same cluster, with no HTTP and
/// no Rust: the statements a create sends (the session with the membership,
/// the transcript, assignment and code checks, the coding, its audit row and
/// live event, in one transaction), in the server's own database, on one
/// coder's transcript. The ceiling of the write path as its SQL stands.
fn pgbench_create_sql(
    server: &Server,
    ids: &CreateIds,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<Ceiling> {
    let CreateIds {
        project,
        transcript,
        coder,
        code,
    } = ids;
    let script = format!(
        "\\set s random(0, 5000)\n\
         select u.id, s.csrf_token, m.role from sessions s join users u on u.id = s.user_id \
           left join project_members m on m.project_id = '{project}' and m.user_id = u.id \
          where u.id = '{coder}' limit 1;\n\
         begin;\n\
         select t.char_count, a.id, a.state, k.owner_id from transcripts t \
           left join assignments a on a.transcript_id = t.id and a.user_id = '{coder}' \
           left join codes k on k.id = '{code}' \
          where t.project_id = '{project}' and t.id = '{transcript}';\n\
         insert into codings (id, project_id, transcript_id, coder_id, code_id, start_offset, end_offset, memo) \
         values (gen_random_uuid(), '{project}', '{transcript}', '{coder}', '{code}', :s, :s + 10, '') \
         on conflict (id) do nothing;\n\
         with audit as (insert into audit_events (project_id, actor_id, action, entity_type, entity_id, before, after, transcript_id) \
           values ('{project}', '{coder}', 'coding.created', 'coding', gen_random_uuid(), null, \
                   '{{\"start\": 1, \"end\": 11, \"memo\": \"\", \"code_id\": \"{code}\"}}', '{transcript}')) \
         insert into project_events (project_id, kind, transcript_id, coder_id, entity_id) \
         values ('{project}', 'coding.created', '{transcript}', '{coder}', gen_random_uuid());\n\
         commit;\n"
    );
    run_pgbench(server, "concord", "create.sql", &script, clients, seconds)
}

/// The ids a create's SQL needs.
struct CreateIds {
    project: String,
    transcript: String,
    coder: String,
    code: String,
}

/// `clients` pgbench clients running `script` on `database` for `seconds`
/// (prepared statements, as the server sends them).
fn run_pgbench(
    server: &Server,
    database: &str,
    name: &str,
    script: &str,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<Ceiling> {
    let bin = concord::db::embedded::find_bin_dir()?;
    let socket = server.socket_dir();
    let user = concord::db::embedded::SUPERUSER;
    let path = server.root.join(name);
    std::fs::write(&path, script)?;
    // Beside the server binaries, else on PATH.
    let pgbench = Some(bin.join("pgbench"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("pgbench"));
    let cpu_before = Cpu::now(server);
    let output = Command::new(&pgbench)
        .args(["-n", "-h"])
        .arg(&socket)
        .args(["-U", user, "-M", "prepared", "-f"])
        .arg(&path)
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            &clients.min(2).to_string(),
        ])
        .args(["-T", &seconds.to_string(), database])
        .output()
        .with_context(|| format!("running {}", pgbench.display()))?;
    // pgbench's backends exit as it disconnects; give the postmaster a moment
    // to reap them, so their CPU is counted.
    std::thread::sleep(Duration::from_millis(500));
    let cpu = Cpu::now(server).since(cpu_before);
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "pgbench: {}{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tps = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .with_context(|| format!("no tps in pgbench's output: {stdout}"))?;
    let transactions = stdout
        .lines()
        .find_map(|line| line.strip_prefix("number of transactions actually processed: "))
        .and_then(|rest| rest.split(['/', ' ']).next())
        .and_then(|n| n.parse::<f64>().ok())
        .with_context(|| format!("no transaction count in pgbench's output: {stdout}"))?
        .max(1.0);
    eprintln!("pgbench {name} at {clients} clients: {tps:.0} tx/s");
    Ok(Ceiling {
        tps,
        postgres_ms: cpu.postgres * 1000.0 / transactions,
        pgbench_ms: cpu.children * 1000.0 / transactions,
    })
}

/// GETs each `(operation, path)` `requests` times in one session, noting each
/// page's size.
async fn measure_pages(
    server: Option<&Server>,
    session: &Session,
    pages: impl IntoIterator<Item = (String, String)>,
    requests: usize,
    limit: Duration,
    page_sizes: &mut Vec<(String, usize)>,
) -> anyhow::Result<Vec<Figures>> {
    let mut figures = Vec::new();
    for (operation, path) in pages {
        let (status, bytes) = session.send(Method::GET, &path, None).await?;
        ensure!(status == StatusCode::OK, "GET {path}: {status}");
        page_sizes.push((operation.clone(), bytes.len()));
        let page: Work<Session> = Arc::new(move |session, _task, _n| {
            let path = path.clone();
            Box::pin(async move {
                let (status, _) = session.send(Method::GET, &path, None).await?;
                Ok(status == StatusCode::OK)
            })
        });
        figures.push(
            measure(
                server,
                &operation,
                1,
                requests,
                limit,
                vec![Arc::new(session.clone())],
                page,
            )
            .await?,
        );
    }
    Ok(figures)
}

/// Two coders code one transcript alike in part (same spans, shifted spans,
/// spans of their own), submit, and the admin aligns their codes; then the
/// reconciliation reads, the lead's dashboard and decisions are measured.
async fn reconciliation(
    args: &Args,
    project: &Project,
    server: Option<&Server>,
    limit: Duration,
    page_sizes: &mut Vec<(String, usize)>,
) -> anyhow::Result<Vec<Figures>> {
    ensure!(
        project.coders.len() >= 2,
        "reconciliation needs two coders: use a concurrency of 2 or more"
    );
    let pair = &project.coder_ids[..2];
    let (transcript, length) = add_transcript(project, args.words, 2000, pair).await?;
    eprintln!(
        "reconciliation: two layers of {} codings on {transcript}",
        args.reconcile_codings
    );
    let p = &project.id;
    let codings_path = format!("/api/v1/projects/{p}/transcripts/{transcript}/codings");
    let mut rng = StdRng::seed_from_u64(2000);
    for n in 0..args.reconcile_codings {
        let code = n % CODES_PER_CODER;
        let (start, end) = span(&mut rng, length);
        let (b_start, b_end, b_code) = match rng.gen_range(0..10) {
            0..=4 => (start, end, code),
            5..=6 => ((start + 7).min(end - 1), (end + 15).min(length), code),
            7 => (start, end, (code + 1) % CODES_PER_CODER),
            _ => {
                let (s, e) = span(&mut rng, length);
                (s, e, code)
            }
        };
        for (coder, (start, end, code)) in [(0, (start, end, code)), (1, (b_start, b_end, b_code))]
        {
            let body = json!({ "id": Uuid::new_v4(), "code_id": project.coders[coder].codes[code],
                               "start": start, "end": end, "memo": "" });
            project.coders[coder]
                .session
                .expect(Method::POST, &codings_path, Some(&body), 201)
                .await?;
        }
    }
    for coder in &project.coders[..2] {
        coder
            .session
            .expect(
                Method::POST,
                &format!("/api/v1/projects/{p}/transcripts/{transcript}/submit"),
                None,
                200,
            )
            .await?;
    }
    for k in 0..CODES_PER_CODER {
        let ids = [&project.coders[0].codes[k], &project.coders[1].codes[k]];
        project
            .admin
            .expect(
                Method::POST,
                &format!("/api/v1/projects/{p}/agreed-codes"),
                Some(&json!({ "name": format!("Agreed {k}"), "code_ids": ids })),
                201,
            )
            .await?;
    }

    let data_path = format!("/api/v1/projects/{p}/transcripts/{transcript}/reconciliation");
    let (_, data) = project
        .admin
        .expect(Method::GET, &data_path, None, 200)
        .await?;
    let items = data["items"].as_array().context("no items")?;
    let open: Vec<(String, String)> = items
        .iter()
        .filter(|i| i["resolved"] == false)
        .filter_map(|i| {
            let kind = i["offered"].as_array()?.first()?.as_str()?.to_owned();
            Some((i["key"].as_str()?.to_owned(), kind))
        })
        .collect();
    eprintln!("reconciliation: {} items, {} open", items.len(), open.len());
    let pages = [
        (
            format!("reconciliation data ({} items)", items.len()),
            data_path.clone(),
        ),
        (
            "reconciliation page".to_owned(),
            format!("/projects/{p}/transcripts/{transcript}/reconcile"),
        ),
        ("dashboard (lead)".to_owned(), format!("/projects/{p}")),
    ];
    let mut figures = measure_pages(
        server,
        &project.admin,
        pages,
        args.page_requests,
        limit,
        page_sizes,
    )
    .await?;
    let decisions = Arc::new(open);
    let decide_path = format!("/api/v1/projects/{p}/transcripts/{transcript}/decisions");
    let count = decisions.len().min(args.page_requests);
    let decide: Work<Session> = Arc::new(move |session, _task, n| {
        let path = decide_path.clone();
        let decisions = decisions.clone();
        Box::pin(async move {
            let (key, kind) = &decisions[n];
            let body = json!({ "key": key, "kind": kind, "rationale": "bench" });
            let (status, _) = session.send(Method::POST, &path, Some(&body)).await?;
            Ok(status == StatusCode::CREATED)
        })
    });
    figures.push(
        measure(
            server,
            "decide",
            1,
            count,
            limit,
            vec![Arc::new(project.admin.clone())],
            decide,
        )
        .await?,
    );
    Ok(figures)
}

/// The 1-minute load average: the machine may be shared.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}
