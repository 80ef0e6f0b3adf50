//! The domain event stream: what happened to monitors, published once by whoever made it
//! happen (a use case, the results write, or the change feed relaying another instance),
//! and followed by everyone who must react (the scheduler, alert logging, live pages).
//!
//! A broadcast channel: publishing never waits for a subscriber, and a subscriber that falls
//! more than [`CAPACITY`] events behind is told how many it missed (tokio's `Lagged`) rather
//! than holding everyone else back.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::alerting::Transition;
use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId};

/// Events kept for a slow subscriber before it starts missing them: an `apply` of thousands
/// of monitors publishes as many at once.
pub const CAPACITY: usize = 16 * 1024;

/// Something that happened to a monitor.
#[derive(Debug, Clone)]
pub enum Event {
    /// A monitor was created; its first check is due at once.
    MonitorCreated(Arc<Monitor>),
    /// A monitor's settings changed, or it was paused or resumed (here, or on another
    /// instance sharing the database); it is given as it is now.
    MonitorChanged(Arc<Monitor>),
    /// A monitor was deleted.
    MonitorRemoved {
        /// Its owner.
        owner: UserId,
        /// The monitor.
        id: MonitorId,
    },
    /// This instance's results write decided a state change or certificate episode (other
    /// instances' decisions arrive as [`Event::MonitorChanged`], with the new state).
    Transition(Arc<Transition>),
}

impl Event {
    /// The account the event concerns, so per-account followers can filter.
    pub fn owner(&self) -> UserId {
        match self {
            Self::MonitorCreated(m) | Self::MonitorChanged(m) => m.owner,
            Self::MonitorRemoved { owner, .. } => *owner,
            Self::Transition(t) => t.owner,
        }
    }
}

/// Where events are published and followed. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus with nobody following yet.
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }

    /// Announces `event` to every current subscriber; nobody listening is fine.
    pub fn publish(&self, event: Event) {
        let _ = self.sender.send(event);
    }

    /// Follows the events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
