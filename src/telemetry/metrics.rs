//! The Prometheus metrics of one tocsin process, served at `GET /metrics`.
//!
//! One [`Metrics`] value per process (not a global), so tests that start several instances
//! in one process each count their own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::{AlertMetrics, MonitorGauges, RedisMetrics};
use crate::check::CheckResult;

/// Labels of `tocsin_checks_total`: `ok` or the failure kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Labels of `tocsin_http_requests_total`: each from a closed set, so no request can add
/// series at will (an invented method is `other`, a path that matched no route `unmatched`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// The methods counted under their own name; any other is counted as `other`.
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// `method` if it is a standard one, else `other`.
fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

/// Every metric tocsin records.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    checks: Family<OutcomeLabels, Counter>,
    check_duration: Histogram,
    lateness: Histogram,
    skipped: Counter,
    starved: Counter,
    in_flight: Gauge,
    buffered: Gauge,
    batch_write: Histogram,
    results_written: Counter,
    write_failures: Counter,
    results_dropped: Counter,
    results_corrupt: Counter,
    /// Redis's durability, as the Redis buffer sees it.
    pub redis: RedisMetrics,
    http_requests: Family<HttpLabels, Counter>,
    checks_finished: AtomicU64,
    monitors: Option<Arc<MonitorGauges>>,
    /// Alerting's own metrics, in the same registry.
    pub alerts: AlertMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh set of metrics, all at zero, without per-monitor gauges.
    pub fn new() -> Self {
        Self::with_monitor_gauges(false)
    }

    /// A fresh set of metrics; `per_monitor` adds a gauge series per monitor checked here
    /// (`TOCSIN_METRICS_PER_MONITOR`).
    pub fn with_monitor_gauges(per_monitor: bool) -> Self {
        let mut registry = Registry::with_prefix("tocsin");
        let checks = Family::<OutcomeLabels, Counter>::default();
        // 1 ms to ~65 s: loopback checks to a target at its timeout.
        let check_duration = Histogram::new(exponential_buckets(0.001, 2.0, 17));
        // 0.1 ms to ~3.3 s: lateness is a few ms when healthy (the scheduler's coalescing), and
        // the skip rule caps it.
        let lateness = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let batch_write = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        let http_requests = Family::<HttpLabels, Counter>::default();
        let (skipped, in_flight, buffered) =
            (Counter::default(), Gauge::default(), Gauge::default());
        let (results_written, write_failures, results_dropped) =
            (Counter::default(), Counter::default(), Counter::default());
        registry.register(
            "checks",
            "Checks finished, by outcome (ok or the failure kind)",
            checks.clone(),
        );
        registry.register(
            "check_duration_seconds",
            "Duration of a check, from start to result",
            check_duration.clone(),
        );
        registry.register(
            "schedule_lateness_seconds",
            "How late a check started after its due time",
            lateness.clone(),
        );
        registry.register(
            "checks_skipped",
            "Due checks skipped because they could not start within their grace",
            skipped.clone(),
        );
        let starved = Counter::default();
        registry.register(
            "checks_starved",
            "Checks this process served too late to judge the target (a timer fired far late \
             under overload); counted in checks_skipped too, never stored as failures",
            starved.clone(),
        );
        registry.register("checks_in_flight", "Checks running now", in_flight.clone());
        registry.register(
            "results_buffered",
            "Results waiting in the buffer to be written",
            buffered.clone(),
        );
        registry.register(
            "batch_write_seconds",
            "Duration of one batch write of results to the store",
            batch_write.clone(),
        );
        registry.register(
            "results_written",
            "Results written to the store",
            results_written.clone(),
        );
        registry.register(
            "batch_write_failures",
            "Batch writes that failed and were retried",
            write_failures.clone(),
        );
        registry.register(
            "results_dropped",
            "Results dropped, oldest first, because the local buffer was full while Redis was away",
            results_dropped.clone(),
        );
        let results_corrupt = Counter::default();
        registry.register(
            "results_corrupt",
            "Buffered results that could not be decoded and were discarded",
            results_corrupt.clone(),
        );
        let redis = RedisMetrics::register(&mut registry);
        registry.register(
            "http_requests",
            "HTTP API requests, by method, route and status",
            http_requests.clone(),
        );
        let monitors = per_monitor.then(|| Arc::new(MonitorGauges::default()));
        if let Some(gauges) = &monitors {
            registry.register_collector(Box::new(Arc::clone(gauges)));
        }
        let alerts = AlertMetrics::register(&mut registry);
        Self {
            monitors,
            registry,
            alerts,
            checks,
            check_duration,
            lateness,
            skipped,
            starved,
            in_flight,
            buffered,
            batch_write,
            results_written,
            write_failures,
            results_dropped,
            results_corrupt,
            redis,
            http_requests,
            checks_finished: AtomicU64::new(0),
        }
    }

    /// The per-monitor gauges, when they are on.
    pub fn monitors(&self) -> Option<&MonitorGauges> {
        self.monitors.as_deref()
    }

    /// Checks finished since start, every outcome together (for heartbeats).
    pub fn checks_finished(&self) -> u64 {
        self.checks_finished.load(Ordering::Relaxed)
    }

    /// The metrics in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(error) = encode(&mut text, &self.registry) {
            tracing::error!(%error, "cannot encode metrics");
        }
        text
    }

    /// The metrics in Prometheus' classic text format (`text/plain; version=0.0.4`), which
    /// `promtool` and older scrapers read.
    pub fn encode_classic(&self) -> String {
        super::text_format::classic(&self.encode())
    }

    /// Counts a check starting `lateness` after its due time; the returned timer counts it
    /// in flight until it is finished or dropped.
    pub fn check_started(&self, lateness: Duration) -> CheckTimer<'_> {
        self.lateness.observe(lateness.as_secs_f64());
        self.in_flight.inc();
        CheckTimer {
            metrics: self,
            started: Instant::now(),
        }
    }

    /// Counts a due check that was skipped.
    pub fn check_skipped(&self) {
        self.skipped.inc();
    }

    /// Counts due checks that a claim passed over, missed by more than their grace.
    pub fn checks_passed_over(&self, count: u64) {
        self.skipped.inc_by(count);
    }

    /// Counts a check that ran but that this process served too late to judge the target:
    /// a skipped check, never a failure.
    pub fn check_starved(&self) {
        self.starved.inc();
        self.skipped.inc();
    }

    /// Sets how many results wait in the buffer.
    pub fn set_buffered(&self, count: usize) {
        self.buffered.set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Counts one batch write and how long it took.
    pub fn batch_written(&self, results: usize, took: Duration) {
        self.batch_write.observe(took.as_secs_f64());
        self.results_written.inc_by(results as u64);
    }

    /// Counts results dropped from a full local buffer.
    pub fn results_dropped(&self, count: usize) {
        self.results_dropped.inc_by(count as u64);
    }

    /// Counts buffered results discarded because they could not be decoded.
    pub fn results_corrupt(&self, count: usize) {
        self.results_corrupt.inc_by(count as u64);
    }

    /// Counts a failed batch write (it is retried).
    pub fn batch_failed(&self) {
        self.write_failures.inc();
    }

    /// Counts one API request; `route` is the matched route template, not the raw path, so
    /// ids do not make a new series each, and a method outside the standard ones is `other`.
    pub fn http_request(&self, method: &str, route: &str, status: u16) {
        self.http_requests
            .get_or_create(&HttpLabels {
                method: method_label(method),
                route: route.to_owned(),
                status,
            })
            .inc();
    }
}

/// A check in flight; see [`Metrics::check_started`].
#[derive(Debug)]
pub struct CheckTimer<'a> {
    metrics: &'a Metrics,
    started: Instant,
}

impl CheckTimer<'_> {
    /// Counts the check's outcome and duration.
    pub fn finished(self, result: &CheckResult) {
        let outcome = result.failure.as_ref().map_or("ok", |f| f.kind.as_str());
        self.metrics
            .checks
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        self.metrics
            .check_duration
            .observe(self.started.elapsed().as_secs_f64());
        self.metrics.checks_finished.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for CheckTimer<'_> {
    fn drop(&mut self) {
        self.metrics.in_flight.dec();
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
