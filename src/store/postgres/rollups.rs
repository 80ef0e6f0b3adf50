//! Hourly rollups: merging summaries into them, reading them back, and pruning old ones.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Object, Transaction};
use tokio_postgres::Row;

use super::connect::{bigint, get, pg, rows};
use crate::check::stats::{BUCKETS, Histogram, Summary};
use crate::monitor::MonitorId;
use crate::store::values::{count, duration, micros, uncount};
use crate::store::{StoreError, from_millis, to_millis};

const HOUR_MS: i64 = 3_600_000;

/// The start of the hour `at` falls in.
pub(super) fn hour_start(at: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
    from_millis(to_millis(at).div_euclid(HOUR_MS) * HOUR_MS)
}

/// Merges in SQL rather than reading, merging and writing back: writers folding late
/// results in hold the roll-up lock only shared, so two may merge into one hour at once,
/// and ON CONFLICT DO UPDATE applies each to the row the other left. The histograms of the
/// batch travel as one flat array, `BUCKETS` counts per row in row order. Rollups of a
/// monitor deleted meanwhile are dropped by the join.
fn upsert_sql() -> String {
    format!(
        "INSERT INTO rollups (monitor_id, hour_start, checks, failures, latency_count, \
                             latency_sum_us, latency_min_us, latency_max_us, histogram) \
         SELECT u.monitor_id, u.hour_start, u.checks, u.failures, u.latency_count, \
                u.latency_sum_us, u.latency_min_us, u.latency_max_us, \
                ($9::bigint[])[(u.n - 1) * {BUCKETS} + 1 : u.n * {BUCKETS}] \
         FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[], \
                     $6::bigint[], $7::bigint[], $8::bigint[]) WITH ORDINALITY \
             AS u (monitor_id, hour_start, checks, failures, latency_count, latency_sum_us, \
                   latency_min_us, latency_max_us, n) \
         JOIN monitors ON monitors.id = u.monitor_id \
         ORDER BY u.monitor_id, u.hour_start \
         ON CONFLICT (monitor_id, hour_start) DO UPDATE SET \
             checks = rollups.checks + excluded.checks, \
             failures = rollups.failures + excluded.failures, \
             latency_count = rollups.latency_count + excluded.latency_count, \
             latency_sum_us = rollups.latency_sum_us + excluded.latency_sum_us, \
             latency_min_us = CASE WHEN rollups.latency_count = 0 THEN excluded.latency_min_us \
                                   WHEN excluded.latency_count = 0 THEN rollups.latency_min_us \
                                   ELSE least(rollups.latency_min_us, excluded.latency_min_us) END, \
             latency_max_us = greatest(rollups.latency_max_us, excluded.latency_max_us), \
             histogram = ARRAY(SELECT a + b FROM unnest(rollups.histogram, excluded.histogram) \
                               WITH ORDINALITY AS h (a, b, i) ORDER BY i)"
    )
}

/// Adds each `(monitor, hour)`'s summary to its rollup, creating it if new.
pub(super) async fn upsert(
    tx: &Transaction<'_>,
    hours: &BTreeMap<(i64, DateTime<Utc>), Summary>,
) -> Result<(), StoreError> {
    if hours.is_empty() {
        return Ok(());
    }
    let n = hours.len();
    let (mut monitors, mut starts) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut numbers: [Vec<i64>; 6] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut histograms = Vec::with_capacity(n * BUCKETS);
    for (&(monitor, hour), s) in hours {
        monitors.push(monitor);
        starts.push(hour);
        let values = [
            count(s.checks)?,
            count(s.failures)?,
            count(s.latency_count)?,
            micros(s.latency_sum)?,
            micros(s.latency_min)?,
            micros(s.latency_max)?,
        ];
        for (column, value) in numbers.iter_mut().zip(values) {
            column.push(value);
        }
        for &bucket in &s.histogram.0 {
            histograms.push(count(bucket)?);
        }
    }
    // A monitor being deleted cascades into its rollups while the FK check of a new rollup
    // waits for the delete: lock the monitors first, in id order, so one simply waits for
    // the other instead of deadlocking.
    let mut ids = monitors.clone();
    ids.dedup();
    let lock = tx
        .prepare_cached("SELECT id FROM monitors WHERE id = ANY($1) ORDER BY id FOR KEY SHARE")
        .await
        .map_err(pg)?;
    tx.execute(&lock, &[&ids]).await.map_err(pg)?;
    let stmt = tx.prepare_cached(&upsert_sql()).await.map_err(pg)?;
    let [checks, failures, latency_count, sum, min, max] = &numbers;
    tx.execute(
        &stmt,
        &[
            &monitors,
            &starts,
            checks,
            failures,
            latency_count,
            sum,
            min,
            max,
            &histograms,
        ],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// The monitor's rollups of the hours starting at or after `from`, added up.
pub(super) async fn total_from(
    tx: &Transaction<'_>,
    id: MonitorId,
    from: DateTime<Utc>,
) -> Result<Summary, StoreError> {
    let stmt = tx
        .prepare_cached(
            "SELECT checks, failures, latency_count, latency_sum_us, latency_min_us, \
                    latency_max_us, histogram \
             FROM rollups WHERE monitor_id = $1 AND hour_start >= $2",
        )
        .await
        .map_err(pg)?;
    let mut total = Summary::default();
    for row in tx.query(&stmt, &[&id.0, &from]).await.map_err(pg)? {
        total.merge(&read_summary(&row)?);
    }
    Ok(total)
}

pub(super) async fn prune(
    client: &Object,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<usize, StoreError> {
    let stmt = client
        .prepare_cached(
            "DELETE FROM rollups WHERE (monitor_id, hour_start) IN \
             (SELECT monitor_id, hour_start FROM rollups WHERE hour_start < $1 \
              ORDER BY hour_start, monitor_id LIMIT $2)",
        )
        .await
        .map_err(pg)?;
    let deleted = client
        .execute(&stmt, &[&cutoff, &bigint(limit)])
        .await
        .map_err(pg)?;
    Ok(rows(deleted))
}

fn read_summary(row: &Row) -> Result<Summary, StoreError> {
    let histogram: Vec<i64> = get(row, 6)?;
    Ok(Summary {
        checks: uncount(get(row, 0)?)?,
        failures: uncount(get(row, 1)?)?,
        latency_count: uncount(get(row, 2)?)?,
        latency_sum: duration(get(row, 3)?)?,
        latency_min: duration(get(row, 4)?)?,
        latency_max: duration(get(row, 5)?)?,
        histogram: to_histogram(&histogram)?,
    })
}

/// Refuses anything but exactly [`BUCKETS`] non-negative counts.
fn to_histogram(counts: &[i64]) -> Result<Histogram, StoreError> {
    if counts.len() != BUCKETS {
        return Err(StoreError::Corrupt(format!(
            "rollup histogram of {} counts, want {BUCKETS}",
            counts.len()
        )));
    }
    let mut histogram = Histogram::default();
    for (slot, &value) in histogram.0.iter_mut().zip(counts) {
        *slot = uncount(value)?;
    }
    Ok(histogram)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_of_the_wrong_size_or_sign_are_refused() {
        assert!(to_histogram(&[0; BUCKETS]).is_ok());
        for bad in [
            vec![0; BUCKETS - 1],
            vec![0; BUCKETS + 1],
            vec![-1; BUCKETS],
        ] {
            assert!(matches!(to_histogram(&bad), Err(StoreError::Corrupt(_))));
        }
    }

    #[test]
    fn hours_start_on_the_hour_before_and_after_the_epoch() {
        let at = |ms| DateTime::from_timestamp_millis(ms).expect("in range");
        let hour = |ms| hour_start(at(ms)).expect("in range");
        assert_eq!(hour(0), at(0));
        assert_eq!(hour(HOUR_MS - 1), at(0));
        assert_eq!(hour(-1), at(-HOUR_MS));
    }
}
