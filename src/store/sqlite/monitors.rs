//! SQL for the `monitors` table.

use super::SqliteStore;
use crate::store::MonitorStore;
use async_trait::async_trait;

use std::collections::BTreeMap;

use chrono::Utc;
use rusqlite::types::ToSql;
use rusqlite::{Connection, Row, Transaction, params, params_from_iter};

use super::{backend, optional, query_row};
use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorDraft, MonitorId, MonitorSpec};
use crate::store::rows::{MonitorRecord, SpecValues, StatusRecord};
use crate::store::{StoreError, from_millis, to_millis};

/// The monitor's own columns, in the order [`read_row`] reads them.
pub(super) const COLUMNS: &str = "id, user_id, name, url, method, interval_seconds, timeout_ms, \
    expected_status, keyword, follow_redirects, headers, body, failure_threshold, \
    success_threshold, latency_threshold_ms, channel_ids, reminder_interval_seconds, \
    cert_expiry_days, paused, created_at, updated_at, conditions, tls_ca_pem, tls_skip_verify";

/// The status columns for a SELECT from [`FROM_JOINED`], after [`COLUMNS`].
pub(super) const STATUS_JOINED: &str = "monitor_status.checked_at, monitor_status.ok, \
    monitor_status.status_code, monitor_status.latency_us, monitor_status.error_kind, \
    monitor_status.error_message, monitor_status.state";

/// Monitors with their status; no column name is shared, so [`COLUMNS`] stays unqualified.
pub(super) const FROM_JOINED: &str =
    "monitors LEFT JOIN monitor_status ON monitor_status.monitor_id = monitors.id";

/// The status columns for a RETURNING clause, which cannot join but may run subqueries.
pub(super) const STATUS_RETURNED: &str = "\
    (SELECT checked_at FROM monitor_status WHERE monitor_id = monitors.id), \
    (SELECT ok FROM monitor_status WHERE monitor_id = monitors.id), \
    (SELECT status_code FROM monitor_status WHERE monitor_id = monitors.id), \
    (SELECT latency_us FROM monitor_status WHERE monitor_id = monitors.id), \
    (SELECT error_kind FROM monitor_status WHERE monitor_id = monitors.id), \
    (SELECT error_message FROM monitor_status WHERE monitor_id = monitors.id), \
    (SELECT state FROM monitor_status WHERE monitor_id = monitors.id)";

/// A row as SQLite keeps it: JSON text and millisecond integers, turned into a
/// [`MonitorRecord`] by [`MonitorRow::into_monitor`].
pub(super) struct MonitorRow {
    record: MonitorRecord,
    headers: String,
    channel_ids: String,
    conditions: String,
    times: [i64; 2],
    checked_at: Option<i64>,
}

/// Reads [`COLUMNS`] then the seven status columns.
pub(super) fn read_row(row: &Row<'_>) -> rusqlite::Result<MonitorRow> {
    Ok(MonitorRow {
        record: MonitorRecord {
            id: row.get(0)?,
            owner: row.get(1)?,
            draft: MonitorDraft {
                name: row.get(2)?,
                url: row.get(3)?,
                method: row.get(4)?,
                interval_seconds: row.get(5)?,
                timeout_ms: row.get(6)?,
                expected_status: row.get(7)?,
                keyword: row.get(8)?,
                follow_redirects: row.get(9)?,
                headers: None,
                body: row.get(11)?,
                failure_threshold: row.get(12)?,
                success_threshold: row.get(13)?,
                latency_threshold_ms: row.get(14)?,
                channel_ids: None,
                reminder_interval_seconds: row.get(16)?,
                cert_expiry_days: row.get(17)?,
                conditions: None,
                tls_ca_pem: row.get(22)?,
                tls_skip_verify: row.get(23)?,
            },
            paused: row.get(18)?,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
            status: StatusRecord {
                checked_at: None,
                ok: row.get(25)?,
                status_code: row.get(26)?,
                latency_us: row.get(27)?,
                error_kind: row.get(28)?,
                error_message: row.get(29)?,
                state: row.get(30)?,
            },
        },
        headers: row.get(10)?,
        channel_ids: row.get(15)?,
        conditions: row.get(21)?,
        times: [row.get(19)?, row.get(20)?],
        checked_at: row.get(24)?,
    })
}

impl MonitorRow {
    /// The validated monitor.
    pub(super) fn into_monitor(self) -> Result<Monitor, StoreError> {
        let mut record = self.record;
        let corrupt = |e: String| StoreError::Corrupt(format!("monitor {}: {e}", record.id));
        let headers: BTreeMap<String, String> =
            serde_json::from_str(&self.headers).map_err(|e| corrupt(e.to_string()))?;
        let channel_ids: Vec<i64> =
            serde_json::from_str(&self.channel_ids).map_err(|e| corrupt(e.to_string()))?;
        record.draft.headers = Some(headers);
        record.draft.channel_ids = Some(channel_ids);
        let conditions: Vec<String> =
            serde_json::from_str(&self.conditions).map_err(|e| corrupt(e.to_string()))?;
        record.draft.conditions = Some(conditions);
        record.created_at = from_millis(self.times[0])?;
        record.updated_at = from_millis(self.times[1])?;
        record.status.checked_at = self.checked_at.map(from_millis).transpose()?;
        record.into_monitor()
    }
}

/// A spec's values as SQLite binds them (`?1`..`?19`), by both INSERT and UPDATE.
struct Bound<'a> {
    values: SpecValues<'a>,
    headers: String,
    channel_ids: String,
    conditions: String,
}

impl<'a> Bound<'a> {
    fn new(spec: &'a MonitorSpec) -> Result<Self, StoreError> {
        let values = SpecValues::new(spec);
        let json = |e: serde_json::Error| StoreError::Backend(e.to_string());
        Ok(Self {
            headers: serde_json::to_string(values.headers).map_err(json)?,
            channel_ids: serde_json::to_string(&values.channel_ids).map_err(json)?,
            conditions: serde_json::to_string(&values.conditions).map_err(json)?,
            values,
        })
    }

    /// The nineteen values, then the statement's own parameters from `?20` on.
    fn then<'b>(&'b self, extra: &[&'b dyn ToSql]) -> Vec<&'b dyn ToSql> {
        let v = &self.values;
        let mut values: Vec<&dyn ToSql> = vec![
            &v.name,
            &v.url,
            &v.method,
            &v.interval_seconds,
            &v.timeout_ms,
            &v.expected_status,
            &v.keyword,
            &v.follow_redirects,
            &self.headers,
            &v.body,
            &v.failure_threshold,
            &v.success_threshold,
            &v.latency_threshold_ms,
            &self.channel_ids,
            &v.reminder_interval_seconds,
            &v.cert_expiry_days,
            &self.conditions,
            &v.tls_ca_pem,
            &v.tls_skip_verify,
        ];
        values.extend_from_slice(extra);
        values
    }
}

/// The spec's columns, as `?1`..`?19` bind them.
const SPEC_COLUMNS: &str = "name, url, method, interval_seconds, timeout_ms, expected_status, \
    keyword, follow_redirects, headers, body, failure_threshold, success_threshold, \
    latency_threshold_ms, channel_ids, reminder_interval_seconds, cert_expiry_days, conditions, \
    tls_ca_pem, tls_skip_verify";

pub(super) fn insert(
    tx: &Transaction<'_>,
    owner: UserId,
    spec: &MonitorSpec,
    limit: u32,
) -> Result<Monitor, StoreError> {
    // Reserve a place under the limit and insert in one write transaction, so concurrent
    // creations cannot pass the limit; the counter makes the check O(1).
    let reserved = tx
        .prepare_cached(
            "UPDATE users SET monitor_count = monitor_count + 1 \
             WHERE id = ?1 AND monitor_count < ?2",
        )
        .and_then(|mut stmt| stmt.execute((owner.0, limit)))
        .map_err(backend)?;
    // No row changed: the account is full, or gone (then the INSERT fails on its foreign
    // key, as it always did).
    if reserved == 0 && account_exists(tx, owner)? {
        return Err(StoreError::LimitReached { limit });
    }
    let now = to_millis(Utc::now());
    // Due at once, and `pending` until its thresholds decide.
    let sql = format!(
        "INSERT INTO monitors ({SPEC_COLUMNS}, user_id, created_at, updated_at, paused, \
         next_check_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, \
         ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?21, 0, ?21) \
         RETURNING {COLUMNS}, NULL, NULL, NULL, NULL, NULL, NULL, 'pending'"
    );
    let bound = Bound::new(spec)?;
    let row = tx
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_row(params_from_iter(bound.then(&[&owner.0, &now])), read_row)
        })
        .map_err(backend)?;
    let monitor = row.into_monitor()?;
    tx.prepare_cached("INSERT INTO monitor_status (monitor_id) VALUES (?1)")
        .and_then(|mut stmt| stmt.execute([monitor.id.0]))
        .map_err(backend)?;
    Ok(monitor)
}

fn account_exists(tx: &Transaction<'_>, owner: UserId) -> Result<bool, StoreError> {
    let found = optional(query_row(
        tx,
        "SELECT 1 FROM users WHERE id = ?1",
        [owner.0],
        |_| Ok(()),
    ))?;
    Ok(found.is_some())
}

/// Deletes `owner`'s monitor `id`, keeping the account's count; whether there was one.
pub(super) fn delete(
    tx: &Transaction<'_>,
    owner: UserId,
    id: MonitorId,
) -> Result<bool, StoreError> {
    let deleted = tx
        .prepare_cached("DELETE FROM monitors WHERE id = ?1 AND user_id = ?2")
        .and_then(|mut stmt| stmt.execute((id.0, owner.0)))
        .map_err(backend)?;
    if deleted > 0 {
        tx.prepare_cached("UPDATE users SET monitor_count = monitor_count - 1 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute([owner.0]))
            .map_err(backend)?;
        super::status_pages::forget_monitor(tx, owner, id)?;
    }
    Ok(deleted > 0)
}

pub(super) fn list(conn: &Connection, owner: UserId) -> Result<Vec<Monitor>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, {STATUS_JOINED} FROM {FROM_JOINED} WHERE user_id = ?1 ORDER BY id"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt.query_map([owner.0], read_row).map_err(backend)?;
    rows.map(|row| row.map_err(backend)?.into_monitor())
        .collect()
}

pub(super) fn get(
    conn: &Connection,
    owner: UserId,
    id: MonitorId,
) -> Result<Option<Monitor>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, {STATUS_JOINED} FROM {FROM_JOINED} WHERE id = ?1 AND user_id = ?2"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    optional(stmt.query_row((id.0, owner.0), read_row))?
        .map(MonitorRow::into_monitor)
        .transpose()
}

pub(super) fn update(
    tx: &Transaction<'_>,
    owner: UserId,
    id: MonitorId,
    spec: &MonitorSpec,
) -> Result<Option<Monitor>, StoreError> {
    let sql = format!(
        "UPDATE monitors SET ({SPEC_COLUMNS}, updated_at) = \
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
         ?19, ?20) WHERE id = ?21 AND user_id = ?22 RETURNING {COLUMNS}, {STATUS_RETURNED}"
    );
    let bound = Bound::new(spec)?;
    let now = to_millis(Utc::now());
    let extra: [&dyn ToSql; 3] = [&now, &id.0, &owner.0];
    let row = optional(query_row(
        tx,
        &sql,
        params_from_iter(bound.then(&extra)),
        read_row,
    ))?;
    row.map(MonitorRow::into_monitor).transpose()
}

pub(super) fn set_paused(
    tx: &Transaction<'_>,
    owner: UserId,
    id: MonitorId,
    paused: bool,
) -> Result<Option<Monitor>, StoreError> {
    // Resuming makes the monitor due at once; pausing (or resuming a running monitor)
    // keeps its grid.
    let sql = format!(
        "UPDATE monitors SET paused = ?3, updated_at = ?4, \
         next_check_at = CASE WHEN paused = 1 AND ?3 = 0 THEN ?4 ELSE next_check_at END \
         WHERE id = ?1 AND user_id = ?2 RETURNING {COLUMNS}, {STATUS_RETURNED}"
    );
    let row = optional(query_row(
        tx,
        &sql,
        params![id.0, owner.0, paused, to_millis(Utc::now())],
        read_row,
    ))?;
    row.map(MonitorRow::into_monitor).transpose()
}

#[async_trait]
impl MonitorStore for SqliteStore {
    async fn create_monitor(
        &self,
        owner: UserId,
        spec: &MonitorSpec,
        limit: u32,
    ) -> Result<Monitor, StoreError> {
        let spec = spec.clone();
        self.write(move |tx| insert(tx, owner, &spec, limit)).await
    }

    async fn list_monitors(&self, owner: UserId) -> Result<Vec<Monitor>, StoreError> {
        self.run(move |conn| list(conn, owner)).await
    }

    async fn get_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
    ) -> Result<Option<Monitor>, StoreError> {
        self.run(move |conn| get(conn, owner, id)).await
    }

    async fn update_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
        spec: &MonitorSpec,
    ) -> Result<Option<Monitor>, StoreError> {
        let spec = spec.clone();
        self.write(move |tx| update(tx, owner, id, &spec)).await
    }

    async fn set_paused(
        &self,
        owner: UserId,
        id: MonitorId,
        paused: bool,
    ) -> Result<Option<Monitor>, StoreError> {
        self.write(move |tx| set_paused(tx, owner, id, paused))
            .await
    }

    async fn delete_monitor(&self, owner: UserId, id: MonitorId) -> Result<bool, StoreError> {
        self.write(move |tx| delete(tx, owner, id)).await
    }
}
