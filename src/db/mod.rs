pub mod audit;
pub mod embedded;
pub mod ids;

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub static MIGRATOR: Migrator = sqlx::migrate!();

/// How long a request waits for a database connection before it is answered
/// 503: if PostgreSQL is down, clients learn it at once instead of queueing.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long the first connection may take: at start the server may still be
/// coming up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn connect(options: PgConnectOptions, max_connections: u32) -> anyhow::Result<PgPool> {
    connect_with_timeout(options, max_connections, ACQUIRE_TIMEOUT).await
}

/// A pool whose requests wait at most `acquire_timeout` for a connection,
/// once a first connection has been made.
pub async fn connect_with_timeout(
    options: PgConnectOptions,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .connect_lazy_with(options);
    let deadline = tokio::time::Instant::now() + STARTUP_TIMEOUT;
    loop {
        match pool.acquire().await {
            Ok(_) => return Ok(pool),
            Err(error)
                if crate::error::database_unreachable(&error)
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => return Err(error).context("connecting to PostgreSQL"),
        }
    }
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("running database migrations")
}
