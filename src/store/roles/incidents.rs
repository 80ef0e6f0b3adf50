//! Incidents: reading them back with their notifications, and the periodic writes about the
//! open ones (reminders) and the outbox (its backlog).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::alerting::{Incident, IncidentFilter, IncidentId};
use crate::auth::UserId;
use crate::monitor::MonitorId;
use crate::store::StoreError;

/// A reminder queued by [`IncidentStore::queue_reminders`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reminder {
    /// The open incident it is about.
    pub incident: IncidentId,
    /// Its monitor.
    pub monitor: MonitorId,
    /// The monitor's owner.
    pub owner: UserId,
    /// How many notifications (one per channel) it queued.
    pub notifications: u32,
}

/// Incidents, each seen only by the owner of its monitor.
#[async_trait]
pub trait IncidentStore: Send + Sync + 'static {
    /// Up to `filter.limit` of the owner's incidents that match `filter`, newest (highest
    /// id) first, each with its notifications oldest first.
    async fn list_incidents(
        &self,
        owner: UserId,
        filter: &IncidentFilter,
    ) -> Result<Vec<Incident>, StoreError>;

    /// Queues a `reminder` event (one notification per channel of the monitor) for every
    /// open, unmuted `down` or `degraded` incident whose monitor has a reminder interval, is
    /// not paused, is not inside a maintenance window at `now`, and was last notified at
    /// least an interval before `now`; at most `limit` of them. Each reminder moves the
    /// incident's `notified_at` by a conditional update in the same transaction as the
    /// event, so however many instances run this at once, each reminder is queued once.
    async fn queue_reminders(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Reminder>, StoreError>;

    /// How many notifications wait to be delivered (state `pending`).
    async fn outbox_backlog(&self) -> Result<u64, StoreError>;
}
