//! Paging through an owner's monitors: an account with many thousands lists them a page at
//! a time, each page found by the index on `(user_id, id)`-ordered rows, not by an offset.

use async_trait::async_trait;

use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId};
use crate::store::StoreError;

/// Pages of an owner's monitors.
#[async_trait]
pub trait MonitorPageStore: Send + Sync + 'static {
    /// Up to `limit` of the owner's monitors whose ids come after `after` (from the first
    /// when `None`), by id: oldest first, as [`super::MonitorStore::list_monitors`] lists.
    async fn monitors_page(
        &self,
        owner: UserId,
        after: Option<MonitorId>,
        limit: u32,
    ) -> Result<Vec<Monitor>, StoreError>;
}
