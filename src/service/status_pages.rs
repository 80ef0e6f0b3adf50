//! Status pages: their owners make and change them; anyone reads them by slug, and a
//! monitor not on a page reveals nothing.

use std::sync::Arc;

use chrono::{Duration, Utc};

use super::ServiceError;
use crate::auth::UserId;
use crate::check::stats::{Stats, Window};
use crate::monitor::{Monitor, MonitorId};
use crate::public::view::{INCIDENT_DAYS, PublicPage, first_day};
use crate::public::{Slug, StatusPage, StatusPageDraft, StatusPageId, StatusPagePatch};
use crate::public::{StatusPageError, StatusPageSpec};
use crate::store::Store;

/// The status page use cases. Cheap to clone.
#[derive(Clone)]
pub struct StatusPages {
    store: Arc<dyn Store>,
}

const NOT_FOUND: ServiceError = ServiceError::NotFound("status page");

impl StatusPages {
    /// Status pages kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Makes a page of the owner's monitors; its slug must be free.
    pub async fn create(
        &self,
        owner: UserId,
        draft: StatusPageDraft,
    ) -> Result<StatusPage, ServiceError> {
        let spec = self.checked(owner, draft).await?;
        Ok(self.store.create_status_page(owner, &spec).await?)
    }

    /// The owner's pages, oldest first.
    pub async fn list(&self, owner: UserId) -> Result<Vec<StatusPage>, ServiceError> {
        Ok(self.store.list_status_pages(owner).await?)
    }

    /// One of the owner's pages.
    pub async fn get(&self, owner: UserId, id: StatusPageId) -> Result<StatusPage, ServiceError> {
        self.store
            .get_status_page(owner, id)
            .await?
            .ok_or(NOT_FOUND)
    }

    /// Applies `patch` to one of the owner's pages; absent fields stay.
    pub async fn update(
        &self,
        owner: UserId,
        id: StatusPageId,
        patch: StatusPagePatch,
    ) -> Result<StatusPage, ServiceError> {
        let current = self.get(owner, id).await?;
        let spec = self.checked(owner, patch.apply(&current.spec)).await?;
        self.store
            .update_status_page(owner, id, &spec)
            .await?
            .ok_or(NOT_FOUND)
    }

    /// Deletes one of the owner's pages.
    pub async fn delete(&self, owner: UserId, id: StatusPageId) -> Result<(), ServiceError> {
        if self.store.delete_status_page(owner, id).await? {
            Ok(())
        } else {
            Err(NOT_FOUND)
        }
    }

    /// The public view of the page at `slug`, for anyone. A malformed slug is no page.
    pub async fn public(&self, slug: &str) -> Result<PublicPage, ServiceError> {
        let slug = Slug::parse(slug).map_err(|_| NOT_FOUND)?;
        let now = Utc::now();
        let days_from = first_day(now)
            .and_hms_opt(0, 0, 0)
            .map_or(now, |d| d.and_utc());
        let incidents_from = now - Duration::days(INCIDENT_DAYS);
        let snapshot = self
            .store
            .public_page(&slug, days_from, incidents_from)
            .await?
            .ok_or(NOT_FOUND)?;
        Ok(PublicPage::build(snapshot, now))
    }

    /// Monitor `id` if the page at `slug` shows it; the same 404 whether the page or the
    /// monitor is missing, so ids cannot be probed.
    pub async fn shown_monitor(&self, slug: &str, id: MonitorId) -> Result<Monitor, ServiceError> {
        let slug = Slug::parse(slug).map_err(|_| NOT_FOUND)?;
        self.store
            .page_monitor(&slug, id)
            .await?
            .ok_or(ServiceError::NotFound("monitor on this status page"))
    }

    /// Uptime and latency over `window` of a monitor the page at `slug` shows.
    pub async fn shown_stats(
        &self,
        slug: &str,
        id: MonitorId,
        window: Window,
    ) -> Result<(Monitor, Stats), ServiceError> {
        let monitor = self.shown_monitor(slug, id).await?;
        let from = Utc::now() - crate::time::delta(window.duration());
        let data = self
            .store
            .window(monitor.owner, id, from)
            .await?
            .ok_or(ServiceError::NotFound("monitor on this status page"))?;
        Ok((monitor, Stats::compute(window, &data.raw, &data.rollups)))
    }

    /// The draft as a spec whose monitors are all the owner's.
    async fn checked(
        &self,
        owner: UserId,
        draft: StatusPageDraft,
    ) -> Result<StatusPageSpec, ServiceError> {
        let spec = StatusPageSpec::parse(draft)?;
        for id in &spec.monitor_ids {
            if self.store.get_monitor(owner, *id).await?.is_none() {
                return Err(StatusPageError {
                    field: "monitor_ids",
                    message: format!("{} is not one of your monitors", id.0),
                }
                .into());
            }
        }
        Ok(spec)
    }
}
