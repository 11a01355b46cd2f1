//! One PostgreSQL per test run, a fresh database per test. Without DATABASE_URL
//! the run starts its own private cluster (the same code `concord serve` uses)
//! under the temp folder, and a watchdog stops and removes it when the run ends.

use std::path::PathBuf;
use std::sync::OnceLock;

use concord::db::embedded::{Durability, EmbeddedCluster};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

pub struct TestDb {
    admin: PgConnectOptions,
    template: String,
    _cluster: Option<EmbeddedCluster>,
}

static TEST_DB: OnceLock<TestDb> = OnceLock::new();

const ROOT_PREFIX: &str = "concord-test-";

pub fn test_db() -> &'static TestDb {
    TEST_DB.get_or_init(|| {
        // Set up on a thread of its own: each test has its own runtime, and this
        // outlives the test that happens to come first.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(TestDb::start())
        })
        .join()
        .expect("test database setup panicked")
    })
}

impl TestDb {
    async fn start() -> TestDb {
        let (admin, cluster, template) = match std::env::var("DATABASE_URL") {
            Ok(url) => {
                let options: PgConnectOptions = url.parse().expect("DATABASE_URL");
                (
                    options.database("postgres"),
                    None,
                    "concord_test_template".to_owned(),
                )
            }
            Err(_) => {
                remove_leftovers();
                let root =
                    std::env::temp_dir().join(format!("{ROOT_PREFIX}{}", std::process::id()));
                let cluster = EmbeddedCluster::start(&root, Durability::Throwaway)
                    .expect("starting the test cluster");
                spawn_watchdog(&cluster);
                (
                    cluster.connect_options("postgres"),
                    Some(cluster),
                    "concord_template".to_owned(),
                )
            }
        };
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .expect("connecting to the test server");
        sqlx::raw_sql(&format!(
            "drop database if exists \"{template}\" with (force)"
        ))
        .execute(&mut conn)
        .await
        .expect("dropping the old template");
        sqlx::raw_sql(&format!("create database \"{template}\""))
            .execute(&mut conn)
            .await
            .expect("creating the template");
        let pool = concord::db::connect(admin.clone().database(&template), 1)
            .await
            .expect("template pool");
        concord::db::migrate(&pool)
            .await
            .expect("migrating the template");
        pool.close().await;
        TestDb {
            admin,
            template,
            _cluster: cluster,
        }
    }

    /// A new database copied from the migrated template.
    pub async fn create_database(&self) -> PgConnectOptions {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&self.admin)
            .await
            .expect("connecting to the test server");
        sqlx::raw_sql(&format!(
            "create database \"{name}\" template \"{}\"",
            self.template
        ))
        .execute(&mut conn)
        .await
        .expect("creating a test database");
        self.admin.clone().database(&name)
    }
}

/// Stops the cluster and removes its folder once this test process is gone,
/// however it ends.
fn spawn_watchdog(cluster: &EmbeddedCluster) {
    let cleanup = format!(
        "p=$(head -n 1 '{pgdata}/postmaster.pid' 2>/dev/null); \
         [ -n \"$p\" ] && kill -QUIT \"$p\" 2>/dev/null; \
         for i in 1 2 3 4 5 6 7 8 9 10; do [ -n \"$p\" ] && kill -0 \"$p\" 2>/dev/null && sleep 0.5; done; \
         rm -rf '{root}'",
        pgdata = cluster.pgdata().display(),
        root = cluster.root().display(),
    );
    super::after_this_process("database", &cleanup);
}

/// Clusters of runs that crashed before their watchdog could clean up.
fn remove_leftovers() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(ROOT_PREFIX)
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if PathBuf::from(format!("/proc/{pid}")).exists() {
            continue;
        }
        let lock = entry.path().join("pg").join("postmaster.pid");
        let postmaster = std::fs::read_to_string(&lock)
            .ok()
            .and_then(|t| t.lines().next()?.trim().parse::<i32>().ok());
        let is_postgres = |pid: i32| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        };
        if let Some(postmaster) = postmaster.filter(|p| is_postgres(*p)) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(postmaster),
                nix::sys::signal::Signal::SIGQUIT,
            );
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

/// A URL for these options (unix socket or TCP), for child processes.
pub fn url_of(options: &PgConnectOptions) -> String {
    let database = options.get_database().unwrap_or("postgres");
    let user = options.get_username();
    match options.get_socket() {
        Some(dir) => format!(
            "postgres://{user}@localhost:{}/{database}?host={}",
            options.get_port(),
            dir.display()
        ),
        None => {
            // The server of DATABASE_URL, with this test's database in its path.
            let url =
                std::env::var("DATABASE_URL").expect("a TCP test database comes from DATABASE_URL");
            let (base, query) = url
                .split_once('?')
                .map_or((url.as_str(), None), |(b, q)| (b, Some(q)));
            let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
            match query {
                Some(query) => format!("{prefix}/{database}?{query}"),
                None => format!("{prefix}/{database}"),
            }
        }
    }
}
