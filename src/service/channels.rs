//! Channels: creating, changing, testing and deleting an account's notification channels.
//! Settings are checked here once (URLs against the address guard); a channel that exists
//! is valid. Secrets stay inside: what leaves is [`ChannelConfig::public`].

use std::str::FromStr;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Map, Value};

use super::ServiceError;
use crate::alerting::ChannelId;
use crate::alerting::channels::{
    Channel, ChannelConfig, ChannelError, ChannelKind, Notice, Outbound,
};
use crate::auth::UserId;
use crate::store::{Store, StoreError};
use std::sync::Arc;

/// The longest channel name.
pub const MAX_NAME: usize = 100;
/// The most channels one account may have.
pub const MAX_PER_ACCOUNT: usize = 100;

/// A client's channel, as the API receives it: `name`, `kind` and the kind's settings.
#[derive(Debug, Clone)]
pub struct ChannelDraft {
    /// `name`.
    pub name: Option<String>,
    /// `kind`.
    pub kind: Option<String>,
    /// Every other field: the kind's settings.
    pub settings: Map<String, Value>,
}

impl ChannelDraft {
    /// Splits a JSON object into `name`, `kind` and the rest.
    pub fn from_object(mut object: Map<String, Value>) -> Result<Self, ServiceError> {
        let mut text = |key: &str| match object.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ServiceError::Invalid(format!("{key}: must be a string"))),
        };
        let name = text("name")?;
        let kind = text("kind")?;
        Ok(Self {
            name,
            kind,
            settings: object,
        })
    }
}

/// How a test went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// Whether the receiver took the test event.
    pub delivered: bool,
    /// The receiver's error when it did not.
    pub error: Option<String>,
}

/// The channel use cases. Cheap to clone.
#[derive(Clone)]
pub struct Channels {
    store: Arc<dyn Store>,
    outbound: Outbound,
    guard: crate::alerting::channels::Guard,
    timeout: Duration,
}

impl From<ChannelError> for ServiceError {
    fn from(error: ChannelError) -> Self {
        match error {
            ChannelError::Invalid(message) => Self::Invalid(message),
            ChannelError::Blocked(message) => Self::Blocked(message),
        }
    }
}

fn name(raw: Option<String>) -> Result<String, ServiceError> {
    let name = raw.ok_or_else(|| ServiceError::Invalid("name: is required".into()))?;
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(ServiceError::Invalid(format!(
            "name: must be 1 to {MAX_NAME} characters"
        )));
    }
    Ok(name)
}

fn taken(name: &str) -> impl Fn(StoreError) -> ServiceError + '_ {
    move |error| match error {
        StoreError::Conflict(_) => {
            ServiceError::Conflict(format!("name: you already have a channel named `{name}`"))
        }
        other => other.into(),
    }
}

impl Channels {
    /// Channels kept in `store`, delivering through `outbound` (the guard checks their
    /// URLs); a test waits at most `timeout` for the receiver.
    pub fn new(
        store: Arc<dyn Store>,
        outbound: Outbound,
        guard: crate::alerting::channels::Guard,
        timeout: Duration,
    ) -> Self {
        Self {
            store,
            outbound,
            guard,
            timeout,
        }
    }

    /// Creates a channel from a client's draft.
    pub async fn create(
        &self,
        owner: UserId,
        draft: ChannelDraft,
    ) -> Result<Channel, ServiceError> {
        let name = name(draft.name)?;
        let kind = draft.kind.ok_or_else(|| {
            ServiceError::Invalid(format!("kind: is required (one of {})", kinds()))
        })?;
        let kind = ChannelKind::from_str(&kind).map_err(|_| {
            ServiceError::Invalid(format!("kind: `{kind}` is not one of {}", kinds()))
        })?;
        let config = ChannelConfig::parse(kind, Value::Object(draft.settings), &self.guard)?;
        if self.store.list_channels(owner).await?.len() >= MAX_PER_ACCOUNT {
            return Err(ServiceError::Invalid(format!(
                "an account may have at most {MAX_PER_ACCOUNT} channels; delete one first"
            )));
        }
        if kind == ChannelKind::Email && self.outbound.smtp.is_none() {
            return Err(ServiceError::Invalid(
                "kind: email channels need the server's SMTP relay (TOCSIN_SMTP_URL and \
                 TOCSIN_SMTP_FROM), which is not set"
                    .into(),
            ));
        }
        self.store
            .create_channel(owner, &name, &config)
            .await
            .map_err(taken(&name))
    }

    /// The owner's channels, oldest first.
    pub async fn list(&self, owner: UserId) -> Result<Vec<Channel>, ServiceError> {
        Ok(self.store.list_channels(owner).await?)
    }

    /// One of the owner's channels.
    pub async fn get(&self, owner: UserId, id: ChannelId) -> Result<Channel, ServiceError> {
        self.store
            .get_channel(owner, id)
            .await?
            .ok_or(ServiceError::NotFound("channel"))
    }

    /// Changes a channel: absent fields stay (secrets too), `null` removes an optional one;
    /// the kind cannot change.
    pub async fn update(
        &self,
        owner: UserId,
        id: ChannelId,
        patch: ChannelDraft,
    ) -> Result<Channel, ServiceError> {
        let current = self.get(owner, id).await?;
        if let Some(kind) = &patch.kind
            && kind != current.config.kind().as_str()
        {
            return Err(ServiceError::Invalid(format!(
                "kind: a channel's kind cannot change (it is {}); make a new channel",
                current.config.kind()
            )));
        }
        let name = match patch.name {
            Some(raw) => name(Some(raw))?,
            None => current.name,
        };
        let config = current.config.patched(patch.settings, &self.guard)?;
        self.store
            .update_channel(owner, id, &name, &config)
            .await
            .map_err(taken(&name))?
            .ok_or(ServiceError::NotFound("channel"))
    }

    /// Deletes a channel; monitors that named it stop naming it.
    pub async fn delete(&self, owner: UserId, id: ChannelId) -> Result<(), ServiceError> {
        if self.store.delete_channel(owner, id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("channel"))
        }
    }

    /// Sends a `test` event to the channel now and says whether the receiver took it.
    pub async fn test(&self, owner: UserId, id: ChannelId) -> Result<TestOutcome, ServiceError> {
        let channel = self.get(owner, id).await?;
        let notice = Notice::test(Utc::now());
        let sent = tokio::time::timeout(
            self.timeout,
            channel
                .config
                .deliverer()
                .deliver(&self.outbound, std::slice::from_ref(&notice)),
        )
        .await;
        let error = match sent {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(error),
            Err(_) => Some(format!(
                "the receiver did not answer within {}",
                humantime::format_duration(self.timeout)
            )),
        };
        Ok(TestOutcome {
            delivered: error.is_none(),
            error,
        })
    }

    /// Fails naming the first of `ids` that is not one of the owner's channels.
    pub async fn check_owned(&self, owner: UserId, ids: &[ChannelId]) -> Result<(), ServiceError> {
        check_owned(self.store.as_ref(), owner, ids).await
    }
}

/// Fails naming the first of `ids` that is not one of the owner's channels.
pub async fn check_owned(
    store: &dyn Store,
    owner: UserId,
    ids: &[ChannelId],
) -> Result<(), ServiceError> {
    match store.foreign_channels(owner, ids).await?.first() {
        None => Ok(()),
        Some(id) => Err(ServiceError::Invalid(format!(
            "channel_ids: {} is not one of your channels",
            id.0
        ))),
    }
}

fn kinds() -> String {
    ChannelKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
