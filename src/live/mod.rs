//! Live updates (DESIGN.md invariant 7): every change writes a row to
//! `project_events` and a NOTIFY in its own transaction; every app instance
//! LISTENs, and fans each event out to its browsers over SSE, filtered by what
//! each viewer may see (invariant 3). A browser that reconnects sends
//! Last-Event-ID and is first sent what it missed, from the table.

mod sse;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use crate::db::ids::{ProjectId, TranscriptId, UserId};
use crate::error::AppError;

pub use sse::stream_events;

const CHANNEL: &str = "project_events";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LiveEvent {
    pub id: i64,
    pub project_id: ProjectId,
    pub kind: String,
    pub transcript_id: Option<TranscriptId>,
    /// Whose layer or codebook changed, if anyone's.
    pub coder_id: Option<UserId>,
    pub entity_id: Option<uuid::Uuid>,
}

/// What a change announces; the id comes from the table.
pub struct NewEvent<'a> {
    pub project_id: ProjectId,
    pub kind: &'a str,
    pub transcript_id: Option<TranscriptId>,
    pub coder_id: Option<UserId>,
    pub entity_id: Option<uuid::Uuid>,
}

/// A change's audit row and its live event, in the caller's transaction and in
/// one statement (one round trip on the hot write paths); NOTIFY is delivered
/// on commit, its JSON being a [`LiveEvent`].
pub async fn publish_with_audit(
    conn: &mut PgConnection,
    audit: crate::db::audit::Event<'_>,
    event: NewEvent<'_>,
) -> Result<(), AppError> {
    sqlx::query!(
        r#"with audit as (
               insert into audit_events (project_id, actor_id, action, entity_type, entity_id, before, after)
               values ($1, $2, $3, $4, $5, $6, $7)
           ),
           event as (
               insert into project_events (project_id, kind, transcript_id, coder_id, entity_id)
               values ($8, $9, $10, $11, $12)
               returning id, project_id, kind, transcript_id, coder_id, entity_id
           )
           select pg_notify($13, json_build_object(
                      'id', id, 'project_id', project_id, 'kind', kind,
                      'transcript_id', transcript_id, 'coder_id', coder_id, 'entity_id', entity_id)::text)
             from event"#,
        audit.project_id as Option<ProjectId>,
        audit.actor_id as Option<UserId>,
        audit.action.as_str(),
        audit.entity_type,
        audit.entity_id,
        audit.before,
        audit.after,
        event.project_id as ProjectId,
        event.kind,
        event.transcript_id as Option<TranscriptId>,
        event.coder_id as Option<UserId>,
        event.entity_id,
        CHANNEL
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn events_since(
    conn: &mut PgConnection,
    project_id: ProjectId,
    after: i64,
) -> Result<Vec<LiveEvent>, AppError> {
    Ok(sqlx::query_as!(
        LiveEvent,
        r#"select id, project_id as "project_id: ProjectId", kind, transcript_id as "transcript_id: TranscriptId",
                  coder_id as "coder_id: UserId", entity_id
             from project_events
            where project_id = $1 and id > $2
            order by id
            limit 1000"#,
        project_id as ProjectId,
        after
    )
    .fetch_all(conn)
    .await?)
}

/// This instance's end of the fan-out: one LISTEN connection, one broadcast.
#[derive(Clone)]
pub struct LiveHub {
    sender: broadcast::Sender<LiveEvent>,
    /// Set when the server shuts down: open streams end, so connections drain.
    closing: tokio::sync::watch::Sender<bool>,
}

impl LiveHub {
    /// Starts listening; reconnects by itself if the connection drops.
    pub fn start(pool: sqlx::PgPool) -> Self {
        let (sender, _) = broadcast::channel(4096);
        let hub = Self {
            sender: sender.clone(),
            closing: tokio::sync::watch::Sender::new(false),
        };
        tokio::spawn(async move {
            loop {
                let result = listen(&pool, &sender).await;
                if pool.is_closed() {
                    return;
                }
                if let Err(error) = result {
                    tracing::warn!(%error, "live updates: listener stopped, reconnecting");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        hub
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }

    /// Ends every open event stream (browsers reconnect to another instance,
    /// or to this one when it is back).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

async fn listen(
    pool: &sqlx::PgPool,
    sender: &broadcast::Sender<LiveEvent>,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    let mut pruned_at = tokio::time::Instant::now();
    loop {
        let notification = listener.recv().await?;
        match serde_json::from_str::<LiveEvent>(notification.payload()) {
            Ok(event) => {
                // No receivers is fine: nobody is watching right now.
                let _ = sender.send(event);
            }
            Err(error) => tracing::warn!(%error, "live updates: unreadable notification"),
        }
        if pruned_at.elapsed() > Duration::from_secs(3600) {
            pruned_at = tokio::time::Instant::now();
            sqlx::query!("delete from project_events where created_at < now() - interval '2 days'")
                .execute(pool)
                .await?;
        }
    }
}
