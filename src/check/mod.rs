//! What a check found: the result of one probe, the kinds of failure and the timing phases,
//! and the statistics computed over many results. Plain values, no I/O: the probe makes
//! them, the pipeline carries them, the store keeps them and the API shows them.

pub mod stats;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::monitor::MonitorId;

/// Why a check failed, from the first thing that went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The host name did not resolve.
    Dns,
    /// No TCP connection: refused, unreachable, reset before a response.
    Connect,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The check ran past its `timeout_ms`.
    Timeout,
    /// A response came with a status code that is not expected (or too many redirects).
    Status,
    /// The body did not contain the keyword.
    Keyword,
    /// The response head was fine but the body could not be read.
    Body,
    /// The address guard refused the address (private, loopback, link-local…).
    Blocked,
    /// One of the monitor's conditions did not hold.
    Condition,
}

impl FailureKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [FailureKind; 9] = [
        Self::Dns,
        Self::Connect,
        Self::Tls,
        Self::Timeout,
        Self::Status,
        Self::Keyword,
        Self::Body,
        Self::Blocked,
        Self::Condition,
    ];

    /// The kind's name in the API and the database: `dns`, `connect`…
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::Status => "status",
            Self::Keyword => "keyword",
            Self::Body => "body",
            Self::Blocked => "blocked",
            Self::Condition => "condition",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored kind that is not one of [`FailureKind::ALL`] (or [`CheckKind::ALL`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kind `{0}`")]
pub struct UnknownKind(pub String);

impl FromStr for FailureKind {
    type Err = UnknownKind;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| UnknownKind(raw.to_owned()))
    }
}

/// What kind of check made a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CheckKind {
    /// An HTTP(S) request.
    #[default]
    Http,
    /// A TCP connection, possibly with a TLS handshake.
    Tcp,
    /// A DNS query.
    Dns,
}

impl CheckKind {
    /// Every kind.
    pub const ALL: [CheckKind; 3] = [Self::Http, Self::Tcp, Self::Dns];

    /// The kind's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Tcp => "tcp",
            Self::Dns => "dns",
        }
    }
}

impl FromStr for CheckKind {
    type Err = UnknownKind;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| UnknownKind(raw.to_owned()))
    }
}

/// What a DNS check's resolver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsAnswer {
    /// The response code, as DNS tools write it (`NOERROR`, `NXDOMAIN`…).
    pub rcode: String,
    /// The answer's records of the type asked for, each as text (an address, a name…).
    pub records: Vec<String>,
}

/// What went wrong, for a failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The class of failure.
    pub kind: FailureKind,
    /// A sentence naming what failed (the address, the code, the keyword…).
    pub message: String,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// How long each phase of a check took, summed over redirect hops. A phase that did not
/// happen (no DNS for a literal address, no TLS for `http`, anything after a failure) is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phases {
    /// Resolving the host name.
    pub dns: Option<Duration>,
    /// Opening the TCP connection.
    pub connect: Option<Duration>,
    /// The TLS handshake.
    pub tls: Option<Duration>,
    /// From sending the request to the first byte of the response head.
    pub ttfb: Option<Duration>,
}

/// The outcome of one check of one monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// When the check started (UTC, millisecond precision in the store).
    pub checked_at: DateTime<Utc>,
    /// What kind of check it was.
    pub kind: CheckKind,
    /// The final response's status code; `None` when no response came.
    pub status_code: Option<u16>,
    /// From start to the end of the check (body read, or failure).
    pub latency: Duration,
    /// The phases of the latency.
    pub phases: Phases,
    /// When the HTTPS peer's certificate expires (the last hop's).
    pub cert_expires_at: Option<DateTime<Utc>>,
    /// What the resolver answered, for a DNS check that got an answer.
    pub dns: Option<DnsAnswer>,
    /// Why the check failed; `None` when it succeeded.
    pub failure: Option<Failure>,
}

impl CheckResult {
    /// Whether the check succeeded.
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }
}

/// Whether a check got an answer from its target, so that its latency says something about
/// the target: a response for HTTP, an answer for DNS, a connection (and handshake) for TCP.
/// A refused connection has no latency, and a timeout's would only be the timeout.
pub fn responded(
    kind: CheckKind,
    status_code: Option<u16>,
    dns_rcode: Option<&str>,
    failure: Option<FailureKind>,
) -> bool {
    match kind {
        CheckKind::Http => status_code.is_some(),
        CheckKind::Dns => dns_rcode.is_some(),
        CheckKind::Tcp => matches!(failure, None | Some(FailureKind::Condition)),
    }
}

/// A result and the monitor it belongs to: what the pipeline carries to the store.
/// `(monitor, result.checked_at)` identifies it, so writing it twice stores it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRecord {
    /// The monitor checked.
    pub monitor: MonitorId,
    /// What the check found.
    pub result: CheckResult,
}

/// The latest check of a monitor, kept beside it so lists show its state cheaply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCheck {
    /// When it ran.
    pub at: DateTime<Utc>,
    /// Whether it succeeded.
    pub ok: bool,
    /// The status code, if a response came.
    pub status_code: Option<u16>,
    /// Its total latency.
    pub latency: Duration,
    /// Why it failed, if it did.
    pub failure: Option<Failure>,
}

impl From<&CheckResult> for LastCheck {
    fn from(result: &CheckResult) -> Self {
        Self {
            at: result.checked_at,
            ok: result.ok(),
            status_code: result.status_code,
            latency: result.latency,
            failure: result.failure.clone(),
        }
    }
}

/// Milliseconds with microsecond precision, the unit latencies are shown in.
pub fn millis(duration: Duration) -> f64 {
    duration.as_micros() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in FailureKind::ALL {
            assert_eq!(kind.as_str().parse::<FailureKind>(), Ok(kind));
        }
        assert_eq!(
            "nope".parse::<FailureKind>(),
            Err(UnknownKind("nope".into()))
        );
        for kind in CheckKind::ALL {
            assert_eq!(kind.as_str().parse::<CheckKind>(), Ok(kind));
        }
    }

    #[test]
    fn latency_counts_when_the_target_answered() {
        use FailureKind::*;
        assert!(responded(CheckKind::Http, Some(500), None, Some(Status)));
        assert!(!responded(CheckKind::Http, None, None, Some(Connect)));
        assert!(responded(CheckKind::Dns, None, Some("NXDOMAIN"), Some(Dns)));
        assert!(!responded(CheckKind::Dns, None, None, Some(Timeout)));
        assert!(responded(CheckKind::Tcp, None, None, None));
        assert!(responded(CheckKind::Tcp, None, None, Some(Condition)));
        assert!(!responded(CheckKind::Tcp, None, None, Some(Tls)));
    }

    #[test]
    fn millis_keeps_microseconds() {
        assert_eq!(millis(Duration::from_micros(1_234_567)), 1234.567);
        assert_eq!(millis(Duration::from_micros(1)), 0.001);
    }
}
