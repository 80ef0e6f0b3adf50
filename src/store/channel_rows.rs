//! Channel and outbox rows as plain values, shared by both backends: each reads its
//! driver's row into these records, and the conversion into domain types is written once.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Claimed, StoreError};
use crate::alerting::channels::{
    Channel, ChannelConfig, ChannelKind, Notice, NoticeIncident, NoticeMonitor,
};
use crate::alerting::{Cause, ChannelId, EventKind, IncidentId, IncidentKind};
use crate::auth::UserId;

/// A `channels` row.
pub(super) struct ChannelRecord {
    /// `id`.
    pub id: i64,
    /// `user_id`.
    pub owner: i64,
    /// `name`.
    pub name: String,
    /// `kind`.
    pub kind: String,
    /// `config`.
    pub config: Value,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `updated_at`.
    pub updated_at: DateTime<Utc>,
}

impl ChannelRecord {
    /// The channel.
    pub(super) fn into_channel(self) -> Result<Channel, StoreError> {
        let id = self.id;
        let corrupt = |e: String| StoreError::Corrupt(format!("channel {id}: {e}"));
        let kind = ChannelKind::from_str(&self.kind).map_err(|e| corrupt(e.to_string()))?;
        let config =
            ChannelConfig::stored(kind, self.config).map_err(|e| corrupt(e.to_string()))?;
        Ok(Channel {
            id: ChannelId(id),
            owner: UserId(self.owner),
            name: self.name,
            config,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A claimed notification joined with its channel, event, incident and monitor.
pub(super) struct ClaimRecord {
    /// `notifications.id`.
    pub id: i64,
    /// `notifications.attempts`.
    pub attempts: i64,
    /// `notifications.created_at`.
    pub created_at: DateTime<Utc>,
    /// The channel.
    pub channel: ChannelRecord,
    /// `events.id`, `events.kind`, `events.at`.
    pub event: (i64, String, DateTime<Utc>),
    /// `incidents.id`, `kind`, `started_at`, `resolved_at`.
    pub incident: (i64, String, DateTime<Utc>, Option<DateTime<Utc>>),
    /// `incidents.cause_kind`, `cause_message`, `cause_status_code`.
    pub cause: (String, String, Option<i64>),
    /// `monitors.id`, `name`, `url`.
    pub monitor: (i64, String, String),
}

impl ClaimRecord {
    /// The claimed notification.
    pub(super) fn into_claimed(self) -> Result<Claimed, StoreError> {
        let id = self.id;
        let corrupt = |e: String| StoreError::Corrupt(format!("notification {id}: {e}"));
        let (event_id, event, at) = self.event;
        let (incident_id, kind, started_at, resolved_at) = self.incident;
        let (cause_kind, message, status) = self.cause;
        let (monitor_id, name, url) = self.monitor;
        Ok(Claimed {
            id,
            attempts: u32::try_from(self.attempts).map_err(|e| corrupt(e.to_string()))?,
            created_at: self.created_at,
            channel: self.channel.into_channel()?,
            notice: Notice {
                event_id,
                event: EventKind::from_str(&event).map_err(|e| corrupt(e.to_string()))?,
                at,
                monitor: Some(NoticeMonitor {
                    id: monitor_id,
                    name,
                    url,
                }),
                incident: Some(NoticeIncident {
                    id: IncidentId(incident_id),
                    kind: IncidentKind::from_str(&kind).map_err(|e| corrupt(e.to_string()))?,
                    started_at,
                    resolved_at,
                }),
                cause: Some(Cause {
                    kind: cause_kind,
                    message,
                    status_code: status.and_then(|s| u16::try_from(s).ok()),
                }),
            },
        })
    }
}
