//! Handing due monitors to schedulers: claims move a monitor's next due time along its grid.

use super::SqliteStore;
use crate::store::ScheduleStore;
use async_trait::async_trait;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::Transaction;

use super::backend;
use super::monitors::{COLUMNS, STATUS_RETURNED, read_row};
use crate::monitor::grace::{GRACE_DIVISOR, MAX_GRACE};
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
    let skipped = regrid(tx, now)?;
    let claims = claim(tx, until, limit)?;
    Ok(ClaimBatch { claims, skipped })
}

/// Moves every due time missed by more than its grace (see [`crate::monitor::grace`]; e.g.
/// the service was down) to the first grid point at or after `now`: running it late would
/// report a stale time, and running every missed point would flood the target. Returns how
/// many due times were passed over, each a skipped check. `next_check_at < ?1` lets the
/// partial index narrow the scan.
fn regrid(tx: &Transaction<'_>, now: i64) -> Result<u64, StoreError> {
    const MISSED: &str = "paused = 0 AND next_check_at < ?1 \
        AND next_check_at < ?1 - MIN(interval_seconds * 1000 / ?2, ?3)";
    // Whole intervals between the missed due time and the first grid point at or after now.
    const POINTS: &str = "((?1 - next_check_at + (interval_seconds * 1000) - 1) \
        / (interval_seconds * 1000))";
    let max_grace = i64::try_from(MAX_GRACE.as_millis()).unwrap_or(i64::MAX);
    let params = (now, GRACE_DIVISOR, max_grace);
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

/// Claims up to `limit` due times by `until`, earliest first.
fn claim(tx: &Transaction<'_>, until: i64, limit: u32) -> Result<Vec<Claim>, StoreError> {
    // The due times first: RETURNING sees only the new next_check_at, and the next grid point
    // is not always one interval on (see [`crate::monitor::phase`]). Nothing changes between
    // the two statements: they run in one write transaction.
    const DUE: &str = "SELECT id, next_check_at FROM monitors WHERE paused = 0 \
        AND next_check_at <= ?1 ORDER BY next_check_at, id LIMIT ?2";
    let dues: HashMap<i64, i64> = tx
        .prepare_cached(DUE)
        .and_then(|mut stmt| {
            stmt.query_map((until, limit), |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .map_err(backend)?;
    if dues.is_empty() {
        return Ok(Vec::new());
    }
    // Moving next_check_at on to the monitor's next grid point inside the write transaction
    // is the claim: no other caller can see the same due time again.
    let next = next_after_sql("id", INTERVAL, "next_check_at");
    let claim = format!(
        "UPDATE monitors SET next_check_at = {next} \
         WHERE id IN ({DUE_IDS}) \
         RETURNING {COLUMNS}, {STATUS_RETURNED}"
    );
    let mut stmt = tx.prepare_cached(&claim).map_err(backend)?;
    let rows = stmt.query_map((until, limit), read_row).map_err(backend)?;
    let mut claims = Vec::new();
    for row in rows {
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
    Ok(claims)
}

/// The ids [`claim_due`] claims, as its first statement reads them.
const DUE_IDS: &str = "SELECT id FROM monitors WHERE paused = 0 AND next_check_at <= ?1 \
    ORDER BY next_check_at, id LIMIT ?2";

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
