//! Gatus's `config.yaml`: each of its `endpoints` becomes a monitor. Conditions are in the
//! same syntax and carry over as they are; DNS endpoints (a resolver as `url` and a `dns`
//! query) become `dns://` URLs; `enabled: false` becomes `paused`; the first alert's
//! thresholds become the monitor's. Alerting providers, groups and the other sections are
//! named in notes.

use std::collections::BTreeMap;

use serde_norway::Value;

use super::{DNS_TYPES, Imported, seconds};
use crate::document::DocMonitor;

/// Converts a Gatus configuration.
pub fn gatus(text: &str) -> Result<Imported, String> {
    let config: Value = serde_norway::from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    let Value::Mapping(config) = config else {
        return Err("not a Gatus configuration: expected a mapping with `endpoints`".into());
    };
    let mut imported = Imported::default();
    let mut endpoints = None;
    for (key, value) in config {
        match key.as_str() {
            Some("endpoints") => endpoints = Some(value),
            Some(other) => imported.notes.push(format!(
                "the `{other}` section (tocsin has its own settings)"
            )),
            None => {}
        }
    }
    let Some(Value::Sequence(endpoints)) = endpoints else {
        return Err("not a Gatus configuration: no `endpoints` list".into());
    };
    for (index, endpoint) in endpoints.into_iter().enumerate() {
        let Value::Mapping(endpoint) = endpoint else {
            return Err(format!("endpoints[{index}]: not a mapping"));
        };
        let fields: BTreeMap<String, Value> = endpoint
            .into_iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v)))
            .collect();
        endpoint_monitor(&mut imported, index, fields);
    }
    Ok(imported)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn endpoint_monitor(imported: &mut Imported, index: usize, mut fields: BTreeMap<String, Value>) {
    let url = fields
        .remove("url")
        .as_ref()
        .and_then(text)
        .unwrap_or_default();
    let name = fields
        .remove("name")
        .as_ref()
        .and_then(text)
        .unwrap_or_else(|| format!("endpoint {}", index + 1));
    let mut note = |what: String| imported.notes.push(format!("monitor `{name}`: {what}"));
    let mut monitor = DocMonitor::default();

    let dns = fields.remove("dns");
    monitor.url = match (&dns, url.split_once("://")) {
        (Some(Value::Mapping(query)), _) => {
            let get = |key: &str| query.get(key).and_then(text);
            let kind = get("query-type")
                .unwrap_or_else(|| "A".into())
                .to_uppercase();
            let Some(query_name) = get("query-name") else {
                note("`dns` without `query-name`: skipped".into());
                return;
            };
            if !DNS_TYPES.contains(&kind.as_str()) {
                note(format!(
                    "DNS query type `{kind}` (tocsin asks for {}): skipped",
                    DNS_TYPES.join(", ")
                ));
                return;
            }
            let resolver = url
                .trim_start_matches("udp://")
                .trim_start_matches("tcp://");
            format!(
                "dns://{resolver}/{}?type={kind}",
                query_name.trim_end_matches('.')
            )
        }
        (_, Some((scheme, _))) if ["http", "https", "tcp", "tls"].contains(&scheme) => url.clone(),
        (_, Some((scheme, _))) => {
            note(format!(
                "`{scheme}://` endpoints have no tocsin check: skipped"
            ));
            return;
        }
        (_, None) => {
            note(format!("url `{url}` is not a URL tocsin checks: skipped"));
            return;
        }
    };
    let mut name_note = Vec::new();
    if let Some(group) = fields.remove("group").as_ref().and_then(text) {
        name_note.push(format!("group `{group}` (tocsin has no groups)"));
    }
    monitor.method = fields.remove("method").as_ref().and_then(text);
    monitor.body = fields.remove("body").as_ref().and_then(text);
    if let Some(interval) = fields.remove("interval").as_ref().and_then(text) {
        match seconds(&interval) {
            Some(secs) => monitor.interval_seconds = Some(secs),
            None => name_note.push(format!("interval `{interval}` (not a duration)")),
        }
    }
    if let Some(Value::Mapping(headers)) = fields.remove("headers") {
        let headers: BTreeMap<String, String> = headers
            .iter()
            .filter_map(|(k, v)| Some((text(k)?, text(v)?)))
            .collect();
        monitor.headers = (!headers.is_empty()).then_some(headers);
    }
    if let Some(Value::Bool(false)) = fields.remove("enabled") {
        monitor.paused = Some(true);
    }
    if let Some(Value::Mapping(client)) = fields.remove("client") {
        for (key, value) in client {
            match (key.as_str(), &value) {
                (Some("timeout"), _) => match text(&value).as_deref().and_then(humantime_ms) {
                    Some(ms) => monitor.timeout_ms = Some(ms),
                    None => name_note.push("client.timeout (not a duration)".into()),
                },
                (Some("insecure"), Value::Bool(insecure)) => {
                    monitor.tls_skip_verify = Some(*insecure);
                }
                (Some("ignore-redirect"), Value::Bool(ignore)) => {
                    monitor.follow_redirects = Some(!ignore);
                }
                (Some(other), _) => name_note.push(format!("client.{other}")),
                _ => {}
            }
        }
    }
    if let Some(Value::Sequence(alerts)) = fields.remove("alerts") {
        for (i, alert) in alerts.iter().enumerate() {
            let kind = alert
                .get("type")
                .and_then(text)
                .unwrap_or_else(|| "?".into());
            name_note.push(format!("alert `{kind}` (set up alert channels in tocsin)"));
            if i == 0 {
                let threshold = |key: &str| {
                    alert
                        .get(key)
                        .and_then(Value::as_u64)
                        .and_then(|n| u32::try_from(n).ok())
                };
                monitor.failure_threshold = threshold("failure-threshold");
                monitor.success_threshold = threshold("success-threshold");
            }
        }
    }
    let conditions: Vec<String> = match fields.remove("conditions") {
        Some(Value::Sequence(list)) => list.iter().filter_map(text).collect(),
        _ => Vec::new(),
    };
    for key in fields.keys() {
        name_note.push(format!("`{key}`"));
    }
    for what in name_note {
        note(what);
    }
    monitor.conditions = imported.conditions(&name, conditions);
    imported.add(&name, monitor);
}

/// Milliseconds of a duration such as `10s` or `500ms`.
fn humantime_ms(duration: &str) -> Option<u32> {
    let parsed = humantime::parse_duration(duration.trim()).ok()?;
    u32::try_from(parsed.as_millis()).ok()
}
