use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::live::LiveHub;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    /// The first segment of static URLs (`/static/{build_id}/…`, see
    /// `web::assets`), so browsers fetch new files after an upgrade.
    pub build_id: Arc<str>,
    pub live: LiveHub,
}

impl AppState {
    /// A write transaction: its commit tells open pages about the live events
    /// it wrote.
    pub async fn begin(&self) -> Result<crate::db::WriteTx, sqlx::Error> {
        Ok(crate::db::WriteTx::new(
            self.db.begin().await?,
            self.live.clone(),
        ))
    }

    pub fn new(db: PgPool, config: Config) -> Self {
        let build_id = format!(
            "{}-{:x}",
            env!("CARGO_PKG_VERSION"),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default()
        );
        let live = LiveHub::start(db.clone());
        Self {
            db,
            config: Arc::new(config),
            build_id: build_id.into(),
            live,
        }
    }
}
