//! Incidents: the list with notifications, reminders and the outbox backlog.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::ToSql;
use rusqlite::{Connection, Row, Transaction};

use super::{SqliteStore, backend, query_row};
use crate::alerting::{EventKind, Incident, IncidentFilter, IncidentId, IncidentState};
use crate::auth::UserId;
use crate::monitor::MonitorId;
use crate::store::incident_rows::{
    INCIDENT_COLUMNS, IncidentRecord, NOTIFICATION_COLUMNS, NotificationRecord, incidents,
};
use crate::store::{IncidentStore, Reminder, StoreError, from_millis, to_millis};

/// Open, unmuted `down`/`degraded` incidents of unpaused monitors with a reminder interval
/// and channels, last notified an interval or more before `?1`, outside any maintenance
/// window then; oldest first. The partial index on open incidents keeps it small.
const DUE_REMINDERS: &str = "\
    SELECT i.id, i.monitor_id, m.user_id, m.channel_ids, i.notified_at \
    FROM incidents i JOIN monitors m ON m.id = i.monitor_id \
    WHERE i.resolved_at IS NULL AND i.muted = 0 AND i.kind IN ('down', 'degraded') \
      AND m.reminder_interval_seconds IS NOT NULL AND m.paused = 0 \
      AND m.channel_ids <> '[]' \
      AND coalesce(i.notified_at, i.started_at) + m.reminder_interval_seconds * 1000 <= ?1 \
      AND NOT EXISTS (SELECT 1 FROM maintenance_windows w \
                      WHERE w.user_id = m.user_id AND w.ends_at > ?1 AND w.starts_at <= ?1 \
                        AND (w.monitor_ids IS NULL OR EXISTS ( \
                             SELECT 1 FROM json_each(w.monitor_ids) WHERE value = m.id))) \
    ORDER BY i.id LIMIT ?2";

fn time(ms: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    ms.map(from_millis).transpose()
}

/// An incident row as SQLite keeps it (times in milliseconds).
fn read_incident(row: &Row<'_>) -> rusqlite::Result<(IncidentRecord, [Option<i64>; 4])> {
    Ok((
        IncidentRecord {
            id: row.get(0)?,
            monitor_id: row.get(1)?,
            kind: row.get(2)?,
            started_at: DateTime::UNIX_EPOCH,
            resolved_at: None,
            cause_kind: row.get(5)?,
            cause_message: row.get(6)?,
            cause_status_code: row.get(7)?,
            cert_expires_at: None,
            muted: row.get(9)?,
        },
        [Some(row.get(3)?), row.get(4)?, row.get(8)?, None],
    ))
}

fn list(
    conn: &mut Connection,
    owner: UserId,
    filter: IncidentFilter,
) -> Result<Vec<Incident>, StoreError> {
    // One snapshot, so an incident and its notifications are seen as of one moment.
    let tx = conn.transaction().map_err(backend)?;
    let mut sql = format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents i JOIN monitors m ON m.id = i.monitor_id \
         WHERE m.user_id = ?1 AND i.id < ?2"
    );
    let before = filter.before.map_or(i64::MAX, |id| id.0);
    let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(owner.0), Box::new(before)];
    if let Some(monitor) = filter.monitor {
        params.push(Box::new(monitor.0));
        sql.push_str(&format!(" AND i.monitor_id = ?{}", params.len()));
    }
    match filter.state {
        Some(IncidentState::Open) => sql.push_str(" AND i.resolved_at IS NULL"),
        Some(IncidentState::Resolved) => sql.push_str(" AND i.resolved_at IS NOT NULL"),
        None => {}
    }
    params.push(Box::new(filter.limit));
    sql.push_str(&format!(" ORDER BY i.id DESC LIMIT ?{}", params.len()));
    let mut stmt = tx.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), read_incident)
        .map_err(backend)?;
    let mut records = Vec::new();
    for row in rows {
        let (mut record, [started, resolved, cert, _]) = row.map_err(backend)?;
        record.started_at = from_millis(started.unwrap_or_default())?;
        record.resolved_at = time(resolved)?;
        record.cert_expires_at = time(cert)?;
        records.push(record);
    }
    drop(stmt);
    let ids = serde_json::to_string(&records.iter().map(|r| r.id).collect::<Vec<_>>())
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let sql = format!(
        "SELECT {NOTIFICATION_COLUMNS} FROM events e JOIN notifications n ON n.event_id = e.id \
         WHERE e.incident_id IN (SELECT value FROM json_each(?1)) ORDER BY e.id, n.id"
    );
    let mut stmt = tx.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt
        .query_map([ids], |row| {
            Ok((
                NotificationRecord {
                    incident_id: row.get(0)?,
                    channel_id: row.get(1)?,
                    event: row.get(2)?,
                    state: row.get(3)?,
                    attempts: row.get(4)?,
                    last_error: row.get(5)?,
                    delivered_at: None,
                },
                row.get::<_, Option<i64>>(6)?,
            ))
        })
        .map_err(backend)?;
    let mut notifications = Vec::new();
    for row in rows {
        let (mut record, delivered) = row.map_err(backend)?;
        record.delivered_at = time(delivered)?;
        notifications.push(record);
    }
    incidents(records, notifications)
}

/// Queues the `event` about `incident` for each of `owner`'s channels among `channels` (a
/// JSON array); returns how many notifications it queued.
pub(super) fn queue_event(
    tx: &Transaction<'_>,
    incident: IncidentId,
    event: EventKind,
    at: DateTime<Utc>,
    owner: UserId,
    channels: &str,
) -> Result<u32, StoreError> {
    let now = to_millis(Utc::now());
    let event_id: i64 = tx
        .prepare_cached(
            "INSERT INTO events (incident_id, kind, at) VALUES (?1, ?2, ?3) RETURNING id",
        )
        .and_then(|mut stmt| {
            stmt.query_row((incident.0, event.as_str(), to_millis(at)), |row| {
                row.get(0)
            })
        })
        .map_err(backend)?;
    let queued = tx
        .prepare_cached(
            "INSERT INTO notifications (event_id, channel_id, next_attempt_at, created_at) \
             SELECT ?1, id, ?4, ?4 FROM channels \
             WHERE user_id = ?2 AND id IN (SELECT value FROM json_each(?3))",
        )
        .and_then(|mut stmt| stmt.execute((event_id, owner.0, channels, now)))
        .map_err(backend)?;
    Ok(u32::try_from(queued).unwrap_or(u32::MAX))
}

fn remind(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Reminder>, StoreError> {
    let at = to_millis(now);
    let due = tx
        .prepare_cached(DUE_REMINDERS)
        .and_then(|mut stmt| {
            stmt.query_map((at, limit), |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(backend)?;
    let mut reminders = Vec::new();
    for (incident, monitor, owner, channels, notified_at) in due {
        // The write transaction already excludes other writers; the condition is what makes
        // the reminder once-only should two runs ever see the same due incident.
        let moved = tx
            .prepare_cached(
                "UPDATE incidents SET notified_at = ?2 \
                 WHERE id = ?1 AND resolved_at IS NULL AND notified_at IS ?3",
            )
            .and_then(|mut stmt| stmt.execute((incident, at, notified_at)))
            .map_err(backend)?;
        if moved != 1 {
            continue;
        }
        let (incident, owner) = (IncidentId(incident), UserId(owner));
        let notifications = queue_event(tx, incident, EventKind::Reminder, now, owner, &channels)?;
        reminders.push(Reminder {
            incident,
            monitor: MonitorId(monitor),
            owner,
            notifications,
        });
    }
    Ok(reminders)
}

#[async_trait]
impl IncidentStore for SqliteStore {
    async fn list_incidents(
        &self,
        owner: UserId,
        filter: &IncidentFilter,
    ) -> Result<Vec<Incident>, StoreError> {
        let filter = *filter;
        self.run(move |conn| list(conn, owner, filter)).await
    }

    async fn queue_reminders(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Reminder>, StoreError> {
        self.write(move |tx| remind(tx, now, limit)).await
    }

    async fn outbox_backlog(&self) -> Result<u64, StoreError> {
        self.run(|conn| {
            query_row(
                conn,
                "SELECT count(*) FROM notifications WHERE state = 'pending'",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map_err(backend)
            .map(|n| u64::try_from(n).unwrap_or_default())
        })
        .await
    }
}
