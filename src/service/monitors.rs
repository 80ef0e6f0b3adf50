//! Monitors: creating, changing, pausing and deleting them, and reading their results. Each
//! change is announced on the event bus, which is how the scheduler learns of it.

use std::sync::Arc;

mod pages;
pub use pages::{MAX_MONITORS_PAGE, MonitorPage};

use chrono::{DateTime, Utc};

use super::default_names::Suffixes;
use super::{Event, EventBus, ServiceError};
use crate::auth::UserId;
use crate::check::stats::{Stats, Window};
use crate::monitor::{Monitor, MonitorDraft, MonitorId, MonitorPatch, MonitorSpec, Rules};
use crate::store::{HourLatency, Store, StoreError, StoredResult};

/// The most results one page may hold.
pub const MAX_RESULTS_PAGE: u32 = 1000;

/// A store error, with a taken name worded for the client.
pub(super) fn named(error: StoreError, name: &str) -> ServiceError {
    match error {
        StoreError::Conflict("name") => ServiceError::NameTaken(name.to_owned()),
        other => other.into(),
    }
}

/// One page of a monitor's results, newest first.
#[derive(Debug, Clone)]
pub struct ResultPage {
    /// The results.
    pub results: Vec<StoredResult>,
    /// Pass as `before` for the next page; `None` on the last page.
    pub next_before: Option<DateTime<Utc>>,
}

/// The monitor use cases. Cheap to clone.
#[derive(Clone)]
pub struct Monitors {
    pub(super) store: Arc<dyn Store>,
    pub(super) events: EventBus,
    pub(super) rules: Rules,
    pub(super) max_per_user: u32,
    /// The numbers given to default names, per account (see `default_names`).
    pub(super) suffixes: Arc<Suffixes>,
}

impl Monitors {
    /// Monitors kept in `store`, drafts checked against `rules`, at most `max_per_user` per
    /// account; changes announced on `events`.
    pub fn new(store: Arc<dyn Store>, events: EventBus, rules: Rules, max_per_user: u32) -> Self {
        Self {
            store,
            events,
            rules,
            max_per_user,
            suffixes: Arc::default(),
        }
    }

    /// The rules drafts are checked against (a transport may word its own bounds by them).
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Creates a monitor from a client's draft; its first check is due at once.
    pub async fn create(
        &self,
        owner: UserId,
        draft: MonitorDraft,
    ) -> Result<Monitor, ServiceError> {
        let defaulted = draft.name.is_none();
        let spec = MonitorSpec::parse(draft, &self.rules)?;
        super::channels::check_owned(self.store.as_ref(), owner, spec.alerts().channels()).await?;
        let monitor = if defaulted {
            self.create_defaulted(owner, spec).await?
        } else {
            self.store
                .create_monitor(owner, &spec, self.max_per_user)
                .await
                .map_err(|e| named(e, spec.name()))?
        };
        self.events
            .publish(Event::MonitorCreated(Arc::new(monitor.clone())));
        Ok(monitor)
    }

    /// The owner's monitors, oldest first.
    pub async fn list(&self, owner: UserId) -> Result<Vec<Monitor>, ServiceError> {
        Ok(self.store.list_monitors(owner).await?)
    }

    /// One of the owner's monitors.
    pub async fn get(&self, owner: UserId, id: MonitorId) -> Result<Monitor, ServiceError> {
        self.store
            .get_monitor(owner, id)
            .await?
            .ok_or(ServiceError::NotFound("monitor"))
    }

    /// Applies `patch` to a monitor: absent fields stay, `null` resets to the default. The
    /// whole result is validated again, since fields constrain each other.
    pub async fn update(
        &self,
        owner: UserId,
        id: MonitorId,
        patch: MonitorPatch,
    ) -> Result<Monitor, ServiceError> {
        let current = self.get(owner, id).await?;
        let spec = MonitorSpec::parse(patch.apply(current.spec.to_draft())?, &self.rules)?;
        super::channels::check_owned(self.store.as_ref(), owner, spec.alerts().channels()).await?;
        let monitor = self
            .store
            .update_monitor(owner, id, &spec)
            .await
            .map_err(|e| named(e, spec.name()))?
            .ok_or(ServiceError::NotFound("monitor"))?;
        self.changed(&monitor);
        Ok(monitor)
    }

    /// Pauses (`true`) or resumes a monitor. A paused monitor's claimed checks are dropped;
    /// a resumed one is due at once.
    pub async fn set_paused(
        &self,
        owner: UserId,
        id: MonitorId,
        paused: bool,
    ) -> Result<Monitor, ServiceError> {
        let monitor = self
            .store
            .set_paused(owner, id, paused)
            .await?
            .ok_or(ServiceError::NotFound("monitor"))?;
        self.changed(&monitor);
        Ok(monitor)
    }

    /// Deletes a monitor with its results.
    pub async fn delete(&self, owner: UserId, id: MonitorId) -> Result<(), ServiceError> {
        if !self.store.delete_monitor(owner, id).await? {
            return Err(ServiceError::NotFound("monitor"));
        }
        self.events.publish(Event::MonitorRemoved { owner, id });
        Ok(())
    }

    /// Up to `limit` (1 to [`MAX_RESULTS_PAGE`]) raw results checked before `before`,
    /// newest first.
    pub async fn results(
        &self,
        owner: UserId,
        id: MonitorId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<ResultPage, ServiceError> {
        if !(1..=MAX_RESULTS_PAGE).contains(&limit) {
            return Err(ServiceError::Invalid(format!(
                "limit: must be a whole number from 1 to {MAX_RESULTS_PAGE} (got {limit})"
            )));
        }
        let results = self
            .store
            .list_results(owner, id, before, limit)
            .await?
            .ok_or(ServiceError::NotFound("monitor"))?;
        let next_before = (results.len() == limit as usize)
            .then(|| results.last().map(|r| r.checked_at))
            .flatten();
        Ok(ResultPage {
            results,
            next_before,
        })
    }

    /// Uptime and latency over the `window` ending now.
    pub async fn stats(
        &self,
        owner: UserId,
        id: MonitorId,
        window: Window,
    ) -> Result<Stats, ServiceError> {
        let from = Utc::now() - crate::time::delta(window.duration());
        let data = self
            .store
            .window(owner, id, from)
            .await?
            .ok_or(ServiceError::NotFound("monitor"))?;
        Ok(Stats::compute(window, &data.raw, &data.rollups))
    }

    /// The uptime over the `window` ending now of each of `ids` (the owner's), read in one
    /// go from the counts alone: a dashboard page's column. A monitor with no check in the
    /// window is left out.
    pub async fn uptimes(
        &self,
        owner: UserId,
        ids: &[MonitorId],
        window: Window,
    ) -> Result<Vec<(MonitorId, f64)>, ServiceError> {
        let from = Utc::now() - crate::time::delta(window.duration());
        let tallies = self.store.tallies(owner, ids, from).await?;
        Ok(tallies
            .into_iter()
            .filter(|t| t.checks > 0)
            .map(|t| {
                let passed = t.checks.saturating_sub(t.failures);
                (t.monitor, passed as f64 / t.checks as f64)
            })
            .collect())
    }

    /// The monitor's rolled-up hours in the `window` ending now, with their latency: what a
    /// chart shows where the raw results are gone.
    pub async fn hourly_latency(
        &self,
        owner: UserId,
        id: MonitorId,
        window: Window,
    ) -> Result<Vec<HourLatency>, ServiceError> {
        let from = Utc::now() - crate::time::delta(window.duration());
        self.store
            .hourly_latency(owner, id, from)
            .await?
            .ok_or(ServiceError::NotFound("monitor"))
    }

    fn changed(&self, monitor: &Monitor) {
        self.events
            .publish(Event::MonitorChanged(Arc::new(monitor.clone())));
    }
}
