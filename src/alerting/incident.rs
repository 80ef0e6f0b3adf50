//! Incidents as they are read back: what happened, why, and what became of each notification
//! about it. Written by the results write ([`super::plan`]); read by the incidents API.

use chrono::{DateTime, Utc};

use super::{Cause, ChannelId, EventKind, IncidentId, IncidentKind, UnknownName, named};
use crate::monitor::MonitorId;

/// An incident and its notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// The incident.
    pub id: IncidentId,
    /// The monitor it is about.
    pub monitor: MonitorId,
    /// What it is about.
    pub kind: IncidentKind,
    /// The first check of the run that opened it.
    pub started_at: DateTime<Utc>,
    /// When it ended; `None` while open.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The check that opened it.
    pub cause: Cause,
    /// Opened inside a maintenance window: nobody is told about it.
    pub muted: bool,
    /// For a certificate incident, the expiry that opened it.
    pub cert_expires_at: Option<DateTime<Utc>>,
    /// One per event and channel, oldest first.
    pub notifications: Vec<Notification>,
}

/// One event about an incident, for one channel: a row of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The channel it goes to.
    pub channel: ChannelId,
    /// What it announces.
    pub event: EventKind,
    /// Where its delivery stands.
    pub state: NotificationState,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// When the receiver took it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Where a notification's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationState {
    /// Not delivered yet: waiting for its first or next attempt.
    Pending,
    /// The receiver took it.
    Delivered,
    /// Given up after retrying.
    Failed,
}

named!(
    NotificationState,
    "notification state",
    [
        (Pending, "pending"),
        (Delivered, "delivered"),
        (Failed, "failed"),
    ]
);

/// Open or resolved, as the incidents list filters them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentState {
    /// Not resolved yet.
    Open,
    /// Over.
    Resolved,
}

named!(
    IncidentState,
    "incident state",
    [(Open, "open"), (Resolved, "resolved")]
);

/// Which of an owner's incidents to list: newest first, `limit` of them with ids below
/// `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Only this monitor's.
    pub monitor: Option<MonitorId>,
    /// Only open or only resolved ones.
    pub state: Option<IncidentState>,
    /// Only ids below this one (the previous page's last).
    pub before: Option<IncidentId>,
    /// At most this many.
    pub limit: u32,
}

/// Parses a stored name, naming the incident in the error.
pub fn stored<T: std::str::FromStr<Err = UnknownName>>(
    incident: i64,
    raw: &str,
) -> Result<T, String> {
    raw.parse()
        .map_err(|e: UnknownName| format!("incident {incident}: {e}"))
}
