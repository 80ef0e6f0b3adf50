//! Claims: handing each due check to exactly one scheduler.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::monitor::Monitor;
use crate::store::StoreError;

/// A due check handed to one scheduler: the monitor as it is now and the grid point it is
/// due at. The store has already moved the monitor's next due time one interval on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The monitor to check, with its current settings.
    pub monitor: Monitor,
    /// When the check is due.
    pub due: DateTime<Utc>,
}

/// What one claim returned: the claims, and how many due times it passed over because
/// they were missed by more than their grace (the service was down, or claims fell
/// behind): those checks were skipped, and the scheduler counts them as such.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimBatch {
    /// The claimed due checks, earliest first.
    pub claims: Vec<Claim>,
    /// Due times passed over, each a skipped check.
    pub skipped: u64,
    /// The claim took as many due monitors as it was allowed (claimed or moved on past
    /// their grace): more may be due, and the next claim should follow at once.
    pub full: bool,
}

/// Claiming due checks, so instances sharing a database never run one twice.
#[async_trait]
pub trait ScheduleStore: Send + Sync + 'static {
    /// Claims up to `limit` unpaused monitors due by `until`, in one statement, moving each
    /// one's next due time one interval on so no other caller claims the same due time.
    /// A monitor whose due time is more than its grace (half its interval, at most 10 s)
    /// before `now` is first moved to its first grid point at or after `now`: a missed
    /// check is skipped, not run late, and counted in [`ClaimBatch::skipped`]. Earliest
    /// due first.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<ClaimBatch, StoreError>;

    /// Gives back claims that will not run (on shutdown): each monitor's next due time goes
    /// back to the claim's due time, unless it has changed since the claim.
    async fn release_claims(&self, claims: &[Claim]) -> Result<(), StoreError>;
}
