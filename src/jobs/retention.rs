//! Retention: raw results older than `TOCSIN_RETENTION` are rolled up into hourly rollups and
//! deleted, in bounded batches (never by a trigger on every insert, as the seed did), and
//! rollups older than `TOCSIN_ROLLUP_RETENTION` are deleted.
//!
//! The job runs every quarter of the retention (at least every 10 minutes), so a raw row is
//! never kept longer than 1.25 × the retention, on one instance at a time: the one holding
//! the `retention` lease.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::store::{Store, StoreError};

/// Rows moved per transaction: small enough that writers never wait long behind the job.
pub const BATCH: u32 = 5_000;
/// The lease that keeps two instances from rolling up, pruning and dropping partitions at
/// once.
pub const LEASE: &str = "retention";
/// The longest pause between runs.
pub const MAX_PERIOD: Duration = Duration::from_secs(600);

/// How long raw results and rollups are kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Raw results.
    pub raw: Duration,
    /// Hourly rollups.
    pub rollups: Duration,
}

impl Retention {
    /// How often the job runs: a quarter of the raw retention, at most [`MAX_PERIOD`].
    pub fn period(&self) -> Duration {
        (self.raw / 4).min(MAX_PERIOD)
    }

    /// One pass: rolls up and deletes old raw rows, then deletes old rollups. Returns how many
    /// raw rows and rollups went.
    pub async fn run_once(&self, store: &dyn Store) -> Result<(usize, usize), StoreError> {
        let now = Utc::now();
        let raw_cutoff = now - crate::time::delta(self.raw);
        let rollup_cutoff = now - crate::time::delta(self.rollups);
        let mut rolled = 0;
        loop {
            let moved = store.roll_up_before(raw_cutoff, BATCH).await?;
            rolled += moved;
            if moved < BATCH as usize {
                break;
            }
            tokio::task::yield_now().await;
        }
        store.upkeep(now).await?;
        let mut pruned = 0;
        loop {
            let gone = store.prune_rollups(rollup_cutoff, BATCH).await?;
            pruned += gone;
            if gone < BATCH as usize {
                break;
            }
            tokio::task::yield_now().await;
        }
        Ok((rolled, pruned))
    }

    /// How long a pass's lease lasts: two periods and a margin, so the holder renews it
    /// every period and an instance that died hands over after at most this long.
    pub fn lease_for(&self) -> Duration {
        self.period() * 2 + Duration::from_secs(30)
    }

    /// Runs a pass every [`Retention::period`] until `shutdown` completes, on whichever
    /// instance holds the `retention` lease (`holder` is this instance's id).
    pub async fn run(
        self,
        store: Arc<dyn Store>,
        holder: String,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut ticks = tokio::time::interval(self.period());
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = ticks.tick() => {}
            }
            let now = Utc::now();
            let until = now + crate::time::delta(self.lease_for());
            match store.lease(LEASE, &holder, now, until).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!(%error, "cannot take the retention lease; retrying at the next pass");
                    continue;
                }
            }
            match self.run_once(store.as_ref()).await {
                Ok((0, 0)) => {}
                Ok((rolled, pruned)) => {
                    tracing::debug!(
                        rolled,
                        pruned,
                        "retention: raw results rolled up and old rollups deleted"
                    );
                }
                Err(error) => tracing::warn!(%error, "retention pass failed; retrying at the next"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_is_a_quarter_of_the_retention_and_at_most_ten_minutes() {
        let short = Retention {
            raw: Duration::from_secs(4),
            rollups: Duration::from_secs(3600),
        };
        assert_eq!(short.period(), Duration::from_secs(1));
        let seed = Retention {
            raw: Duration::from_secs(48 * 3600),
            rollups: Duration::from_secs(400 * 86_400),
        };
        assert_eq!(seed.period(), MAX_PERIOD);
    }
}
