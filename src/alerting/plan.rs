//! From a decision to what the store writes: which incidents open and close, and which
//! notifications are queued. Plain data, so both stores write exactly the same thing and the
//! rules live here once:
//!
//! - every transition opens or closes incidents; only some notify: `down` and `degraded`
//!   announce the incident they open, `up` the incident it closes, and a certificate
//!   incident announces its opening only (`certificate_expiring`);
//! - the first verdict `up` of a new monitor (from `pending`) notifies nobody;
//! - inside a maintenance window nothing is sent, and an incident opened inside one stays
//!   muted to its end (its `up` is not sent either: nobody heard its `down`).

use chrono::{DateTime, Utc};

use super::health::OpenIncident;
use super::{Cause, Decision, EventKind, Health, IncidentId, IncidentKind, MonitorState};

/// Which of a monitor's open incidents an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The `down` or `degraded` incident.
    Verdict,
    /// The certificate incident.
    Certificate,
}

/// The incident a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentRef {
    /// One that already exists.
    Existing(IncidentId),
    /// The one the plan's preceding [`Op::Open`] created.
    Opened,
}

/// One write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Close `incident` at `at`.
    Resolve {
        /// The incident.
        incident: IncidentId,
        /// When it ended: the check that decided it.
        at: DateTime<Utc>,
    },
    /// Open an incident; the store records its id in the monitor's `slot`.
    Open {
        /// Where the store keeps it open.
        slot: Slot,
        /// What it is about.
        kind: IncidentKind,
        /// The first check of the run that opened it.
        started_at: DateTime<Utc>,
        /// The check that opened it.
        cause: Cause,
        /// Opened inside a maintenance window: it notifies nobody, ever.
        muted: bool,
        /// For a certificate incident, the expiry that opened it.
        cert_expires_at: Option<DateTime<Utc>>,
    },
    /// Queue `event` about `incident` once for each of the monitor's channels.
    Notify {
        /// What to announce.
        event: EventKind,
        /// About which incident.
        incident: IncidentRef,
        /// When it happened.
        at: DateTime<Utc>,
    },
}

/// The writes for `decision`, made by the check at `at`; `in_maintenance` says whether a
/// maintenance window covers the monitor then. Closes the incidents it resolves in `health`;
/// the store records the ones it opens.
pub fn plan(
    health: &mut Health,
    decision: &Decision,
    at: DateTime<Utc>,
    in_maintenance: bool,
) -> Vec<Op> {
    let mut ops = Vec::new();
    match decision {
        Decision::State {
            to, since, cause, ..
        } => {
            let previous = health.incident.take();
            if let Some(previous) = previous {
                ops.push(Op::Resolve {
                    incident: previous.id,
                    at,
                });
            }
            let opens = match to {
                MonitorState::Down => Some((IncidentKind::Down, EventKind::Down)),
                MonitorState::Degraded => Some((IncidentKind::Degraded, EventKind::Degraded)),
                MonitorState::Up | MonitorState::Pending => None,
            };
            if let (Some((kind, event)), Some(cause)) = (opens, cause) {
                ops.push(Op::Open {
                    slot: Slot::Verdict,
                    kind,
                    started_at: *since,
                    cause: cause.clone(),
                    muted: in_maintenance,
                    cert_expires_at: None,
                });
                if !in_maintenance {
                    ops.push(Op::Notify {
                        event,
                        incident: IncidentRef::Opened,
                        at,
                    });
                }
            } else if let Some(OpenIncident { id, muted: false }) = previous
                && *to == MonitorState::Up
                && !in_maintenance
            {
                ops.push(Op::Notify {
                    event: EventKind::Up,
                    incident: IncidentRef::Existing(id),
                    at,
                });
            }
        }
        Decision::CertificateExpiring { expires_at } => {
            ops.push(Op::Open {
                slot: Slot::Certificate,
                kind: IncidentKind::Certificate,
                started_at: at,
                cause: Cause {
                    kind: "certificate".into(),
                    message: format!(
                        "the certificate expires on {}",
                        expires_at.format("%Y-%m-%d %H:%M UTC")
                    ),
                    status_code: None,
                },
                muted: in_maintenance,
                cert_expires_at: Some(*expires_at),
            });
            if !in_maintenance {
                ops.push(Op::Notify {
                    event: EventKind::CertificateExpiring,
                    incident: IncidentRef::Opened,
                    at,
                });
            }
        }
        Decision::CertificateRenewed { .. } => {
            if let Some(incident) = health.cert_incident.take() {
                ops.push(Op::Resolve { incident, at });
            }
        }
    }
    ops
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
