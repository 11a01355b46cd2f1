//! `GET /api/v1/projects/{project_id}/events`: the project's live events as
//! Server-Sent Events, filtered for the viewer.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::{EventKind, LiveEvent, Position, PositionOrLegacy, events_since};
use crate::coding::blinding::Viewer;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;

/// How often an open stream re-checks, without being told, that its viewer
/// may still read the project (a `member.changed` event checks at once).
const RECHECK: Duration = Duration::from_secs(30);

pub async fn stream_events(
    State(state): State<AppState>,
    member: Member,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(Position::parse);
    // Subscribe before reading the backlog, so nothing falls between the two.
    let receiver = state.live.subscribe();
    let mut conn = state.db.acquire().await?;
    let viewer = Viewer::load(&mut conn, &member).await?;
    let after = match last_event_id {
        Some(PositionOrLegacy::Position(position)) => position,
        Some(PositionOrLegacy::RowId(0)) => Position::default(),
        Some(PositionOrLegacy::RowId(id)) => match super::position_of(&mut conn, id).await? {
            Some(position) => position,
            None => super::safe_head(&mut conn).await?,
        },
        None => super::safe_head(&mut conn).await?,
    };
    drop(conn);
    let (sender, events) = mpsc::channel(256);
    tokio::spawn(forward(state, member, viewer, after, receiver, sender));
    Ok(Sse::new(ReceiverStream::new(events))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn to_sse(event: &LiveEvent) -> Result<Event, Infallible> {
    Ok(Event::default()
        .id(event.position.to_string())
        .data(serde_json::to_string(event).unwrap_or_default()))
}

/// What a stream does with one event in order.
enum Step {
    Go,
    Stop,
}

struct Forwarder {
    state: AppState,
    member: Member,
    viewer: Viewer,
    last: Position,
    sender: mpsc::Sender<Result<Event, Infallible>>,
}

impl Forwarder {
    async fn handle(&mut self, event: &LiveEvent) -> Step {
        self.last = event.position;
        let about_me = event.coder_id == Some(self.member.user.id);
        // Removed, disabled or given another role, or a submission or reopening
        // that changes what this viewer may see: decide again.
        let rights_changed = about_me
            && matches!(
                event.kind,
                EventKind::MemberChanged | EventKind::AssignmentUpdated
            );
        if rights_changed && !self.recheck().await {
            return Step::Stop;
        }
        if self.viewer.can_see(event) && self.sender.send(to_sse(event)).await.is_err() {
            return Step::Stop;
        }
        Step::Go
    }

    /// Reloads the viewer's rights; false when they may no longer read the
    /// project at all (or the database cannot say).
    async fn recheck(&mut self) -> bool {
        let Ok(mut conn) = self.state.db.acquire().await else {
            return false;
        };
        match Member::reload(&mut conn, &self.member).await {
            Ok(Some(member)) => match Viewer::load(&mut conn, &member).await {
                Ok(viewer) => {
                    self.member = member;
                    self.viewer = viewer;
                    true
                }
                Err(_) => false,
            },
            _ => false,
        }
    }

    /// Pages through everything after `last`.
    async fn catch_up(&mut self) -> Step {
        loop {
            let Ok(mut conn) = self.state.db.acquire().await else {
                return Step::Stop;
            };
            let Ok(page) = events_since(&mut conn, self.member.project_id, self.last).await else {
                return Step::Stop;
            };
            drop(conn);
            let full = page.len() as i64 == super::PAGE;
            for event in &page {
                if let Step::Stop = self.handle(event).await {
                    return Step::Stop;
                }
            }
            if !full {
                return Step::Go;
            }
        }
    }
}

/// Sends the backlog, then live events, until the browser goes away or the
/// viewer's right to read the project ends.
async fn forward(
    state: AppState,
    member: Member,
    viewer: Viewer,
    last: Position,
    mut receiver: broadcast::Receiver<Arc<LiveEvent>>,
    sender: mpsc::Sender<Result<Event, Infallible>>,
) {
    let mut closing = state.live.closing();
    let mut stream = Forwarder {
        state,
        member,
        viewer,
        last,
        sender,
    };
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.reset();
    let mut catch_up = true;
    loop {
        if *closing.borrow() {
            return;
        }
        if catch_up {
            catch_up = false;
            if let Step::Stop = stream.catch_up().await {
                return;
            }
        }
        let received = tokio::select! {
            () = stream.sender.closed() => return,
            _ = closing.changed() => return,
            _ = recheck.tick() => {
                if !stream.recheck().await {
                    return;
                }
                continue;
            }
            received = receiver.recv() => received,
        };
        let event = match received {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                catch_up = true;
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if event.project_id != stream.member.project_id || event.position <= stream.last {
            continue;
        }
        if let Step::Stop = stream.handle(&event).await {
            return;
        }
    }
}
