//! Live updates (DESIGN.md invariant 7).
//!
//! Every live change writes a row to `project_events` in its own transaction
//! (with its audit row, [`crate::db::audit::record`]). Rows are ordered by a
//! commit-safe [`Position`]: the writing transaction's id, then the row id. A
//! reader takes only rows whose transaction id is below the oldest transaction
//! still running, so the prefix it has read never grows again: every listener
//! on every instance sees every event once, in the same order, whatever order
//! the writers committed in.
//!
//! No write transaction sends a NOTIFY (PostgreSQL would take its
//! database-wide notify lock at every commit, serialising writers). After a
//! commit the writer rings this instance's [`LiveHub`], which reads the table
//! at once and sends one coalesced doorbell NOTIFY, outside any write
//! transaction, to the other instances; each then reads the table itself. A
//! slow poll covers a doorbell lost while a listener reconnects.
//!
//! Browsers get events over SSE ([`stream_events`]), filtered by what each
//! viewer may see (invariant 3); one that reconnects sends `Last-Event-ID` and
//! pages through what it missed before going live.

mod kind;
mod sse;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::postgres::PgListener;
use tokio::sync::{Notify, broadcast, watch};

use crate::db::ids::{ProjectId, TranscriptId, UserId};
use crate::error::AppError;

pub use kind::EventKind;
pub use sse::stream_events;

/// The doorbell channel: its payload carries nothing, the table is the truth.
const CHANNEL: &str = "project_events";
/// Rows read per query, by the hub and by a stream catching up.
const PAGE: i64 = 1000;
/// The hub reads the table this often even when no doorbell rings.
const POLL: Duration = Duration::from_millis(500);

/// Where an event stands in the one order all listeners share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Position {
    /// The writing transaction's id (`xid8`, which fits an `i64` in practice).
    pub xid: i64,
    pub id: i64,
}

impl Position {
    /// `"xid-id"` as sent in SSE ids, or a bare row id as sent before positions
    /// existed (`0` meaning "from the start").
    pub fn parse(text: &str) -> Option<PositionOrLegacy> {
        let text = text.trim();
        match text.split_once('-') {
            Some((xid, id)) => Some(PositionOrLegacy::Position(Position {
                xid: xid.parse().ok()?,
                id: id.parse().ok()?,
            })),
            None => text.parse().ok().map(PositionOrLegacy::RowId),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.xid, self.id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionOrLegacy {
    Position(Position),
    RowId(i64),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LiveEvent {
    /// The row id: unique, but not the order (see [`Position`]).
    pub id: i64,
    #[serde(skip)]
    pub position: Position,
    pub project_id: ProjectId,
    pub kind: EventKind,
    pub transcript_id: Option<TranscriptId>,
    /// Whose layer, codebook, assignment or membership changed, if anyone's.
    pub coder_id: Option<UserId>,
    pub entity_id: Option<uuid::Uuid>,
}

/// A `project_events` row as read.
struct EventRow {
    id: i64,
    project_id: ProjectId,
    kind: EventKind,
    transcript_id: Option<TranscriptId>,
    coder_id: Option<UserId>,
    entity_id: Option<uuid::Uuid>,
    xid: i64,
}

impl From<EventRow> for LiveEvent {
    fn from(r: EventRow) -> Self {
        LiveEvent {
            id: r.id,
            position: Position {
                xid: r.xid,
                id: r.id,
            },
            project_id: r.project_id,
            kind: r.kind,
            transcript_id: r.transcript_id,
            coder_id: r.coder_id,
            entity_id: r.entity_id,
        }
    }
}

/// Events of `project` after `after` that no running transaction can still
/// precede, in position order, at most one page.
pub async fn events_since(
    conn: &mut PgConnection,
    project_id: ProjectId,
    after: Position,
) -> Result<Vec<LiveEvent>, AppError> {
    let rows = sqlx::query_as!(
        EventRow,
        r#"select id, project_id as "project_id: ProjectId", kind as "kind: EventKind",
                  transcript_id as "transcript_id: TranscriptId", coder_id as "coder_id: UserId",
                  entity_id, xid::text::bigint as "xid!"
             from project_events
            where project_id = $1
              and (xid, id) > ($2::bigint::text::xid8, $3)
              and xid < pg_snapshot_xmin(pg_current_snapshot())
            order by xid, id
            limit $4"#,
        project_id as ProjectId,
        after.xid,
        after.id,
        PAGE
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(LiveEvent::from).collect())
}

/// Every project's events after `after`, for the hub; and whether later events
/// exist that are not safe to read yet (a lower transaction is still running).
async fn read_all_since(
    conn: &mut PgConnection,
    after: Position,
) -> Result<(Vec<LiveEvent>, bool), sqlx::Error> {
    let events: Vec<LiveEvent> = sqlx::query_as!(
        EventRow,
        r#"select id, project_id as "project_id: ProjectId", kind as "kind: EventKind",
                  transcript_id as "transcript_id: TranscriptId", coder_id as "coder_id: UserId",
                  entity_id, xid::text::bigint as "xid!"
             from project_events
            where (xid, id) > ($1::bigint::text::xid8, $2)
              and xid < pg_snapshot_xmin(pg_current_snapshot())
            order by xid, id
            limit $3"#,
        after.xid,
        after.id,
        PAGE
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(LiveEvent::from)
    .collect();
    let last = events.last().map_or(after, |e| e.position);
    // Whether anything lies beyond: the newest row's position, one step down
    // the index from its end. (An `exists (… where (xid, id) > …)` was planned
    // as a scan of the whole table, read on every doorbell.)
    let held_back = events.len() < PAGE as usize
        && sqlx::query!(
            r#"select e.xid::text::bigint as "xid!", e.id from project_events e
                order by e.xid desc, e.id desc limit 1"#
        )
        .fetch_optional(&mut *conn)
        .await?
        .is_some_and(|newest| {
            Position {
                xid: newest.xid,
                id: newest.id,
            } > last
        });
    Ok((events, held_back))
}

/// Where the safe prefix ends now: everything before it has been written.
pub async fn safe_head(conn: &mut PgConnection) -> Result<Position, AppError> {
    let xid = sqlx::query_scalar!(
        r#"select pg_snapshot_xmin(pg_current_snapshot())::text::bigint as "xid!""#
    )
    .fetch_one(conn)
    .await?;
    Ok(Position { xid, id: 0 })
}

/// The position of row `id` (a Last-Event-ID sent before positions existed).
pub async fn position_of(conn: &mut PgConnection, id: i64) -> Result<Option<Position>, AppError> {
    let xid = sqlx::query_scalar!(
        r#"select xid::text::bigint as "xid!" from project_events where id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(xid.map(|xid| Position { xid, id }))
}

/// A disabled account loses every project's stream: each project it is a
/// member of gets a `member.changed` event naming it.
pub async fn announce_user_disabled(
    conn: &mut PgConnection,
    user_id: UserId,
) -> Result<(), AppError> {
    sqlx::query!(
        r#"insert into project_events (project_id, kind, coder_id, entity_id)
           select project_id, 'member.changed', user_id, user_id
             from project_members
            where user_id = $1"#,
        user_id as UserId
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// This instance's end of the fan-out: one reader of the table, one broadcast.
#[derive(Clone)]
pub struct LiveHub {
    inner: Arc<Inner>,
}

struct Inner {
    sender: broadcast::Sender<Arc<LiveEvent>>,
    /// Wakes this instance's reader.
    wake: Notify,
    /// Asks the doorbell task to tell the other instances.
    ring: Notify,
    /// Set when the server shuts down: open streams end, so connections drain.
    closing: watch::Sender<bool>,
}

impl LiveHub {
    /// Starts the reader, the doorbell and the listener; each carries on by
    /// itself if its connection drops.
    pub fn start(pool: sqlx::PgPool) -> Self {
        let (sender, _) = broadcast::channel(4096);
        let hub = Self {
            inner: Arc::new(Inner {
                sender,
                wake: Notify::new(),
                ring: Notify::new(),
                closing: watch::Sender::new(false),
            }),
        };
        tokio::spawn(read_loop(pool.clone(), hub.inner.clone()));
        tokio::spawn(doorbell_loop(pool.clone(), hub.inner.clone()));
        tokio::spawn(listen_loop(pool, hub.inner.clone()));
        hub
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.inner.sender.subscribe()
    }

    /// Called after a write commits: read the table now, and tell the other
    /// instances. Rings coalesce, so a burst of commits costs one NOTIFY.
    pub fn ring(&self) {
        self.inner.wake.notify_one();
        self.inner.ring.notify_one();
    }

    /// Ends every open event stream (browsers reconnect to another instance,
    /// or to this one when it is back).
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    pub fn closing(&self) -> watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }
}

async fn read_loop(pool: sqlx::PgPool, inner: Arc<Inner>) {
    let mut cursor = None;
    let mut pruned_at = tokio::time::Instant::now();
    loop {
        if pool.is_closed() || *inner.closing.borrow() {
            return;
        }
        match read_once(&pool, &inner, &mut cursor).await {
            Ok(()) => {}
            Err(error) => {
                tracing::warn!(%error, "live updates: reading events failed, retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }
        if pruned_at.elapsed() > Duration::from_secs(3600) {
            pruned_at = tokio::time::Instant::now();
            if let Err(error) = sqlx::query!(
                "delete from project_events where created_at < now() - interval '2 days'"
            )
            .execute(&pool)
            .await
            {
                tracing::warn!(%error, "live updates: pruning old events failed");
            }
        }
        tokio::select! {
            () = inner.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Reads and broadcasts everything that is safe to read, waiting briefly for a
/// lower transaction still running when later events are already committed.
async fn read_once(
    pool: &sqlx::PgPool,
    inner: &Inner,
    cursor: &mut Option<Position>,
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let mut after = match *cursor {
        Some(position) => position,
        None => {
            // History is the streams' business (they catch up from the table).
            let xid = sqlx::query_scalar!(
                r#"select pg_snapshot_xmin(pg_current_snapshot())::text::bigint as "xid!""#
            )
            .fetch_one(&mut *conn)
            .await?;
            let start = Position { xid, id: 0 };
            *cursor = Some(start);
            start
        }
    };
    let mut backoff = Duration::from_millis(1);
    loop {
        let (events, held_back) = read_all_since(&mut conn, after).await?;
        let full = events.len() == PAGE as usize;
        for event in events {
            after = event.position;
            // No receivers is fine: nobody is watching right now.
            let _ = inner.sender.send(Arc::new(event));
        }
        *cursor = Some(after);
        if full {
            continue;
        }
        if !held_back || backoff > Duration::from_millis(200) {
            // A transaction holding the horizon back for long is left to the
            // next doorbell or poll.
            return Ok(());
        }
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
}

/// Sends one NOTIFY per burst of rings, each in its own short transaction.
async fn doorbell_loop(pool: sqlx::PgPool, inner: Arc<Inner>) {
    loop {
        inner.ring.notified().await;
        if pool.is_closed() {
            return;
        }
        if let Err(error) = sqlx::query!("select pg_notify($1, '')", CHANNEL)
            .execute(&pool)
            .await
        {
            tracing::warn!(%error, "live updates: doorbell failed (the poll will catch up)");
        }
    }
}

/// Wakes the reader when any instance rings.
async fn listen_loop(pool: sqlx::PgPool, inner: Arc<Inner>) {
    loop {
        let result: Result<(), sqlx::Error> = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            // Anything rung while we were away is read now.
            inner.wake.notify_one();
            loop {
                listener.recv().await?;
                inner.wake.notify_one();
            }
        }
        .await;
        if pool.is_closed() {
            return;
        }
        if let Err(error) = result {
            tracing::warn!(%error, "live updates: listener stopped, reconnecting");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_print_and_parse_back() {
        let p = Position { xid: 812, id: 77 };
        assert_eq!(p.to_string(), "812-77");
        assert_eq!(
            Position::parse("812-77"),
            Some(PositionOrLegacy::Position(p))
        );
        assert_eq!(Position::parse(" 5 "), Some(PositionOrLegacy::RowId(5)));
        assert_eq!(Position::parse("x-1"), None);
        assert_eq!(Position::parse(""), None);
    }

    #[test]
    fn positions_order_by_transaction_then_row() {
        let early_tx_late_row = Position { xid: 10, id: 99 };
        let late_tx_early_row = Position { xid: 11, id: 3 };
        assert!(early_tx_late_row < late_tx_early_row);
    }
}
