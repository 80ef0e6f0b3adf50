//! The instances sharing one database: heartbeats and leases.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::store::StoreError;

/// One instance's heartbeat: who it is and how busy it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// The instance's id, unique per process (host, pid and a random part).
    pub instance: String,
    /// Where its API listens.
    pub address: String,
    /// When the process started.
    pub started_at: DateTime<Utc>,
    /// When it last reported.
    pub seen_at: DateTime<Utc>,
    /// Checks it finished in the minute before `seen_at`.
    pub checks_last_minute: u64,
}

/// Heartbeats and leases of the instances sharing the database.
#[async_trait]
pub trait ClusterStore: Send + Sync + 'static {
    /// Records an instance's heartbeat (replacing its last one), and forgets instances
    /// silent since `forget_before`.
    async fn heartbeat(
        &self,
        beat: &Heartbeat,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Removes an instance's heartbeat: it is stopping. Left in place, a stopped instance
    /// would count as live for [`crate::jobs::heartbeat::LIVE_FOR`] and shrink the claims of
    /// the instances still running to a share of a cluster that no longer exists.
    async fn forget_instance(&self, instance: &str) -> Result<(), StoreError>;

    /// The instances heard from at or after `since`, by id.
    async fn instances(&self, since: DateTime<Utc>) -> Result<Vec<Heartbeat>, StoreError>;

    /// Takes or renews the lease on `job` for `holder` until `until`, unless another
    /// holder's lease still runs at `now`; true if `holder` holds it now. Jobs that must not
    /// overlap run only while they hold their lease.
    async fn lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}
