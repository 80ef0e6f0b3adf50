//! Raw check results: writing batches, listing them, and reading a statistics window.

use super::SqliteStore;
use crate::store::ResultStore;
use async_trait::async_trait;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, Transaction};

use super::{backend, health, optional, query_row, retention};
use crate::auth::UserId;
use crate::check::stats::{Sample, Summary};
use crate::check::{CheckRecord, CheckResult};
use crate::monitor::MonitorId;
use crate::store::rows::ResultRecord;
use crate::store::values::{SAMPLE_COLUMNS, micros, sample};
use crate::store::{
    HourLatency, StoreError, StoredResult, Tally, WindowData, Written, from_millis, to_millis,
};

const INSERT_RESULT: &str = "\
    INSERT INTO results (monitor_id, checked_at, ok, status_code, latency_us, dns_us, \
                         connect_us, tls_us, ttfb_us, error_kind, error_message, cert_expires_at, \
                         check_kind, dns_rcode, dns_answer) \
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15 \
    WHERE EXISTS (SELECT 1 FROM monitors WHERE id = ?1) \
    ON CONFLICT DO NOTHING";

const RESULT_COLUMNS: &str = "checked_at, ok, status_code, latency_us, dns_us, connect_us, \
                              tls_us, ttfb_us, error_kind, error_message, cert_expires_at, \
                              check_kind, dns_rcode, dns_answer";

/// Writes the batch's results, then applies them to their monitors' state (see
/// [`super::health`]).
pub(super) fn insert(tx: &Transaction<'_>, batch: &[CheckRecord]) -> Result<Written, StoreError> {
    let mut results = tx.prepare_cached(INSERT_RESULT).map_err(backend)?;
    let mut inserted = 0;
    for record in batch {
        let r = &record.result;
        let phase = |d: Option<std::time::Duration>| d.map(micros).transpose();
        let (at, ok, latency) = (to_millis(r.checked_at), r.ok(), micros(r.latency)?);
        let code = r.status_code.map(i64::from);
        inserted += results
            .execute(rusqlite::params![
                record.monitor.0,
                at,
                ok,
                code,
                latency,
                phase(r.phases.dns)?,
                phase(r.phases.connect)?,
                phase(r.phases.tls)?,
                phase(r.phases.ttfb)?,
                r.failure.as_ref().map(|f| f.kind.as_str()),
                r.failure.as_ref().map(|f| f.message.as_str()),
                r.cert_expires_at.map(to_millis),
                r.kind.as_str(),
                r.dns.as_ref().map(|dns| dns.rcode.as_str()),
                r.dns.as_ref().map(|dns| dns.records.join("\n")),
            ])
            .map_err(backend)?;
    }
    let transitions = health::apply(tx, batch)?;
    Ok(Written {
        inserted,
        transitions,
    })
}

/// Whether `owner` has monitor `id`.
pub(super) fn owns(conn: &Connection, owner: UserId, id: MonitorId) -> Result<bool, StoreError> {
    let found = optional(query_row(
        conn,
        "SELECT 1 FROM monitors WHERE id = ?1 AND user_id = ?2",
        (id.0, owner.0),
        |_| Ok(()),
    ))?;
    Ok(found.is_some())
}

pub(super) fn list(
    conn: &mut Connection,
    owner: UserId,
    id: MonitorId,
    before: Option<DateTime<Utc>>,
    limit: u32,
) -> Result<Option<Vec<StoredResult>>, StoreError> {
    // One snapshot, so a monitor deleted between the two reads is not half seen.
    let tx = conn.transaction().map_err(backend)?;
    if !owns(&tx, owner, id)? {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {RESULT_COLUMNS} FROM results WHERE monitor_id = ?1 AND checked_at < ?2 \
         ORDER BY checked_at DESC LIMIT ?3"
    );
    let mut stmt = tx.prepare_cached(&sql).map_err(backend)?;
    let before = before.map_or(i64::MAX, to_millis);
    let rows = stmt
        .query_map((id.0, before, limit), ResultRow::read)
        .map_err(backend)?;
    let results = rows
        .map(|row| row.map_err(backend)?.into_result())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(results))
}

pub(super) fn window(
    conn: &mut Connection,
    owner: UserId,
    id: MonitorId,
    from: DateTime<Utc>,
) -> Result<Option<WindowData>, StoreError> {
    // One snapshot: retention moves rows from results to rollups, and reading the two
    // tables at different moments could count a row twice or not at all.
    let tx = conn.transaction().map_err(backend)?;
    if !owns(&tx, owner, id)? {
        return Ok(None);
    }
    let from = to_millis(from);
    let sql = format!(
        "SELECT {SAMPLE_COLUMNS} FROM results \
         WHERE monitor_id = ?1 AND checked_at >= ?2 ORDER BY checked_at"
    );
    let mut stmt = tx.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt
        .query_map((id.0, from), |row| SampleRow::read(row, 0))
        .map_err(backend)?;
    let mut raw = Vec::new();
    for row in rows {
        raw.push(row.map_err(backend)?.sample()?);
    }
    let mut rollups = Summary::default();
    for hour in retention::rollups_from(&tx, id, retention::hour_start(from))? {
        rollups.merge(&hour);
    }
    Ok(Some(WindowData { raw, rollups }))
}

/// The [`SAMPLE_COLUMNS`] of a row, as stored.
pub(super) struct SampleRow {
    ok: bool,
    code: Option<i64>,
    latency_us: i64,
    kind: String,
    error_kind: Option<String>,
    dns_rcode: Option<String>,
}

impl SampleRow {
    /// Reads the [`SAMPLE_COLUMNS`] from column `at` on.
    pub(super) fn read(row: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            ok: row.get(at)?,
            code: row.get(at + 1)?,
            latency_us: row.get(at + 2)?,
            kind: row.get(at + 3)?,
            error_kind: row.get(at + 4)?,
            dns_rcode: row.get(at + 5)?,
        })
    }

    /// The row as statistics see it.
    pub(super) fn sample(&self) -> Result<Sample, StoreError> {
        sample(
            self.ok,
            self.code,
            self.latency_us,
            &self.kind,
            self.error_kind.as_deref(),
            self.dns_rcode.as_deref(),
        )
    }
}

/// A `results` row as SQLite keeps it (times in milliseconds), read in [`RESULT_COLUMNS`]
/// order.
struct ResultRow {
    record: ResultRecord,
    checked_at: i64,
    cert_expires_at: Option<i64>,
}

impl ResultRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            record: ResultRecord {
                checked_at: DateTime::UNIX_EPOCH,
                ok: row.get(1)?,
                status_code: row.get(2)?,
                latency_us: row.get(3)?,
                phases: [row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?],
                error_kind: row.get(8)?,
                error_message: row.get(9)?,
                cert_expires_at: None,
                kind: row.get(11)?,
                dns_rcode: row.get(12)?,
                dns_answer: row.get(13)?,
            },
            checked_at: row.get(0)?,
            cert_expires_at: row.get(10)?,
        })
    }

    fn into_result(self) -> Result<CheckResult, StoreError> {
        let mut record = self.record;
        record.checked_at = from_millis(self.checked_at)?;
        record.cert_expires_at = self.cert_expires_at.map(from_millis).transpose()?;
        record.into_result()
    }
}

#[async_trait]
impl ResultStore for SqliteStore {
    async fn insert_results(&self, batch: &[CheckRecord]) -> Result<Written, StoreError> {
        let batch = batch.to_vec();
        self.write(move |tx| insert(tx, &batch)).await
    }

    async fn list_results(
        &self,
        owner: UserId,
        id: MonitorId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Option<Vec<StoredResult>>, StoreError> {
        self.run(move |conn| list(conn, owner, id, before, limit))
            .await
    }

    async fn window(
        &self,
        owner: UserId,
        id: MonitorId,
        from: DateTime<Utc>,
    ) -> Result<Option<WindowData>, StoreError> {
        self.run(move |conn| window(conn, owner, id, from)).await
    }

    async fn tallies(
        &self,
        owner: UserId,
        ids: &[MonitorId],
        from: DateTime<Utc>,
    ) -> Result<Vec<Tally>, StoreError> {
        let ids = ids.to_vec();
        self.run(move |conn| super::tallies::tallies(conn, owner, &ids, from))
            .await
    }

    async fn hourly_latency(
        &self,
        owner: UserId,
        id: MonitorId,
        from: DateTime<Utc>,
    ) -> Result<Option<Vec<HourLatency>>, StoreError> {
        self.run(move |conn| super::tallies::hourly_latency(conn, owner, id, from))
            .await
    }
}
