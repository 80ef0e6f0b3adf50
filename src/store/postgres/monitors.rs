//! SQL for the `monitors` table.

use super::{PostgresStore, settle};
use crate::store::MonitorStore;
use async_trait::async_trait;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::Object;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::changes;
use super::connect::{get, pg};
use super::millis;
use crate::auth::UserId;
use crate::check::LastCheck;
use crate::monitor::{Monitor, MonitorDraft, MonitorId, MonitorSpec, Rules};
use crate::store::StoreError;
use crate::store::values::{duration, status_code};

/// The monitor's own columns, in the order [`read_row`] reads them. No column of
/// `monitor_status` shares a name with these, so they need no table name.
pub(super) const COLUMNS: &str = "id, user_id, name, url, method, interval_seconds, timeout_ms, \
                       expected_status, keyword, follow_redirects, headers, body, paused, \
                       created_at, updated_at, tls_ca_pem, tls_skip_verify";

/// The last check's columns, after [`COLUMNS`], from `monitor_status` joined as `s`.
pub(super) const STATUS: &str = "s.checked_at, s.ok, s.status_code, s.latency_us";

/// A parameter list as the driver takes it.
type Params<'a> = Vec<&'a (dyn ToSql + Sync)>;

/// Reads [`COLUMNS`] then [`STATUS`] into a validated monitor.
pub(super) fn read_row(row: &Row) -> Result<Monitor, StoreError> {
    let id: i64 = get(row, 0)?;
    let corrupt = |e: String| StoreError::Corrupt(format!("monitor {id}: {e}"));
    let unsigned = |value: Option<i32>| {
        value
            .map(u32::try_from)
            .transpose()
            .map_err(|e| corrupt(e.to_string()))
    };
    let headers: serde_json::Value = get(row, 10)?;
    let headers: BTreeMap<String, String> =
        serde_json::from_value(headers).map_err(|e| corrupt(e.to_string()))?;
    let draft = MonitorDraft {
        name: get(row, 2)?,
        url: get(row, 3)?,
        method: get(row, 4)?,
        interval_seconds: unsigned(get(row, 5)?)?,
        timeout_ms: unsigned(get(row, 6)?)?,
        expected_status: get(row, 7)?,
        keyword: get(row, 8)?,
        follow_redirects: get(row, 9)?,
        headers: Some(headers),
        body: get(row, 11)?,
        tls_ca_pem: get(row, 15)?,
        tls_skip_verify: get(row, 16)?,
    };
    let spec = MonitorSpec::parse(draft, &Rules::STORED).map_err(|e| corrupt(e.to_string()))?;
    Ok(Monitor {
        id: MonitorId(id),
        owner: UserId(get(row, 1)?),
        spec,
        paused: get(row, 12)?,
        created_at: get(row, 13)?,
        updated_at: get(row, 14)?,
        last_check: last_check(row, 17)?,
    })
}

/// The four [`STATUS`] columns from `at` on: all null when the monitor was never checked.
fn last_check(row: &Row, at: usize) -> Result<Option<LastCheck>, StoreError> {
    let checked_at: Option<DateTime<Utc>> = get(row, at)?;
    let ok: Option<bool> = get(row, at + 1)?;
    let code: Option<i32> = get(row, at + 2)?;
    let latency_us: Option<i64> = get(row, at + 3)?;
    match (checked_at, ok, latency_us) {
        (None, None, None) => Ok(None),
        (Some(at), Some(ok), Some(latency_us)) => Ok(Some(LastCheck {
            at,
            ok,
            status_code: code.map(|c| status_code(c.into())).transpose()?,
            latency: duration(latency_us)?,
        })),
        _ => Err(StoreError::Corrupt("monitor_status: partial row".into())),
    }
}

/// A spec's column values, bound as `$1`..`$12` by both INSERT and UPDATE.
struct SpecValues<'a> {
    name: &'a str,
    url: &'a str,
    method: &'static str,
    interval_seconds: i32,
    timeout_ms: Option<i32>,
    expected_status: String,
    keyword: Option<&'a str>,
    follow_redirects: bool,
    headers: serde_json::Value,
    body: Option<&'a str>,
    tls_ca_pem: Option<&'a str>,
    tls_skip_verify: bool,
}

impl<'a> SpecValues<'a> {
    fn new(spec: &'a MonitorSpec) -> Result<Self, StoreError> {
        let int = |value: u32| {
            i32::try_from(value).map_err(|_| StoreError::Backend(format!("{value} too large")))
        };
        Ok(Self {
            name: spec.name(),
            url: spec.target().as_str(),
            method: spec.method().as_str(),
            interval_seconds: int(spec.interval_secs())?,
            timeout_ms: spec.explicit_timeout_ms().map(int).transpose()?,
            expected_status: spec.expected_status().to_string(),
            keyword: spec.keyword(),
            follow_redirects: spec.follow_redirects(),
            headers: serde_json::to_value(spec.headers().as_map())
                .map_err(|e| StoreError::Backend(e.to_string()))?,
            body: spec.body(),
            tls_ca_pem: spec.tls_ca_pem(),
            tls_skip_verify: spec.tls_skip_verify(),
        })
    }

    /// The twelve values, then the statement's own parameters from `$13` on.
    fn then<'b>(&'b self, extra: &[&'b (dyn ToSql + Sync)]) -> Params<'b> {
        let mut values: Params<'b> = vec![
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

pub(super) async fn insert(
    client: &mut Object,
    owner: UserId,
    spec: &MonitorSpec,
    limit: u32,
) -> Result<Monitor, StoreError> {
    let values = SpecValues::new(spec)?;
    let tx = client.transaction().await.map_err(pg)?;
    // Taking a place under the limit locks the owner's row until commit, so concurrent
    // creations for one owner take turns and each sees the count the last one left; the
    // counter makes the check O(1) instead of counting the owner's monitors.
    let reserve = tx
        .prepare_cached(
            "UPDATE users SET monitor_count = monitor_count + 1 \
             WHERE id = $1 AND monitor_count < $2",
        )
        .await
        .map_err(pg)?;
    let limit_param = i32::try_from(limit).unwrap_or(i32::MAX);
    if tx
        .execute(&reserve, &[&owner.0, &limit_param])
        .await
        .map_err(pg)?
        == 0
    {
        let exists = tx
            .prepare_cached("SELECT 1 FROM users WHERE id = $1")
            .await
            .map_err(pg)?;
        // A missing account fails on the INSERT's foreign key below, as it always did.
        if tx
            .query_opt(&exists, &[&owner.0])
            .await
            .map_err(pg)?
            .is_some()
        {
            return Err(StoreError::LimitReached { limit });
        }
    }
    let now = millis(Utc::now());
    // Due at once; and never checked, since ids are never reused (no status row to read).
    let sql = format!(
        "INSERT INTO monitors (name, url, method, interval_seconds, timeout_ms, expected_status, \
         keyword, follow_redirects, headers, body, tls_ca_pem, tls_skip_verify, user_id, \
         created_at, updated_at, paused, next_check_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, false, $14) \
         RETURNING {COLUMNS}, NULL::timestamptz, NULL::boolean, NULL::integer, NULL::bigint"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    let row = tx
        .query_one(&stmt, &values.then(&[&owner.0, &now]))
        .await
        .map_err(pg)?;
    let monitor = read_row(&row)?;
    tx.commit().await.map_err(pg)?;
    Ok(monitor)
}

pub(super) async fn list(client: &Object, owner: UserId) -> Result<Vec<Monitor>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, {STATUS} FROM monitors \
         LEFT JOIN monitor_status s ON s.monitor_id = monitors.id \
         WHERE user_id = $1 ORDER BY id"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let rows = client.query(&stmt, &[&owner.0]).await.map_err(pg)?;
    rows.iter().map(read_row).collect()
}

pub(super) async fn get_one(
    client: &Object,
    owner: UserId,
    id: MonitorId,
) -> Result<Option<Monitor>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, {STATUS} FROM monitors \
         LEFT JOIN monitor_status s ON s.monitor_id = monitors.id \
         WHERE id = $1 AND user_id = $2"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let row = client
        .query_opt(&stmt, &[&id.0, &owner.0])
        .await
        .map_err(pg)?;
    row.as_ref().map(read_row).transpose()
}

/// Runs an `UPDATE monitors … RETURNING *` given as `update`, returning the row with its
/// last check: RETURNING cannot join, a query over it can. The change is announced to every
/// instance in the same statement (see [`changes`]); the extra column is not read.
async fn updated(
    client: &Object,
    origin: u64,
    update: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Monitor>, StoreError> {
    let notify = changes::notify_sql("m", origin);
    let sql = format!(
        "WITH m AS ({update} RETURNING *) \
         SELECT {COLUMNS}, {STATUS}, {notify} \
         FROM m LEFT JOIN monitor_status s ON s.monitor_id = m.id"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let row = client.query_opt(&stmt, params).await.map_err(pg)?;
    row.as_ref().map(read_row).transpose()
}

pub(super) async fn update(
    client: &Object,
    origin: u64,
    owner: UserId,
    id: MonitorId,
    spec: &MonitorSpec,
) -> Result<Option<Monitor>, StoreError> {
    let values = SpecValues::new(spec)?;
    let now = millis(Utc::now());
    let update = "UPDATE monitors SET name = $1, url = $2, method = $3, interval_seconds = $4, \
         timeout_ms = $5, expected_status = $6, keyword = $7, follow_redirects = $8, \
         headers = $9, body = $10, tls_ca_pem = $11, tls_skip_verify = $12, updated_at = $13 \
         WHERE id = $14 AND user_id = $15";
    updated(
        client,
        origin,
        update,
        &values.then(&[&now, &id.0, &owner.0]),
    )
    .await
}

pub(super) async fn set_paused(
    client: &Object,
    origin: u64,
    owner: UserId,
    id: MonitorId,
    paused: bool,
) -> Result<Option<Monitor>, StoreError> {
    // Resuming makes the monitor due at once; pausing (or resuming a running monitor)
    // keeps its grid. SET expressions read the row as it was.
    let update = "UPDATE monitors SET paused = $3, updated_at = $4, \
         next_check_at = CASE WHEN paused AND NOT $3 THEN $4 ELSE next_check_at END \
         WHERE id = $1 AND user_id = $2";
    let now = millis(Utc::now());
    updated(client, origin, update, &[&id.0, &owner.0, &paused, &now]).await
}

pub(super) async fn delete(
    client: &mut Object,
    origin: u64,
    owner: UserId,
    id: MonitorId,
) -> Result<bool, StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    // The monitor first: deleting it waits for batches being written for it (they hold it
    // FOR KEY SHARE), so the DELETE of results after it sees their rows too.
    // Announced to every instance when the transaction commits (see [`changes`]).
    let sql = format!(
        "DELETE FROM monitors WHERE id = $1 AND user_id = $2 RETURNING {}",
        changes::notify_sql("monitors", origin)
    );
    let monitor = tx.prepare_cached(&sql).await.map_err(pg)?;
    if tx
        .query(&monitor, &[&id.0, &owner.0])
        .await
        .map_err(pg)?
        .is_empty()
    {
        return Ok(false);
    }
    let count = tx
        .prepare_cached("UPDATE users SET monitor_count = monitor_count - 1 WHERE id = $1")
        .await
        .map_err(pg)?;
    tx.execute(&count, &[&owner.0]).await.map_err(pg)?;
    // Results have no foreign key to cascade along (see the migration).
    let results = tx
        .prepare_cached("DELETE FROM results WHERE monitor_id = $1")
        .await
        .map_err(pg)?;
    tx.execute(&results, &[&id.0]).await.map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    Ok(true)
}

#[async_trait]
impl MonitorStore for PostgresStore {
    async fn create_monitor(
        &self,
        owner: UserId,
        spec: &MonitorSpec,
        limit: u32,
    ) -> Result<Monitor, StoreError> {
        let mut client = self.client().await?;
        let result = insert(&mut client, owner, spec, limit).await;
        settle(client, result)
    }

    async fn list_monitors(&self, owner: UserId) -> Result<Vec<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = list(&client, owner).await;
        settle(client, result)
    }

    async fn get_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
    ) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = get_one(&client, owner, id).await;
        settle(client, result)
    }

    async fn update_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
        spec: &MonitorSpec,
    ) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = update(&client, self.origin, owner, id, spec).await;
        settle(client, result)
    }

    async fn set_paused(
        &self,
        owner: UserId,
        id: MonitorId,
        paused: bool,
    ) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = set_paused(&client, self.origin, owner, id, paused).await;
        settle(client, result)
    }

    async fn delete_monitor(&self, owner: UserId, id: MonitorId) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let result = delete(&mut client, self.origin, owner, id).await;
        settle(client, result)
    }
}
