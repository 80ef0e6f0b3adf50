//! Monitors: what to check, validated on construction. No I/O happens here.

pub mod address;
mod alerts;
pub mod conditions;
mod credentials;
mod dns_target;
mod draft;
mod fields;
pub mod grace;
mod kinds;
pub mod phase;
mod spec;
mod target;
mod tcp_target;

use chrono::{DateTime, Utc};

use crate::alerting::MonitorState;
use crate::auth::UserId;
use crate::check::LastCheck;

pub use address::Networks;
pub use alerts::{AlertFields, AlertPolicy};
pub use dns_target::{DnsTarget, RecordType};
pub use draft::{MonitorDraft, MonitorPatch};
pub use fields::{Headers, Method, StatusRanges};
pub use spec::{MAX_NAME_CHARS, MonitorSpec, Rules};
pub use target::{HttpTarget, Target};
pub use tcp_target::TcpTarget;

/// A monitor's id, unique across all users and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorId(pub i64);

/// A stored monitor: its spec plus what the store keeps about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monitor {
    /// The monitor's id.
    pub id: MonitorId,
    /// The account that owns it.
    pub owner: UserId,
    /// What is checked and how.
    pub spec: MonitorSpec,
    /// Whether checks are suspended.
    pub paused: bool,
    /// When it was created (UTC, millisecond precision).
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// Its verdict by its thresholds (`pending` until there is one).
    pub state: MonitorState,
    /// Its latest check, if it has been checked.
    pub last_check: Option<LastCheck>,
}

/// Why a monitor description was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonitorError {
    /// A field is malformed or out of bounds.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as named in the API.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The target is an internal address and private targets are disabled.
    #[error("{message}")]
    Blocked {
        /// Which address and why.
        message: String,
    },
}

impl MonitorError {
    /// An `Invalid` error for `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Invalid { field, .. } => field,
            Self::Blocked { .. } => "url",
        }
    }
}

#[cfg(test)]
mod tests;
