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
/// A pooled connection idle longer than this is pinged before it is used.
const IDLE_CHECK: Duration = Duration::from_millis(500);

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
        // sqlx pings every connection it hands out (a round trip) besides the one
        // it sends as each goes back; under load that was a third of the
        // statements PostgreSQL served. A connection in steady use is known to
        // work (the ping on its return proved it); one that has sat idle is
        // still checked before it is handed out.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > IDLE_CHECK {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
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

/// A write transaction whose commit rings the live-event doorbell, so the
/// events it wrote reach open pages at once (src/live/mod.rs). Begin one with
/// [`crate::state::AppState::begin`]; it derefs to the connection, so store
/// functions take `&mut tx` as they take any connection.
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    live: crate::live::LiveHub,
}

impl WriteTx {
    pub fn new(tx: sqlx::Transaction<'static, sqlx::Postgres>, live: crate::live::LiveHub) -> Self {
        Self { tx, live }
    }

    /// Commits, then rings. A write is acknowledged only after this returns.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        self.live.ring();
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }

    /// Commits when the work done in it succeeded (a page that shows a form
    /// again with its errors keeps them); otherwise rolls back on drop.
    pub async fn commit_if_ok<T>(
        self,
        result: Result<T, crate::error::AppError>,
    ) -> Result<T, crate::error::AppError> {
        if result.is_ok() {
            self.commit().await?;
        }
        result
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::PgConnection;
    fn deref(&self) -> &sqlx::PgConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::PgConnection {
        &mut self.tx
    }
}
