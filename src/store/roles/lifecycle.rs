//! The database itself: migrations, readiness, shared settings, upkeep and the change feed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::auth::UserId;
use crate::monitor::MonitorId;
use crate::store::StoreError;

/// A monitor that was edited, paused, resumed or deleted, as [`LifecycleStore::monitor_changes`]
/// reports it: only who and which, since the monitor is read afresh to learn what changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorChange {
    /// The monitor's owner.
    pub owner: UserId,
    /// The monitor.
    pub id: MonitorId,
}

/// Migrations, readiness, settings shared by every instance, storage upkeep, change feed.
#[async_trait]
pub trait LifecycleStore: Send + Sync + 'static {
    /// Applies the migrations that have not run yet.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Answers when the database does: the readiness probe.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The value of setting `key`, storing `value` first if the key is new. Concurrent
    /// callers all get the one value that won, so instances agree (e.g. on the JWT secret).
    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError>;

    /// Storage upkeep the retention job runs on each pass, after rolling up: PostgreSQL
    /// creates the coming days' result partitions ahead of time and drops the partitions
    /// whose rows are all rolled up. Nothing to do for stores without partitions.
    async fn upkeep(&self, _now: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(())
    }

    /// The monitors *other processes* sharing this database edit, pause, resume or delete,
    /// each reported once the change commits, until the receiver is dropped. `None` where no
    /// other process can write (SQLite). Best effort: a change committed while the store
    /// cannot listen (reconnecting after a failover) is not reported. Call within a Tokio
    /// runtime.
    fn monitor_changes(&self) -> Option<mpsc::Receiver<MonitorChange>> {
        None
    }
}
