//! Monitors as code: applying a whole account's document (plan, then all of it in one
//! transaction, or none) and exporting the account as a document. Events are published
//! only after the transaction committed.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use super::document_channels::{ChannelPlan, Named, plan_channels};
use super::{Event, Monitors, ServiceError};
use crate::alerting::channels::Guard;
use crate::auth::UserId;
use crate::document::{DocChannel, DocMonitor, Document};
use crate::monitor::{Monitor, MonitorError, MonitorSpec};
use crate::store::{Changes, StoreError};

/// What applying a document does (or did), by monitor name, sorted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Plan {
    /// Monitors the document adds.
    pub created: Vec<String>,
    /// Monitors whose settings change, with each field's change.
    pub updated: Vec<Update>,
    /// Monitors deleted because the document no longer names them (with `prune` only).
    pub deleted: Vec<String>,
    /// Monitors already as the document says.
    pub unchanged: Vec<String>,
    /// The channels' plan, left out when the document has no `channels` section.
    #[serde(skip_serializing_if = "ChannelPlan::is_blank")]
    pub channels: ChannelPlan,
}

impl Plan {
    /// Whether applying changes nothing.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty()
            && self.updated.is_empty()
            && self.deleted.is_empty()
            && self.channels.is_empty()
    }
}

/// One monitor's changes.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Update {
    /// The monitor's name.
    pub name: String,
    /// Each field that changes.
    pub changes: Vec<FieldChange>,
}

/// One field's change; a field at its default reads `null`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldChange {
    /// The field, as the API names it.
    pub field: String,
    /// Its value now.
    #[schema(value_type = Object)]
    pub from: serde_json::Value,
    /// Its value once applied.
    #[schema(value_type = Object)]
    pub to: serde_json::Value,
}

impl Monitors {
    /// Makes the owner's monitors what `document` says: creates and updates (and, with
    /// `prune`, deletes what it no longer names) in one transaction, all or nothing, and
    /// answers the plan. With `dry_run`, only answers it. Applying twice changes nothing.
    pub async fn apply(
        &self,
        owner: UserId,
        document: &Document,
        prune: bool,
        dry_run: bool,
    ) -> Result<Plan, ServiceError> {
        let mut changes = Changes::default();
        let guard = Guard {
            allow_private: self.rules.allow_private_targets,
            networks: self.rules.private_networks.clone(),
        };
        let current_channels = self.store.list_channels(owner).await?;
        let (channel_plan, channels) =
            plan_channels(document, &current_channels, &guard, prune, &mut changes)?;
        let mut wanted = BTreeMap::new();
        for (name, entry) in &document.monitors {
            let mut draft = entry.to_draft(name);
            if let Some(names) = &entry.channels {
                if entry.channel_ids.is_some() {
                    return Err(document
                        .error(
                            name,
                            Some("channels"),
                            "give `channels` (by name) or `channel_ids`, not both".into(),
                        )
                        .into());
                }
                let mut ids = Vec::new();
                for channel in names {
                    match channels.get(channel) {
                        Some(Named::Existing(id)) => ids.push(*id),
                        Some(Named::New(index)) => {
                            changes.links.entry(name.clone()).or_default().push(*index);
                        }
                        None => {
                            return Err(document
                                .error(
                                    name,
                                    Some("channels"),
                                    format!("the account has no channel named `{channel}`"),
                                )
                                .into());
                        }
                    }
                }
                draft.channel_ids = Some(ids);
            }
            let spec = MonitorSpec::parse(draft, &self.rules).map_err(|e| {
                let message = match &e {
                    MonitorError::Invalid { message, .. } | MonitorError::Blocked { message } => {
                        message.clone()
                    }
                };
                document.error(name, Some(e.field()), message)
            })?;
            // A document may name only the account's own channels.
            super::channels::check_owned(self.store.as_ref(), owner, spec.alerts().channels())
                .await
                .map_err(|e| match e {
                    ServiceError::Invalid(why) => {
                        let why = why.strip_prefix("channel_ids: ").unwrap_or(&why).to_owned();
                        document.error(name, Some("channel_ids"), why).into()
                    }
                    other => other,
                })?;
            wanted.insert(name.clone(), (spec, entry.paused.unwrap_or(false)));
        }
        let current: BTreeMap<String, Monitor> = self
            .store
            .list_monitors(owner)
            .await?
            .into_iter()
            .map(|m| (m.spec.name().to_owned(), m))
            .collect();

        let mut plan = Plan {
            channels: channel_plan,
            ..Plan::default()
        };
        for (name, (spec, paused)) in wanted {
            match current.get(&name) {
                None => {
                    plan.created.push(name);
                    changes.create.push((spec, paused));
                }
                Some(monitor) => {
                    let mut diff = diff(
                        &DocMonitor::full(&monitor.spec, monitor.paused),
                        &DocMonitor::full(&spec, paused),
                    );
                    // A channel made by this application is not in the spec yet.
                    if changes.links.contains_key(&name) {
                        diff.push(FieldChange {
                            field: "channels".into(),
                            from: serde_json::Value::Null,
                            to: serde_json::json!(document.monitors[&name].channels),
                        });
                    }
                    if diff.is_empty() {
                        plan.unchanged.push(name);
                    } else {
                        plan.updated.push(Update {
                            name,
                            changes: diff,
                        });
                        changes.update.push((monitor.id, spec, paused));
                    }
                }
            }
        }
        if prune {
            for (name, monitor) in &current {
                if !document.monitors.contains_key(name) {
                    plan.deleted.push(name.clone());
                    changes.delete.push(monitor.id);
                }
            }
        }
        if dry_run || plan.is_empty() {
            return Ok(plan);
        }
        let applied = self
            .store
            .apply_changes(owner, &changes, self.max_per_user)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => ServiceError::Concurrent(
                    "the account's monitors or channels changed while the document was \
                     applied: apply it again"
                        .into(),
                ),
                other => other.into(),
            })?;
        for id in applied.deleted {
            self.events.publish(Event::MonitorRemoved { owner, id });
        }
        for monitor in applied.updated {
            self.events
                .publish(Event::MonitorChanged(Arc::new(monitor)));
        }
        for monitor in applied.created {
            self.events
                .publish(Event::MonitorCreated(Arc::new(monitor)));
        }
        Ok(plan)
    }

    /// The owner's monitors as a document, each with only what differs from its defaults,
    /// and its channels by name.
    pub async fn export(&self, owner: UserId) -> Result<Document, ServiceError> {
        let channels = self.store.list_channels(owner).await?;
        let names: BTreeMap<i64, String> =
            channels.iter().map(|c| (c.id.0, c.name.clone())).collect();
        let mut document = Document::default();
        if !channels.is_empty() {
            document.channels = Some(
                channels
                    .iter()
                    .map(|c| (c.name.clone(), DocChannel::export(c)))
                    .collect(),
            );
        }
        for monitor in self.store.list_monitors(owner).await? {
            let mut entry = DocMonitor::export(&monitor);
            if let Some(ids) = &entry.channel_ids {
                let named: Option<Vec<String>> =
                    ids.iter().map(|id| names.get(id).cloned()).collect();
                if let Some(named) = named {
                    entry.channels = Some(named);
                    entry.channel_ids = None;
                }
            }
            document
                .monitors
                .insert(monitor.spec.name().to_owned(), entry);
        }
        Ok(document)
    }
}

/// The fields whose values differ, in the order a monitor lists them.
fn diff(from: &DocMonitor, to: &DocMonitor) -> Vec<FieldChange> {
    let (Ok(serde_json::Value::Object(from)), Ok(serde_json::Value::Object(to))) =
        (serde_json::to_value(from), serde_json::to_value(to))
    else {
        return Vec::new();
    };
    let mut fields: Vec<&String> = from.keys().chain(to.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter_map(|field| {
            let (a, b) = (from.get(field), to.get(field));
            (a != b).then(|| FieldChange {
                field: field.clone(),
                from: a.cloned().unwrap_or_default(),
                to: b.cloned().unwrap_or_default(),
            })
        })
        .collect()
}
