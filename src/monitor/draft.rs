//! What clients send: a whole monitor ([`MonitorDraft`]) or a change to one
//! ([`MonitorPatch`]). Raw values, checked only when they become a [`super::MonitorSpec`].

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use super::MonitorError;

/// A monitor as a client describes it: every field raw, most optional.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorDraft {
    /// A label; defaults to the URL's host (for DNS, the name and type looked up).
    pub name: Option<String>,
    /// What to check: `http(s)://…`, `tcp://host:port`, `tls://host:port` or
    /// `dns://resolver/name?type=A`.
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    /// HTTP method, default `GET`.
    pub method: Option<String>,
    /// Seconds between checks: from `TOCSIN_MIN_INTERVAL` (10 by default) to 86400; default 60.
    pub interval_seconds: Option<u32>,
    /// Give up after this many milliseconds (100..=60000, below the interval); default
    /// 10000 or four fifths of the interval, whichever is less.
    pub timeout_ms: Option<u32>,
    /// Status codes that count as up, e.g. `200-299,301`; default `200-399`.
    pub expected_status: Option<String>,
    /// Text the response body must contain.
    pub keyword: Option<String>,
    /// Whether to follow redirects (at most 5 hops); default true.
    pub follow_redirects: Option<bool>,
    /// Extra request headers.
    pub headers: Option<BTreeMap<String, String>>,
    /// Request body, sent as is.
    pub body: Option<String>,
    /// Certificate authorities (PEM) to trust for this monitor besides the web's, e.g. a
    /// private CA.
    pub tls_ca_pem: Option<String>,
    /// Accept any certificate (its expiry is still recorded); default false.
    pub tls_skip_verify: Option<bool>,
    /// Conditions in Gatus's syntax that must all hold, e.g. `[BODY].status == UP`.
    pub conditions: Option<Vec<String>>,
    /// Failed checks in a row before the monitor is `down` (1 to 20); default 3. As many
    /// slow checks in a row make it `degraded`.
    pub failure_threshold: Option<u32>,
    /// Passing checks in a row before it is `up` again (1 to 20); default 1.
    pub success_threshold: Option<u32>,
    /// A successful check slower than this many milliseconds is slow; default none.
    pub latency_threshold_ms: Option<u32>,
    /// The account's channels told of its incidents; default none.
    pub channel_ids: Option<Vec<i64>>,
    /// Repeat the alert this often (at least 300 s) while an incident stays open; default
    /// never.
    pub reminder_interval_seconds: Option<u32>,
    /// Open a certificate incident when the certificate expires within this many days (0 to
    /// 365, 0 = never); default 14. Only checks that see a certificate (https) use it.
    pub cert_expiry_days: Option<u32>,
}

/// A partial update: absent fields stay, `null` resets an optional field to its default.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorPatch {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    method: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    interval_seconds: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    timeout_ms: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    expected_status: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    keyword: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    follow_redirects: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    headers: Option<Option<BTreeMap<String, String>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    body: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    tls_ca_pem: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    tls_skip_verify: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>)]
    conditions: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    failure_threshold: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    success_threshold: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    latency_threshold_ms: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<i64>>)]
    channel_ids: Option<Option<Vec<i64>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    reminder_interval_seconds: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    cert_expiry_days: Option<Option<u32>>,
}

/// Tells a present `null` (`Some(None)`) from an absent field (`None`, via `default`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl MonitorPatch {
    /// Applies the patch to `draft`; `url` and `interval_seconds` cannot be reset.
    pub fn apply(self, mut draft: MonitorDraft) -> Result<MonitorDraft, MonitorError> {
        fn set<T>(slot: &mut Option<T>, patch: Option<Option<T>>) {
            if let Some(value) = patch {
                *slot = value;
            }
        }
        match self.url {
            Some(Some(url)) => draft.url = url,
            Some(None) => return Err(MonitorError::invalid("url", "cannot be null")),
            None => {}
        }
        if let Some(None) = self.interval_seconds {
            return Err(MonitorError::invalid("interval_seconds", "cannot be null"));
        }
        set(&mut draft.interval_seconds, self.interval_seconds);
        set(&mut draft.name, self.name);
        set(&mut draft.method, self.method);
        set(&mut draft.timeout_ms, self.timeout_ms);
        set(&mut draft.expected_status, self.expected_status);
        set(&mut draft.keyword, self.keyword);
        set(&mut draft.follow_redirects, self.follow_redirects);
        set(&mut draft.headers, self.headers);
        set(&mut draft.body, self.body);
        set(&mut draft.tls_ca_pem, self.tls_ca_pem);
        set(&mut draft.tls_skip_verify, self.tls_skip_verify);
        set(&mut draft.conditions, self.conditions);
        set(&mut draft.failure_threshold, self.failure_threshold);
        set(&mut draft.success_threshold, self.success_threshold);
        set(&mut draft.latency_threshold_ms, self.latency_threshold_ms);
        set(&mut draft.channel_ids, self.channel_ids);
        set(
            &mut draft.reminder_interval_seconds,
            self.reminder_interval_seconds,
        );
        set(&mut draft.cert_expiry_days, self.cert_expiry_days);
        Ok(draft)
    }
}
