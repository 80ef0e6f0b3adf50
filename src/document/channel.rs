//! One channel as a document writes it: its `kind` and the kind's settings, as the channels
//! API takes them (its name is the document's key). A secret may be a `${VAR}` reference,
//! which `tocsin apply` resolves from its environment before sending; the server refuses
//! one that arrives unresolved, and an export writes every secret as such a reference.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::alerting::channels::{Channel, ChannelConfig};

/// A channel in a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocChannel {
    /// `webhook`, `slack`, `email`, … (see the channels API).
    pub kind: String,
    /// The kind's settings.
    #[serde(flatten)]
    pub settings: BTreeMap<String, Value>,
}

impl DocChannel {
    /// The channel as an export writes it: every secret replaced by the reference
    /// `${TOCSIN_<CHANNEL>_<FIELD>}`, so the document re-applies once those are set.
    pub fn export(channel: &Channel) -> Self {
        let stored = channel.config.to_stored();
        let public = channel.config.public();
        let mut settings = match stored {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let prefix = format!("TOCSIN_{}", env_part(&channel.name));
        for (key, value) in settings.iter_mut() {
            hide(
                value,
                public.get(key),
                &format!("{prefix}_{}", env_part(key)),
            );
        }
        Self {
            kind: channel.config.kind().as_str().to_owned(),
            settings: settings.into_iter().collect(),
        }
    }
}

/// The paths (`field` or `field.key`) of `config`'s secrets: the text the API never shows.
pub fn secret_fields(config: &ChannelConfig) -> Vec<String> {
    let public = config.public();
    let mut found = Vec::new();
    if let Value::Object(stored) = config.to_stored() {
        for (key, value) in &stored {
            collect(value, public.get(key), key, &mut found);
        }
    }
    found
}

fn collect(stored: &Value, public: Option<&Value>, path: &str, found: &mut Vec<String>) {
    match stored {
        Value::String(_) if public != Some(stored) => found.push(path.to_owned()),
        Value::Object(map) => {
            for (key, value) in map {
                let shown = public.and_then(|p| p.get(key));
                collect(value, shown, &format!("{path}.{key}"), found);
            }
        }
        _ => {}
    }
}

/// Replaces each secret text under `value` (what `public` does not show as it is) by a
/// reference named `name`.
fn hide(value: &mut Value, public: Option<&Value>, name: &str) {
    match value {
        Value::String(_) if public != Some(&*value) => {
            *value = Value::String(format!("${{{name}}}"))
        }
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                let shown = public.and_then(|p| p.get(key.as_str()));
                hide(inner, shown, &format!("{name}_{}", env_part(key)));
            }
        }
        _ => {}
    }
}

/// `name` as part of an environment variable's name: upper case, letters, digits and `_`.
fn env_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The first `${…}` reference in `value`'s texts, with its path under `path`.
pub fn first_reference(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(text) if text.contains("${") => Some(path.to_owned()),
        Value::Object(map) => map
            .iter()
            .find_map(|(key, inner)| first_reference(inner, &join(path, key))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, inner)| first_reference(inner, &join(path, &i.to_string()))),
        _ => None,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}
