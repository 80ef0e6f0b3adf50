//! The channels of a document: what applying its `channels:` section changes (checked as
//! the channels API checks them, URLs against the same address guard), and which of them a
//! monitor names. Secrets never show in the plan: a changed one reads `changed`.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::ServiceError;
use super::channels::MAX_PER_ACCOUNT;
use super::documents::{FieldChange, Update};
use crate::alerting::channels::{Channel, ChannelConfig, ChannelError, ChannelKind, Guard};
use crate::document::{DocChannel, Document, channel_error, first_reference, secret_fields};
use crate::store::Changes;

/// What applying a document does (or did) to the account's channels, by name, sorted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct ChannelPlan {
    /// Channels the document adds.
    pub created: Vec<String>,
    /// Channels whose settings change (a secret's values never shown).
    pub updated: Vec<Update>,
    /// Channels deleted because the document's `channels` no longer names them (`prune`).
    pub deleted: Vec<String>,
    /// Channels already as the document says.
    pub unchanged: Vec<String>,
}

impl ChannelPlan {
    /// Whether applying changes no channel.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.updated.is_empty() && self.deleted.is_empty()
    }

    /// Whether the document said nothing of channels (the plan then leaves them out).
    pub fn is_blank(&self) -> bool {
        self.is_empty() && self.unchanged.is_empty()
    }
}

/// A channel a monitor may name: one the account has, or one this application creates
/// (its index in [`Changes::create_channels`]).
#[derive(Debug, Clone, Copy)]
pub enum Named {
    /// An existing channel's id.
    Existing(i64),
    /// A channel created by this application.
    New(usize),
}

/// Plans the document's channels into `changes` against the account's `current` ones, and
/// answers every name a monitor may then use.
pub fn plan_channels(
    document: &Document,
    current: &[Channel],
    guard: &Guard,
    prune: bool,
    changes: &mut Changes,
) -> Result<(ChannelPlan, BTreeMap<String, Named>), ServiceError> {
    let mut plan = ChannelPlan::default();
    let mut names: BTreeMap<String, Named> = current
        .iter()
        .map(|c| (c.name.clone(), Named::Existing(c.id.0)))
        .collect();
    let Some(entries) = &document.channels else {
        return Ok((plan, names));
    };
    let by_name: BTreeMap<&str, &Channel> = current.iter().map(|c| (c.name.as_str(), c)).collect();
    for (name, entry) in entries {
        let config = config(name, entry, guard)?;
        match by_name.get(name.as_str()) {
            None => {
                names.insert(name.clone(), Named::New(changes.create_channels.len()));
                changes.create_channels.push((name.clone(), config));
                plan.created.push(name.clone());
            }
            Some(channel) if channel.config.kind() != config.kind() => {
                return Err(channel_error(
                    name,
                    Some("kind"),
                    format!(
                        "a channel's kind cannot change (it is {}); give the new one another \
                         name",
                        channel.config.kind()
                    ),
                )
                .into());
            }
            Some(channel) if channel.config == config => plan.unchanged.push(name.clone()),
            Some(channel) => {
                plan.updated.push(Update {
                    name: name.clone(),
                    changes: diff(&channel.config, &config),
                });
                changes.update_channels.push((channel.id, config));
            }
        }
    }
    if prune {
        for channel in current {
            if !entries.contains_key(&channel.name) {
                names.remove(&channel.name);
                plan.deleted.push(channel.name.clone());
                changes.delete_channels.push(channel.id);
            }
        }
    }
    let total = current.len() + plan.created.len() - plan.deleted.len();
    if total > MAX_PER_ACCOUNT {
        return Err(ServiceError::Invalid(format!(
            "channels: an account may have at most {MAX_PER_ACCOUNT} channels (the document \
             would make {total})"
        )));
    }
    Ok((plan, names))
}

/// The entry's settings checked as the channels API checks them; a `${…}` reference that
/// reached the server unresolved is refused, so none is ever stored.
fn config(name: &str, entry: &DocChannel, guard: &Guard) -> Result<ChannelConfig, ServiceError> {
    let settings = Value::Object(entry.settings.clone().into_iter().collect());
    if let Some(field) = first_reference(&settings, "") {
        return Err(channel_error(
            name,
            Some(&field),
            "holds an unresolved `${…}` reference: `tocsin apply` replaces references with \
             the values of its environment variables before sending; the server stores none"
                .into(),
        )
        .into());
    }
    let kind = ChannelKind::from_str(&entry.kind).map_err(|_| {
        channel_error(
            name,
            Some("kind"),
            format!("`{}` is not a channel kind", entry.kind),
        )
    })?;
    ChannelConfig::parse(kind, settings, guard).map_err(|e| {
        let (ChannelError::Invalid(message) | ChannelError::Blocked(message)) = e;
        match message.split_once(": ") {
            Some((field, why)) => channel_error(name, Some(field), why.to_owned()),
            None => channel_error(name, None, message),
        }
        .into()
    })
}

/// The top-level settings whose values differ; a secret's reads `changed` both ways.
fn diff(from: &ChannelConfig, to: &ChannelConfig) -> Vec<FieldChange> {
    let secret: Vec<String> = secret_fields(from)
        .into_iter()
        .chain(secret_fields(to))
        .map(|path| path.split('.').next().unwrap_or_default().to_owned())
        .collect();
    let (Value::Object(a), Value::Object(b)) = (from.to_stored(), to.to_stored()) else {
        return Vec::new();
    };
    let mut fields: Vec<&String> = a.keys().chain(b.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|field| a.get(*field) != b.get(*field))
        .map(|field| {
            let (from, to) = if secret.contains(field) {
                (Value::from("changed"), Value::from("changed"))
            } else {
                (
                    a.get(field).cloned().unwrap_or_default(),
                    b.get(field).cloned().unwrap_or_default(),
                )
            };
            FieldChange {
                field: field.clone(),
                from,
                to,
            }
        })
        .collect()
}
