//! Alerting: a monitor's state decided by thresholds over its checks, incidents, and the
//! notifications they cause. The decisions are plain functions over values ([`health`] and
//! [`plan`]); the store runs them inside the transaction that writes the results that caused
//! them, so a transition, its incident and its notifications commit together or not at all,
//! whichever instance wrote the batch, and a batch written twice changes nothing the second
//! time.

pub mod channels;
pub mod health;
pub mod incident;
pub mod log;
pub mod maintenance;
pub mod plan;

use chrono::{DateTime, Utc};

use crate::auth::UserId;
use crate::monitor::MonitorId;

pub use health::{Decision, Health, MonitorState, Thresholds, apply_all};
pub use incident::{Incident, IncidentFilter, IncidentState, Notification, NotificationState};
pub use maintenance::{
    Coverage, InvalidWindow, MaintenanceId, MaintenanceWindow, WindowDraft, WindowSpec,
};
pub use plan::{IncidentRef, Op, Slot};

/// A notification channel's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub i64);

/// An incident's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IncidentId(pub i64);

/// A stored value that is not one of its type's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`")]
pub struct UnknownName {
    /// The type (`state`, `incident kind`, `event`).
    pub what: &'static str,
    /// The value found.
    pub value: String,
}

/// Names `as_str`/`FromStr` for a fieldless enum from one list of `(variant, name)`.
macro_rules! named {
    ($ty:ident, $what:literal, [$(($variant:ident, $name:literal)),* $(,)?]) => {
        impl $ty {
            /// Every value, in the order the docs list them.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The name in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),*
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = UnknownName;

            fn from_str(raw: &str) -> Result<Self, UnknownName> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == raw)
                    .ok_or_else(|| UnknownName { what: $what, value: raw.to_owned() })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named;

/// What an incident is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentKind {
    /// The monitor was down: `failure_threshold` failed checks in a row.
    Down,
    /// The monitor was slow: `failure_threshold` checks in a row over `latency_threshold_ms`.
    Degraded,
    /// The certificate expires within `cert_expiry_days`.
    Certificate,
}

named!(
    IncidentKind,
    "incident kind",
    [
        (Down, "down"),
        (Degraded, "degraded"),
        (Certificate, "certificate"),
    ]
);

/// What a notification announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The monitor went down.
    Down,
    /// The monitor is up again.
    Up,
    /// The monitor became slow.
    Degraded,
    /// An incident is still open after the monitor's reminder interval.
    Reminder,
    /// The certificate expires soon.
    CertificateExpiring,
    /// A test sent by hand to check a channel.
    Test,
}

named!(
    EventKind,
    "event",
    [
        (Down, "down"),
        (Up, "up"),
        (Degraded, "degraded"),
        (Reminder, "reminder"),
        (CertificateExpiring, "certificate_expiring"),
        (Test, "test"),
    ]
);

/// Why an incident was opened: the check that crossed the threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// A failure kind (`timeout`, `status`…), or `latency` for a slow monitor, or
    /// `certificate` for an expiring certificate.
    pub kind: String,
    /// What was seen, in a sentence.
    pub message: String,
    /// The response's status code, if one came.
    pub status_code: Option<u16>,
}

/// A change the results write decided, as it tells the rest of the process (logs, metrics,
/// live pages) after the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The monitor.
    pub monitor: MonitorId,
    /// Its owner.
    pub owner: UserId,
    /// When the deciding check ran.
    pub at: DateTime<Utc>,
    /// What changed.
    pub decision: Decision,
    /// The incident it opened or resolved, if any.
    pub incident: Option<IncidentId>,
    /// The event queued for the monitor's channels; `None` when it notifies nobody (a first
    /// verdict, a renewed certificate, or muted by a maintenance window).
    pub event: Option<EventKind>,
}
