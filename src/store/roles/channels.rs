//! Notification channels and the outbox their notifications wait in.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::alerting::ChannelId;
use crate::alerting::channels::{Channel, ChannelConfig, Notice};
use crate::auth::UserId;
use crate::store::StoreError;

/// An account's channels.
#[async_trait]
pub trait ChannelStore: Send + Sync + 'static {
    /// Creates a channel; [`StoreError::Conflict`] (`"channel name"`) if the owner has one
    /// of that name.
    async fn create_channel(
        &self,
        owner: UserId,
        name: &str,
        config: &ChannelConfig,
    ) -> Result<Channel, StoreError>;

    /// The owner's channels, oldest first.
    async fn list_channels(&self, owner: UserId) -> Result<Vec<Channel>, StoreError>;

    /// One of the owner's channels.
    async fn get_channel(
        &self,
        owner: UserId,
        id: ChannelId,
    ) -> Result<Option<Channel>, StoreError>;

    /// Replaces a channel's name and settings (not its kind); `None` if the owner has no
    /// such channel, [`StoreError::Conflict`] if the name is taken.
    async fn update_channel(
        &self,
        owner: UserId,
        id: ChannelId,
        name: &str,
        config: &ChannelConfig,
    ) -> Result<Option<Channel>, StoreError>;

    /// Deletes a channel, its pending notifications, and its id from the owner's monitors'
    /// `channel_ids`, in one transaction; false if the owner had no such channel.
    async fn delete_channel(&self, owner: UserId, id: ChannelId) -> Result<bool, StoreError>;

    /// Those of `ids` that are not the owner's channels, ascending.
    async fn foreign_channels(
        &self,
        owner: UserId,
        ids: &[ChannelId],
    ) -> Result<Vec<ChannelId>, StoreError>;
}

/// A notification claimed for delivery.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The notification's id.
    pub id: i64,
    /// Attempts before this one.
    pub attempts: u32,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Where it goes.
    pub channel: Channel,
    /// What it says.
    pub notice: Notice,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver took it.
    Delivered {
        /// When.
        at: DateTime<Utc>,
    },
    /// It failed; try again at `next`.
    Retry {
        /// The receiver's error.
        error: String,
        /// The next attempt.
        next: DateTime<Utc>,
    },
    /// It failed for the last time.
    Failed {
        /// The receiver's error.
        error: String,
    },
}

/// The outbox: notifications any instance may claim, deliver and settle.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Claims up to `limit` pending notifications due at `now` and not claimed by anyone
    /// (or whose claim lapsed), skipping the channels in `busy`; each stays this caller's
    /// until `until`. Rows another instance is claiming at the same moment are skipped, not
    /// waited for.
    async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
        busy: &[ChannelId],
    ) -> Result<Vec<Claimed>, StoreError>;

    /// Records how attempts ended, counting each one, and releases their claims.
    async fn settle_notifications(&self, outcomes: &[(i64, Outcome)]) -> Result<(), StoreError>;
}
