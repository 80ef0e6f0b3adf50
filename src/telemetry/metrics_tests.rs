//! The metrics as /metrics shows them.

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
