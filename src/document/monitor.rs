//! One monitor as a document writes it: every field of the API's monitor but its name
//! (the document's key) and `paused`, which a document sets too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::monitor::{Monitor, MonitorDraft, MonitorSpec, Rules};

/// A monitor in a document. A field left out takes its default, so applying a document
/// makes each monitor exactly what it says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocMonitor {
    /// What to check: `http(s)://…`, `tcp://host:port`, `tls://host:port` or
    /// `dns://resolver/name?type=A`.
    pub url: String,
    /// HTTP method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Seconds between checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<u32>,
    /// Give up after this many milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u32>,
    /// Status codes that count as up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<String>,
    /// Text the body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// Whether to follow redirects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// Request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Certificate authorities (PEM) trusted besides the web's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca_pem: Option<String>,
    /// Accept any certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_skip_verify: Option<bool>,
    /// Conditions in Gatus's syntax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<String>>,
    /// Failed checks in a row before `down`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
    /// Passing checks in a row before `up` again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_threshold: Option<u32>,
    /// A successful check slower than this is slow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_threshold_ms: Option<u32>,
    /// The account's channels told of incidents, by name (resolved when applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<Vec<String>>,
    /// The account's channels told of incidents, by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_ids: Option<Vec<i64>>,
    /// Repeat the alert this often while an incident stays open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_interval_seconds: Option<u32>,
    /// Certificate incident this many days before expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_expiry_days: Option<u32>,
    /// Checks suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
}

impl DocMonitor {
    /// The draft of the monitor named `name` (`channels` by name are for the caller to
    /// resolve into `channel_ids`).
    pub fn to_draft(&self, name: &str) -> MonitorDraft {
        MonitorDraft {
            name: Some(name.to_owned()),
            url: self.url.clone(),
            method: self.method.clone(),
            interval_seconds: self.interval_seconds,
            timeout_ms: self.timeout_ms,
            expected_status: self.expected_status.clone(),
            keyword: self.keyword.clone(),
            follow_redirects: self.follow_redirects,
            headers: self.headers.clone(),
            body: self.body.clone(),
            tls_ca_pem: self.tls_ca_pem.clone(),
            tls_skip_verify: self.tls_skip_verify,
            conditions: self.conditions.clone(),
            failure_threshold: self.failure_threshold,
            success_threshold: self.success_threshold,
            latency_threshold_ms: self.latency_threshold_ms,
            channel_ids: self.channel_ids.clone(),
            reminder_interval_seconds: self.reminder_interval_seconds,
            cert_expiry_days: self.cert_expiry_days,
        }
    }

    /// Every setting of a spec, defaults written out (for comparing two).
    pub fn full(spec: &MonitorSpec, paused: bool) -> Self {
        let draft = spec.to_draft();
        Self {
            url: draft.url,
            method: draft.method,
            interval_seconds: draft.interval_seconds,
            timeout_ms: draft.timeout_ms,
            expected_status: draft.expected_status,
            keyword: draft.keyword,
            follow_redirects: draft.follow_redirects,
            headers: draft.headers,
            body: draft.body,
            tls_ca_pem: draft.tls_ca_pem,
            tls_skip_verify: draft.tls_skip_verify,
            conditions: Some(draft.conditions.unwrap_or_default()),
            failure_threshold: draft.failure_threshold,
            success_threshold: draft.success_threshold,
            latency_threshold_ms: draft.latency_threshold_ms,
            channels: None,
            channel_ids: draft.channel_ids,
            reminder_interval_seconds: draft.reminder_interval_seconds,
            cert_expiry_days: draft.cert_expiry_days,
            paused: Some(paused),
        }
    }

    /// The monitor as a document writes it: only what differs from the defaults of a
    /// monitor with its URL, so an export stays short and reads as written (a timeout left
    /// to its default stays unset, as it moves with the interval).
    pub fn export(monitor: &Monitor) -> Self {
        let full = Self::full(&monitor.spec, monitor.paused);
        let plain = MonitorSpec::parse(
            MonitorDraft {
                name: Some(monitor.spec.name().to_owned()),
                url: full.url.clone(),
                ..MonitorDraft::default()
            },
            &Rules::STORED,
        )
        .map(|spec| Self::full(&spec, false));
        let Ok(plain) = plain else { return full };
        let (Ok(serde_json::Value::Object(mut mine)), Ok(serde_json::Value::Object(defaults))) =
            (serde_json::to_value(&full), serde_json::to_value(&plain))
        else {
            return full;
        };
        mine.retain(|key, value| key == "url" || defaults.get(key) != Some(value));
        serde_json::from_value(serde_json::Value::Object(mine)).unwrap_or(full)
    }
}
