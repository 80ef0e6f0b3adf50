//! Rows as plain values, shared by both backends: each reads its driver's row into these
//! records (SQL stays per backend), and the conversion into domain types, with its checks,
//! is written once here.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::StoreError;
use super::values::{dns_answer, duration, status_code};
use crate::alerting::health::OpenIncident;
use crate::alerting::{Health, IncidentId, MonitorState};
use crate::auth::UserId;
use crate::check::{CheckResult, Failure, FailureKind, LastCheck, Phases, UnknownKind};
use crate::monitor::{Monitor, MonitorDraft, MonitorId, MonitorSpec, Rules};

/// A `monitors` row joined with its `monitor_status`, in plain values.
pub(super) struct MonitorRecord {
    /// `id`.
    pub id: i64,
    /// `user_id`.
    pub owner: i64,
    /// The spec's columns, as a draft (validated again on the way out).
    pub draft: MonitorDraft,
    /// `paused`.
    pub paused: bool,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `updated_at`.
    pub updated_at: DateTime<Utc>,
    /// The status columns.
    pub status: StatusRecord,
}

/// The last check and the state from `monitor_status`; all `None` for a monitor without a
/// status row or never checked.
#[derive(Default)]
pub(super) struct StatusRecord {
    /// `checked_at`.
    pub checked_at: Option<DateTime<Utc>>,
    /// `ok`.
    pub ok: Option<bool>,
    /// `status_code`.
    pub status_code: Option<i64>,
    /// `latency_us`.
    pub latency_us: Option<i64>,
    /// `error_kind`.
    pub error_kind: Option<String>,
    /// `error_message`.
    pub error_message: Option<String>,
    /// `state`.
    pub state: Option<String>,
}

impl MonitorRecord {
    /// The validated monitor. Stored rows are read with [`Rules::STORED`]: settings
    /// tightened since a row was written must not make it unreadable.
    pub(super) fn into_monitor(self) -> Result<Monitor, StoreError> {
        let id = self.id;
        let corrupt = |e: String| StoreError::Corrupt(format!("monitor {id}: {e}"));
        let spec =
            MonitorSpec::parse(self.draft, &Rules::STORED).map_err(|e| corrupt(e.to_string()))?;
        let state = match self.status.state.as_deref() {
            None => MonitorState::Pending,
            Some(raw) => MonitorState::parse(raw).map_err(|e| corrupt(e.to_string()))?,
        };
        Ok(Monitor {
            id: MonitorId(id),
            owner: UserId(self.owner),
            spec,
            paused: self.paused,
            created_at: self.created_at,
            updated_at: self.updated_at,
            state,
            last_check: self.status.into_last_check().map_err(corrupt)?,
        })
    }
}

impl StatusRecord {
    fn into_last_check(self) -> Result<Option<LastCheck>, String> {
        let (at, ok, latency_us) = match (self.checked_at, self.ok, self.latency_us) {
            (None, None, None) => return Ok(None),
            (Some(at), Some(ok), Some(latency_us)) => (at, ok, latency_us),
            _ => return Err("monitor_status: partial last check".into()),
        };
        Ok(Some(LastCheck {
            at,
            ok,
            status_code: self
                .status_code
                .map(status_code)
                .transpose()
                .map_err(|e| e.to_string())?,
            latency: duration(latency_us).map_err(|e| e.to_string())?,
            failure: failure(ok, self.error_kind, self.error_message)?,
        }))
    }
}

/// The failure a stored `ok`, `error_kind` and `error_message` describe; a row that says
/// both "ok" and "failed" (or neither) is corrupt.
pub(super) fn failure(
    ok: bool,
    kind: Option<String>,
    message: Option<String>,
) -> Result<Option<Failure>, String> {
    match (ok, kind) {
        (true, None) => Ok(None),
        (false, Some(kind)) => Ok(Some(Failure {
            kind: FailureKind::from_str(&kind).map_err(|e| e.to_string())?,
            message: message.unwrap_or_default(),
        })),
        (ok, kind) => Err(format!("ok = {ok} with error kind {kind:?}")),
    }
}

/// A spec's column values, in [`SPEC_COLUMNS`] order but `paused`, for both INSERT and
/// UPDATE; each backend binds them with its own types.
pub(super) struct SpecValues<'a> {
    /// `name`.
    pub name: &'a str,
    /// `url`.
    pub url: &'a str,
    /// `method`.
    pub method: &'static str,
    /// `interval_seconds`.
    pub interval_seconds: u32,
    /// `timeout_ms` as the client set it (`None`: the default applies).
    pub timeout_ms: Option<u32>,
    /// `expected_status`.
    pub expected_status: String,
    /// `keyword`.
    pub keyword: Option<&'a str>,
    /// `follow_redirects`.
    pub follow_redirects: bool,
    /// `headers`.
    pub headers: &'a BTreeMap<String, String>,
    /// `body`.
    pub body: Option<&'a str>,
    /// `failure_threshold`.
    pub failure_threshold: u32,
    /// `success_threshold`.
    pub success_threshold: u32,
    /// `latency_threshold_ms`.
    pub latency_threshold_ms: Option<u32>,
    /// `channel_ids`, ascending.
    pub channel_ids: Vec<i64>,
    /// `reminder_interval_seconds`.
    pub reminder_interval_seconds: Option<u32>,
    /// `cert_expiry_days`.
    pub cert_expiry_days: u32,
    /// `conditions`, as written.
    pub conditions: Vec<String>,
    /// `tls_ca_pem`.
    pub tls_ca_pem: Option<&'a str>,
    /// `tls_skip_verify`.
    pub tls_skip_verify: bool,
}

impl<'a> SpecValues<'a> {
    /// The values of `spec`.
    pub(super) fn new(spec: &'a MonitorSpec) -> Self {
        let alerts = spec.alerts();
        Self {
            name: spec.name(),
            url: spec.target().as_str(),
            method: spec.method().as_str(),
            interval_seconds: spec.interval_secs(),
            timeout_ms: spec.explicit_timeout_ms(),
            expected_status: spec.expected_status().to_string(),
            keyword: spec.keyword(),
            follow_redirects: spec.follow_redirects(),
            headers: spec.headers().as_map(),
            body: spec.body(),
            failure_threshold: alerts.failure_threshold(),
            success_threshold: alerts.success_threshold(),
            latency_threshold_ms: alerts.latency_threshold_ms(),
            channel_ids: alerts.channels().iter().map(|c| c.0).collect(),
            reminder_interval_seconds: alerts.reminder_interval_secs(),
            cert_expiry_days: alerts.cert_expiry_days(),
            conditions: spec.conditions().sources(),
            tls_ca_pem: spec.tls_ca_pem(),
            tls_skip_verify: spec.tls_skip_verify(),
        }
    }
}

/// The columns of `monitor_status` that [`Health`] lives in, in plain values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct HealthRecord {
    /// `state`.
    pub state: String,
    /// `checked_at`: the last check applied.
    pub checked_at: Option<DateTime<Utc>>,
    /// `failures`, `slow`, `good`, `passing`.
    pub runs: [i64; 4],
    /// `failing_since`.
    pub failing_since: Option<DateTime<Utc>>,
    /// `slow_since`.
    pub slow_since: Option<DateTime<Utc>>,
    /// `incident_id`.
    pub incident_id: Option<i64>,
    /// `incident_muted`.
    pub incident_muted: bool,
    /// `cert_incident_id`.
    pub cert_incident_id: Option<i64>,
}

impl HealthRecord {
    /// The health these columns keep.
    pub(super) fn into_health(self, monitor: i64) -> Result<Health, StoreError> {
        let corrupt = |e: String| StoreError::Corrupt(format!("monitor_status {monitor}: {e}"));
        let run = |n: i64| u32::try_from(n).map_err(|e| corrupt(e.to_string()));
        Ok(Health {
            state: MonitorState::parse(&self.state).map_err(|e| corrupt(e.to_string()))?,
            last_applied: self.checked_at,
            failures: run(self.runs[0])?,
            slow: run(self.runs[1])?,
            good: run(self.runs[2])?,
            passing: run(self.runs[3])?,
            failing_since: self.failing_since,
            slow_since: self.slow_since,
            incident: self.incident_id.map(|id| OpenIncident {
                id: IncidentId(id),
                muted: self.incident_muted,
            }),
            cert_incident: self.cert_incident_id.map(IncidentId),
            cert_decided: None,
        })
    }

    /// The columns that keep `health`.
    pub(super) fn from_health(health: &Health) -> Self {
        Self {
            state: health.state.as_str().to_owned(),
            checked_at: health.last_applied,
            runs: [health.failures, health.slow, health.good, health.passing].map(i64::from),
            failing_since: health.failing_since,
            slow_since: health.slow_since,
            incident_id: health.incident.map(|i| i.id.0),
            incident_muted: health.incident.is_some_and(|i| i.muted),
            cert_incident_id: health.cert_incident.map(|i| i.0),
        }
    }
}

/// A `results` row in plain values, as both stores read it.
pub(super) struct ResultRecord {
    /// `checked_at`.
    pub checked_at: DateTime<Utc>,
    /// `ok`.
    pub ok: bool,
    /// `status_code`.
    pub status_code: Option<i64>,
    /// `latency_us`.
    pub latency_us: i64,
    /// `dns_us`, `connect_us`, `tls_us`, `ttfb_us`.
    pub phases: [Option<i64>; 4],
    /// `error_kind`.
    pub error_kind: Option<String>,
    /// `error_message`.
    pub error_message: Option<String>,
    /// `cert_expires_at`.
    pub cert_expires_at: Option<DateTime<Utc>>,
    /// `check_kind`.
    pub kind: String,
    /// `dns_rcode`.
    pub dns_rcode: Option<String>,
    /// `dns_answer`.
    pub dns_answer: Option<String>,
}

impl ResultRecord {
    /// The result this row keeps.
    pub(super) fn into_result(self) -> Result<CheckResult, StoreError> {
        let at = self.checked_at;
        let corrupt = |e: String| StoreError::Corrupt(format!("result at {at}: {e}"));
        let phase = |us: Option<i64>| us.map(duration).transpose();
        let [dns, connect, tls, ttfb] = self.phases;
        Ok(CheckResult {
            checked_at: self.checked_at,
            kind: self
                .kind
                .parse()
                .map_err(|e: UnknownKind| corrupt(e.to_string()))?,
            dns: dns_answer(self.dns_rcode, self.dns_answer),
            status_code: self.status_code.map(status_code).transpose()?,
            latency: duration(self.latency_us)?,
            phases: Phases {
                dns: phase(dns)?,
                connect: phase(connect)?,
                tls: phase(tls)?,
                ttfb: phase(ttfb)?,
            },
            cert_expires_at: self.cert_expires_at,
            failure: failure(self.ok, self.error_kind, self.error_message).map_err(corrupt)?,
        })
    }
}

/// A `status_pages` row in plain values.
pub(super) struct PageRecord {
    /// `id`.
    pub id: i64,
    /// `user_id`.
    pub owner: i64,
    /// `slug`.
    pub slug: String,
    /// `title`.
    pub title: String,
    /// `description`.
    pub description: String,
    /// `monitor_ids`, in order.
    pub monitor_ids: Vec<i64>,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `updated_at`.
    pub updated_at: DateTime<Utc>,
}

impl PageRecord {
    /// The validated page: a stored page passes the same checks as a new one.
    pub(super) fn into_page(self) -> Result<crate::public::StatusPage, StoreError> {
        let id = self.id;
        let spec = crate::public::StatusPageSpec::parse(crate::public::StatusPageDraft {
            slug: self.slug,
            title: self.title,
            description: Some(self.description),
            monitor_ids: Some(self.monitor_ids),
        })
        .map_err(|e| StoreError::Corrupt(format!("status page {id}: {e}")))?;
        Ok(crate::public::StatusPage {
            id: crate::public::StatusPageId(id),
            owner: UserId(self.owner),
            spec,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// An `api_keys` row in plain values (times already the backend's to convert).
pub(super) struct ApiKeyRecord {
    /// `id`.
    pub id: i64,
    /// `user_id`.
    pub owner: i64,
    /// `name`.
    pub name: String,
    /// `scope`.
    pub scope: String,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `expires_at`.
    pub expires_at: Option<DateTime<Utc>>,
    /// `last_used_at`.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKeyRecord {
    /// The key as listed.
    pub fn into_key(self) -> Result<super::ApiKey, StoreError> {
        let scope = crate::auth::api_key::Scope::parse(&self.scope).ok_or_else(|| {
            StoreError::Corrupt(format!("api key {}: scope `{}`", self.id, self.scope))
        })?;
        Ok(super::ApiKey {
            id: self.id,
            owner: UserId(self.owner),
            name: self.name,
            scope,
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_used_at: self.last_used_at,
        })
    }
}
