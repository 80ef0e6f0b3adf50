//! The alerting metrics: events created, deliveries by channel kind and outcome, delivery
//! latency and the outbox backlog. Registered with the process's other metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
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
    backlog: Gauge,
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
        metrics.register_backlog(registry);
        metrics
    }

    /// Registers the outbox backlog gauge (kept apart from the delivery metrics).
    fn register_backlog(&self, registry: &mut Registry) {
        registry.register(
            "alert_outbox_backlog",
            "Notifications waiting to be delivered (pending in the outbox, every instance's), \
             as last counted by this instance's reminder job",
            self.backlog.clone(),
        );
    }

    /// Records the outbox backlog just counted.
    pub fn set_outbox_backlog(&self, pending: u64) {
        self.backlog.set(i64::try_from(pending).unwrap_or(i64::MAX));
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
