//! Monitors: what each account checks.

use async_trait::async_trait;

use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId, MonitorSpec};
use crate::store::StoreError;

/// Monitors, each seen only by its owner.
#[async_trait]
pub trait MonitorStore: Send + Sync + 'static {
    /// Creates a monitor unless `owner` already has `limit` of them, atomically;
    /// [`StoreError::Conflict`]`("name")` if the owner has a monitor of that name.
    async fn create_monitor(
        &self,
        owner: UserId,
        spec: &MonitorSpec,
        limit: u32,
    ) -> Result<Monitor, StoreError>;

    /// The owner's monitors, oldest first.
    async fn list_monitors(&self, owner: UserId) -> Result<Vec<Monitor>, StoreError>;

    /// One of the owner's monitors.
    async fn get_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
    ) -> Result<Option<Monitor>, StoreError>;

    /// Replaces a monitor's spec; `None` if the owner has no such monitor,
    /// [`StoreError::Conflict`]`("name")` if another of its monitors has the new name.
    async fn update_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
        spec: &MonitorSpec,
    ) -> Result<Option<Monitor>, StoreError>;

    /// Pauses or resumes a monitor; `None` if the owner has no such monitor.
    async fn set_paused(
        &self,
        owner: UserId,
        id: MonitorId,
        paused: bool,
    ) -> Result<Option<Monitor>, StoreError>;

    /// Deletes a monitor with its results; false if the owner had no such monitor.
    async fn delete_monitor(&self, owner: UserId, id: MonitorId) -> Result<bool, StoreError>;
}
