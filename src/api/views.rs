//! The JSON shapes the API answers with.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

use crate::auth::IssuedToken;
use crate::check::stats::Stats;
use crate::check::{CheckResult, Failure, LastCheck, millis};
use crate::monitor::Monitor;
use crate::store::User;

/// A time as every answer writes it: RFC 3339, UTC as `Z`, always milliseconds (the
/// stores' resolution), so all times in the API look alike. Written as one string: chrono's
/// `Serialize` goes through `collect_str`, which escapes it character by character, and was
/// 8 % of listing monitors.
pub fn timestamp<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// [`timestamp`] of an optional time; `null` when there is none.
pub fn optional_timestamp<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => timestamp(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// An account, never with its password or hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// The user's id.
    pub id: i64,
    /// The normalised (trimmed, lower-case) email.
    pub email: String,
    /// When the account was made.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// Whether it administers the instance (the first account does).
    pub admin: bool,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id.0,
            email: user.email.as_str().to_owned(),
            created_at: user.created_at,
            admin: user.admin,
        }
    }
}

/// A token for the `Authorization` header.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// The JWT; send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// When it stops being accepted.
    #[serde(serialize_with = "timestamp")]
    pub expires_at: DateTime<Utc>,
}

impl From<IssuedToken> for TokenView {
    fn from(issued: IssuedToken) -> Self {
        Self {
            token: issued.token,
            expires_at: issued.expires_at,
        }
    }
}

/// A monitor with every setting in force, defaults included.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitorView {
    /// The monitor's id.
    pub id: i64,
    /// Its label.
    pub name: String,
    /// What is checked (normalised): an http(s) URL, `tcp://host:port`, `tls://host:port` or
    /// `dns://resolver/name?type=A`.
    pub url: String,
    /// The HTTP method.
    pub method: &'static str,
    /// Seconds between checks.
    pub interval_seconds: u32,
    /// Milliseconds before a check gives up.
    pub timeout_ms: u32,
    /// Status codes that count as up.
    pub expected_status: String,
    /// Text the body must contain.
    pub keyword: Option<String>,
    /// Whether redirects are followed.
    pub follow_redirects: bool,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Request body.
    pub body: Option<String>,
    /// Authorities (PEM) trusted for this monitor besides the web's.
    pub tls_ca_pem: Option<String>,
    /// Whether any certificate is accepted (its expiry is still recorded).
    pub tls_skip_verify: bool,
    /// Conditions (Gatus syntax) every check must meet, as written.
    pub conditions: Vec<String>,
    /// Failed (or slow) checks in a row before `down` (or `degraded`).
    pub failure_threshold: u32,
    /// Passing checks in a row before `up` again.
    pub success_threshold: u32,
    /// A successful check slower than this (ms) is slow; `null`: none is.
    pub latency_threshold_ms: Option<u32>,
    /// The channels told of its incidents.
    pub channel_ids: Vec<i64>,
    /// How often an open incident is announced again (s); `null`: never.
    pub reminder_interval_seconds: Option<u32>,
    /// Days before expiry a certificate opens an incident (0: never).
    pub cert_expiry_days: u32,
    /// Whether checks are suspended.
    pub paused: bool,
    /// When it was created.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    #[serde(serialize_with = "timestamp")]
    pub updated_at: DateTime<Utc>,
    /// `pending` (no verdict yet), `up`, `degraded` or `down` by its thresholds, or
    /// `paused`.
    pub state: &'static str,
    /// Its latest check, `null` before the first.
    pub last_check: Option<LastCheckView>,
}

/// A monitor's latest check, as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastCheckView {
    /// When it ran.
    #[serde(serialize_with = "timestamp")]
    pub at: DateTime<Utc>,
    /// Whether it succeeded.
    pub ok: bool,
    /// The response's status code, `null` when none came.
    pub status_code: Option<u16>,
    /// Total duration in milliseconds.
    pub latency_ms: f64,
    /// Why it failed, `null` when it succeeded.
    pub error: Option<CheckErrorView>,
}

impl From<&LastCheck> for LastCheckView {
    fn from(last: &LastCheck) -> Self {
        Self {
            at: last.at,
            ok: last.ok,
            status_code: last.status_code,
            latency_ms: millis(last.latency),
            error: last.failure.as_ref().map(CheckErrorView::from),
        }
    }
}

impl From<Monitor> for MonitorView {
    fn from(m: Monitor) -> Self {
        let spec = &m.spec;
        let alerts = spec.alerts();
        Self {
            id: m.id.0,
            name: spec.name().to_owned(),
            url: spec.target().as_str().to_owned(),
            method: spec.method().as_str(),
            interval_seconds: spec.interval_secs(),
            timeout_ms: spec.timeout_ms(),
            expected_status: spec.expected_status().to_string(),
            keyword: spec.keyword().map(str::to_owned),
            follow_redirects: spec.follow_redirects(),
            headers: spec.headers().as_map().clone(),
            body: spec.body().map(str::to_owned),
            tls_ca_pem: spec.tls_ca_pem().map(str::to_owned),
            tls_skip_verify: spec.tls_skip_verify(),
            conditions: spec.conditions().sources(),
            failure_threshold: alerts.failure_threshold(),
            success_threshold: alerts.success_threshold(),
            latency_threshold_ms: alerts.latency_threshold_ms(),
            channel_ids: alerts.channels().iter().map(|c| c.0).collect(),
            reminder_interval_seconds: alerts.reminder_interval_secs(),
            cert_expiry_days: alerts.cert_expiry_days(),
            paused: m.paused,
            created_at: m.created_at,
            updated_at: m.updated_at,
            state: if m.paused { "paused" } else { m.state.as_str() },
            last_check: m.last_check.as_ref().map(LastCheckView::from),
        }
    }
}

/// Why a check failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckErrorView {
    /// `dns`, `connect`, `tls`, `timeout`, `status`, `keyword`, `body`, `blocked` or
    /// `condition`.
    pub kind: &'static str,
    /// What failed, in a sentence.
    pub message: String,
}

impl From<&Failure> for CheckErrorView {
    fn from(failure: &Failure) -> Self {
        Self {
            kind: failure.kind.as_str(),
            message: failure.message.clone(),
        }
    }
}

/// One check's result. Durations are milliseconds; a phase that did not happen is `null`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultView {
    /// When the check started.
    #[serde(serialize_with = "timestamp")]
    pub checked_at: DateTime<Utc>,
    /// `http`, `tcp` or `dns`.
    pub check_kind: &'static str,
    /// Whether it succeeded.
    pub ok: bool,
    /// The final response's status code, `null` when none came (and for tcp and dns).
    pub status_code: Option<u16>,
    /// From start to end of the check.
    pub latency_ms: f64,
    /// Resolving the host name (`null` for a literal address).
    pub dns_ms: Option<f64>,
    /// Opening the TCP connection.
    pub connect_ms: Option<f64>,
    /// The TLS handshake (`null` for http).
    pub tls_ms: Option<f64>,
    /// From sending the request to the first byte of the response.
    pub ttfb_ms: Option<f64>,
    /// When the server's certificate expires (https and tls only).
    #[serde(serialize_with = "optional_timestamp")]
    pub cert_expires_at: Option<DateTime<Utc>>,
    /// A DNS check's response code (`NOERROR`, `NXDOMAIN`…); `null` for other checks or
    /// when no answer came.
    pub dns_rcode: Option<String>,
    /// A DNS check's records of the type asked for, as text; `null` as `dns_rcode` is.
    pub dns_answer: Option<Vec<String>>,
    /// Why it failed, `null` when it succeeded.
    pub error: Option<CheckErrorView>,
}

impl From<&CheckResult> for ResultView {
    fn from(r: &CheckResult) -> Self {
        Self {
            checked_at: r.checked_at,
            check_kind: r.kind.as_str(),
            ok: r.ok(),
            status_code: r.status_code,
            latency_ms: millis(r.latency),
            dns_ms: r.phases.dns.map(millis),
            connect_ms: r.phases.connect.map(millis),
            tls_ms: r.phases.tls.map(millis),
            ttfb_ms: r.phases.ttfb.map(millis),
            cert_expires_at: r.cert_expires_at,
            dns_rcode: r.dns.as_ref().map(|dns| dns.rcode.clone()),
            dns_answer: r.dns.as_ref().map(|dns| dns.records.clone()),
            error: r.failure.as_ref().map(CheckErrorView::from),
        }
    }
}

/// Latency over a window in milliseconds, of the checks that got a response.
#[derive(Debug, Serialize, ToSchema)]
pub struct LatencyView {
    /// Mean.
    pub avg: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Slowest.
    pub max: Option<f64>,
}

/// Uptime and latency of a monitor over a window.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    /// `1h`, `24h`, `7d`, `30d`, `90d` or `365d`.
    pub window: &'static str,
    /// Checks in the window.
    pub checks: u64,
    /// Of which failed.
    pub failures: u64,
    /// Share of checks that succeeded, `null` without checks.
    pub uptime_ratio: Option<f64>,
    /// Latency figures, `null` each when no check got a response.
    pub latency_ms: LatencyView,
}

impl From<Stats> for StatsView {
    fn from(s: Stats) -> Self {
        Self {
            window: s.window.as_str(),
            checks: s.checks,
            failures: s.failures,
            uptime_ratio: s.uptime_ratio,
            latency_ms: LatencyView {
                avg: s.latency.avg,
                p50: s.latency.p50,
                p95: s.latency.p95,
                p99: s.latency.p99,
                max: s.latency.max,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Times {
        #[serde(serialize_with = "timestamp")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "optional_timestamp")]
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn timestamps_always_have_milliseconds() {
        for (nanos, shown) in [
            (0, "2026-01-01T00:00:00.000Z"),
            (123_000_000, "2026-01-01T00:00:00.123Z"),
            (123_456_789, "2026-01-01T00:00:00.123Z"),
            (100_000_000, "2026-01-01T00:00:00.100Z"),
        ] {
            let at = DateTime::from_timestamp(1_767_225_600, nanos).expect("in range");
            let json = serde_json::to_string(&Times {
                at,
                maybe: Some(at),
            })
            .expect("serializes");
            assert_eq!(json, format!(r#"{{"at":"{shown}","maybe":"{shown}"}}"#));
        }
        let none = Times {
            at: DateTime::UNIX_EPOCH,
            maybe: None,
        };
        let json = serde_json::to_string(&none).expect("serializes");
        assert_eq!(json, r#"{"at":"1970-01-01T00:00:00.000Z","maybe":null}"#);
    }
}
