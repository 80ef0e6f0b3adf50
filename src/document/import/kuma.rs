//! Uptime Kuma's backup (Settings → Backup → Export: JSON with `monitorList`): HTTP(S),
//! keyword, JSON-query, TCP port and DNS monitors become tocsin monitors; other types,
//! notifications, tags and behaviours tocsin lacks are named in notes.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{DNS_TYPES, Imported};
use crate::document::DocMonitor;

/// Converts an Uptime Kuma backup.
pub fn uptime_kuma(text: &str) -> Result<Imported, String> {
    let backup: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Some(monitors) = backup.get("monitorList").and_then(Value::as_array) else {
        return Err("not an Uptime Kuma backup: no `monitorList`".into());
    };
    let mut imported = Imported::default();
    if let Some(notifications) = backup.get("notificationList").and_then(Value::as_array)
        && !notifications.is_empty()
    {
        imported.notes.push(format!(
            "{} notification(s) (set up alert channels in tocsin)",
            notifications.len()
        ));
    }
    for (index, monitor) in monitors.iter().enumerate() {
        let Some(fields) = monitor.as_object() else {
            return Err(format!("monitorList[{index}]: not an object"));
        };
        convert(&mut imported, index, fields);
    }
    Ok(imported)
}

fn string(fields: &Map<String, Value>, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(fields: &Map<String, Value>, key: &str) -> Option<f64> {
    match fields.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Kuma keeps booleans as `true`/`false` or `1`/`0` depending on its database.
fn flag(fields: &Map<String, Value>, key: &str) -> Option<bool> {
    match fields.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

fn convert(imported: &mut Imported, index: usize, fields: &Map<String, Value>) {
    let name = string(fields, "name").unwrap_or_else(|| format!("monitor {}", index + 1));
    let kind = string(fields, "type").unwrap_or_else(|| "http".into());
    let mut notes = Vec::new();
    let mut monitor = DocMonitor::default();
    let mut conditions = Vec::new();
    match kind.as_str() {
        "http" | "keyword" | "json-query" => {
            let Some(url) = string(fields, "url") else {
                imported
                    .notes
                    .push(format!("monitor `{name}`: no url: skipped"));
                return;
            };
            monitor.url = with_basic_auth(&url, fields, &mut notes);
            monitor.method = string(fields, "method").filter(|m| m != "GET");
            monitor.body = string(fields, "body");
            // Kept as a JSON text in the backup (an object in some versions).
            let headers = match fields.get("headers") {
                Some(Value::Object(map)) => Some(Value::Object(map.clone()).to_string()),
                _ => string(fields, "headers"),
            };
            if let Some(headers) = headers {
                match serde_json::from_str::<BTreeMap<String, Value>>(&headers) {
                    Ok(map) => {
                        let map: BTreeMap<String, String> = map
                            .into_iter()
                            .map(|(k, v)| match v {
                                Value::String(s) => (k, s),
                                other => (k, other.to_string()),
                            })
                            .collect();
                        monitor.headers = (!map.is_empty()).then_some(map);
                    }
                    Err(_) => notes.push("headers (not a JSON object)".into()),
                }
            }
            if let Some(codes) = fields.get("accepted_statuscodes").and_then(Value::as_array) {
                let codes: Vec<&str> = codes.iter().filter_map(Value::as_str).collect();
                if !codes.is_empty() && codes != ["200-299"] {
                    monitor.expected_status = Some(codes.join(","));
                } else if codes == ["200-299"] {
                    monitor.expected_status = Some("200-299".into());
                }
            }
            if number(fields, "maxredirects") == Some(0.0) {
                monitor.follow_redirects = Some(false);
            }
            if flag(fields, "ignoreTls") == Some(true) {
                monitor.tls_skip_verify = Some(true);
            }
            if kind == "keyword" {
                monitor.keyword = string(fields, "keyword");
                if flag(fields, "invertKeyword") == Some(true) {
                    monitor.keyword = None;
                    if let Some(word) = string(fields, "keyword") {
                        conditions.push(format!("[BODY] != pat(*{word}*)"));
                    }
                }
            }
            if kind == "json-query" {
                match (string(fields, "jsonPath"), string(fields, "expectedValue")) {
                    (Some(path), Some(value)) => {
                        let path = path.trim_start_matches('$').trim_start_matches('.');
                        conditions.push(format!("[BODY].{path} == {value}"));
                    }
                    _ => notes.push("jsonPath without expectedValue".into()),
                }
            }
        }
        "port" => match (string(fields, "hostname"), number(fields, "port")) {
            (Some(host), Some(port)) => monitor.url = format!("tcp://{host}:{port}"),
            _ => {
                imported.notes.push(format!(
                    "monitor `{name}`: port monitor without host or port: skipped"
                ));
                return;
            }
        },
        "dns" => {
            let server = string(fields, "dns_resolve_server").unwrap_or_else(|| "1.1.1.1".into());
            let record = string(fields, "dns_resolve_type").unwrap_or_else(|| "A".into());
            let Some(host) = string(fields, "hostname") else {
                imported.notes.push(format!(
                    "monitor `{name}`: DNS monitor without hostname: skipped"
                ));
                return;
            };
            if !DNS_TYPES.contains(&record.as_str()) {
                imported.notes.push(format!(
                    "monitor `{name}`: DNS record type `{record}` (tocsin asks for {}): skipped",
                    DNS_TYPES.join(", ")
                ));
                return;
            }
            let port = number(fields, "port").filter(|p| *p != 53.0 && *p > 0.0);
            let server = match port {
                Some(port) => format!("{server}:{port}"),
                None => server,
            };
            monitor.url = format!("dns://{server}/{host}?type={record}");
        }
        other => {
            imported.notes.push(format!(
                "monitor `{name}`: type `{other}` has no tocsin check: skipped"
            ));
            return;
        }
    }
    if let Some(interval) = number(fields, "interval").filter(|i| *i > 0.0) {
        monitor.interval_seconds = Some(interval.round() as u32);
    }
    if let Some(timeout) = number(fields, "timeout").filter(|t| *t > 0.0) {
        monitor.timeout_ms = Some((timeout * 1000.0).round() as u32);
    }
    if let Some(retries) = number(fields, "maxretries").filter(|r| *r > 0.0) {
        monitor.failure_threshold = Some((retries.round() as u32).saturating_add(1).min(20));
    }
    if flag(fields, "active") == Some(false) {
        monitor.paused = Some(true);
    }
    if flag(fields, "upsideDown") == Some(true) {
        notes.push("upside-down mode (tocsin has no inverted monitors)".into());
    }
    if let Some(ids) = fields.get("notificationIDList").and_then(Value::as_object)
        && ids
            .values()
            .any(|v| v == &Value::Bool(true) || v == &Value::from(1))
    {
        notes.push("notifications (set up alert channels in tocsin)".into());
    }
    if fields
        .get("tags")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty())
    {
        notes.push("tags".into());
    }
    if string(fields, "description").is_some() {
        notes.push("description".into());
    }
    for note in notes {
        imported.notes.push(format!("monitor `{name}`: {note}"));
    }
    monitor.conditions = imported.conditions(&name, conditions);
    imported.add(&name, monitor);
}

/// Kuma's basic authentication goes into the URL as `user:password@`, which tocsin sends
/// as `Authorization: Basic` and keeps out of the stored URL.
fn with_basic_auth(url: &str, fields: &Map<String, Value>, notes: &mut Vec<String>) -> String {
    let Some(user) = string(fields, "basic_auth_user") else {
        return url.to_owned();
    };
    let password = string(fields, "basic_auth_pass").unwrap_or_default();
    if let Ok(mut parsed) = url::Url::parse(url)
        && parsed.set_username(&user).is_ok()
        && parsed.set_password(Some(&password)).is_ok()
    {
        return parsed.into();
    }
    notes.push("basic authentication".into());
    url.to_owned()
}
