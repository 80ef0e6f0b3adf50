//! Handing due monitors to schedulers: claims move a monitor's next due time along its grid.

use super::SqliteStore;
use crate::store::ScheduleStore;
use async_trait::async_trait;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::Transaction;

use super::backend;
use super::monitors::{COLUMNS, STATUS_RETURNED, read_row};
use crate::monitor::grace::{MAX_GRACE, grace};
use crate::monitor::phase::{next_after_sql, next_due};
use crate::store::{Claim, ClaimBatch, StoreError, from_millis, to_millis};

/// One interval in milliseconds, as SQL over the row's own column.
const INTERVAL: &str = "(interval_seconds * 1000)";

pub(super) fn claim_due(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<ClaimBatch, StoreError> {
    let (now, until) = (to_millis(now), to_millis(until));
    let long_missed = regrid(tx, now)?;
    let mut batch = claim(tx, now, until, limit)?;
    batch.skipped += long_missed;
    Ok(batch)
}

/// [`MAX_GRACE`] in milliseconds: a due time further behind is past every monitor's grace.
fn max_grace_ms() -> i64 {
    i64::try_from(MAX_GRACE.as_millis()).unwrap_or(i64::MAX)
}

/// Moves every due time missed by more than [`MAX_GRACE`] (past any monitor's grace, see
/// [`crate::monitor::grace`]; e.g. the service was down) to the first grid point at or after
/// `now`: running it late would report a stale time, and running every missed point would
/// flood the target. Returns how many due times were passed over, each a skipped check.
///
/// Only that range: it is exactly what the index on `next_check_at` finds. Asked of every
/// due time past its own (shorter) grace, this scanned every due time waiting within its
/// grace too, on every claim: under a backlog (a restart at 10,000 checks/s) each claim
/// read tens of thousands of rows, claims fell further behind, and the engine ran nothing
/// (perf: 79 % of the CPU here). Due times past a shorter grace are moved by [`claim`],
/// which reads only the rows it takes.
fn regrid(tx: &Transaction<'_>, now: i64) -> Result<u64, StoreError> {
    const MISSED: &str = "paused = 0 AND next_check_at < ?1 - ?2";
    // Whole intervals between the missed due time and the first grid point at or after now.
    const POINTS: &str = "((?1 - next_check_at + (interval_seconds * 1000) - 1) \
        / (interval_seconds * 1000))";
    let params = (now, max_grace_ms());
    let passed: i64 = tx
        .prepare_cached(&format!(
            "SELECT COALESCE(SUM({POINTS}), 0) FROM monitors WHERE {MISSED}"
        ))
        .and_then(|mut stmt| stmt.query_row(params, |row| row.get(0)))
        .map_err(backend)?;
    if passed > 0 {
        tx.prepare_cached(&format!(
            "UPDATE monitors SET next_check_at = next_check_at + {POINTS} * {INTERVAL} \
             WHERE {MISSED}"
        ))
        .and_then(|mut stmt| stmt.execute(params))
        .map_err(backend)?;
    }
    // Never negative: every row counted is at least one interval behind.
    Ok(passed.unsigned_abs())
}

/// One due row as [`claim`] reads it: id, next due time (milliseconds) and interval.
struct DueRow {
    id: i64,
    next: i64,
    interval_secs: u32,
}

impl DueRow {
    /// The due time to claim: the row's, or, when that was missed past the monitor's grace,
    /// the first grid point at or after `now` with the number of points passed over.
    fn due_at(&self, now: i64) -> (i64, u64) {
        let interval = i64::from(self.interval_secs.max(1)) * 1000;
        let grace = i64::try_from(grace(self.interval_secs).as_millis()).unwrap_or(i64::MAX);
        if self.next >= now - grace {
            return (self.next, 0);
        }
        let points = (now - self.next + interval - 1) / interval;
        (self.next + points * interval, points.unsigned_abs())
    }
}

/// Claims up to `limit` due times by `until`, earliest first, moving those missed past
/// their grace on as it meets them (counted in `skipped`, claimed if their new due time is
/// still within `until`). `full` when it read as many due rows as it may take.
fn claim(tx: &Transaction<'_>, now: i64, until: i64, limit: u32) -> Result<ClaimBatch, StoreError> {
    // The due times first: RETURNING sees only the new next_check_at, and the next grid point
    // is not always one interval on (see [`crate::monitor::phase`]). Nothing changes between
    // the statements: they run in one write transaction.
    const DUE: &str = "SELECT id, next_check_at, interval_seconds FROM monitors \
        WHERE paused = 0 AND next_check_at <= ?1 ORDER BY next_check_at, id LIMIT ?2";
    let rows: Vec<DueRow> = tx
        .prepare_cached(DUE)
        .and_then(|mut stmt| {
            stmt.query_map((until, limit), |row| {
                Ok(DueRow {
                    id: row.get(0)?,
                    next: row.get(1)?,
                    interval_secs: row.get(2)?,
                })
            })?
            .collect()
        })
        .map_err(backend)?;
    let full = rows.len() >= limit as usize;
    let mut skipped = 0;
    let mut dues = HashMap::with_capacity(rows.len());
    for row in &rows {
        let (due, passed) = row.due_at(now);
        if passed > 0 {
            skipped += passed;
            tx.prepare_cached("UPDATE monitors SET next_check_at = ?1 WHERE id = ?2")
                .and_then(|mut stmt| stmt.execute((due, row.id)))
                .map_err(backend)?;
        }
        if due <= until {
            dues.insert(row.id, due);
        }
    }
    if dues.is_empty() {
        return Ok(ClaimBatch {
            claims: Vec::new(),
            skipped,
            full,
        });
    }
    // Moving next_check_at on to the monitor's next grid point inside the write transaction
    // is the claim: no other caller can see the same due time again.
    let next = next_after_sql("id", INTERVAL, "next_check_at");
    let claim = format!(
        "UPDATE monitors SET next_check_at = {next} \
         WHERE id IN (SELECT value FROM json_each(?1)) \
         RETURNING {COLUMNS}, {STATUS_RETURNED}"
    );
    let ids = serde_json::to_string(&dues.keys().collect::<Vec<_>>())
        .map_err(|error| StoreError::Corrupt(format!("claimed ids: {error}")))?;
    let mut stmt = tx.prepare_cached(&claim).map_err(backend)?;
    let returned = stmt.query_map([ids], read_row).map_err(backend)?;
    let mut claims = Vec::new();
    for row in returned {
        let monitor = row.map_err(backend)?.into_monitor()?;
        let due = dues.get(&monitor.id.0).copied().ok_or_else(|| {
            StoreError::Corrupt(format!(
                "monitor {} claimed without a due time",
                monitor.id.0
            ))
        })?;
        claims.push(Claim {
            monitor,
            due: from_millis(due)?,
        });
    }
    // RETURNING gives rows in no promised order.
    claims.sort_by_key(|c| (c.due, c.monitor.id));
    Ok(ClaimBatch {
        claims,
        skipped,
        full,
    })
}

pub(super) fn release_claims(tx: &Transaction<'_>, claims: &[Claim]) -> Result<(), StoreError> {
    // Compare-and-set: if the monitor was claimed again, resumed or re-gridded since, its
    // next due time is no longer the one this claim set, and putting it back would run a
    // due time twice.
    let mut stmt = tx
        .prepare_cached(
            "UPDATE monitors SET next_check_at = ?1 WHERE id = ?2 AND next_check_at = ?3",
        )
        .map_err(backend)?;
    // Latest first, so a monitor with two claims pending (t and t + interval) unwinds both:
    // giving back t + interval makes next_check_at match the CAS for t.
    let mut latest_first: Vec<&Claim> = claims.iter().collect();
    latest_first.sort_by_key(|c| std::cmp::Reverse(c.due));
    for claim in latest_first {
        let id = claim.monitor.id.0;
        let set = next_due(id, claim.monitor.spec.interval_secs(), claim.due);
        stmt.execute((to_millis(claim.due), id, to_millis(set)))
            .map_err(backend)?;
    }
    Ok(())
}

#[async_trait]
impl ScheduleStore for SqliteStore {
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<ClaimBatch, StoreError> {
        self.write(move |tx| claim_due(tx, now, until, limit)).await
    }

    async fn release_claims(&self, claims: &[Claim]) -> Result<(), StoreError> {
        let claims = claims.to_vec();
        self.write(move |tx| release_claims(tx, &claims)).await
    }
}
