//! Raw check results: the batch write and the reads over them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::auth::UserId;
use crate::check::CheckRecord;
use crate::check::stats::{Sample, Summary};
use crate::monitor::MonitorId;
use crate::store::StoreError;

/// A stored result, as the results endpoint lists it.
pub type StoredResult = crate::check::CheckResult;

/// What [`ResultStore::window`] finds: the raw results in a window and the sum of its rollups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowData {
    /// Raw results whose `checked_at` is in the window.
    pub raw: Vec<Sample>,
    /// The rollups of the hours in the window, added up.
    pub rollups: Summary,
}

/// Writing results in batches and reading them back.
#[async_trait]
pub trait ResultStore: Send + Sync + 'static {
    /// Writes a batch of results in one transaction and updates each monitor's last check.
    /// A result already stored (same monitor and `checked_at`) or whose monitor is gone is
    /// skipped, so a batch may be written twice. Returns how many rows were new.
    async fn insert_results(&self, batch: &[CheckRecord]) -> Result<usize, StoreError>;

    /// Up to `limit` of a monitor's raw results checked before `before`, newest first;
    /// `None` if the owner has no such monitor.
    async fn list_results(
        &self,
        owner: UserId,
        id: MonitorId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Option<Vec<StoredResult>>, StoreError>;

    /// The raw results checked at or after `from`, and the rollups of the hours starting at
    /// or after `from` truncated to the hour; `None` if the owner has no such monitor.
    async fn window(
        &self,
        owner: UserId,
        id: MonitorId,
        from: DateTime<Utc>,
    ) -> Result<Option<WindowData>, StoreError>;
}
