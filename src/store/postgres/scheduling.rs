//! Handing due monitors to schedulers: claims move a monitor's next due time along its grid.

use super::{PostgresStore, millis, settle};
use crate::store::ScheduleStore;
use async_trait::async_trait;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use deadpool_postgres::Object;

use super::connect::{bigint, get, pg};
use super::monitors::{COLUMNS, READ_WIDTH, STATUS, read_row};
use crate::monitor::grace::{GRACE_DIVISOR, MAX_GRACE};
use crate::monitor::phase::{next_after_sql, next_due};
use crate::store::{Claim, ClaimBatch, StoreError};

/// Claims in one statement. The inner SELECT computes each due monitor's due time: a check
/// missed by more than its grace (its interval divided by `$4`, at most `$5` seconds: see
/// [`crate::monitor::grace`]; e.g. the service was down) is skipped to the first grid
/// point at or after now, since running it late would report a stale time and running
/// every missed point would flood the target ([`REGRID`] moves and counts those
/// beforehand; this covers, uncounted, the rare ones it skipped as locked by another
/// instance's regrid). Rows locked by another claimer are skipped rather than waited for,
/// and moving next_check_at on is the claim: no other caller can see the same due time
/// again. It moves to the monitor's next grid point after the due time (see
/// [`crate::monitor::phase`]), `{next}` below.
const CLAIM: &str = "\
    UPDATE monitors SET next_check_at = {next} \
    FROM ( \
        SELECT m.id AS claimed_id, d.due FROM monitors m \
        CROSS JOIN LATERAL (SELECT CASE \
            WHEN m.next_check_at < $1::timestamptz \
                 - least(make_interval(secs => m.interval_seconds::float8 / $4), \
                         make_interval(secs => $5::float8)) \
            THEN m.next_check_at + make_interval(secs => \
                 ceil(extract(epoch FROM $1::timestamptz - m.next_check_at) / m.interval_seconds) \
                 * m.interval_seconds) \
            ELSE m.next_check_at END AS due) d \
        WHERE NOT m.paused AND m.next_check_at <= $2::timestamptz AND d.due <= $2::timestamptz \
        ORDER BY d.due, m.id \
        LIMIT $3 \
        FOR UPDATE OF m SKIP LOCKED \
    ) c LEFT JOIN monitor_status s ON s.monitor_id = c.claimed_id \
    WHERE monitors.id = c.claimed_id";

/// [`CLAIM`] with the grid rule filled in ([`next_after_sql`]): the due time plus whole
/// milliseconds, exact in `interval` arithmetic.
fn claim_sql() -> String {
    let interval = "(monitors.interval_seconds::bigint * 1000)";
    let due_ms = "(extract(epoch FROM c.due) * 1000)::bigint";
    let next_ms = next_after_sql("monitors.id", interval, due_ms);
    let next = format!("c.due + ({next_ms} - {due_ms}) * interval '1 millisecond'");
    CLAIM.replace("{next}", &next)
}

/// Moves every due time missed by more than its grace to the first point at or after `$1`
/// on the same grid, as [`CLAIM`] would, before the claim. Without it the claim computed
/// those due times anew on every call and filtered them out while they lay beyond its
/// horizon: after an hour without a server, 20,000 of 1,000,000 hourly monitors were
/// rescanned by each claim (25 ms a claim). Moved once, each is scanned once. Rows locked
/// by a claim or another instance's regrid are skipped, never waited for (two regrids
/// locking in different orders could deadlock): whoever holds them moves them, and the
/// claim still skips any it meets. `next_check_at < $1` lets the partial index narrow the
/// scan. Returns, per monitor moved, how many due times it passed over (each a skipped
/// check).
const REGRID: &str = "\
    UPDATE monitors SET next_check_at = o.next_check_at + make_interval(secs => \
        ceil(extract(epoch FROM $1::timestamptz - o.next_check_at) / o.interval_seconds) \
        * o.interval_seconds) \
    FROM ( \
        SELECT id, next_check_at, interval_seconds FROM monitors \
        WHERE NOT paused AND next_check_at < $1::timestamptz \
          AND next_check_at < $1::timestamptz \
              - least(make_interval(secs => interval_seconds::float8 / $2), \
                      make_interval(secs => $3::float8)) \
        FOR UPDATE SKIP LOCKED \
    ) o \
    WHERE monitors.id = o.id \
    RETURNING ceil(extract(epoch FROM $1::timestamptz - o.next_check_at) \
        / o.interval_seconds)::bigint";

pub(super) async fn claim_due(
    client: &Object,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<ClaimBatch, StoreError> {
    let regrid = client.prepare_cached(REGRID).await.map_err(pg)?;
    let moved = client
        .query(
            &regrid,
            &[&now, &f64::from(GRACE_DIVISOR), &MAX_GRACE.as_secs_f64()],
        )
        .await
        .map_err(pg)?;
    let mut skipped = 0u64;
    for row in &moved {
        let passed: i64 = get(row, 0)?;
        // Never negative: every row moved was at least one interval behind.
        skipped += passed.unsigned_abs();
    }
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("{} RETURNING {COLUMNS}, {STATUS}, c.due", claim_sql()));
    let stmt = client.prepare_cached(&SQL).await.map_err(pg)?;
    let rows = client
        .query(
            &stmt,
            &[
                &now,
                &until,
                &bigint(limit),
                &f64::from(GRACE_DIVISOR),
                &MAX_GRACE.as_secs_f64(),
            ],
        )
        .await
        .map_err(pg)?;
    let mut claims = rows
        .iter()
        .map(|row| {
            Ok(Claim {
                monitor: read_row(row)?,
                due: get(row, READ_WIDTH)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    // RETURNING gives rows in no promised order.
    claims.sort_by_key(|c| (c.due, c.monitor.id));
    let full = claims.len() >= limit as usize;
    Ok(ClaimBatch {
        claims,
        skipped,
        full,
    })
}

pub(super) async fn release_claims(
    client: &mut Object,
    claims: &[Claim],
) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    // Compare-and-set: if the monitor was claimed again, resumed or re-gridded since, its
    // next due time is no longer the one this claim set, and putting it back would run a
    // due time twice.
    let stmt = tx
        .prepare_cached(
            "UPDATE monitors SET next_check_at = $1 WHERE id = $2 AND next_check_at = $3",
        )
        .await
        .map_err(pg)?;
    // Latest first, so a monitor with two claims pending (t and t + interval) unwinds both:
    // giving back t + interval makes next_check_at match the CAS for t.
    let mut latest_first: Vec<&Claim> = claims.iter().collect();
    latest_first.sort_by_key(|c| std::cmp::Reverse(c.due));
    for claim in latest_first {
        let id = claim.monitor.id.0;
        let set = next_due(id, claim.monitor.spec.interval_secs(), claim.due);
        tx.execute(&stmt, &[&claim.due, &id, &set])
            .await
            .map_err(pg)?;
    }
    tx.commit().await.map_err(pg)
}

#[async_trait]
impl ScheduleStore for PostgresStore {
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<ClaimBatch, StoreError> {
        let client = self.client().await?;
        let result = claim_due(&client, millis(now), millis(until), limit).await;
        settle(client, result)
    }

    async fn release_claims(&self, claims: &[Claim]) -> Result<(), StoreError> {
        if claims.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let result = release_claims(&mut client, claims).await;
        settle(client, result)
    }
}
