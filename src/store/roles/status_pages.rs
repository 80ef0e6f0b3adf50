//! Status pages: their owners' settings, and the public reads behind `/status/{slug}`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId};
use crate::public::{Slug, StatusPage, StatusPageId, StatusPageSpec};
use crate::store::StoreError;

/// One monitor's checks during one UTC day, raw results and rollups together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCounts {
    /// The monitor.
    pub monitor: MonitorId,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Checks that day.
    pub checks: u64,
    /// Of which failed.
    pub failures: u64,
}

/// An incident as a public page may show it: no message, which could name internal hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicIncident {
    /// The incident's id.
    pub id: i64,
    /// The monitor it happened to.
    pub monitor: MonitorId,
    /// `down`, `degraded` or `certificate`.
    pub kind: String,
    /// When it opened.
    pub started_at: DateTime<Utc>,
    /// When it closed; `None` while open.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The kind of failure that opened it (`timeout`, `status`…).
    pub cause_kind: String,
}

/// What a public page shows, read in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicSnapshot {
    /// The page.
    pub page: StatusPage,
    /// The listed monitors its owner still has, in the page's order.
    pub monitors: Vec<Monitor>,
    /// Their checks per day from the day asked for on, in no particular order.
    pub days: Vec<DayCounts>,
    /// Their incidents open at or since the time asked for, newest first (at most 100).
    pub incidents: Vec<PublicIncident>,
}

/// The most incidents a public read returns.
pub const PUBLIC_INCIDENTS: u32 = 100;

/// Status pages, each changed only by its owner and read by anyone through its slug.
#[async_trait]
pub trait StatusPageStore: Send + Sync + 'static {
    /// Creates a page; [`StoreError::Conflict`]`("slug")` if any page has the slug.
    async fn create_status_page(
        &self,
        owner: UserId,
        spec: &StatusPageSpec,
    ) -> Result<StatusPage, StoreError>;

    /// The owner's pages, oldest first.
    async fn list_status_pages(&self, owner: UserId) -> Result<Vec<StatusPage>, StoreError>;

    /// One of the owner's pages.
    async fn get_status_page(
        &self,
        owner: UserId,
        id: StatusPageId,
    ) -> Result<Option<StatusPage>, StoreError>;

    /// Replaces a page's spec; `None` if the owner has no such page, [`StoreError::Conflict`]
    /// `("slug")` if another page has the new slug.
    async fn update_status_page(
        &self,
        owner: UserId,
        id: StatusPageId,
        spec: &StatusPageSpec,
    ) -> Result<Option<StatusPage>, StoreError>;

    /// Deletes a page; false if the owner had no such page.
    async fn delete_status_page(&self, owner: UserId, id: StatusPageId)
    -> Result<bool, StoreError>;

    /// The page at `slug` with its monitors, their checks per UTC day from the day of
    /// `days_from` on, and their incidents open at or after `incidents_from`: a fixed number
    /// of statements whatever the number of monitors or days. `None` if no page has the slug.
    async fn public_page(
        &self,
        slug: &Slug,
        days_from: DateTime<Utc>,
        incidents_from: DateTime<Utc>,
    ) -> Result<Option<PublicSnapshot>, StoreError>;

    /// Monitor `id` if the page at `slug` lists it and its owner has it; `None` otherwise
    /// (no such page, or a monitor the page does not show).
    async fn page_monitor(&self, slug: &Slug, id: MonitorId)
    -> Result<Option<Monitor>, StoreError>;
}
