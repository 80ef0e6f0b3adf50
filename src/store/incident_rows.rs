//! Incident, notification and maintenance rows as plain values, shared by both backends
//! (each reads its driver's rows into these; the checks into domain types are written once
//! here, as in [`super::rows`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::alerting::incident::stored;
use crate::alerting::{
    Cause, ChannelId, Incident, IncidentId, MaintenanceId, MaintenanceWindow, Notification,
    WindowDraft, WindowSpec,
};
use crate::monitor::MonitorId;

/// The columns an incident is read with, in [`IncidentRecord`] order (`i` is `incidents`).
pub(super) const INCIDENT_COLUMNS: &str = "i.id, i.monitor_id, i.kind, i.started_at, \
    i.resolved_at, i.cause_kind, i.cause_message, i.cause_status_code, i.cert_expires_at, i.muted";

/// The columns a notification is read with, in [`NotificationRecord`] order (`e` is
/// `events`, `n` is `notifications`).
pub(super) const NOTIFICATION_COLUMNS: &str =
    "e.incident_id, n.channel_id, e.kind, n.state, n.attempts, n.last_error, n.delivered_at";

/// An `incidents` row.
pub(super) struct IncidentRecord {
    pub id: i64,
    pub monitor_id: i64,
    pub kind: String,
    pub started_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub cause_kind: String,
    pub cause_message: String,
    pub cause_status_code: Option<i64>,
    pub cert_expires_at: Option<DateTime<Utc>>,
    pub muted: bool,
}

/// A `notifications` row with its event's incident and kind.
pub(super) struct NotificationRecord {
    pub incident_id: i64,
    pub channel_id: i64,
    pub event: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The incidents, in the order given, each with its notifications (given oldest first).
pub(super) fn incidents(
    rows: Vec<IncidentRecord>,
    notifications: Vec<NotificationRecord>,
) -> Result<Vec<Incident>, StoreError> {
    let mut by_incident: BTreeMap<i64, Vec<Notification>> = BTreeMap::new();
    for n in notifications {
        let corrupt = |e: String| StoreError::Corrupt(e);
        let incident = n.incident_id;
        by_incident.entry(incident).or_default().push(Notification {
            channel: ChannelId(n.channel_id),
            event: stored(incident, &n.event).map_err(corrupt)?,
            state: stored(incident, &n.state).map_err(corrupt)?,
            attempts: u32::try_from(n.attempts).map_err(|e| {
                corrupt(format!("incident {incident}: attempts {}: {e}", n.attempts))
            })?,
            last_error: n.last_error,
            delivered_at: n.delivered_at,
        });
    }
    rows.into_iter()
        .map(|r| {
            let corrupt = |e: String| StoreError::Corrupt(e);
            let status_code = r
                .cause_status_code
                .map(|code| {
                    u16::try_from(code)
                        .map_err(|e| corrupt(format!("incident {}: status code {code}: {e}", r.id)))
                })
                .transpose()?;
            Ok(Incident {
                id: IncidentId(r.id),
                monitor: MonitorId(r.monitor_id),
                kind: stored(r.id, &r.kind).map_err(corrupt)?,
                started_at: r.started_at,
                resolved_at: r.resolved_at,
                cause: Cause {
                    kind: r.cause_kind,
                    message: r.cause_message,
                    status_code,
                },
                muted: r.muted,
                cert_expires_at: r.cert_expires_at,
                notifications: by_incident.remove(&r.id).unwrap_or_default(),
            })
        })
        .collect()
}

/// A `maintenance_windows` row.
pub(super) struct WindowRecord {
    pub id: i64,
    pub name: String,
    pub monitor_ids: Option<Vec<i64>>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl WindowRecord {
    /// The window, checked again as a client's would be.
    pub(super) fn into_window(self) -> Result<MaintenanceWindow, StoreError> {
        let id = self.id;
        let spec = WindowSpec::parse(WindowDraft {
            name: self.name,
            monitor_ids: self.monitor_ids,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        })
        .map_err(|e| StoreError::Corrupt(format!("maintenance window {id}: {e}")))?;
        Ok(MaintenanceWindow {
            id: MaintenanceId(id),
            spec,
            created_at: self.created_at,
        })
    }
}

/// The monitor ids of `spec` as stored, `None` for all of the owner's.
pub(super) fn window_monitors(spec: &WindowSpec) -> Option<Vec<i64>> {
    spec.monitors()
        .map(|ids| ids.iter().map(|id| id.0).collect())
}
