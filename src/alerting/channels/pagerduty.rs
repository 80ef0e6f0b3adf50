//! `pagerduty`: PagerDuty Events API v2. `down`, `degraded`, `certificate_expiring` and
//! reminders trigger an alert, `up` resolves it; the dedup key is the incident id, so one
//! tocsin incident is one PagerDuty alert however often it is announced.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ChannelError, Deliver, Guard, Notice, Outbound, Settings, text, text_field};
use crate::alerting::EventKind;

const DEFAULT_API: &str = "https://events.pagerduty.com";

/// A PagerDuty channel's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The service integration's routing key.
    pub routing_key: String,
    /// The Events API's base URL; events.pagerduty.com when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

impl Config {
    fn base(&self) -> &str {
        self.base_url.as_deref().unwrap_or(DEFAULT_API)
    }
}

impl Settings for Config {
    fn check(&self, guard: &Guard) -> Result<(), ChannelError> {
        guard.url("base_url", self.base())?;
        text_field("routing_key", &self.routing_key, 100)
    }

    fn public(&self) -> Value {
        json!({ "base_url": self.base(), "routing_key": true })
    }
}

/// The event sent for `notice`.
pub fn event(routing_key: &str, notice: &Notice) -> Value {
    let dedup_key = match &notice.incident {
        Some(incident) => incident.id.0.to_string(),
        None => "tocsin-test".to_owned(),
    };
    if notice.event == EventKind::Up {
        return json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key,
        });
    }
    let severity = match notice.event {
        EventKind::Down | EventKind::Reminder => "critical",
        EventKind::Degraded | EventKind::CertificateExpiring => "warning",
        EventKind::Up | EventKind::Test => "info",
    };
    let source = notice
        .monitor
        .as_ref()
        .map_or_else(|| "tocsin".to_owned(), |m| m.url.clone());
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": text::line(notice),
            "source": source,
            "severity": severity,
            "timestamp": text::rfc3339(notice.at),
            "component": notice.monitor.as_ref().map(|m| m.name.clone()),
            "custom_details": {
                "event_id": notice.event_id,
                "event": notice.event.as_str(),
                "cause": notice.cause.as_ref().map(|c| c.message.clone()),
            },
        },
    })
}

#[async_trait]
impl Deliver for Config {
    fn groups(&self) -> bool {
        false
    }

    async fn deliver(&self, out: &Outbound, notices: &[Notice]) -> Result<(), String> {
        let url = url::Url::parse(&format!("{}/v2/enqueue", self.base().trim_end_matches('/')))
            .map_err(|e| format!("base_url: {e}"))?;
        for notice in notices {
            let body =
                serde_json::to_vec(&event(&self.routing_key, notice)).map_err(|e| e.to_string())?;
            out.post_json(&url, &[], body).await?;
            if notice.event == EventKind::Test {
                // A test pages nobody for long: the alert it opened is closed at once.
                let resolve = json!({
                    "routing_key": self.routing_key,
                    "event_action": "resolve",
                    "dedup_key": "tocsin-test",
                });
                let body = serde_json::to_vec(&resolve).map_err(|e| e.to_string())?;
                out.post_json(&url, &[], body).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::alerting::channels::{NoticeIncident, NoticeMonitor};
    use crate::alerting::{IncidentId, IncidentKind};

    fn notice(event: EventKind) -> Notice {
        Notice {
            event_id: 7,
            event,
            at: Utc::now(),
            monitor: Some(NoticeMonitor {
                id: 1,
                name: "api".into(),
                url: "https://api.example/".into(),
            }),
            incident: Some(NoticeIncident {
                id: IncidentId(42),
                kind: IncidentKind::Down,
                started_at: Utc::now(),
                resolved_at: None,
            }),
            cause: None,
        }
    }

    #[test]
    fn down_triggers_and_up_resolves_the_alert_keyed_by_the_incident() {
        let down = event("key", &notice(EventKind::Down));
        assert_eq!(down["event_action"], "trigger");
        assert_eq!(down["dedup_key"], "42");
        assert_eq!(down["payload"]["severity"], "critical");
        let up = event("key", &notice(EventKind::Up));
        assert_eq!(up["event_action"], "resolve");
        assert_eq!(up["dedup_key"], "42");
        assert!(up.get("payload").is_none());
    }
}
