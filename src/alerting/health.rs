//! A monitor's state, decided by thresholds over its checks in `checked_at` order, never by
//! one check alone: `failure_threshold` failed checks in a row make it `down`,
//! `success_threshold` passing ones in a row bring it back `up`, and `failure_threshold`
//! slow ones in a row (successful, but over `latency_threshold_ms`) make it `degraded`.
//!
//! [`Health`] is what the store keeps per monitor to decide the next transition: the state,
//! the current runs and the open incidents. A result no newer than the last one applied
//! changes nothing, so batches that arrive late, out of order or twice (from Redis after an
//! outage, or a retried write) can never flip the state back or alert twice.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Cause, IncidentId, UnknownName, named};
use crate::check::CheckResult;

/// A monitor's verdict. `paused` is not among them: pausing keeps the verdict, and views
/// show `paused` over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MonitorState {
    /// No verdict yet: too few checks.
    #[default]
    Pending,
    /// Passing.
    Up,
    /// Passing, but slower than its latency threshold.
    Degraded,
    /// Failing.
    Down,
}

named!(
    MonitorState,
    "state",
    [
        (Pending, "pending"),
        (Up, "up"),
        (Degraded, "degraded"),
        (Down, "down"),
    ]
);

impl MonitorState {
    /// A stored state (the database keeps the names).
    pub fn parse(raw: &str) -> Result<Self, UnknownName> {
        raw.parse()
    }
}

/// A monitor's thresholds, from its spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Failed (or slow) checks in a row before `down` (or `degraded`).
    pub failure: u32,
    /// Passing checks in a row before `up` again.
    pub success: u32,
    /// A successful check slower than this is slow.
    pub latency: Option<Duration>,
    /// An expiry this many days away or less opens a certificate incident; 0 turns it off.
    pub cert_expiry_days: u32,
}

/// An incident that is open, as the state keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenIncident {
    /// The incident.
    pub id: IncidentId,
    /// Whether it was opened inside a maintenance window (it then notifies nobody).
    pub muted: bool,
}

/// What the store keeps per monitor to decide its transitions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// The verdict.
    pub state: MonitorState,
    /// The newest `checked_at` applied; older results change nothing.
    pub last_applied: Option<DateTime<Utc>>,
    /// Failed checks in a row.
    pub failures: u32,
    /// Slow checks in a row.
    pub slow: u32,
    /// Fast, successful checks in a row.
    pub good: u32,
    /// Successful checks (fast or slow) in a row.
    pub passing: u32,
    /// The first check of the current run of failures.
    pub failing_since: Option<DateTime<Utc>>,
    /// The first check of the current run of slow checks.
    pub slow_since: Option<DateTime<Utc>>,
    /// The open `down` or `degraded` incident.
    pub incident: Option<OpenIncident>,
    /// The open certificate incident.
    pub cert_incident: Option<IncidentId>,
    /// Whether a certificate incident is open as far as the checks applied so far say:
    /// `None` until one of them decides, then what it decided. The store records an opened
    /// incident's id only after the whole batch is applied, so without this a batch holding
    /// two checks of an expiring certificate would open two incidents, and one that sees it
    /// expiring and then renewed would never resolve it.
    pub cert_decided: Option<bool>,
}

/// A change that one check decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The verdict changed.
    State {
        /// The verdict before.
        from: MonitorState,
        /// The verdict now.
        to: MonitorState,
        /// The first check of the run that decided it (the failing, slow or passing run).
        since: DateTime<Utc>,
        /// The deciding check, when the new verdict is `down` or `degraded`.
        cause: Option<Cause>,
    },
    /// The certificate expires within the monitor's `cert_expiry_days`.
    CertificateExpiring {
        /// When it expires.
        expires_at: DateTime<Utc>,
    },
    /// A certificate incident is over: the certificate seen now expires later.
    CertificateRenewed {
        /// When the new certificate expires.
        expires_at: DateTime<Utc>,
    },
}

/// How one check counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Failed,
    Slow,
    Good,
}

impl Health {
    /// Applies one check, returning what it changed (nothing, a new verdict, a certificate
    /// change, or both). A check no newer than the last one applied is ignored whole.
    pub fn apply(&mut self, thresholds: &Thresholds, result: &CheckResult) -> Vec<Decision> {
        let at = result.checked_at;
        if self.last_applied.is_some_and(|last| at <= last) {
            return Vec::new();
        }
        self.last_applied = Some(at);
        let verdict = match (&result.failure, thresholds.latency) {
            (Some(_), _) => Verdict::Failed,
            (None, Some(limit)) if result.latency > limit => Verdict::Slow,
            (None, _) => Verdict::Good,
        };
        self.count(verdict, at);
        let mut decisions = Vec::new();
        let to = self.next_state(thresholds);
        if to != self.state {
            let since = match to {
                MonitorState::Down => self.failing_since,
                MonitorState::Degraded => self.slow_since,
                MonitorState::Up | MonitorState::Pending => None,
            };
            decisions.push(Decision::State {
                from: self.state,
                to,
                since: since.unwrap_or(at),
                cause: cause(to, thresholds, result),
            });
            self.state = to;
        }
        if let Some(decision) = self.certificate(thresholds, result) {
            self.cert_decided = Some(matches!(decision, Decision::CertificateExpiring { .. }));
            decisions.push(decision);
        }
        decisions
    }

    fn count(&mut self, verdict: Verdict, at: DateTime<Utc>) {
        match verdict {
            Verdict::Failed => {
                self.failures = self.failures.saturating_add(1);
                self.failing_since.get_or_insert(at);
                (self.slow, self.good, self.passing) = (0, 0, 0);
                self.slow_since = None;
            }
            Verdict::Slow => {
                self.slow = self.slow.saturating_add(1);
                self.slow_since.get_or_insert(at);
                self.passing = self.passing.saturating_add(1);
                (self.failures, self.good) = (0, 0);
                self.failing_since = None;
            }
            Verdict::Good => {
                self.good = self.good.saturating_add(1);
                self.passing = self.passing.saturating_add(1);
                (self.failures, self.slow) = (0, 0);
                (self.failing_since, self.slow_since) = (None, None);
            }
        }
    }

    /// The verdict the runs call for. Leaving `down` takes `success` passing checks, leaving
    /// `degraded` takes `success` fast ones; slowness counts toward `degraded` from any state.
    fn next_state(&self, t: &Thresholds) -> MonitorState {
        use MonitorState::*;
        let slow = self.slow >= t.failure;
        if self.failures >= t.failure {
            return Down;
        }
        match self.state {
            Down if self.passing >= t.success => {
                if slow {
                    Degraded
                } else {
                    Up
                }
            }
            Down => Down,
            Degraded if slow => Degraded,
            Degraded if self.good >= t.success => Up,
            Degraded => Degraded,
            Up | Pending if slow => Degraded,
            Pending if self.passing >= t.success => Up,
            state => state,
        }
    }

    /// Opens or closes the certificate incident by the expiry this check saw.
    fn certificate(&self, t: &Thresholds, result: &CheckResult) -> Option<Decision> {
        let expires_at = result.cert_expires_at?;
        let open = self.cert_decided.unwrap_or(self.cert_incident.is_some());
        // Turned off (0 days): an open incident is over.
        let expiring = t.cert_expiry_days > 0
            && expires_at - result.checked_at
                <= chrono::TimeDelta::days(i64::from(t.cert_expiry_days));
        match (expiring, open) {
            (true, false) => Some(Decision::CertificateExpiring { expires_at }),
            (false, true) => Some(Decision::CertificateRenewed { expires_at }),
            _ => None,
        }
    }
}

/// One monitor's checks from a batch applied to its health in `checked_at` order: the
/// decisions they made, each with the time of the check that made it, and the newest check
/// applied (the monitor's last check now), if any was new.
pub fn apply_all<'a>(
    health: &mut Health,
    thresholds: &Thresholds,
    results: impl IntoIterator<Item = &'a CheckResult>,
) -> (Vec<(DateTime<Utc>, Decision)>, Option<&'a CheckResult>) {
    let mut results: Vec<&CheckResult> = results.into_iter().collect();
    results.sort_by_key(|r| r.checked_at);
    let mut decisions = Vec::new();
    let mut newest = None;
    for result in results {
        if health
            .last_applied
            .is_some_and(|last| result.checked_at <= last)
        {
            continue;
        }
        for decision in health.apply(thresholds, result) {
            decisions.push((result.checked_at, decision));
        }
        newest = Some(result);
    }
    (decisions, newest)
}

/// What opened a `down` or `degraded` verdict: the check that crossed the threshold.
fn cause(to: MonitorState, t: &Thresholds, result: &CheckResult) -> Option<Cause> {
    match (to, &result.failure) {
        (MonitorState::Down, Some(failure)) => Some(Cause {
            kind: failure.kind.as_str().to_owned(),
            message: failure.message.clone(),
            status_code: result.status_code,
        }),
        (MonitorState::Degraded, _) => Some(Cause {
            kind: "latency".to_owned(),
            message: format!(
                "took {} ms, over the latency threshold of {} ms",
                result.latency.as_millis(),
                t.latency.unwrap_or_default().as_millis()
            ),
            status_code: result.status_code,
        }),
        _ => None,
    }
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
