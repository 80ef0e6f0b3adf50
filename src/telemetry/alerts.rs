//! The alerting metrics: events created, deliveries by channel kind and outcome, delivery
//! latency and the outbox backlog. Registered with the process's other metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::alerting::EventKind;

/// Labels of `tocsin_alert_events_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: &'static str,
}

/// The alerting metrics of one process.
#[derive(Debug, Default)]
pub struct AlertMetrics {
    events: Family<EventLabels, Counter>,
}

impl AlertMetrics {
    /// The metrics, registered in `registry`.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "alert_events",
            "Alert events created (each queued once per channel of its monitor), by event",
            metrics.events.clone(),
        );
        metrics
    }

    /// Counts an event queued by a transition this process decided.
    pub fn event_created(&self, event: EventKind) {
        self.events
            .get_or_create(&EventLabels {
                event: event.as_str(),
            })
            .inc();
    }
}
