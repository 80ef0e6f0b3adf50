//! Maintenance windows: when an account's monitors notify nobody.

use async_trait::async_trait;

use crate::alerting::{MaintenanceId, MaintenanceWindow, WindowSpec};
use crate::auth::UserId;
use crate::store::StoreError;

/// Maintenance windows, each seen only by its owner.
#[async_trait]
pub trait MaintenanceStore: Send + Sync + 'static {
    /// Stores a window of `owner` (whose monitors the caller has checked).
    async fn create_window(
        &self,
        owner: UserId,
        spec: &WindowSpec,
    ) -> Result<MaintenanceWindow, StoreError>;

    /// The owner's windows, by start then id.
    async fn list_windows(&self, owner: UserId) -> Result<Vec<MaintenanceWindow>, StoreError>;

    /// Deletes one of the owner's windows; false if the owner had no such window.
    async fn delete_window(&self, owner: UserId, id: MaintenanceId) -> Result<bool, StoreError>;
}
