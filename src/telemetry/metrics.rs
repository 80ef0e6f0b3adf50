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
mod tests {
    use super::*;
    use crate::check::{Failure, FailureKind, Phases};

    fn result(failure: Option<Failure>) -> CheckResult {
        CheckResult {
            checked_at: chrono::Utc::now(),
            kind: Default::default(),
            dns: None,
            status_code: None,
            latency: Duration::from_millis(3),
            phases: Phases::default(),
            cert_expires_at: None,
            failure,
        }
    }

    #[test]
    fn checks_are_counted_by_outcome_and_in_flight_returns_to_zero() {
        let metrics = Metrics::new();
        let timer = metrics.check_started(Duration::from_millis(2));
        assert!(metrics.encode().contains("tocsin_checks_in_flight 1"));
        timer.finished(&result(None));
        metrics
            .check_started(Duration::ZERO)
            .finished(&result(Some(Failure::new(
                FailureKind::Dns,
                "no such host",
            ))));
        metrics.http_request("GET", "/api/v1/monitors/{id}", 200);
        let text = metrics.encode();
        assert!(
            text.contains("tocsin_checks_total{outcome=\"ok\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("tocsin_checks_total{outcome=\"dns\"} 1"),
            "{text}"
        );
        assert!(text.contains("tocsin_checks_in_flight 0"), "{text}");
        assert!(
            text.contains("tocsin_schedule_lateness_seconds_count 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "tocsin_http_requests_total{method=\"GET\",route=\"/api/v1/monitors/{id}\",status=\"200\"} 1"
            ),
            "{text}"
        );
    }

    #[test]
    fn invented_methods_share_one_series() {
        let metrics = Metrics::new();
        for i in 0..200 {
            metrics.http_request(&format!("BREW{i}"), "unmatched", 405);
        }
        metrics.http_request(&"X".repeat(10_000), "unmatched", 405);
        let text = metrics.encode();
        assert!(
            text.contains(
                "tocsin_http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"} 201"
            ),
            "{text}"
        );
        assert!(!text.contains("BREW") && !text.contains("XXXX"), "{text}");
        assert_eq!(text.matches("tocsin_http_requests_total{").count(), 1);
    }

    fn monitor(id: i64, name: &str, paused: bool) -> crate::monitor::Monitor {
        use crate::monitor::{MonitorDraft, MonitorId, MonitorSpec, Rules};
        let draft = MonitorDraft {
            name: Some(name.into()),
            url: "https://example.com".into(),
            ..MonitorDraft::default()
        };
        crate::monitor::Monitor {
            id: MonitorId(id),
            owner: crate::auth::UserId(1),
            spec: MonitorSpec::parse(draft, &Rules::STORED).expect("valid"),
            paused,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            state: crate::alerting::MonitorState::Pending,
            last_check: None,
        }
    }

    #[test]
    fn per_monitor_gauges_follow_checks_renames_pauses_and_deletes() {
        assert!(Metrics::new().monitors().is_none());
        let metrics = Metrics::with_monitor_gauges(true);
        let gauges = metrics.monitors().expect("on");
        let mut up = result(None);
        up.cert_expires_at = chrono::DateTime::from_timestamp(2_000_000_000, 0);
        gauges.checked(&monitor(7, "api", false), &up);
        gauges.checked(
            &monitor(8, "db \"main\"", false),
            &result(Some(Failure::new(FailureKind::Connect, "refused"))),
        );
        let text = metrics.encode();
        for line in [
            "# TYPE tocsin_monitor_up gauge",
            "tocsin_monitor_up{id=\"7\",name=\"api\"} 1",
            "tocsin_monitor_up{id=\"8\",name=\"db \\\"main\\\"\"} 0",
            "tocsin_monitor_latency_seconds{id=\"7\",name=\"api\"} 0.003",
            "tocsin_monitor_cert_expiry_timestamp_seconds{id=\"7\",name=\"api\"} 2000000000",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        assert!(
            !text.contains("tocsin_monitor_cert_expiry_timestamp_seconds{id=\"8\""),
            "{text}"
        );

        gauges.changed(&monitor(7, "api v2", false));
        assert!(
            metrics
                .encode()
                .contains("tocsin_monitor_up{id=\"7\",name=\"api v2\"} 1")
        );
        gauges.changed(&monitor(8, "db", true));
        assert!(
            !metrics.encode().contains("id=\"8\""),
            "a paused monitor is dropped"
        );
        gauges.deleted(crate::monitor::MonitorId(7));
        assert!(
            !metrics.encode().contains("id=\"7\""),
            "a deleted monitor is dropped"
        );
        // A check that was in flight when the monitor was deleted does not bring it back.
        gauges.checked(&monitor(7, "api v2", false), &up);
        assert!(!metrics.encode().contains("id=\"7\""));
    }
}
