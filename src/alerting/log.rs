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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use chrono::DateTime;

    use super::*;
    use crate::alerting::{Cause, EventKind, IncidentId};
    use crate::auth::UserId;
    use crate::monitor::MonitorId;

    /// Log lines written while `work` runs.
    fn logged(work: impl FnOnce()) -> Vec<String> {
        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("lines").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::with_default(subscriber, work);
        let text = String::from_utf8(lines.0.lock().expect("lines").clone()).expect("UTF-8");
        text.lines().map(str::to_owned).collect()
    }

    fn transition(from: MonitorState, to: MonitorState, cause: Option<Cause>) -> Transition {
        Transition {
            monitor: MonitorId(7),
            owner: UserId(1),
            at: DateTime::from_timestamp(1_800_000_000, 0).expect("time"),
            decision: Decision::State {
                from,
                to,
                since: DateTime::from_timestamp(1_799_999_990, 0).expect("time"),
                cause,
            },
            incident: Some(IncidentId(3)),
            event: Some(EventKind::Down),
        }
    }

    #[test]
    fn going_down_is_one_warn_line_and_recovering_one_info_line() {
        let cause = Cause {
            kind: "status".into(),
            message: "status 503 is not expected".into(),
            status_code: Some(503),
        };
        let down = logged(|| {
            super::transition(&transition(
                MonitorState::Up,
                MonitorState::Down,
                Some(cause),
            ))
        });
        assert_eq!(down.len(), 1, "{down:?}");
        assert!(down[0].contains(" WARN "), "{down:?}");
        assert!(down[0].contains("monitor is down"), "{down:?}");
        assert!(down[0].contains("monitor=7"), "{down:?}");
        assert!(down[0].contains("status 503 is not expected"), "{down:?}");

        let up =
            logged(|| super::transition(&transition(MonitorState::Down, MonitorState::Up, None)));
        assert_eq!(up.len(), 1, "{up:?}");
        assert!(up[0].contains(" INFO "), "{up:?}");
        assert!(up[0].contains("monitor is up"), "{up:?}");
        assert!(
            up[0].contains("from=\"down\"") || up[0].contains("from=down"),
            "{up:?}"
        );
    }
}
