//! Retention: raw results rolled into hourly rollups, old rollups pruned.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::store::StoreError;

/// Moving old raw results into rollups and pruning old rollups.
#[async_trait]
pub trait RetentionStore: Send + Sync + 'static {
    /// Rolls up at most `limit` raw results checked before `cutoff` into their monitors'
    /// hourly rollups and removes them from the raw results, in one transaction (SQLite
    /// deletes them; PostgreSQL moves its roll-up mark past them and drops whole days
    /// later). Returns how many were moved; call again until it returns less than `limit`.
    async fn roll_up_before(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError>;

    /// Deletes at most `limit` rollups of hours that started before `cutoff`; returns how many.
    async fn prune_rollups(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError>;
}
