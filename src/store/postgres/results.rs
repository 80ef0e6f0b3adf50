//! Raw check results: writing batches, listing them, and reading a statistics window.

mod statements;

use super::{PARTITION_ATTEMPTS, PostgresStore, settle};
use crate::store::ResultStore;
use async_trait::async_trait;
use statements::{INSERT_ON_CONFLICT, INSERT_SKIP_STORED};

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{Object, Transaction};
use tokio_postgres::error::SqlState;
use tokio_postgres::{IsolationLevel, Row};

use super::connect::{bigint, get, pg};
use super::{health, millis, retention, rollups};
use crate::auth::UserId;
use crate::check::stats::{Sample, Summary};
use crate::check::{CheckRecord, CheckResult};
use crate::monitor::MonitorId;
use crate::store::rows::ResultRecord;
use crate::store::values::{SAMPLE_COLUMNS, micros, sample};
use crate::store::{HourLatency, StoreError, StoredResult, Tally, WindowData, Written};

/// A batch as column arrays, for one multi-row statement over `unnest`.
pub(super) struct Columns {
    monitor: Vec<i64>,
    checked_at: Vec<DateTime<Utc>>,
    ok: Vec<bool>,
    status_code: Vec<Option<i32>>,
    latency_us: Vec<i64>,
    dns_us: Vec<Option<i64>>,
    connect_us: Vec<Option<i64>>,
    tls_us: Vec<Option<i64>>,
    ttfb_us: Vec<Option<i64>>,
    error_kind: Vec<Option<&'static str>>,
    error_message: Vec<Option<String>>,
    cert_expires_at: Vec<Option<DateTime<Utc>>>,
    check_kind: Vec<&'static str>,
    dns_rcode: Vec<Option<String>>,
    dns_answer: Vec<Option<String>>,
}

impl Columns {
    /// The batch in `(checked_at, monitor)` order: two writers of overlapping batches then
    /// take their row locks in one order and cannot deadlock.
    pub(super) fn new(batch: &[CheckRecord]) -> Result<Self, StoreError> {
        let mut sorted: Vec<&CheckRecord> = batch.iter().collect();
        sorted.sort_by_key(|r| (millis(r.result.checked_at), r.monitor));
        let phase = |d: Option<std::time::Duration>| d.map(micros).transpose();
        let mut c = Self {
            monitor: Vec::with_capacity(batch.len()),
            checked_at: Vec::with_capacity(batch.len()),
            ok: Vec::with_capacity(batch.len()),
            status_code: Vec::with_capacity(batch.len()),
            latency_us: Vec::with_capacity(batch.len()),
            dns_us: Vec::with_capacity(batch.len()),
            connect_us: Vec::with_capacity(batch.len()),
            tls_us: Vec::with_capacity(batch.len()),
            ttfb_us: Vec::with_capacity(batch.len()),
            error_kind: Vec::with_capacity(batch.len()),
            error_message: Vec::with_capacity(batch.len()),
            cert_expires_at: Vec::with_capacity(batch.len()),
            check_kind: Vec::with_capacity(batch.len()),
            dns_rcode: Vec::with_capacity(batch.len()),
            dns_answer: Vec::with_capacity(batch.len()),
        };
        for record in sorted {
            let r = &record.result;
            c.monitor.push(record.monitor.0);
            c.checked_at.push(millis(r.checked_at));
            c.ok.push(r.ok());
            c.status_code.push(r.status_code.map(i32::from));
            c.latency_us.push(micros(r.latency)?);
            c.dns_us.push(phase(r.phases.dns)?);
            c.connect_us.push(phase(r.phases.connect)?);
            c.tls_us.push(phase(r.phases.tls)?);
            c.ttfb_us.push(phase(r.phases.ttfb)?);
            c.error_kind
                .push(r.failure.as_ref().map(|f| f.kind.as_str()));
            c.error_message
                .push(r.failure.as_ref().map(|f| f.message.clone()));
            c.cert_expires_at.push(r.cert_expires_at.map(millis));
            c.check_kind.push(r.kind.as_str());
            c.dns_rcode
                .push(r.dns.as_ref().map(|dns| dns.rcode.clone()));
            c.dns_answer
                .push(r.dns.as_ref().map(|dns| dns.records.join("\n")));
        }
        Ok(c)
    }

    /// The UTC days the batch falls on, each needing its partition.
    pub(super) fn days(&self) -> BTreeSet<NaiveDate> {
        self.checked_at.iter().map(DateTime::date_naive).collect()
    }
}

/// How one attempt at writing a batch ended.
pub(super) enum Attempt {
    /// Committed.
    Written(Written),
    /// A partition it needs is missing: the caller creates it and tries again.
    NoPartition,
    /// The lookup missed a row stored meanwhile: the caller tries again, `careful`.
    Duplicate,
}

/// Writes the batch in one transaction, with its monitors' new state (see [`health`]);
/// `careful` leaves skipping stored rows to the unique index (see [`INSERT_ON_CONFLICT`]).
pub(super) async fn insert(
    client: &mut Object,
    origin: u64,
    c: &Columns,
    batch: &[CheckRecord],
    careful: bool,
) -> Result<Attempt, StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    // Shared with other writers, exclusive to a roll-up: a roll-up that moved the mark past
    // a row this transaction is still writing would lose it from the statistics.
    retention::lock_mark_shared(&tx).await?;
    // Deleting a monitor now waits for this batch, and this batch for a delete under way.
    let ids: BTreeSet<i64> = c.monitor.iter().copied().collect();
    let ids: Vec<i64> = ids.into_iter().collect();
    let lock = tx
        .prepare_cached("SELECT id FROM monitors WHERE id = ANY($1) ORDER BY id FOR KEY SHARE")
        .await
        .map_err(pg)?;
    tx.execute(&lock, &[&ids]).await.map_err(pg)?;
    let tracked = health::lock(&tx, &ids).await?;
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 15] = [
        &c.monitor,
        &c.checked_at,
        &c.ok,
        &c.status_code,
        &c.latency_us,
        &c.dns_us,
        &c.connect_us,
        &c.tls_us,
        &c.ttfb_us,
        &c.error_kind,
        &c.error_message,
        &c.cert_expires_at,
        &c.check_kind,
        &c.dns_rcode,
        &c.dns_answer,
    ];
    let sql = if careful {
        &*INSERT_ON_CONFLICT
    } else {
        &*INSERT_SKIP_STORED
    };
    let stmt = tx.prepare_cached(sql).await.map_err(pg)?;
    let rows = match tx.query(&stmt, &params).await {
        Ok(rows) => rows,
        // "no partition of relation results found for row"
        Err(e) if e.code() == Some(&SqlState::CHECK_VIOLATION) => {
            return Ok(Attempt::NoPartition);
        }
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) && !careful => {
            return Ok(Attempt::Duplicate);
        }
        Err(e) => return Err(pg(e)),
    };
    let mut inserted = 0;
    let mut late: BTreeMap<(i64, DateTime<Utc>), Summary> = BTreeMap::new();
    for row in &rows {
        inserted = get::<i64>(row, 0)?;
        let Some(monitor) = get::<Option<i64>>(row, 1)? else {
            continue;
        };
        let at: DateTime<Utc> = get(row, 2)?;
        late.entry((monitor, rollups::hour_start(at)?))
            .or_default()
            .add(&sample_at(row, 3)?);
    }
    rollups::upsert(&tx, &late).await?;
    let transitions = health::apply(&tx, origin, tracked, batch).await?;
    tx.commit().await.map_err(pg)?;
    Ok(Attempt::Written(Written {
        inserted: usize::try_from(inserted)
            .map_err(|_| StoreError::Corrupt(format!("{inserted} rows inserted")))?,
        transitions,
    }))
}

/// A read-only transaction on one snapshot, so the mark, the raw rows and the rollups are
/// read at one moment and a row is never counted twice or not at all.
pub(super) async fn snapshot(client: &mut Object) -> Result<Transaction<'_>, StoreError> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg)
}

/// Whether `owner` has monitor `id`.
async fn owns(tx: &Transaction<'_>, owner: UserId, id: MonitorId) -> Result<bool, StoreError> {
    let stmt = tx
        .prepare_cached("SELECT 1 FROM monitors WHERE id = $1 AND user_id = $2")
        .await
        .map_err(pg)?;
    let row = tx.query_opt(&stmt, &[&id.0, &owner.0]).await.map_err(pg)?;
    Ok(row.is_some())
}

const RESULT_COLUMNS: &str = "r.checked_at, r.ok, r.status_code, r.latency_us, r.dns_us, \
    r.connect_us, r.tls_us, r.ttfb_us, r.error_kind, r.error_message, r.cert_expires_at, \
    r.check_kind, r.dns_rcode, r.dns_answer";

pub(super) async fn list(
    client: &mut Object,
    owner: UserId,
    id: MonitorId,
    before: Option<DateTime<Utc>>,
    limit: u32,
) -> Result<Option<Vec<StoredResult>>, StoreError> {
    let tx = snapshot(client).await?;
    if !owns(&tx, owner, id).await? {
        return Ok(None);
    }
    // Rows at or below the mark are rolled up: logically gone, if still stored.
    let sql = format!(
        "SELECT {RESULT_COLUMNS} FROM results r, rollup_mark m \
         WHERE r.monitor_id = $1 AND r.checked_at < coalesce($2::timestamptz, 'infinity') \
           AND (r.checked_at, r.monitor_id) > (m.checked_at, m.monitor_id) \
         ORDER BY r.checked_at DESC LIMIT $3"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    let rows = tx
        .query(&stmt, &[&id.0, &before, &bigint(limit)])
        .await
        .map_err(pg)?;
    let results = rows.iter().map(read_result).collect::<Result<_, _>>()?;
    tx.commit().await.map_err(pg)?;
    Ok(Some(results))
}

pub(super) async fn window(
    client: &mut Object,
    owner: UserId,
    id: MonitorId,
    from: DateTime<Utc>,
) -> Result<Option<WindowData>, StoreError> {
    let tx = snapshot(client).await?;
    if !owns(&tx, owner, id).await? {
        return Ok(None);
    }
    let from = millis(from);
    let sql = format!(
        "SELECT {SAMPLE_COLUMNS} FROM results r, rollup_mark m \
         WHERE r.monitor_id = $1 AND r.checked_at >= $2 \
           AND (r.checked_at, r.monitor_id) > (m.checked_at, m.monitor_id) \
         ORDER BY r.checked_at"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    let rows = tx.query(&stmt, &[&id.0, &from]).await.map_err(pg)?;
    let raw = rows
        .iter()
        .map(|row| sample_at(row, 0))
        .collect::<Result<_, _>>()?;
    let rollups = rollups::total_from(&tx, id, rollups::hour_start(from)?).await?;
    tx.commit().await.map_err(pg)?;
    Ok(Some(WindowData { raw, rollups }))
}

/// The [`SAMPLE_COLUMNS`] of `row` from column `at` on, as statistics see them.
pub(super) fn sample_at(row: &Row, at: usize) -> Result<Sample, StoreError> {
    let code: Option<i32> = get(row, at + 1)?;
    let kind: String = get(row, at + 3)?;
    let error_kind: Option<String> = get(row, at + 4)?;
    let dns_rcode: Option<String> = get(row, at + 5)?;
    sample(
        get(row, at)?,
        code.map(i64::from),
        get(row, at + 2)?,
        &kind,
        error_kind.as_deref(),
        dns_rcode.as_deref(),
    )
}

/// A `results` row read in [`RESULT_COLUMNS`] order.
fn read_result(row: &Row) -> Result<CheckResult, StoreError> {
    ResultRecord {
        checked_at: get(row, 0)?,
        ok: get(row, 1)?,
        status_code: get::<Option<i32>>(row, 2)?.map(i64::from),
        latency_us: get(row, 3)?,
        phases: [get(row, 4)?, get(row, 5)?, get(row, 6)?, get(row, 7)?],
        error_kind: get(row, 8)?,
        error_message: get(row, 9)?,
        cert_expires_at: get(row, 10)?,
        kind: get(row, 11)?,
        dns_rcode: get(row, 12)?,
        dns_answer: get(row, 13)?,
    }
    .into_result()
}

#[async_trait]
impl ResultStore for PostgresStore {
    async fn insert_results(&self, batch: &[CheckRecord]) -> Result<Written, StoreError> {
        if batch.is_empty() {
            return Ok(Written::default());
        }
        let columns = Columns::new(batch)?;
        let mut client = self.client().await?;
        let result = async {
            let days = columns.days();
            let mut careful = false;
            for _ in 0..PARTITION_ATTEMPTS {
                self.partitions.ensure(&mut client, &days).await?;
                match insert(&mut client, self.origin, &columns, batch, careful).await? {
                    Attempt::Written(written) => return Ok(written),
                    Attempt::Duplicate => careful = true,
                    // Another instance's upkeep dropped a partition this one thought was there.
                    Attempt::NoPartition => self.partitions.forget(&days),
                }
            }
            Err(StoreError::Unavailable(
                "result partitions keep disappearing under the insert".into(),
            ))
        }
        .await;
        settle(client, result)
    }

    async fn list_results(
        &self,
        owner: UserId,
        id: MonitorId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Option<Vec<StoredResult>>, StoreError> {
        let mut client = self.client().await?;
        let result = list(&mut client, owner, id, before, limit).await;
        settle(client, result)
    }

    async fn window(
        &self,
        owner: UserId,
        id: MonitorId,
        from: DateTime<Utc>,
    ) -> Result<Option<WindowData>, StoreError> {
        let mut client = self.client().await?;
        let result = window(&mut client, owner, id, from).await;
        settle(client, result)
    }

    async fn tallies(
        &self,
        owner: UserId,
        ids: &[MonitorId],
        from: DateTime<Utc>,
    ) -> Result<Vec<Tally>, StoreError> {
        let mut client = self.client().await?;
        let result = super::tallies::tallies(&mut client, owner, ids, from).await;
        settle(client, result)
    }

    async fn hourly_latency(
        &self,
        owner: UserId,
        id: MonitorId,
        from: DateTime<Utc>,
    ) -> Result<Option<Vec<HourLatency>>, StoreError> {
        let client = self.client().await?;
        let result = super::tallies::hourly_latency(&client, owner, id, from).await;
        settle(client, result)
    }
}
