//! Applying a document: many monitor and channel changes of one account made in one
//! transaction.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::alerting::ChannelId;
use crate::alerting::channels::ChannelConfig;
use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId, MonitorSpec, Rules};
use crate::store::StoreError;

/// What one application of a document changes, in the order it is done: channels first
/// (deleted, updated, created, so monitors can name the new ones), then monitors:
/// deletions (freeing names and places under the limit), updates, creations.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Channels to delete (monitors naming them stop naming them).
    pub delete_channels: Vec<ChannelId>,
    /// Channels to give new settings (same kind).
    pub update_channels: Vec<(ChannelId, ChannelConfig)>,
    /// Channels to create, by name.
    pub create_channels: Vec<(String, ChannelConfig)>,
    /// By monitor name: the channels of `create_channels` (by index) the monitor also
    /// alerts, whose ids are known only once created.
    pub links: BTreeMap<String, Vec<usize>>,
    /// Monitors to delete.
    pub delete: Vec<MonitorId>,
    /// Monitors to give a new spec and paused flag.
    pub update: Vec<(MonitorId, MonitorSpec, bool)>,
    /// Monitors to create, paused or not.
    pub create: Vec<(MonitorSpec, bool)>,
}

impl Changes {
    /// `spec` alerting also the channels `links` gives it among `created` (the ids of
    /// `create_channels`, in order).
    pub fn linked(
        &self,
        spec: &MonitorSpec,
        created: &[ChannelId],
    ) -> Result<MonitorSpec, StoreError> {
        let Some(indices) = self.links.get(spec.name()) else {
            return Ok(spec.clone());
        };
        let mut draft = spec.to_draft();
        let mut ids = draft.channel_ids.take().unwrap_or_default();
        for &index in indices {
            let id = created
                .get(index)
                .ok_or_else(|| StoreError::Corrupt(format!("no new channel number {index}")))?;
            ids.push(id.0);
        }
        draft.channel_ids = Some(ids);
        MonitorSpec::parse(draft, &Rules::STORED)
            .map_err(|e| StoreError::Corrupt(format!("monitor `{}`: {e}", spec.name())))
    }
}

/// What was done, as it now is.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// The monitors created.
    pub created: Vec<Monitor>,
    /// The monitors updated.
    pub updated: Vec<Monitor>,
    /// The monitors deleted.
    pub deleted: Vec<MonitorId>,
}

/// Several changes at once.
#[async_trait]
pub trait ApplyStore: Send + Sync + 'static {
    /// Makes every change of `changes` to `owner`'s channels and monitors in one
    /// transaction, or none: [`StoreError::Conflict`]`("monitor")` (`("channel")`) if a
    /// monitor (channel) to update or delete is gone, `("name")` (`("channel name")`) if a
    /// name is taken, [`StoreError::LimitReached`] past `limit`.
    async fn apply_changes(
        &self,
        owner: UserId,
        changes: &Changes,
        limit: u32,
    ) -> Result<Applied, StoreError>;
}
