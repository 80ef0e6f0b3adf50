//! The alerting metrics: events created, deliveries by channel kind and outcome, delivery
//! latency and the outbox backlog. Registered with the process's other metrics.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::alerting::EventKind;
use crate::alerting::channels::ChannelKind;

/// Labels of `tocsin_alert_events_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: &'static str,
}

/// Labels of `tocsin_notification_deliveries_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    kind: &'static str,
    /// `delivered`, `retry` or `failed`.
    outcome: &'static str,
}

/// Labels of `tocsin_notification_delivery_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

fn latency_histogram() -> Histogram {
    // 5 ms to ~80 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

/// The alerting metrics of one process.
#[derive(Debug)]
pub struct AlertMetrics {
    events: Family<EventLabels, Counter>,
    deliveries: Family<DeliveryLabels, Counter>,
    latency: Family<KindLabels, Histogram, fn() -> Histogram>,
    backlog: Gauge,
}

impl Default for AlertMetrics {
    fn default() -> Self {
        Self {
            events: Family::default(),
            deliveries: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            backlog: Gauge::default(),
        }
    }
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
        registry.register(
            "notification_deliveries",
            "Delivery attempts by channel kind and outcome (delivered, retry, failed)",
            metrics.deliveries.clone(),
        );
        registry.register(
            "notification_delivery_seconds",
            "How long one delivery attempt took, by channel kind",
            metrics.latency.clone(),
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

    /// Counts `count` notifications of a delivery attempt to a `kind` channel that took
    /// `took` and ended with `outcome`.
    pub fn delivery(&self, kind: ChannelKind, outcome: &'static str, count: u64, took: Duration) {
        let kind = kind.as_str();
        self.deliveries
            .get_or_create(&DeliveryLabels { kind, outcome })
            .inc_by(count);
        self.latency
            .get_or_create(&KindLabels { kind })
            .observe(took.as_secs_f64());
    }
}
