//! Status pages: their owners make and change them; anyone reads them by slug, and a
//! monitor not on a page reveals nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{Duration, Utc};

use super::ServiceError;
use crate::auth::UserId;
use crate::check::stats::{Stats, Window};
use crate::monitor::{Monitor, MonitorId};
use crate::public::view::{INCIDENT_DAYS, PublicPage, first_day};
use crate::public::{Slug, StatusPage, StatusPageDraft, StatusPageId, StatusPagePatch};
use crate::public::{StatusPageError, StatusPageSpec};
use crate::store::Store;

/// How long a public view is served from memory before it is read again. A page reloads
/// itself every minute and may be cached for half that, so a few seconds change nothing a
/// visitor sees, while a page opened by many at once (an outage) is read once per period:
/// reading 90 days of 50 monitors touches a quarter of a million rows.
pub const PUBLIC_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// The most pages kept in memory at once; past it, the expired ones are dropped.
const PUBLIC_CACHE_PAGES: usize = 1024;

/// Public views by slug, with when each was read.
type PublicCache = Mutex<HashMap<String, (Instant, Arc<PublicPage>)>>;

/// The status page use cases. Cheap to clone.
#[derive(Clone)]
pub struct StatusPages {
    store: Arc<dyn Store>,
    cache: Arc<PublicCache>,
}

const NOT_FOUND: ServiceError = ServiceError::NotFound("status page");

impl StatusPages {
    /// Status pages kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            cache: Arc::default(),
        }
    }

    /// Makes a page of the owner's monitors; its slug must be free.
    pub async fn create(
        &self,
        owner: UserId,
        draft: StatusPageDraft,
    ) -> Result<StatusPage, ServiceError> {
        let spec = self.checked(owner, draft).await?;
        let page = self.store.create_status_page(owner, &spec).await?;
        self.forget(page.spec.slug.as_str());
        Ok(page)
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
        let page = self
            .store
            .update_status_page(owner, id, &spec)
            .await?
            .ok_or(NOT_FOUND)?;
        self.forget(current.spec.slug.as_str());
        self.forget(page.spec.slug.as_str());
        Ok(page)
    }

    /// Deletes one of the owner's pages.
    pub async fn delete(&self, owner: UserId, id: StatusPageId) -> Result<(), ServiceError> {
        let page = self.get(owner, id).await?;
        if !self.store.delete_status_page(owner, id).await? {
            return Err(NOT_FOUND);
        }
        self.forget(page.spec.slug.as_str());
        Ok(())
    }

    /// The public view of the page at `slug`, for anyone, at most [`PUBLIC_CACHE_TTL`] old
    /// (this process forgets a page at once when its owner changes it here; other
    /// instances within the period). A malformed slug is no page.
    pub async fn public(&self, slug: &str) -> Result<Arc<PublicPage>, ServiceError> {
        let slug = Slug::parse(slug).map_err(|_| NOT_FOUND)?;
        if let Some(page) = self.cached(slug.as_str()) {
            return Ok(page);
        }
        let read_at = Instant::now();
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
        let page = Arc::new(PublicPage::build(snapshot, now));
        self.remember(slug.as_str(), read_at, page.clone());
        Ok(page)
    }

    fn cached(&self, slug: &str) -> Option<Arc<PublicPage>> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(slug)
            .filter(|(at, _)| at.elapsed() < PUBLIC_CACHE_TTL)
            .map(|(_, page)| page.clone())
    }

    fn remember(&self, slug: &str, read_at: Instant, page: Arc<PublicPage>) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= PUBLIC_CACHE_PAGES {
            cache.retain(|_, (at, _)| at.elapsed() < PUBLIC_CACHE_TTL);
        }
        if cache.len() < PUBLIC_CACHE_PAGES {
            cache.insert(slug.to_owned(), (read_at, page));
        }
    }

    fn forget(&self, slug: &str) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.remove(slug);
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
