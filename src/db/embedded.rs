//! A private PostgreSQL cluster run from the machine's own binaries, so that
//! `concord serve` works with no database set up. It listens only on a unix
//! socket inside its folder. PostgreSQL refuses to run as root, so when we are
//! root its processes run as the `postgres` system account.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, bail};
use nix::unistd::{Gid, Uid, User};
use sqlx::postgres::PgConnectOptions;

/// The superuser created by `initdb`; the socket is the only way in.
pub const SUPERUSER: &str = "concord";
const PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes on Linux.
const MAX_SOCKET_PATH: usize = 107;
/// How often [`EmbeddedCluster::keep_running`] looks at the postmaster.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);
pub const MAX_FAILED_RESTARTS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync on: what a real study needs.
    Durable,
    /// fsync off: for throwaway test clusters only.
    Throwaway,
}

#[derive(Debug, Clone)]
struct RunAs {
    uid: Uid,
    gid: Gid,
}

/// A handle on the cluster's folder; clones name the same cluster.
#[derive(Debug, Clone)]
pub struct EmbeddedCluster {
    root: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    bin_dir: PathBuf,
    run_as: Option<RunAs>,
}

impl EmbeddedCluster {
    /// Creates the cluster under `root` the first time, then starts it (or adopts
    /// one already running there, e.g. after the app was killed).
    pub fn start(root: &Path, durability: Durability) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir()?;
        fs::create_dir_all(root)
            .with_context(|| format!("creating the data folder {}", root.display()))?;
        let root = root
            .canonicalize()
            .with_context(|| format!("resolving the data folder {}", root.display()))?;
        let run_as = if Uid::effective().is_root() {
            let user = User::from_name("postgres")
                .context("looking up the postgres account")?
                .context(
                    "PostgreSQL refuses to run as root and there is no `postgres` system account: \
                     run Concord as an ordinary user, create that account, or set DATABASE_URL",
                )?;
            check_reachable(&root, user.uid)?;
            Some(RunAs {
                uid: user.uid,
                gid: user.gid,
            })
        } else {
            None
        };
        let cluster = Self {
            pgdata: root.join("pg"),
            socket_dir: root.join("run"),
            log_file: root.join("log").join("postgres.log"),
            root,
            bin_dir,
            run_as,
        };
        let socket_len = cluster
            .socket_dir
            .join(format!(".s.PGSQL.{PORT}"))
            .as_os_str()
            .len();
        if socket_len > MAX_SOCKET_PATH {
            bail!(
                "the data folder {} is too deep for a unix socket path; choose a shorter --data-dir",
                cluster.root.display()
            );
        }
        cluster.init_if_needed()?;
        cluster.prepare_dirs()?;
        cluster.write_settings(durability)?;
        if !cluster.is_running()? {
            cluster.start_postmaster()?;
        }
        Ok(cluster)
    }

    /// Watches the postmaster while Concord serves, and starts it again if it
    /// dies (killed, out of memory): PostgreSQL replays its write-ahead log on
    /// start, so every committed transaction is back. Returns when `stop` turns
    /// true, or with an error once restarting has failed
    /// [`MAX_FAILED_RESTARTS`] times in a row.
    pub async fn keep_running(
        self,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let mut failures = 0;
        loop {
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return Ok(()),
                () = tokio::time::sleep(WATCH_INTERVAL) => {}
            }
            let cluster = self.clone();
            let running = tokio::task::spawn_blocking(move || cluster.is_running()).await??;
            if running || *stop.borrow() {
                continue;
            }
            tracing::warn!(path = %self.pgdata.display(), "the private PostgreSQL server has stopped; restarting it");
            let cluster = self.clone();
            match tokio::task::spawn_blocking(move || cluster.start_postmaster()).await? {
                Ok(()) => {
                    failures = 0;
                    tracing::info!("the private PostgreSQL server is running again");
                }
                Err(error) => {
                    failures += 1;
                    tracing::error!(
                        error = format!("{error:#}"),
                        failures,
                        "restarting the private PostgreSQL server failed"
                    );
                    if failures >= MAX_FAILED_RESTARTS {
                        return Err(error.context(format!(
                            "the private PostgreSQL server stopped and could not be restarted \
                             ({MAX_FAILED_RESTARTS} attempts); see {}",
                            self.log_file.display()
                        )));
                    }
                }
            }
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .port(PORT)
            .username(SUPERUSER)
            .database(database)
    }

    /// The postmaster's pid, from its lock file.
    pub fn postmaster_pid(&self) -> Option<i32> {
        let text = fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Fast shutdown: open transactions roll back, committed data is on disk.
    pub fn stop(&self) -> anyhow::Result<()> {
        if !self.is_running()? {
            return Ok(());
        }
        let output = self
            .command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", "fast", "-w", "-t", "60", "-s"])
            .output()
            .context("running pg_ctl stop")?;
        check(&output, "pg_ctl stop")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        command
            .current_dir(&self.root)
            .env("LC_ALL", "C")
            .env("TZ", "UTC");
        if let Some(run_as) = &self.run_as {
            command.uid(run_as.uid.as_raw()).gid(run_as.gid.as_raw());
        }
        command
    }

    fn give_away(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(run_as) = &self.run_as {
            nix::unistd::chown(path, Some(run_as.uid), Some(run_as.gid))
                .with_context(|| format!("handing {} to the postgres account", path.display()))?;
        }
        Ok(())
    }

    fn init_if_needed(&self) -> anyhow::Result<()> {
        if self.pgdata.join("PG_VERSION").exists() {
            return Ok(());
        }
        // initdb into a side folder and rename it into place, so an interrupted
        // first start never leaves a half-made cluster behind.
        let staging = self.root.join("pg.init");
        if staging.exists() {
            fs::remove_dir_all(&staging).context("removing an interrupted initdb")?;
        }
        fs::create_dir(&staging)?;
        fs::set_permissions(&staging, fs::Permissions::from_mode(0o700))?;
        self.give_away(&staging)?;
        tracing::info!(path = %self.pgdata.display(), "creating the private PostgreSQL cluster");
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(&staging)
            .args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ])
            .output()
            .context("running initdb")?;
        check(&output, "initdb")?;
        let conf = staging.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).context("reading postgresql.conf")?;
        text.push_str("\n# Concord writes its own settings here at every start.\ninclude_if_exists = 'concord.conf'\n");
        fs::write(&conf, text).context("writing postgresql.conf")?;
        fs::rename(&staging, &self.pgdata).context("moving the new cluster into place")?;
        Ok(())
    }

    fn prepare_dirs(&self) -> anyhow::Result<()> {
        for dir in [
            &self.socket_dir,
            &self.log_file.parent().unwrap_or(&self.root).to_path_buf(),
        ] {
            fs::create_dir_all(dir)?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
            self.give_away(dir)?;
        }
        Ok(())
    }

    fn write_settings(&self, durability: Durability) -> anyhow::Result<()> {
        let socket_dir = self
            .socket_dir
            .to_str()
            .context("the data folder's path is not valid UTF-8")?
            .replace('\'', "''");
        let mut text = format!(
            "listen_addresses = ''\n\
             port = {PORT}\n\
             unix_socket_directories = '{socket_dir}'\n\
             unix_socket_permissions = 0700\n\
             max_connections = 200\n\
             timezone = 'UTC'\n"
        );
        if durability == Durability::Throwaway {
            text.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let path = self.pgdata.join("concord.conf");
        fs::write(&path, text).context("writing concord.conf")?;
        self.give_away(&path)
    }

    /// True when a postmaster owns the lock file. A lock file naming a live
    /// process that is not PostgreSQL (its pid reused after a reboot) is
    /// removed, as PostgreSQL would take it for another server. One whose
    /// process is gone is left to PostgreSQL, which checks that no process of
    /// the old server still holds its shared memory before starting again.
    fn is_running(&self) -> anyhow::Result<bool> {
        let lock = self.pgdata.join("postmaster.pid");
        let Some(pid) = self.postmaster_pid() else {
            if lock.exists() {
                fs::remove_file(&lock).context("removing an unreadable postmaster.pid")?;
            }
            return Ok(false);
        };
        let Ok(comm) = fs::read_to_string(format!("/proc/{pid}/comm")) else {
            return Ok(false);
        };
        if matches!(comm.trim(), "postgres" | "postmaster") {
            return Ok(true);
        }
        tracing::warn!(pid, "removing a stale postmaster.pid left by a crash");
        fs::remove_file(&lock).context("removing a stale postmaster.pid")?;
        Ok(false)
    }

    /// `pg_ctl start`, retried while the processes of a server that died are
    /// still exiting (PostgreSQL refuses to start until they have).
    fn start_postmaster(&self) -> anyhow::Result<()> {
        let mut attempts = 0;
        loop {
            match self.pg_ctl_start() {
                Err(error) if attempts < 20 && format!("{error:#}").contains("still in use") => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(500));
                }
                result => return result,
            }
        }
    }

    fn pg_ctl_start(&self) -> anyhow::Result<()> {
        tracing::info!(path = %self.pgdata.display(), "starting the private PostgreSQL cluster");
        let output = self
            .command("pg_ctl")
            .arg("start")
            .arg("-D")
            .arg(&self.pgdata)
            .arg("-l")
            .arg(&self.log_file)
            .args(["-w", "-t", "120", "-s"])
            .output()
            .context("running pg_ctl start")?;
        if let Err(error) = check(&output, "pg_ctl start") {
            let log = fs::read_to_string(&self.log_file).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(error.context(format!("PostgreSQL log:\n{}", tail.join("\n"))));
        }
        Ok(())
    }
}

fn check(output: &Output, what: &str) -> anyhow::Result<()> {
    if output.status.success() {
        return Ok(());
    }
    bail!(
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout).trim(),
        String::from_utf8_lossy(&output.stderr).trim()
    )
}

/// The folder holding `initdb`, `pg_ctl` and `postgres`: first on PATH, then the
/// newest under /usr/lib/postgresql.
pub fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_all(&dir) {
                return Ok(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_all(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).context(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found on PATH or under \
         /usr/lib/postgresql. Install them (Debian/Ubuntu: `apt-get install postgresql`; \
         macOS: `brew install postgresql`) or set DATABASE_URL to a PostgreSQL server",
    )
}

/// The postgres account must be able to walk down to the data folder.
fn check_reachable(root: &Path, uid: Uid) -> anyhow::Result<()> {
    for dir in root.ancestors() {
        let meta = fs::metadata(dir)?;
        let mode = meta.mode();
        let ok = mode & 0o001 != 0 || (meta.uid() == uid.as_raw() && mode & 0o100 != 0);
        if !ok {
            bail!(
                "the postgres account cannot reach {} (no search permission on {}); choose a \
                 --data-dir it can reach, e.g. /var/lib/concord, or set DATABASE_URL",
                root.display(),
                dir.display()
            );
        }
    }
    Ok(())
}
