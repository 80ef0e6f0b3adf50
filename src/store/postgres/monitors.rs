//! SQL for the `monitors` table.

use super::{PostgresStore, settle};
use crate::store::MonitorStore;
use async_trait::async_trait;

use std::collections::BTreeMap;

use chrono::Utc;
use deadpool_postgres::Object;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::changes;
use super::connect::{get, pg};
use super::millis;
use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorDraft, MonitorId, MonitorSpec};
use crate::store::StoreError;
use crate::store::rows::{MonitorRecord, SpecValues, StatusRecord};

/// The monitor's own columns, in the order [`read_row`] reads them. No column of
/// `monitor_status` shares a name with these, so they need no table name.
pub(super) const COLUMNS: &str = "id, user_id, name, url, method, interval_seconds, timeout_ms, \
    expected_status, keyword, follow_redirects, headers, body, failure_threshold, \
    success_threshold, latency_threshold_ms, channel_ids, reminder_interval_seconds, \
    cert_expiry_days, paused, created_at, updated_at, conditions, tls_ca_pem, tls_skip_verify";

/// The status columns, after [`COLUMNS`], from `monitor_status` joined as `s`.
pub(super) const STATUS: &str =
    "s.checked_at, s.ok, s.status_code, s.latency_us, s.error_kind, s.error_message, s.state";

/// How many columns [`COLUMNS`] and [`STATUS`] make together: what a statement returns
/// after them starts at this index.
pub(super) const READ_WIDTH: usize = 31;

/// The spec's columns, as `$1`..`$19` bind them.
pub(super) const SPEC_COLUMNS: &str = "name, url, method, interval_seconds, timeout_ms, expected_status, \
    keyword, follow_redirects, headers, body, failure_threshold, success_threshold, \
    latency_threshold_ms, channel_ids, reminder_interval_seconds, cert_expiry_days, conditions, \
    tls_ca_pem, tls_skip_verify";

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
    let conditions: serde_json::Value = get(row, 21)?;
    let conditions: Vec<String> =
        serde_json::from_value(conditions).map_err(|e| corrupt(e.to_string()))?;
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
        failure_threshold: unsigned(get(row, 12)?)?,
        success_threshold: unsigned(get(row, 13)?)?,
        latency_threshold_ms: unsigned(get(row, 14)?)?,
        channel_ids: Some(get(row, 15)?),
        reminder_interval_seconds: unsigned(get(row, 16)?)?,
        cert_expiry_days: unsigned(get(row, 17)?)?,
        conditions: Some(conditions),
        tls_ca_pem: get(row, 22)?,
        tls_skip_verify: get(row, 23)?,
    };
    MonitorRecord {
        id,
        owner: get(row, 1)?,
        draft,
        paused: get(row, 18)?,
        created_at: get(row, 19)?,
        updated_at: get(row, 20)?,
        status: StatusRecord {
            checked_at: get(row, 24)?,
            ok: get(row, 25)?,
            status_code: get::<Option<i32>>(row, 26)?.map(i64::from),
            latency_us: get(row, 27)?,
            error_kind: get(row, 28)?,
            error_message: get(row, 29)?,
            state: get(row, 30)?,
        },
    }
    .into_monitor()
}

/// A spec's values as PostgreSQL binds them (`$1`..`$19`), by both INSERT and UPDATE.
pub(super) struct Bound<'a> {
    values: SpecValues<'a>,
    ints: [Option<i32>; 7],
    headers: serde_json::Value,
    conditions: serde_json::Value,
}

impl<'a> Bound<'a> {
    pub(super) fn new(spec: &'a MonitorSpec) -> Result<Self, StoreError> {
        let values = SpecValues::new(spec);
        let int = |value: Option<u32>| {
            value
                .map(|v| {
                    i32::try_from(v).map_err(|_| StoreError::Backend(format!("{v} too large")))
                })
                .transpose()
        };
        Ok(Self {
            ints: [
                int(Some(values.interval_seconds))?,
                int(values.timeout_ms)?,
                int(Some(values.failure_threshold))?,
                int(Some(values.success_threshold))?,
                int(values.latency_threshold_ms)?,
                int(values.reminder_interval_seconds)?,
                int(Some(values.cert_expiry_days))?,
            ],
            headers: serde_json::to_value(values.headers)
                .map_err(|e| StoreError::Backend(e.to_string()))?,
            conditions: serde_json::Value::from(values.conditions.clone()),
            values,
        })
    }

    /// The nineteen values, then the statement's own parameters from `$20` on.
    pub(super) fn then<'b>(&'b self, extra: &[&'b (dyn ToSql + Sync)]) -> Params<'b> {
        let (v, i) = (&self.values, &self.ints);
        let mut values: Params<'b> = vec![
            &v.name,
            &v.url,
            &v.method,
            &i[0],
            &i[1],
            &v.expected_status,
            &v.keyword,
            &v.follow_redirects,
            &self.headers,
            &v.body,
            &i[2],
            &i[3],
            &i[4],
            &v.channel_ids,
            &i[5],
            &i[6],
            &self.conditions,
            &v.tls_ca_pem,
            &v.tls_skip_verify,
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
    let bound = Bound::new(spec)?;
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
    // Due at once, and `pending` until its thresholds decide.
    let sql = format!(
        "WITH m AS (INSERT INTO monitors ({SPEC_COLUMNS}, user_id, created_at, updated_at, \
             paused, next_check_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, false, $21) RETURNING *), \
         s AS (INSERT INTO monitor_status (monitor_id) SELECT id FROM m RETURNING *) \
         SELECT {COLUMNS}, {STATUS} FROM m, s"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    let row = tx
        .query_one(&stmt, &bound.then(&[&owner.0, &now]))
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
    let bound = Bound::new(spec)?;
    let now = millis(Utc::now());
    let update = format!(
        "UPDATE monitors SET ({SPEC_COLUMNS}, updated_at) = ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) WHERE id = $21 AND user_id = $22"
    );
    updated(
        client,
        origin,
        &update,
        &bound.then(&[&now, &id.0, &owner.0]),
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
    super::status_pages::forget_monitor(&tx, owner, id).await?;
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
