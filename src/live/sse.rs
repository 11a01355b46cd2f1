//! `GET /api/v1/projects/{project_id}/events`: the project's live events as
//! Server-Sent Events, filtered for the viewer.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::{LiveEvent, events_since};
use crate::coding::blinding::Viewer;
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;

pub async fn stream_events(
    State(state): State<AppState>,
    member: Member,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    // Subscribe before reading the backlog, so nothing falls between the two.
    let receiver = state.live.subscribe();
    let mut conn = state.db.acquire().await?;
    let viewer = Viewer::load(&mut conn, &member).await?;
    let after =
        match after {
            Some(id) => id,
            None => sqlx::query_scalar!(
                r#"select coalesce(max(id), 0) as "id!" from project_events where project_id = $1"#,
                member.project_id as crate::db::ids::ProjectId
            )
            .fetch_one(&mut *conn)
            .await?,
        };
    drop(conn);
    let (sender, events) = mpsc::channel(256);
    tokio::spawn(forward(state, member, viewer, after, receiver, sender));
    Ok(Sse::new(ReceiverStream::new(events))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn to_sse(event: &LiveEvent) -> Result<Event, Infallible> {
    Ok(Event::default()
        .id(event.id.to_string())
        .data(serde_json::to_string(event).unwrap_or_default()))
}

/// Sends the backlog, then live events, until the browser goes away.
async fn forward(
    state: AppState,
    member: Member,
    mut viewer: Viewer,
    mut last: i64,
    mut receiver: broadcast::Receiver<LiveEvent>,
    sender: mpsc::Sender<Result<Event, Infallible>>,
) {
    let mut closing = state.live.closing();
    let mut catch_up = true;
    loop {
        if *closing.borrow() {
            return;
        }
        if catch_up {
            catch_up = false;
            let Ok(mut conn) = state.db.acquire().await else {
                return;
            };
            let Ok(backlog) = events_since(&mut conn, member.project_id, last).await else {
                return;
            };
            for event in backlog {
                last = event.id;
                if viewer.can_see(&event) && sender.send(to_sse(&event)).await.is_err() {
                    return;
                }
            }
        }
        let received = tokio::select! {
            () = sender.closed() => return,
            _ = closing.changed() => return,
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
        if event.project_id != member.project_id || event.id <= last {
            continue;
        }
        last = event.id;
        if event.kind.starts_with("assignment.") && event.coder_id == Some(member.user.id) {
            // Submitting unblinds: what this viewer may see has changed.
            if let Ok(mut conn) = state.db.acquire().await
                && let Ok(fresh) = Viewer::load(&mut conn, &member).await
            {
                viewer = fresh;
            }
        }
        if viewer.can_see(&event) && sender.send(to_sse(&event)).await.is_err() {
            return;
        }
    }
}
