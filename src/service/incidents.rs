//! Incidents: listing an account's incidents with what became of their notifications.

use std::sync::Arc;

use super::ServiceError;
use crate::alerting::{Incident, IncidentFilter, IncidentId};
use crate::auth::UserId;
use crate::store::Store;

/// The most incidents one page may hold.
pub const MAX_INCIDENTS_PAGE: u32 = 500;

/// One page of incidents, newest first.
#[derive(Debug, Clone)]
pub struct IncidentPage {
    /// The incidents.
    pub incidents: Vec<Incident>,
    /// Pass as `before` for the next page; `None` on the last page.
    pub next_before: Option<IncidentId>,
}

/// The incident use cases. Cheap to clone.
#[derive(Clone)]
pub struct Incidents {
    store: Arc<dyn Store>,
}

impl Incidents {
    /// Incidents kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The owner's incidents matching `filter`, newest first. A monitor named in the filter
    /// that is not the owner's is not found, exactly like a missing one.
    pub async fn list(
        &self,
        owner: UserId,
        filter: IncidentFilter,
    ) -> Result<IncidentPage, ServiceError> {
        if !(1..=MAX_INCIDENTS_PAGE).contains(&filter.limit) {
            return Err(ServiceError::Invalid(format!(
                "limit: must be a whole number from 1 to {MAX_INCIDENTS_PAGE} (got {})",
                filter.limit
            )));
        }
        if let Some(monitor) = filter.monitor
            && self.store.get_monitor(owner, monitor).await?.is_none()
        {
            return Err(ServiceError::NotFound("monitor"));
        }
        let incidents = self.store.list_incidents(owner, &filter).await?;
        let next_before = (incidents.len() == filter.limit as usize)
            .then(|| incidents.last().map(|i| i.id))
            .flatten();
        Ok(IncidentPage {
            incidents,
            next_before,
        })
    }
}
