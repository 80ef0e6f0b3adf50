//! Transitions in the log: a WARN line when a monitor goes down, INFO when it recovers or
//! changes otherwise. Written once, by the instance whose results write decided it.

use super::{Decision, MonitorState, Transition};

/// Logs `transition` at the level its change deserves.
pub fn transition(t: &Transition) {
    let (monitor, incident) = (t.monitor.0, t.incident.map(|i| i.0));
    let muted = t.event.is_none();
    match &t.decision {
        Decision::State {
            from,
            to: MonitorState::Down,
            cause,
            ..
        } => tracing::warn!(
            monitor,
            ?incident,
            from = from.as_str(),
            cause = cause.as_ref().map(|c| c.message.as_str()),
            muted,
            "monitor is down"
        ),
        Decision::State { from, to, .. } => tracing::info!(
            monitor,
            ?incident,
            from = from.as_str(),
            to = to.as_str(),
            muted,
            "monitor is {}",
            to.as_str()
        ),
        Decision::CertificateExpiring { expires_at } => tracing::warn!(
            monitor,
            ?incident,
            %expires_at,
            muted,
            "monitor's certificate expires soon"
        ),
        Decision::CertificateRenewed { expires_at } => tracing::info!(
            monitor,
            ?incident,
            %expires_at,
            "monitor's certificate was renewed"
        ),
    }
}
