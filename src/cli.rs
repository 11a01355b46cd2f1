//! The `concord` command: serve (the default), migrate, create-admin, demo, import, export.

use std::io::BufRead;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use tokio::net::TcpListener;

use crate::auth::{password, store as users};
use crate::config::Config;
use crate::db;
use crate::db::audit::{self, Action, Change};
use crate::db::embedded::{Durability, EmbeddedCluster};
use crate::state::AppState;

#[derive(Debug, Parser)]
#[command(
    name = "concord",
    version,
    about = "Collaborative qualitative coding of interview transcripts",
    // Every setting may come after the subcommand too (`concord serve --data-dir X`).
    mut_args(|arg| arg.global(true))
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create a site admin account. The password is read from standard input.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// Create the demo study (five accounts, four coded transcripts, a reconciliation under way).
    Demo,
    /// Import transcript files (.txt, .md, .docx, .vtt, .srt) into a project.
    Import {
        /// The project's id (shown in its URL).
        #[arg(long)]
        project: crate::db::ids::ProjectId,
        /// A participant label for every file; by default it is found in each file name.
        #[arg(long)]
        participant: Option<String>,
        /// Text encoding of .txt/.md/.vtt/.srt files that are not UTF-8 (`windows-1255`, `gbk`...).
        #[arg(long)]
        encoding: Option<String>,
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Agreement and discrepancies of a REFI-QDA project (.qdpx) coded by two or more users; no server or database.
    Agreement {
        file: std::path::PathBuf,
        /// Unit of the presence/absence statistics: line, sentence, paragraph, turn or character.
        #[arg(long, default_value = "line")]
        level: String,
        /// The users to compare, by name or GUID (all users with codings by default).
        #[arg(long)]
        users: Option<String>,
        /// table, json or csv.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Import a REFI-QDA project (.qdpx, or a .qde without its sources) as a new project: prints the preview, then imports.
    ImportQdpx {
        file: std::path::PathBuf,
        /// The new project's owner, by email (by default the site's first admin).
        #[arg(long)]
        owner: Option<String>,
    },
    /// Write one export of a project to a file, as the project's owner.
    Export {
        /// The project's id (shown in its URL).
        #[arg(long)]
        project: crate::db::ids::ProjectId,
        /// segments-csv, segments-xlsx, codebook-csv, codebook-xlsx, ledger-csv,
        /// agreement-xlsx, audit-csv, the quote bank: quotes-csv, quotes-docx, or REFI-QDA:
        /// qdpx (the project), qdc (the agreed codebook).
        #[arg(long)]
        format: String,
        /// Coded segments and qdpx: also every coder's submitted coding, not only the consensus layer.
        #[arg(long)]
        coders: bool,
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

pub fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("concord=info,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if config.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The database to use: DATABASE_URL, or the private cluster under --data-dir.
pub struct Database {
    pub pool: PgPool,
    pub cluster: Option<EmbeddedCluster>,
}

impl Database {
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let (options, cluster) = match &config.database_url {
            Some(url) => (
                url.parse::<PgConnectOptions>()
                    .context("parsing DATABASE_URL")?,
                None,
            ),
            None => {
                let data_dir = config.data_dir.clone();
                let cluster = tokio::task::spawn_blocking(move || {
                    EmbeddedCluster::start(&data_dir, Durability::Durable)
                })
                .await
                .context("joining the cluster start")??;
                if let Err(error) = ensure_database(&cluster, "concord").await {
                    let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
                    return Err(error);
                }
                (cluster.connect_options("concord"), Some(cluster))
            }
        };
        let opened = async {
            let pool = db::connect(options, config.db_max_connections).await?;
            db::migrate(&pool).await?;
            anyhow::Ok(pool)
        };
        match opened.await {
            Ok(pool) => Ok(Self { pool, cluster }),
            Err(error) => {
                // Leave no private cluster running behind a failed start.
                if let Some(cluster) = cluster {
                    let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
                }
                Err(error)
            }
        }
    }

    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close().await;
        if let Some(cluster) = self.cluster {
            tokio::task::spawn_blocking(move || cluster.stop())
                .await
                .context("joining the cluster stop")??;
        }
        Ok(())
    }
}

/// Creates `name` in the private cluster the first time.
pub async fn ensure_database(cluster: &EmbeddedCluster, name: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect_with(&cluster.connect_options("postgres"))
        .await
        .context("connecting to the private cluster")?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        // Identifiers can't be bound; `name` is ours, not user input.
        sqlx::raw_sql(&format!("create database \"{name}\""))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Agreement {
            file,
            level,
            users,
            format,
        } => {
            let options = crate::refi::ReadOptions::default();
            let out =
                crate::refi::agreement::run(&file, &level, users.as_deref(), &format, &options);
            print!("{}", out.map_err(|e| anyhow::anyhow!(e))?);
            Ok(())
        }
        Command::Migrate => {
            let database = Database::open(&config).await?;
            tracing::info!("migrations applied");
            database.close().await
        }
        Command::CreateAdmin { email, name } => {
            let database = Database::open(&config).await?;
            let result = create_admin(&database.pool, &email, &name).await;
            database.close().await?;
            result
        }
        Command::Demo => {
            let database = Database::open(&config).await?;
            let result = demo(&database.pool, &config).await;
            database.close().await?;
            result
        }
        Command::Import {
            project,
            participant,
            encoding,
            files,
        } => {
            let database = Database::open(&config).await?;
            let result = import(
                &database.pool,
                &config,
                project,
                participant,
                encoding,
                &files,
            )
            .await;
            database.close().await?;
            result
        }
        Command::Export {
            project,
            format,
            coders,
            out,
        } => {
            if matches!(format.as_str(), "qdpx" | "qdc") {
                let database = Database::open(&config).await?;
                let result =
                    crate::refi::export::run_cli(&database.pool, project, &format, coders, &out)
                        .await;
                database.close().await?;
                return result;
            }
            if matches!(format.as_str(), "quotes-csv" | "quotes-docx") {
                let database = Database::open(&config).await?;
                let state = AppState::new(database.pool.clone(), config.clone());
                let result = crate::quote_bank::run_cli(&state, project, &format, &out).await;
                state.live.close();
                database.close().await?;
                return result;
            }
            let kind = crate::exports::cli::parse_kind(&format).map_err(|e| {
                anyhow::anyhow!("--format {format}: {e}, quotes-csv, quotes-docx, qdpx or qdc")
            })?;
            let database = Database::open(&config).await?;
            let state = AppState::new(database.pool.clone(), config.clone());
            let result = crate::exports::cli::run(&state, project, kind, coders, &out).await;
            state.live.close();
            database.close().await?;
            result
        }
        Command::ImportQdpx { file, owner } => {
            let database = Database::open(&config).await?;
            let result = crate::refi::import_web::run_cli(
                &database.pool,
                config.max_upload_bytes,
                &file,
                owner.as_deref(),
            )
            .await;
            database.close().await?;
            result.map(|_| ())
        }
    }
}

async fn create_admin(pool: &PgPool, email: &str, name: &str) -> anyhow::Result<()> {
    eprintln!(
        "Password for {email} (at least {} characters), then Enter:",
        crate::auth::model::MIN_PASSWORD_CHARS
    );
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("reading the password")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let mut errors = crate::error::FieldErrors::new();
    let email = crate::auth::model::parse_email(&mut errors, "email", email);
    let name = crate::auth::model::parse_display_name(&mut errors, "name", name);
    crate::auth::model::parse_new_password(&mut errors, "password", &password, None);
    if !errors.is_empty() {
        anyhow::bail!("{}", serde_json::to_string(&errors)?);
    }
    let hash = password::hash_password(password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = pool.begin().await?;
    let user = users::insert_user(&mut tx, &email, &name, &hash, true)
        .await
        .map_err(|e| match e {
            crate::error::AppError::Invalid(errors) => {
                anyhow::anyhow!("{}", serde_json::to_string(&errors).unwrap_or_default())
            }
            other => anyhow::anyhow!("{other}"),
        })?;
    audit::record(
        &mut tx,
        Change::new(None, Action::SetupCompleted)
            .entity(user.id.0)
            .after(&user),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    eprintln!("Created admin {} ({})", user.display_name, user.email);
    Ok(())
}

/// Creates the demo projects and prints where they are and how to sign in.
async fn demo(pool: &PgPool, config: &Config) -> anyhow::Result<()> {
    let state = AppState::new(pool.clone(), config.clone());
    let summary = crate::demo::create(&state)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("Created the demo study \"{}\".", summary.project_name);
    println!(
        "Project: {} (open {})",
        summary.path,
        config.public_url(&summary.path)
    );
    let practice = &summary.practice;
    println!(
        "Practice project \"{}\", left to reconcile: {} (open {})",
        practice.project_name,
        practice.path,
        config.public_url(&practice.path)
    );
    println!("Accounts (password for all: {}):", crate::demo::PASSWORD);
    for account in &summary.accounts {
        println!(
            "  {:<14} {:<20} {:<10} {}",
            account.display_name, account.email, account.password, account.hint
        );
    }
    Ok(())
}

/// Imports each file with a progress bar; a bad file is reported and skipped.
async fn import(
    pool: &PgPool,
    config: &Config,
    project: crate::db::ids::ProjectId,
    participant: Option<String>,
    encoding: Option<String>,
    files: &[std::path::PathBuf],
) -> anyhow::Result<()> {
    use crate::transcripts::service::{self, FileImport, ParticipantChoice};
    let mut conn = pool.acquire().await?;
    crate::projects::store::get_project(&mut conn, project)
        .await
        .map_err(|_| anyhow::anyhow!("no project has the id {project}"))?;
    let choice = match participant {
        None => ParticipantChoice::FromFileName,
        Some(label) => {
            let labels = crate::transcripts::store::participant_labels(&mut conn, project)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = labels
                .iter()
                .find(|(_, l)| l.to_lowercase() == label.to_lowercase())
                .map(|(id, _)| *id)
                .with_context(|| format!("the project has no participant labelled {label:?}"))?;
            ParticipantChoice::Given(id)
        }
    };
    drop(conn);
    let encoding = service::parse_encoding(encoding.as_deref()).map_err(|_| {
        anyhow::anyhow!("--encoding must name an encoding, such as utf-8, windows-1252 or gbk")
    })?;
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut failed = 0;
    for path in files {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        bar.set_message(file_name.clone());
        let bytes = match std::fs::metadata(path) {
            Ok(meta) if meta.len() as usize > config.max_upload_bytes => None,
            _ => Some(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?),
        };
        let outcome = service::import_file(
            pool,
            project,
            None,
            FileImport {
                file_name: &file_name,
                bytes: bytes.as_deref(),
                participant: choice,
                encoding,
                not_speakers: &[],
            },
            config.max_upload_bytes,
        )
        .await;
        match &outcome.error {
            Some(error) => {
                failed += 1;
                bar.suspend(|| eprintln!("✗ {file_name}: {error}"));
            }
            None => bar.suspend(|| {
                eprintln!(
                    "✓ {file_name}: {} words{}",
                    outcome.word_count.unwrap_or_default(),
                    outcome
                        .participant_label
                        .as_deref()
                        .map(|l| format!(", participant {l}"))
                        .unwrap_or_default()
                )
            }),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    eprintln!("{} imported, {failed} failed", files.len() - failed);
    if failed > 0 {
        anyhow::bail!("{failed} file(s) were not imported");
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    crate::web::server::raise_open_files_limit();
    // The port first: a second Concord started by mistake on the same port
    // must not start, adopt or stop the private cluster of the first.
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    let database = Database::open(&config).await?;
    let address = listener.local_addr()?;
    let timeouts = config.server_timeouts();
    let state = AppState::new(database.pool.clone(), config);
    let live = state.live.clone();
    let app = crate::router(state);
    // The private cluster is restarted if it dies; if it cannot be, Concord
    // stops (non-zero) for its supervisor to act.
    let (stop_watch, stopping) = tokio::sync::watch::channel(false);
    let mut watch = database
        .cluster
        .clone()
        .map(|c| tokio::spawn(c.keep_running(stopping)));
    tracing::info!(%address, "Concord is listening on http://{address}");
    let mut given_up = None;
    crate::web::server::serve(listener, app, timeouts, async {
        let gave_up = async {
            match watch.as_mut() {
                Some(handle) => handle.await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown_signal() => {}
            result = gave_up => given_up = Some(result),
        }
        live.close();
    })
    .await;
    tracing::info!("shutting down");
    stop_watch.send_replace(true);
    let watched = match (given_up, watch) {
        (Some(result), _) => result,
        (None, Some(handle)) => handle.await,
        (None, None) => Ok(Ok(())),
    };
    database.close().await?;
    watched.context("joining the database watch")?
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
