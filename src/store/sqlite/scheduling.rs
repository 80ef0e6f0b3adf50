//! Handing due monitors to schedulers: claims move a monitor's next due time along its grid.

use super::SqliteStore;
use crate::store::ScheduleStore;
use async_trait::async_trait;

use chrono::{DateTime, Utc};
use rusqlite::Transaction;

use super::backend;
use super::monitors::{COLUMNS, READ_WIDTH, STATUS_RETURNED, read_row};
use crate::monitor::grace::{GRACE_DIVISOR, MAX_GRACE};
use crate::store::{Claim, StoreError, from_millis, to_millis};

/// One interval in milliseconds, as SQL over the row's own column.
const INTERVAL: &str = "(interval_seconds * 1000)";

pub(super) fn claim_due(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Claim>, StoreError> {
    let (now, until) = (to_millis(now), to_millis(until));
    // A check missed by more than its grace (see [`crate::monitor::grace`]; e.g. the service
    // was down) is skipped to the
    // first grid point at or after now: running it late would report a stale time, and
    // running every missed point would flood the target. `next_check_at < ?1` lets the
    // partial index narrow the scan.
    let regrid = format!(
        "UPDATE monitors SET next_check_at = next_check_at \
             + ((?1 - next_check_at + {INTERVAL} - 1) / {INTERVAL}) * {INTERVAL} \
         WHERE paused = 0 AND next_check_at < ?1 \
           AND next_check_at < ?1 - MIN(interval_seconds * 1000 / ?2, ?3)"
    );
    let max_grace = i64::try_from(MAX_GRACE.as_millis()).unwrap_or(i64::MAX);
    tx.prepare_cached(&regrid)
        .and_then(|mut stmt| stmt.execute((now, GRACE_DIVISOR, max_grace)))
        .map_err(backend)?;
    // Moving next_check_at on inside the write transaction is the claim: no other caller
    // can see the same due time again.
    let claim = format!(
        "UPDATE monitors SET next_check_at = next_check_at + {INTERVAL} \
         WHERE id IN (SELECT id FROM monitors WHERE paused = 0 AND next_check_at <= ?1 \
                      ORDER BY next_check_at, id LIMIT ?2) \
         RETURNING {COLUMNS}, {STATUS_RETURNED}, next_check_at"
    );
    let mut stmt = tx.prepare_cached(&claim).map_err(backend)?;
    let rows = stmt
        .query_map((until, limit), |row| {
            Ok((read_row(row)?, row.get::<_, i64>(READ_WIDTH)?))
        })
        .map_err(backend)?;
    let mut claims = Vec::new();
    for row in rows {
        let (row, next) = row.map_err(backend)?;
        let monitor = row.into_monitor()?;
        let due = next - interval_ms(monitor.spec.interval_secs());
        claims.push(Claim {
            monitor,
            due: from_millis(due)?,
        });
    }
    // RETURNING gives rows in no promised order.
    claims.sort_by_key(|c| (c.due, c.monitor.id));
    Ok(claims)
}

pub(super) fn release_claims(tx: &Transaction<'_>, claims: &[Claim]) -> Result<(), StoreError> {
    // Compare-and-set: if the monitor was claimed again, resumed or re-gridded since, its
    // next due time is no longer the one this claim set, and putting it back would run a
    // due time twice.
    let mut stmt = tx
        .prepare_cached(
            "UPDATE monitors SET next_check_at = ?1 WHERE id = ?2 AND next_check_at = ?1 + ?3",
        )
        .map_err(backend)?;
    // Latest first, so a monitor with two claims pending (t and t + interval) unwinds both:
    // giving back t + interval makes next_check_at match the CAS for t.
    let mut latest_first: Vec<&Claim> = claims.iter().collect();
    latest_first.sort_by_key(|c| std::cmp::Reverse(c.due));
    for claim in latest_first {
        let interval = interval_ms(claim.monitor.spec.interval_secs());
        stmt.execute((to_millis(claim.due), claim.monitor.id.0, interval))
            .map_err(backend)?;
    }
    Ok(())
}

fn interval_ms(seconds: u32) -> i64 {
    i64::from(seconds) * 1000
}

#[async_trait]
impl ScheduleStore for SqliteStore {
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Claim>, StoreError> {
        self.write(move |tx| claim_due(tx, now, until, limit)).await
    }

    async fn release_claims(&self, claims: &[Claim]) -> Result<(), StoreError> {
        let claims = claims.to_vec();
        self.write(move |tx| release_claims(tx, &claims)).await
    }
}
