//! Incidents: the list with notifications, reminders and the outbox backlog.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;

use super::connect::{bigint, get, pg};
use super::{PostgresStore, settle};
use crate::alerting::{Incident, IncidentFilter, IncidentId, IncidentState};
use crate::auth::UserId;
use crate::monitor::MonitorId;
use crate::store::incident_rows::{
    INCIDENT_COLUMNS, IncidentRecord, NOTIFICATION_COLUMNS, NotificationRecord, incidents,
};
use crate::store::{IncidentStore, Reminder, StoreError};

/// Open, unmuted `down`/`degraded` incidents of unpaused monitors with a reminder interval
/// and channels, last notified an interval or more before `$1`, outside any maintenance
/// window then; oldest first. The partial index on open incidents keeps it small.
const DUE_REMINDERS: &str = "\
    SELECT i.id, i.monitor_id, m.user_id, m.channel_ids, i.notified_at \
    FROM incidents i JOIN monitors m ON m.id = i.monitor_id \
    WHERE i.resolved_at IS NULL AND NOT i.muted AND i.kind IN ('down', 'degraded') \
      AND m.reminder_interval_seconds IS NOT NULL AND NOT m.paused \
      AND cardinality(m.channel_ids) > 0 \
      AND coalesce(i.notified_at, i.started_at) \
          + make_interval(secs => m.reminder_interval_seconds) <= $1 \
      AND NOT EXISTS (SELECT 1 FROM maintenance_windows w \
                      WHERE w.user_id = m.user_id AND w.ends_at > $1 AND w.starts_at <= $1 \
                        AND (w.monitor_ids IS NULL OR m.id = ANY (w.monitor_ids))) \
    ORDER BY i.id LIMIT $2";

/// One reminder, once: the conditional update of `notified_at` finds the row only if no
/// other instance moved it since it was read (a concurrent one waits for the row lock, then
/// sees the new value and matches nothing), and the event and its notifications are
/// inserted only for a row it moved, all in one statement and so one transaction.
const REMIND: &str = "\
    WITH moved AS (UPDATE incidents SET notified_at = $2 \
                   WHERE id = $1 AND resolved_at IS NULL \
                     AND notified_at IS NOT DISTINCT FROM $3 \
                   RETURNING id), \
         e AS (INSERT INTO events (incident_id, kind, at) \
               SELECT id, 'reminder', $2 FROM moved RETURNING id), \
         n AS (INSERT INTO notifications (event_id, channel_id, next_attempt_at, created_at) \
               SELECT e.id, c.id, now(), now() FROM e, channels c \
               WHERE c.user_id = $4 AND c.id = ANY ($5) RETURNING 1) \
    SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM n)";

async fn list(
    client: &mut deadpool_postgres::Object,
    owner: UserId,
    filter: &IncidentFilter,
) -> Result<Vec<Incident>, StoreError> {
    // One snapshot, so an incident and its notifications are seen as of one moment.
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg)?;
    let before = filter.before.map_or(i64::MAX, |id| id.0);
    let monitor = filter.monitor.map(|m| m.0);
    let limit = bigint(filter.limit);
    let mut sql = format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents i JOIN monitors m ON m.id = i.monitor_id \
         WHERE m.user_id = $1 AND i.id < $2"
    );
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&owner.0, &before];
    if let Some(monitor) = &monitor {
        params.push(monitor);
        sql.push_str(&format!(" AND i.monitor_id = ${}", params.len()));
    }
    match filter.state {
        Some(IncidentState::Open) => sql.push_str(" AND i.resolved_at IS NULL"),
        Some(IncidentState::Resolved) => sql.push_str(" AND i.resolved_at IS NOT NULL"),
        None => {}
    }
    params.push(&limit);
    sql.push_str(&format!(" ORDER BY i.id DESC LIMIT ${}", params.len()));
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    let rows = tx.query(&stmt, &params).await.map_err(pg)?;
    let records = rows
        .iter()
        .map(|row| {
            Ok(IncidentRecord {
                id: get(row, 0)?,
                monitor_id: get(row, 1)?,
                kind: get(row, 2)?,
                started_at: get(row, 3)?,
                resolved_at: get(row, 4)?,
                cause_kind: get(row, 5)?,
                cause_message: get(row, 6)?,
                cause_status_code: get::<Option<i32>>(row, 7)?.map(i64::from),
                cert_expires_at: get(row, 8)?,
                muted: get(row, 9)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
    let sql = format!(
        "SELECT {NOTIFICATION_COLUMNS} FROM events e JOIN notifications n ON n.event_id = e.id \
         WHERE e.incident_id = ANY ($1) ORDER BY e.id, n.id"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    let rows = tx.query(&stmt, &[&ids]).await.map_err(pg)?;
    let notifications = rows
        .iter()
        .map(|row| {
            Ok(NotificationRecord {
                incident_id: get(row, 0)?,
                channel_id: get(row, 1)?,
                event: get(row, 2)?,
                state: get(row, 3)?,
                attempts: i64::from(get::<i32>(row, 4)?),
                last_error: get(row, 5)?,
                delivered_at: get(row, 6)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    tx.commit().await.map_err(pg)?;
    incidents(records, notifications)
}

async fn remind(
    client: &mut deadpool_postgres::Object,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Reminder>, StoreError> {
    let now = super::millis(now);
    let stmt = client.prepare_cached(DUE_REMINDERS).await.map_err(pg)?;
    let due = client
        .query(&stmt, &[&now, &bigint(limit)])
        .await
        .map_err(pg)?;
    let remind = client.prepare_cached(REMIND).await.map_err(pg)?;
    let mut reminders = Vec::new();
    for row in &due {
        let incident: i64 = get(row, 0)?;
        let owner: i64 = get(row, 2)?;
        let channels: Vec<i64> = get(row, 3)?;
        let notified_at: Option<DateTime<Utc>> = get(row, 4)?;
        let done = client
            .query_one(&remind, &[&incident, &now, &notified_at, &owner, &channels])
            .await
            .map_err(pg)?;
        if get::<i64>(&done, 0)? != 1 {
            continue;
        }
        reminders.push(Reminder {
            incident: IncidentId(incident),
            monitor: MonitorId(get(row, 1)?),
            owner: UserId(owner),
            notifications: u32::try_from(get::<i64>(&done, 1)?).unwrap_or(u32::MAX),
        });
    }
    Ok(reminders)
}

#[async_trait]
impl IncidentStore for PostgresStore {
    async fn list_incidents(
        &self,
        owner: UserId,
        filter: &IncidentFilter,
    ) -> Result<Vec<Incident>, StoreError> {
        let mut client = self.client().await?;
        let result = list(&mut client, owner, filter).await;
        settle(client, result)
    }

    async fn queue_reminders(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Reminder>, StoreError> {
        let mut client = self.client().await?;
        let result = remind(&mut client, now, limit).await;
        settle(client, result)
    }

    async fn outbox_backlog(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let result = async {
            let stmt = client
                .prepare_cached("SELECT count(*) FROM notifications WHERE state = 'pending'")
                .await
                .map_err(pg)?;
            let row = client.query_one(&stmt, &[]).await.map_err(pg)?;
            Ok(u64::try_from(get::<i64>(&row, 0)?).unwrap_or_default())
        }
        .await;
        settle(client, result)
    }
}
