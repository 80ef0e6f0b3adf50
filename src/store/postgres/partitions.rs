//! The daily partitions of `results`: created ahead of time and on demand, dropped whole
//! once the roll-up mark has passed their last moment.

use std::collections::BTreeSet;
use std::sync::Mutex;

use chrono::{DateTime, Days, NaiveDate, Utc};
use deadpool_postgres::Object;
use tokio_postgres::error::SqlState;

use super::connect::{get, pg};
use crate::store::StoreError;

/// Days created ahead of today, so midnight never waits for DDL.
const DAYS_AHEAD: u64 = 3;

/// DDL on a partition locks `results` as a whole; behind a long reader it would queue every
/// writer behind itself, so it gives up instead and is retried (the next pass, or the
/// writer's next flush).
const DDL_LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '2s'";

/// The partitions this instance knows to exist, so a batch costs no catalog lookup.
#[derive(Debug, Default)]
pub(super) struct Partitions {
    known: Mutex<BTreeSet<NaiveDate>>,
}

/// The partition holding `day`'s results.
fn name(day: NaiveDate) -> String {
    format!("results_{}", day.format("%Y%m%d"))
}

/// The day a partition named by [`name`] holds, if it is one.
fn day_of(name: &str) -> Option<NaiveDate> {
    let digits = name.strip_prefix("results_")?;
    NaiveDate::parse_from_str(digits, "%Y%m%d").ok()
}

/// The first moment of `day`, and of the day after it.
fn bounds(day: NaiveDate) -> Result<(DateTime<Utc>, DateTime<Utc>), StoreError> {
    let next = day
        .checked_add_days(Days::new(1))
        .ok_or_else(|| StoreError::Backend(format!("no day after {day}")))?;
    Ok((
        day.and_time(chrono::NaiveTime::MIN).and_utc(),
        next.and_time(chrono::NaiveTime::MIN).and_utc(),
    ))
}

impl Partitions {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<NaiveDate>> {
        // The set is only a cache: one poisoned by a panic elsewhere is still usable.
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes sure every day in `days` has its partition.
    pub(super) async fn ensure(
        &self,
        client: &mut Object,
        days: &BTreeSet<NaiveDate>,
    ) -> Result<(), StoreError> {
        let missing: Vec<NaiveDate> = {
            let known = self.lock();
            days.iter()
                .filter(|d| !known.contains(d))
                .copied()
                .collect()
        };
        for day in missing {
            create(client, day).await?;
            self.lock().insert(day);
        }
        Ok(())
    }

    /// Forgets `days`, after an insert found one of their partitions gone.
    pub(super) fn forget(&self, days: &BTreeSet<NaiveDate>) {
        let mut known = self.lock();
        for day in days {
            known.remove(day);
        }
    }

    /// Creates the partitions of today and the next [`DAYS_AHEAD`] days.
    pub(super) async fn ensure_ahead(
        &self,
        client: &mut Object,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let today = now.date_naive();
        let days = (0..=DAYS_AHEAD)
            .filter_map(|n| today.checked_add_days(Days::new(n)))
            .collect();
        self.ensure(client, &days).await
    }

    /// Creates the coming days' partitions and drops those wholly at or below the mark.
    pub(super) async fn upkeep(
        &self,
        client: &mut Object,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.ensure_ahead(client, now).await?;
        let mark = client
            .query_one(
                "SELECT CASE WHEN isfinite(checked_at) THEN checked_at END FROM rollup_mark",
                &[],
            )
            .await
            .map_err(pg)?;
        let Some(mark) = get::<Option<DateTime<Utc>>>(&mark, 0)? else {
            return Ok(());
        };
        let partitions = client
            .query(
                "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
                 WHERE i.inhparent = 'results'::regclass",
                &[],
            )
            .await
            .map_err(pg)?;
        for row in &partitions {
            let name: String = get(row, 0)?;
            let Some(day) = day_of(&name) else { continue };
            // Every row of the day is before its end, so at or below the mark: rolled up.
            if bounds(day)?.1 > mark {
                continue;
            }
            let tx = client.transaction().await.map_err(pg)?;
            tx.batch_execute(DDL_LOCK_TIMEOUT).await.map_err(pg)?;
            match tx
                .batch_execute(&format!("DROP TABLE IF EXISTS \"{name}\""))
                .await
            {
                Ok(()) => tx.commit().await.map_err(pg)?,
                Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                    tracing::debug!(partition = %name, "partition busy; dropping it next pass");
                    continue;
                }
                Err(e) => return Err(pg(e)),
            }
            self.lock().remove(&day);
            tracing::debug!(partition = %name, "dropped a rolled-up result partition");
        }
        Ok(())
    }
}

/// Creates `day`'s partition unless it exists, tolerating another instance creating it at
/// the same moment.
async fn create(client: &mut Object, day: NaiveDate) -> Result<(), StoreError> {
    let name = name(day);
    let (from, to) = bounds(day)?;
    // DDL takes no parameters; the bounds are formatted from dates, never from input text.
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS \"{name}\" PARTITION OF results \
         FOR VALUES FROM ('{}') TO ('{}')",
        from.to_rfc3339(),
        to.to_rfc3339()
    );
    let created = {
        let tx = client.transaction().await.map_err(pg)?;
        match tx.batch_execute(DDL_LOCK_TIMEOUT).await {
            Ok(()) => match tx.batch_execute(&sql).await {
                Ok(()) => tx.commit().await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    };
    let Err(error) = created else {
        return Ok(());
    };
    // IF NOT EXISTS checks before creating, so a twin creation racing this one fails on the
    // catalog's unique index (or as an overlap) instead: fine if the partition is there now.
    let raced = [
        SqlState::DUPLICATE_TABLE,
        SqlState::UNIQUE_VIOLATION,
        SqlState::INVALID_OBJECT_DEFINITION,
    ];
    if error.code().is_some_and(|code| raced.contains(code)) {
        let exists = client
            .query_one("SELECT to_regclass($1::text) IS NOT NULL", &[&name])
            .await
            .map_err(pg)?;
        if get::<bool>(&exists, 0)? {
            return Ok(());
        }
    }
    Err(pg(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_round_trip_to_their_day() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 31).expect("a date");
        assert_eq!(name(day), "results_20260131");
        assert_eq!(day_of(&name(day)), Some(day));
        assert_eq!(day_of("results_default"), None);
        assert_eq!(day_of("other_20260131"), None);
    }

    #[test]
    fn a_day_runs_from_midnight_to_midnight_utc() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 31).expect("a date");
        let (from, to) = bounds(day).expect("bounds");
        assert_eq!(from.to_rfc3339(), "2026-12-31T00:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2027-01-01T00:00:00+00:00");
    }
}
