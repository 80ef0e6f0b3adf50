//! Notification channels: where an account's alerts go. Each kind lives in its own module
//! behind one small trait, [`Deliver`]; this module holds what they share: the kind names,
//! parsing a client's settings (checked once, secrets kept), what the API may show of them
//! (never a secret), and the notice a delivery carries.

mod discord;
mod email;
pub mod http;
mod ntfy;
mod pagerduty;
mod slack;
mod teams;
mod telegram;
pub mod text;
mod webhook;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Cause, ChannelId, EventKind, IncidentId, IncidentKind, UnknownName, named};
use crate::auth::UserId;

pub use email::Smtp;
pub use http::{Guard, Outbound};

/// What a channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// A JSON POST per event to any URL, optionally signed.
    Webhook,
    /// An email through the server's SMTP relay.
    Email,
    /// A Slack incoming webhook.
    Slack,
    /// A Discord webhook.
    Discord,
    /// A Microsoft Teams incoming webhook (workflow), as an Adaptive Card.
    Teams,
    /// An ntfy topic.
    Ntfy,
    /// A Telegram chat, through a bot.
    Telegram,
    /// PagerDuty Events API v2.
    Pagerduty,
}

named!(
    ChannelKind,
    "channel kind",
    [
        (Webhook, "webhook"),
        (Email, "email"),
        (Slack, "slack"),
        (Discord, "discord"),
        (Teams, "teams"),
        (Ntfy, "ntfy"),
        (Telegram, "telegram"),
        (Pagerduty, "pagerduty"),
    ]
);

/// A channel setting that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// A field is missing, of the wrong type or out of bounds; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// A URL names an internal address while private targets are refused.
    #[error("{0}")]
    Blocked(String),
}

impl ChannelError {
    fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        Self::Invalid(format!("{field}: {message}"))
    }
}

/// A kind's settings, secrets included (they are stored, and used to deliver).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelConfig {
    /// `webhook`.
    Webhook(webhook::Config),
    /// `email`.
    Email(email::Config),
    /// `slack`.
    Slack(slack::Config),
    /// `discord`.
    Discord(discord::Config),
    /// `teams`.
    Teams(teams::Config),
    /// `ntfy`.
    Ntfy(ntfy::Config),
    /// `telegram`.
    Telegram(telegram::Config),
    /// `pagerduty`.
    Pagerduty(pagerduty::Config),
}

/// How one kind checks its settings and shows them.
trait Settings: DeserializeOwned + serde::Serialize {
    /// Checks the values the type cannot (URLs against the guard, bounds).
    fn check(&self, guard: &Guard) -> Result<(), ChannelError>;
    /// The settings as the API shows them: secrets replaced by whether they are set.
    fn public(&self) -> Value;
}

/// Delivers notices to one kind of receiver.
#[async_trait]
pub trait Deliver: Send + Sync {
    /// Whether several notices due at once go out as one message (chat and email), rather
    /// than one request each (machines: webhooks, PagerDuty).
    fn groups(&self) -> bool;

    /// Sends `notices` (exactly one when [`Deliver::groups`] is false); an error is the
    /// receiver's answer or why it could not be reached, without secrets.
    async fn deliver(&self, out: &Outbound, notices: &[Notice]) -> Result<(), String>;
}

macro_rules! each_kind {
    ($self:expr, $c:ident => $body:expr) => {
        match $self {
            ChannelConfig::Webhook($c) => $body,
            ChannelConfig::Email($c) => $body,
            ChannelConfig::Slack($c) => $body,
            ChannelConfig::Discord($c) => $body,
            ChannelConfig::Teams($c) => $body,
            ChannelConfig::Ntfy($c) => $body,
            ChannelConfig::Telegram($c) => $body,
            ChannelConfig::Pagerduty($c) => $body,
        }
    };
}

impl ChannelConfig {
    /// Parses a client's settings for `kind` (an object without `name` and `kind`) and
    /// checks them, URLs against `guard`.
    pub fn parse(kind: ChannelKind, settings: Value, guard: &Guard) -> Result<Self, ChannelError> {
        let config = Self::read(kind, settings)?;
        each_kind!(&config, c => c.check(guard))?;
        Ok(config)
    }

    /// Reads settings as stored: checked when they were saved, so not again (the guard's
    /// settings may have changed since; deliveries check addresses anyway).
    pub fn stored(kind: ChannelKind, settings: Value) -> Result<Self, ChannelError> {
        Self::read(kind, settings)
    }

    fn read(kind: ChannelKind, settings: Value) -> Result<Self, ChannelError> {
        fn de<T: DeserializeOwned>(kind: ChannelKind, value: Value) -> Result<T, ChannelError> {
            serde_path_to_error::deserialize(value).map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." {
                    kind.as_str().to_owned()
                } else {
                    path
                };
                ChannelError::invalid(&field, e.inner())
            })
        }
        Ok(match kind {
            ChannelKind::Webhook => Self::Webhook(de(kind, settings)?),
            ChannelKind::Email => Self::Email(de(kind, settings)?),
            ChannelKind::Slack => Self::Slack(de(kind, settings)?),
            ChannelKind::Discord => Self::Discord(de(kind, settings)?),
            ChannelKind::Teams => Self::Teams(de(kind, settings)?),
            ChannelKind::Ntfy => Self::Ntfy(de(kind, settings)?),
            ChannelKind::Telegram => Self::Telegram(de(kind, settings)?),
            ChannelKind::Pagerduty => Self::Pagerduty(de(kind, settings)?),
        })
    }

    /// The kind.
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::Webhook(_) => ChannelKind::Webhook,
            Self::Email(_) => ChannelKind::Email,
            Self::Slack(_) => ChannelKind::Slack,
            Self::Discord(_) => ChannelKind::Discord,
            Self::Teams(_) => ChannelKind::Teams,
            Self::Ntfy(_) => ChannelKind::Ntfy,
            Self::Telegram(_) => ChannelKind::Telegram,
            Self::Pagerduty(_) => ChannelKind::Pagerduty,
        }
    }

    /// The settings to store, secrets included.
    pub fn to_stored(&self) -> Value {
        each_kind!(self, c => serde_json::to_value(c).unwrap_or(Value::Null))
    }

    /// The settings as the API shows them, without secrets.
    pub fn public(&self) -> Value {
        each_kind!(self, c => c.public())
    }

    /// The settings after `patch` (top-level keys replace, `null` removes), checked again.
    pub fn patched(&self, patch: Map<String, Value>, guard: &Guard) -> Result<Self, ChannelError> {
        let mut merged = match self.to_stored() {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        for (key, value) in patch {
            if value.is_null() {
                merged.remove(&key);
            } else {
                merged.insert(key, value);
            }
        }
        Self::parse(self.kind(), Value::Object(merged), guard)
    }

    /// The kind's delivery.
    pub fn deliverer(&self) -> &dyn Deliver {
        each_kind!(self, c => c as &dyn Deliver)
    }
}

/// A channel of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Its id.
    pub id: ChannelId,
    /// The account it belongs to.
    pub owner: UserId,
    /// Its name, unique in the account.
    pub name: String,
    /// Its kind and settings.
    pub config: ChannelConfig,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The monitor a notice is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeMonitor {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// What it checks.
    pub url: String,
}

/// The incident a notice is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeIncident {
    /// Its id (PagerDuty's dedup key).
    pub id: IncidentId,
    /// What it is about.
    pub kind: IncidentKind,
    /// The first check of the failing run.
    pub started_at: DateTime<Utc>,
    /// When it ended, if it has.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// One event as a channel delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The event's id: the same on every attempt, so receivers can drop repeats. 0 for a
    /// test, which is no stored event.
    pub event_id: i64,
    /// What happened.
    pub event: EventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// The monitor; `None` for a test.
    pub monitor: Option<NoticeMonitor>,
    /// The incident; `None` for a test.
    pub incident: Option<NoticeIncident>,
    /// The check that opened the incident.
    pub cause: Option<Cause>,
}

impl Notice {
    /// The `test` notice a channel's test sends.
    pub fn test(at: DateTime<Utc>) -> Self {
        Self {
            event_id: 0,
            event: EventKind::Test,
            at,
            monitor: None,
            incident: None,
            cause: None,
        }
    }
}

/// Whether `value` is set, for [`Settings::public`] in place of a secret.
fn is_set(value: &Option<String>) -> Value {
    Value::Bool(value.as_deref().is_some_and(|v| !v.is_empty()))
}

/// A required text field: not blank, at most `max` characters.
fn text_field(field: &str, value: &str, max: usize) -> Result<(), ChannelError> {
    if value.trim().is_empty() {
        return Err(ChannelError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(ChannelError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}
