//! Raw check results: the batch write and the reads over them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::alerting::Transition;
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

/// How many checks one monitor had in a window, and how many failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// The monitor.
    pub monitor: MonitorId,
    /// Checks in the window (raw results and rollups).
    pub checks: u64,
    /// Of which failed.
    pub failures: u64,
}

/// One hour's latency from its rollup, for charts reaching past the raw results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourLatency {
    /// The start of the hour.
    pub hour: DateTime<Utc>,
    /// Checks that got a response, whose latencies are summed.
    pub responses: u64,
    /// Their latencies added up.
    pub total: std::time::Duration,
}

/// What a batch write did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Results that were new (not already stored, monitor not deleted).
    pub inserted: usize,
    /// The state changes and certificate episodes the batch decided, in `checked_at` order
    /// per monitor; their incidents and notifications are committed with the results.
    pub transitions: Vec<Transition>,
}

/// Writing results in batches and reading them back.
#[async_trait]
pub trait ResultStore: Send + Sync + 'static {
    /// Writes a batch of results in one transaction, and in the same transaction applies
    /// them to each monitor's state in `checked_at` order ([`crate::alerting::apply_all`]):
    /// updates its last check and state, opens and resolves its incidents and queues their
    /// notifications ([`crate::alerting::plan`]). A result already stored (same monitor and
    /// `checked_at`) or whose monitor is gone is skipped, and one no newer than the last one
    /// applied changes no state, so a batch may be written twice, late or out of order.
    async fn insert_results(&self, batch: &[CheckRecord]) -> Result<Written, StoreError>;

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

    /// For each of `ids` that the owner has, the checks and failures since `from` as
    /// [`Self::window`] counts them (raw results from `from`, rollups from its hour), in one
    /// read without fetching the rows: the dashboard's uptime column for a page of monitors.
    /// Monitors with no check in the window, or not the owner's, are left out.
    async fn tallies(
        &self,
        owner: UserId,
        ids: &[MonitorId],
        from: DateTime<Utc>,
    ) -> Result<Vec<Tally>, StoreError>;

    /// The monitor's rolled-up hours starting at or after `from`, oldest first, with their
    /// latency (rollups keep no phases); `None` if the owner has no such monitor.
    async fn hourly_latency(
        &self,
        owner: UserId,
        id: MonitorId,
        from: DateTime<Utc>,
    ) -> Result<Option<Vec<HourLatency>>, StoreError>;
}
