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
use crate::check::LastCheck;
use crate::monitor::{Monitor, MonitorDraft, MonitorId, MonitorSpec, Rules};
use crate::store::values::{duration, status_code};
use crate::store::{StoreError, from_millis, to_millis};

/// The monitor's own columns, in the order [`read_row`] reads them.
pub(super) const COLUMNS: &str = "id, user_id, name, url, method, interval_seconds, timeout_ms, \
                       expected_status, keyword, follow_redirects, headers, body, paused, \
                       created_at, updated_at, tls_ca_pem, tls_skip_verify";

/// The last check's columns for a SELECT from [`FROM_JOINED`], after [`COLUMNS`].
const STATUS_JOINED: &str = "monitor_status.checked_at, monitor_status.ok, \
                             monitor_status.status_code, monitor_status.latency_us";

/// Monitors with their last check; no column name is shared, so [`COLUMNS`] stays unqualified.
const FROM_JOINED: &str =
    "monitors LEFT JOIN monitor_status ON monitor_status.monitor_id = monitors.id";

/// The last check's columns for a RETURNING clause, which cannot join but may run subqueries.
pub(super) const STATUS_RETURNED: &str = "\
    (SELECT checked_at FROM monitor_status WHERE monitor_id = monitors.id), \
    (SELECT ok FROM monitor_status WHERE monitor_id = monitors.id), \
    (SELECT status_code FROM monitor_status WHERE monitor_id = monitors.id), \
    (SELECT latency_us FROM monitor_status WHERE monitor_id = monitors.id)";

/// The last check as stored: all four columns are null when the monitor was never checked.
struct StatusRow {
    checked_at: Option<i64>,
    ok: Option<bool>,
    status_code: Option<i64>,
    latency_us: Option<i64>,
}

/// The row as stored, before it is turned back into a validated [`Monitor`].
pub(super) struct MonitorRow {
    id: i64,
    owner: i64,
    draft: MonitorDraft,
    headers: String,
    paused: bool,
    created_at: i64,
    updated_at: i64,
    status: StatusRow,
}

/// Reads [`COLUMNS`] then the four last-check columns.
pub(super) fn read_row(row: &Row<'_>) -> rusqlite::Result<MonitorRow> {
    Ok(MonitorRow {
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
            tls_ca_pem: row.get(15)?,
            tls_skip_verify: row.get(16)?,
        },
        headers: row.get(10)?,
        paused: row.get(12)?,
        created_at: row.get(13)?,
        updated_at: row.get(14)?,
        status: StatusRow {
            checked_at: row.get(17)?,
            ok: row.get(18)?,
            status_code: row.get(19)?,
            latency_us: row.get(20)?,
        },
    })
}

impl StatusRow {
    fn into_last_check(self) -> Result<Option<LastCheck>, StoreError> {
        match (self.checked_at, self.ok, self.latency_us) {
            (None, None, None) => Ok(None),
            (Some(at), Some(ok), Some(latency_us)) => Ok(Some(LastCheck {
                at: from_millis(at)?,
                ok,
                status_code: self.status_code.map(status_code).transpose()?,
                latency: duration(latency_us)?,
            })),
            _ => Err(StoreError::Corrupt("monitor_status: partial row".into())),
        }
    }
}

impl MonitorRow {
    /// The validated monitor.
    pub(super) fn into_monitor(mut self) -> Result<Monitor, StoreError> {
        let corrupt = |e: String| StoreError::Corrupt(format!("monitor {}: {e}", self.id));
        let headers: BTreeMap<String, String> =
            serde_json::from_str(&self.headers).map_err(|e| corrupt(e.to_string()))?;
        self.draft.headers = Some(headers);
        let spec =
            MonitorSpec::parse(self.draft, &Rules::STORED).map_err(|e| corrupt(e.to_string()))?;
        Ok(Monitor {
            id: MonitorId(self.id),
            owner: UserId(self.owner),
            spec,
            paused: self.paused,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
            last_check: self.status.into_last_check()?,
        })
    }
}

/// A spec's column values, bound as `?1`..`?12` by both INSERT and UPDATE.
struct SpecValues<'a> {
    name: &'a str,
    url: &'a str,
    method: &'static str,
    interval_seconds: u32,
    timeout_ms: Option<u32>,
    expected_status: String,
    keyword: Option<&'a str>,
    follow_redirects: bool,
    headers: String,
    body: Option<&'a str>,
    tls_ca_pem: Option<&'a str>,
    tls_skip_verify: bool,
}

impl<'a> SpecValues<'a> {
    fn new(spec: &'a MonitorSpec) -> Result<Self, StoreError> {
        Ok(Self {
            name: spec.name(),
            url: spec.target().as_str(),
            method: spec.method().as_str(),
            interval_seconds: spec.interval_secs(),
            timeout_ms: spec.explicit_timeout_ms(),
            expected_status: spec.expected_status().to_string(),
            keyword: spec.keyword(),
            follow_redirects: spec.follow_redirects(),
            headers: serde_json::to_string(spec.headers().as_map())
                .map_err(|e| StoreError::Backend(e.to_string()))?,
            body: spec.body(),
            tls_ca_pem: spec.tls_ca_pem(),
            tls_skip_verify: spec.tls_skip_verify(),
        })
    }

    /// The twelve values, then the statement's own parameters from `?13` on.
    fn then<'b>(&'b self, extra: &[&'b dyn ToSql]) -> Vec<&'b dyn ToSql> {
        let mut values: Vec<&dyn ToSql> = vec![
            &self.name,
            &self.url,
            &self.method,
            &self.interval_seconds,
            &self.timeout_ms,
            &self.expected_status,
            &self.keyword,
            &self.follow_redirects,
            &self.headers,
            &self.body,
            &self.tls_ca_pem,
            &self.tls_skip_verify,
        ];
        values.extend_from_slice(extra);
        values
    }
}

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
    // Due at once; and never checked, since ids are never reused (no status row to read).
    let sql = format!(
        "INSERT INTO monitors (name, url, method, interval_seconds, timeout_ms, expected_status, \
         keyword, follow_redirects, headers, body, tls_ca_pem, tls_skip_verify, user_id, \
         created_at, updated_at, paused, next_check_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, 0, ?14) \
         RETURNING {COLUMNS}, NULL, NULL, NULL, NULL"
    );
    let values = SpecValues::new(spec)?;
    let row = tx
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_row(params_from_iter(values.then(&[&owner.0, &now])), read_row)
        })
        .map_err(backend)?;
    row.into_monitor()
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
        "UPDATE monitors SET name = ?1, url = ?2, method = ?3, interval_seconds = ?4, timeout_ms = ?5, \
         expected_status = ?6, keyword = ?7, follow_redirects = ?8, headers = ?9, body = ?10, \
         tls_ca_pem = ?11, tls_skip_verify = ?12, updated_at = ?13 WHERE id = ?14 AND user_id = ?15 \
         RETURNING {COLUMNS}, {STATUS_RETURNED}"
    );
    let values = SpecValues::new(spec)?;
    let now = to_millis(Utc::now());
    let extra: [&dyn ToSql; 3] = [&now, &id.0, &owner.0];
    let row = optional(query_row(
        tx,
        &sql,
        params_from_iter(values.then(&extra)),
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
