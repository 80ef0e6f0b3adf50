//! `GET /app/events`: the viewer's monitors' changes as server-sent events, from the event
//! bus, for the live script: `state` (a monitor's state now), `list` (monitors were added or
//! removed: the list is fetched again) and `reload` (events were missed).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream;
use tokio::sync::broadcast::error::RecvError;

use super::dashboard::state_name;
use super::session::Viewer;
use crate::alerting::Decision;
use crate::api::AppState;
use crate::auth::UserId;
use crate::service::Event;

/// A stream ends after this long and the browser reconnects (EventSource does so by
/// itself), so no connection is held for ever and a session that ended stops being served.
const STREAM_LIFETIME: Duration = Duration::from_secs(300);

/// `GET /app/events`
pub async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let follower = Follower {
        receiver: state.events.subscribe(),
        stopping: state.stopping.clone(),
        recheck: tokio::time::interval_at(
            tokio::time::Instant::now() + SESSION_RECHECK,
            SESSION_RECHECK,
        ),
        deadline: tokio::time::Instant::now() + STREAM_LIFETIME,
        owner: viewer.user,
        cookie: viewer.cookie,
        state,
    };
    let stream = stream::unfold(follower, |mut follower| async move {
        let event = follower.next().await?;
        Some((Ok(event), follower))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// How often a stream checks that its session still counts: a logout or a password change
/// elsewhere ends the stream within this time.
const SESSION_RECHECK: Duration = Duration::from_secs(30);

/// One viewer's stream: the bus, and what ends it.
struct Follower {
    receiver: tokio::sync::broadcast::Receiver<Event>,
    stopping: tokio::sync::watch::Receiver<bool>,
    recheck: tokio::time::Interval,
    deadline: tokio::time::Instant,
    owner: UserId,
    cookie: String,
    state: AppState,
}

impl Follower {
    /// The next event for the page; `None` ends the stream (a stop, the stream's lifetime,
    /// or a session that no longer counts).
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            let stopping = async {
                let _ = self.stopping.wait_for(|stop| *stop).await;
            };
            let next = tokio::select! {
                next = tokio::time::timeout_at(self.deadline, self.receiver.recv()) => Some(next),
                () = stopping => return None,
                _ = self.recheck.tick() => None,
            };
            let Some(next) = next else {
                match self.state.sessions.find(&self.cookie).await {
                    Ok(Some(_)) => continue,
                    // Gone, or the store cannot say: the browser reconnects and is asked to
                    // log in if it must.
                    _ => return None,
                }
            };
            let event = match next {
                Err(_) | Ok(Err(RecvError::Closed)) => return None,
                Ok(Err(RecvError::Lagged(_))) => {
                    Some(SseEvent::default().event("reload").data("{}"))
                }
                Ok(Ok(event)) => message(self.owner, &event),
            };
            if event.is_some() {
                return event;
            }
        }
    }
}

/// What the viewer's page needs to hear of `event`, if it is the viewer's.
fn message(owner: UserId, event: &Event) -> Option<SseEvent> {
    if event.owner() != owner {
        return None;
    }
    let state = |id: i64, state: &str| {
        SseEvent::default()
            .event("state")
            .data(serde_json::json!({ "id": id, "state": state }).to_string())
    };
    match event {
        Event::MonitorCreated(m) => Some(
            SseEvent::default()
                .event("list")
                .data(serde_json::json!({ "id": m.id.0 }).to_string()),
        ),
        Event::MonitorRemoved { id, .. } => Some(
            SseEvent::default()
                .event("list")
                .data(serde_json::json!({ "id": id.0 }).to_string()),
        ),
        Event::MonitorChanged(m) => Some(state(m.id.0, state_name(m))),
        Event::Transition(t) => match &t.decision {
            Decision::State { to, .. } => Some(state(t.monitor.0, to.as_str())),
            _ => None,
        },
    }
}
