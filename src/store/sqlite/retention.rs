//! Retention: raw results older than the cutoff become hourly rollups, and old rollups go.

use super::SqliteStore;
use crate::store::RetentionStore;
use async_trait::async_trait;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, Transaction};

use super::results::SampleRow;
use super::{backend, optional};
use crate::check::stats::{BUCKETS, Histogram, Summary};
use crate::monitor::MonitorId;
use crate::store::values::SAMPLE_COLUMNS;
use crate::store::values::{count, duration, micros, uncount};
use crate::store::{StoreError, to_millis};

const HOUR_MS: i64 = 3_600_000;

const SUMMARY_COLUMNS: &str = "checks, failures, latency_count, latency_sum_us, \
                               latency_min_us, latency_max_us, histogram";

/// The start of the hour `ms` falls in.
pub(super) fn hour_start(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// The monitor's rollups of the hours starting at or after `from`.
pub(super) fn rollups_from(
    conn: &Connection,
    id: MonitorId,
    from: i64,
) -> Result<Vec<Summary>, StoreError> {
    let sql =
        format!("SELECT {SUMMARY_COLUMNS} FROM rollups WHERE monitor_id = ?1 AND hour_start >= ?2");
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt
        .query_map((id.0, from), SummaryRow::read)
        .map_err(backend)?;
    rows.map(|row| row.map_err(backend)?.into_summary())
        .collect()
}

pub(super) fn roll_up_before(
    tx: &Transaction<'_>,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<usize, StoreError> {
    // The monitor id breaks ties so the batch is a well-defined set of rows.
    let sql = format!(
        "SELECT monitor_id, checked_at, {SAMPLE_COLUMNS} FROM results \
         WHERE checked_at < ?1 ORDER BY checked_at, monitor_id LIMIT ?2"
    );
    let mut select = tx.prepare_cached(&sql).map_err(backend)?;
    let rows = select
        .query_map((to_millis(cutoff), limit), |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                SampleRow::read(row, 2)?,
            ))
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let mut hours: BTreeMap<(i64, i64), Summary> = BTreeMap::new();
    for (monitor, checked_at, row) in &rows {
        hours
            .entry((*monitor, hour_start(*checked_at)))
            .or_default()
            .add(&row.sample()?);
    }
    let read_sql =
        format!("SELECT {SUMMARY_COLUMNS} FROM rollups WHERE monitor_id = ?1 AND hour_start = ?2");
    let mut read = tx.prepare_cached(&read_sql).map_err(backend)?;
    let mut write = tx
        .prepare_cached(&format!(
            "INSERT INTO rollups (monitor_id, hour_start, {SUMMARY_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (monitor_id, hour_start) DO UPDATE SET checks = excluded.checks, \
                 failures = excluded.failures, latency_count = excluded.latency_count, \
                 latency_sum_us = excluded.latency_sum_us, \
                 latency_min_us = excluded.latency_min_us, \
                 latency_max_us = excluded.latency_max_us, histogram = excluded.histogram"
        ))
        .map_err(backend)?;
    for ((monitor, hour), summary) in hours {
        // Read, merge, write back: min, max and the histogram cannot be added up in SQL.
        let mut total = optional(read.query_row((monitor, hour), SummaryRow::read))?
            .map(SummaryRow::into_summary)
            .transpose()?
            .unwrap_or_default();
        total.merge(&summary);
        write
            .execute(rusqlite::params![
                monitor,
                hour,
                count(total.checks)?,
                count(total.failures)?,
                count(total.latency_count)?,
                micros(total.latency_sum)?,
                micros(total.latency_min)?,
                micros(total.latency_max)?,
                histogram_text(&total.histogram),
            ])
            .map_err(backend)?;
    }
    let mut delete = tx
        .prepare_cached("DELETE FROM results WHERE monitor_id = ?1 AND checked_at = ?2")
        .map_err(backend)?;
    let mut moved = 0;
    for &(monitor, checked_at, ..) in &rows {
        moved += delete.execute((monitor, checked_at)).map_err(backend)?;
    }
    Ok(moved)
}

pub(super) fn prune_rollups(
    tx: &Transaction<'_>,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<usize, StoreError> {
    // DELETE … LIMIT needs a compile-time option the bundled SQLite lacks.
    tx.prepare_cached(
        "DELETE FROM rollups WHERE (monitor_id, hour_start) IN \
         (SELECT monitor_id, hour_start FROM rollups WHERE hour_start < ?1 \
          ORDER BY hour_start, monitor_id LIMIT ?2)",
    )
    .and_then(|mut stmt| stmt.execute((to_millis(cutoff), limit)))
    .map_err(backend)
}

fn histogram_text(histogram: &Histogram) -> String {
    histogram
        .0
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses [`histogram_text`] back, refusing anything but exactly [`BUCKETS`] counts.
fn parse_histogram(text: &str) -> Result<Histogram, StoreError> {
    let corrupt =
        || StoreError::Corrupt(format!("rollup histogram `{text}`: want {BUCKETS} counts"));
    let mut histogram = Histogram::default();
    let mut parts = text.split(',');
    for slot in histogram.0.iter_mut() {
        *slot = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(corrupt)?;
    }
    match parts.next() {
        Some(_) => Err(corrupt()),
        None => Ok(histogram),
    }
}

/// A `rollups` row as stored, read in [`SUMMARY_COLUMNS`] order.
struct SummaryRow {
    counts: [i64; 3],
    latencies_us: [i64; 3],
    histogram: String,
}

impl SummaryRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            counts: [row.get(0)?, row.get(1)?, row.get(2)?],
            latencies_us: [row.get(3)?, row.get(4)?, row.get(5)?],
            histogram: row.get(6)?,
        })
    }

    fn into_summary(self) -> Result<Summary, StoreError> {
        let [checks, failures, latency_count] = self.counts;
        let [sum, min, max] = self.latencies_us;
        Ok(Summary {
            checks: uncount(checks)?,
            failures: uncount(failures)?,
            latency_count: uncount(latency_count)?,
            latency_sum: duration(sum)?,
            latency_min: duration(min)?,
            latency_max: duration(max)?,
            histogram: parse_histogram(&self.histogram)?,
        })
    }
}

#[async_trait]
impl RetentionStore for SqliteStore {
    async fn roll_up_before(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError> {
        self.write(move |tx| roll_up_before(tx, cutoff, limit))
            .await
    }

    async fn prune_rollups(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError> {
        self.write(move |tx| prune_rollups(tx, cutoff, limit)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_through_text() {
        let mut histogram = Histogram::default();
        for (i, slot) in histogram.0.iter_mut().enumerate() {
            *slot = (i as u64) * 1_000_000_007;
        }
        let text = histogram_text(&histogram);
        assert_eq!(parse_histogram(&text).expect("parses"), histogram);
    }

    #[test]
    fn corrupt_histograms_are_refused() {
        let zeros = vec!["0"; BUCKETS];
        let short = zeros[1..].join(",");
        let long = format!("{},0", zeros.join(","));
        let negative = format!("-1,{}", zeros[1..].join(","));
        let blank = format!(",{}", zeros[1..].join(","));
        for text in ["", "x", &short, &long, &negative, &blank] {
            assert!(
                matches!(parse_histogram(text), Err(StoreError::Corrupt(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn hours_start_on_the_hour_before_and_after_the_epoch() {
        assert_eq!(hour_start(0), 0);
        assert_eq!(hour_start(HOUR_MS - 1), 0);
        assert_eq!(hour_start(HOUR_MS), HOUR_MS);
        assert_eq!(hour_start(-1), -HOUR_MS);
    }
}
