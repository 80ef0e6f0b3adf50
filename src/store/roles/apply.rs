//! Applying a document: many monitor changes of one account made in one transaction.

use async_trait::async_trait;

use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId, MonitorSpec};
use crate::store::StoreError;

/// What one application of a document changes, in the order it is done: deletions first
/// (freeing names and places under the limit), then updates, then creations.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Monitors to delete.
    pub delete: Vec<MonitorId>,
    /// Monitors to give a new spec and paused flag.
    pub update: Vec<(MonitorId, MonitorSpec, bool)>,
    /// Monitors to create, paused or not.
    pub create: Vec<(MonitorSpec, bool)>,
}

/// What was done, as it now is.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// The monitors created.
    pub created: Vec<Monitor>,
    /// The monitors updated.
    pub updated: Vec<Monitor>,
    /// The monitors deleted.
    pub deleted: Vec<MonitorId>,
}

/// Several changes at once.
#[async_trait]
pub trait ApplyStore: Send + Sync + 'static {
    /// Makes every change of `changes` to `owner`'s monitors in one transaction, or none:
    /// [`StoreError::Conflict`]`("monitor")` if a monitor to update or delete is gone,
    /// `("name")` if a name is taken, [`StoreError::LimitReached`] past `limit`.
    async fn apply_changes(
        &self,
        owner: UserId,
        changes: &Changes,
        limit: u32,
    ) -> Result<Applied, StoreError>;
}
