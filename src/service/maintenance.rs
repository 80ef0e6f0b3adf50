//! Maintenance windows: while one covers a monitor, its checks and incidents go on and
//! nobody is told (the results write looks the windows up; see [`crate::alerting::plan`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::ServiceError;
use crate::alerting::{MaintenanceId, MaintenanceWindow, WindowDraft, WindowSpec};
use crate::auth::UserId;
use crate::monitor::MonitorId;
use crate::store::Store;

/// The maintenance window use cases. Cheap to clone.
#[derive(Clone)]
pub struct Maintenance {
    store: Arc<dyn Store>,
}

impl Maintenance {
    /// Windows kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Creates a window from a client's draft; every monitor it names must be the owner's.
    pub async fn create(
        &self,
        owner: UserId,
        draft: WindowDraft,
    ) -> Result<MaintenanceWindow, ServiceError> {
        let spec = WindowSpec::parse(draft).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        if let Some(ids) = spec.monitors() {
            let owned: BTreeSet<MonitorId> = self
                .store
                .list_monitors(owner)
                .await?
                .into_iter()
                .map(|m| m.id)
                .collect();
            if let Some(missing) = ids.iter().find(|id| !owned.contains(id)) {
                return Err(ServiceError::Invalid(format!(
                    "monitor_ids: you have no monitor {}",
                    missing.0
                )));
            }
        }
        Ok(self.store.create_window(owner, &spec).await?)
    }

    /// The owner's windows, by start.
    pub async fn list(&self, owner: UserId) -> Result<Vec<MaintenanceWindow>, ServiceError> {
        Ok(self.store.list_windows(owner).await?)
    }

    /// Deletes one of the owner's windows.
    pub async fn delete(&self, owner: UserId, id: MaintenanceId) -> Result<(), ServiceError> {
        if self.store.delete_window(owner, id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("maintenance window"))
        }
    }
}
