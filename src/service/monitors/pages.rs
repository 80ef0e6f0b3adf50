//! Paging through an owner's monitors by id, for accounts with too many for one answer.

use super::Monitors;
use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId};
use crate::service::ServiceError;

/// The most monitors one page may hold.
pub const MAX_MONITORS_PAGE: u32 = 1000;

/// One page of an owner's monitors.
#[derive(Debug)]
pub struct MonitorPage {
    /// Oldest first.
    pub monitors: Vec<Monitor>,
    /// The id to page on from (`after`), when more monitors follow; `None` on the last page.
    pub next_after: Option<MonitorId>,
}

impl Monitors {
    /// Up to `limit` of the owner's monitors after `after` (from the first when `None`).
    pub async fn page(
        &self,
        owner: UserId,
        after: Option<MonitorId>,
        limit: u32,
    ) -> Result<MonitorPage, ServiceError> {
        if !(1..=MAX_MONITORS_PAGE).contains(&limit) {
            return Err(ServiceError::Invalid(format!(
                "limit: must be a whole number from 1 to {MAX_MONITORS_PAGE} (got {limit})"
            )));
        }
        // One more than asked tells whether another page follows, so the last page says so
        // rather than sending the client for an empty one.
        let mut monitors = self.store.monitors_page(owner, after, limit + 1).await?;
        let more = monitors.len() > limit as usize;
        monitors.truncate(limit as usize);
        let next_after = if more {
            monitors.last().map(|m| m.id)
        } else {
            None
        };
        Ok(MonitorPage {
            monitors,
            next_after,
        })
    }
}
