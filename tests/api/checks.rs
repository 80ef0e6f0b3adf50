//! The check engine seen from outside: monitors added through the API are checked on their
//! grid against a local target, and their results, state and statistics come back.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tocsin::config::Settings;
use tokio::time::{Instant, sleep};

use crate::helpers::{TestApp, spawn_with, start, test_settings};
use crate::target::Target;

/// An app that may check loopback targets every second.
pub async fn engine_app() -> TestApp {
    spawn_with(engine_settings).await
}

fn engine_settings(settings: &mut Settings) {
    settings.min_interval = Duration::from_secs(1);
    settings.allow_private_targets = true;
}

/// Polls `probe` every 50 ms until it gives `Some`, failing the test after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        sleep(Duration::from_millis(50)).await;
    }
}

/// A monitor's results, newest first.
pub async fn results(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let response = app
        .get(&format!("/api/v1/monitors/{id}/results?limit=1000"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.expect("results JSON");
    page["results"].as_array().expect("results").clone()
}

async fn json_of(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.expect("JSON")
}

async fn first_results(app: &TestApp, token: &str, id: i64, n: usize) -> Vec<Value> {
    eventually(Duration::from_secs(10), "results", || async {
        let found = results(app, token, id).await;
        (found.len() >= n).then_some(found)
    })
    .await
}

#[tokio::test]
async fn a_url_added_through_the_seed_route_is_checked_within_a_second() {
    let (app, target) = (engine_app().await, Target::start().await);
    let token = app.new_user().await;
    let body = json!({"URL": target.url("/ok"), "Period": 1}).to_string();
    let added = Instant::now();
    let response = app.post("/url", &body, Some(&token)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let monitor: Value = response.json().await.expect("monitor");
    assert_eq!(
        monitor["state"], "pending",
        "no verdict before its first check"
    );
    let id = monitor["id"].as_i64().expect("id");

    let first = eventually(Duration::from_secs(5), "the first check", || async {
        target.hits("/ok").first().copied()
    })
    .await;
    assert!(
        first - added < Duration::from_secs(1),
        "first check after {:?}",
        first - added
    );
    let found = first_results(&app, &token, id, 1).await;
    let result = &found[0];
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["status_code"], 200);
    assert!(result["error"].is_null());
    assert!(result["dns_ms"].is_null(), "a literal address needs no DNS");
    assert!(result["tls_ms"].is_null(), "plain http has no TLS");
    assert!(result["connect_ms"].as_f64().is_some() && result["ttfb_ms"].as_f64().is_some());
    assert!(
        result["latency_ms"].as_f64().expect("latency")
            >= result["ttfb_ms"].as_f64().expect("ttfb")
    );

    let monitor = json_of(&app, &format!("/api/v1/monitors/{id}"), &token).await;
    assert_eq!(monitor["state"], "up");
    assert_eq!(monitor["last_check"]["status_code"], 200);
    assert_eq!(monitor["last_check"]["at"], result["checked_at"]);
    let stats = json_of(
        &app,
        &format!("/api/v1/monitors/{id}/stats?window=1h"),
        &token,
    )
    .await;
    assert_eq!(
        (stats["window"].as_str(), stats["checks"].as_u64()),
        (Some("1h"), Some(1))
    );
    assert_eq!(
        (stats["failures"].as_u64(), stats["uptime_ratio"].as_f64()),
        (Some(0), Some(1.0))
    );
    assert_eq!(stats["latency_ms"]["max"], result["latency_ms"]);
    assert_eq!(
        target.count("/ok"),
        1,
        "a one-minute period checks once in the test"
    );
}

#[tokio::test]
async fn checks_stay_on_their_grid_without_drift_or_doubles() {
    let (app, target) = (engine_app().await, Target::start().await);
    let token = app.new_user().await;
    // Each check takes 400 ms: a scheduler that waited for a check before timing the next
    // would drift 400 ms a period.
    let slow = app
        .create_monitor(
            &token,
            json!({"url": target.url("/slow/400"), "interval_seconds": 1}),
        )
        .await;
    let every_two = app
        .create_monitor(
            &token,
            json!({"url": target.url("/ok"), "interval_seconds": 2}),
        )
        .await;
    let hits = eventually(Duration::from_secs(15), "six slow checks", || async {
        let hits = target.hits("/slow/400");
        (hits.len() >= 6).then_some(hits)
    })
    .await;
    // The first check runs at once, the second on the monitor's phase grid half an interval
    // to one and a half after it (see `monitor::phase`), and every later one a period on.
    let second = hits[1] - hits[0];
    assert!(second > Duration::from_millis(400) && second < Duration::from_millis(1750));
    for (n, hit) in hits.iter().enumerate().skip(1) {
        let expected = hits[1] + Duration::from_secs(n as u64 - 1);
        let off = if *hit > expected {
            *hit - expected
        } else {
            expected - *hit
        };
        assert!(
            off < Duration::from_millis(250),
            "check {n} is {off:?} off its grid point"
        );
    }
    let pairs = target.hits("/ok");
    assert!(pairs.len() >= 3, "the two-second monitor ran too");
    for pair in pairs.windows(2).skip(1) {
        let gap = pair[1] - pair[0];
        assert!(
            gap > Duration::from_millis(1750) && gap < Duration::from_millis(2250),
            "{gap:?}"
        );
    }
    // No due time ran twice: stored check times are distinct and about a period apart
    // (after the first, which runs at once, off the grid).
    for id in [&slow, &every_two].map(|m| m["id"].as_i64().expect("id")) {
        let found = results(&app, &token, id).await;
        let times: Vec<chrono::DateTime<chrono::Utc>> = found
            .iter()
            .map(|r| {
                r["checked_at"]
                    .as_str()
                    .expect("time")
                    .parse()
                    .expect("RFC 3339")
            })
            .collect();
        for pair in times[..times.len().saturating_sub(1)].windows(2) {
            assert!(
                pair[0] - pair[1] > chrono::Duration::milliseconds(750),
                "{pair:?}"
            );
        }
    }
}

#[tokio::test]
async fn edits_pauses_resumes_and_deletes_take_effect() {
    let (app, target) = (engine_app().await, Target::start().await);
    let token = app.new_user().await;
    let monitor = app
        .create_monitor(
            &token,
            json!({"url": target.url("/ok"), "interval_seconds": 1}),
        )
        .await;
    let path = format!("/api/v1/monitors/{}", monitor["id"]);
    eventually(Duration::from_secs(5), "a first check", || async {
        (target.count("/ok") > 0).then_some(())
    })
    .await;

    let edit = json!({"url": target.url("/status/204")});
    let response = app.send(Method::PATCH, &path, &token, Some(edit)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let settled = target.count("/ok");
    sleep(Duration::from_millis(2500)).await;
    assert!(
        target.count("/ok") <= settled + 1,
        "the old URL is no longer checked"
    );
    assert!(
        target.count("/status/204") >= 2,
        "the new URL is checked every second"
    );

    let paused = app
        .send(Method::POST, &format!("{path}/pause"), &token, None)
        .await;
    assert_eq!(paused.status(), StatusCode::OK);
    assert_eq!(
        paused.json::<Value>().await.expect("monitor")["state"],
        "paused"
    );
    sleep(Duration::from_millis(300)).await;
    let at_pause = target.count("/status/204");
    sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        target.count("/status/204"),
        at_pause,
        "a paused monitor is not checked"
    );

    let resumed_at = Instant::now();
    let resumed = app
        .send(Method::POST, &format!("{path}/resume"), &token, None)
        .await;
    assert_eq!(resumed.status(), StatusCode::OK);
    let next = eventually(Duration::from_secs(5), "a check after resume", || async {
        target.hits("/status/204").get(at_pause).copied()
    })
    .await;
    assert!(
        next - resumed_at < Duration::from_secs(1),
        "resumed after {:?}",
        next - resumed_at
    );

    let deleted = app.send(Method::DELETE, &path, &token, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    sleep(Duration::from_millis(300)).await;
    let at_delete = target.count("/status/204");
    sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        target.count("/status/204"),
        at_delete,
        "a deleted monitor is not checked"
    );
}

#[tokio::test]
async fn failures_are_recorded_with_their_kind_and_turn_a_monitor_with_threshold_one_down() {
    let (app, target) = (engine_app().await, Target::start().await);
    let token = app.new_user().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        listener.local_addr().expect("address")
    };
    for (url, kind, status) in [
        (target.url("/status/503"), "status", json!(503)),
        (format!("http://{closed}/"), "connect", Value::Null),
    ] {
        let monitor = app
            .create_monitor(
                &token,
                json!({"url": url, "interval_seconds": 60, "failure_threshold": 1}),
            )
            .await;
        let id = monitor["id"].as_i64().expect("id");
        let found = first_results(&app, &token, id, 1).await;
        assert_eq!(found[0]["ok"], false);
        assert_eq!(found[0]["error"]["kind"], kind, "{}", found[0]);
        assert!(
            found[0]["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(found[0]["status_code"], status);
        let view = json_of(&app, &format!("/api/v1/monitors/{id}"), &token).await;
        assert_eq!(view["state"], "down");
        // Why, without reading results.
        assert_eq!(view["last_check"]["error"], found[0]["error"]);
        let stats = json_of(
            &app,
            &format!("/api/v1/monitors/{id}/stats?window=24h"),
            &token,
        )
        .await;
        assert_eq!(
            (stats["failures"].as_u64(), stats["uptime_ratio"].as_f64()),
            (Some(1), Some(0.0))
        );
    }
}

#[tokio::test]
async fn private_targets_are_refused_at_check_time_and_get_no_byte() {
    let target = Target::start().await;
    let dir = TempDir::new().expect("temp dir");
    let mut settings = test_settings(dir.path());
    engine_settings(&mut settings);
    // Monitors made while private targets were allowed: a literal address and a host name
    // that resolves to loopback.
    let allowed = start(settings.clone()).await;
    let token = allowed.new_user().await;
    let port = target.addr.port();
    let mut ids = Vec::new();
    for url in [
        target.url("/ok"),
        format!("http://localhost:{port}/status/200"),
    ] {
        let m = allowed
            .create_monitor(&token, json!({"url": url, "interval_seconds": 1}))
            .await;
        ids.push(m["id"].as_i64().expect("id"));
    }
    eventually(Duration::from_secs(5), "checks while allowed", || async {
        (target.count("/ok") > 0 && target.count("/status/200") > 0).then_some(())
    })
    .await;
    drop(allowed);
    sleep(Duration::from_millis(500)).await;
    let before = (target.count("/ok"), target.count("/status/200"));

    settings.allow_private_targets = false;
    let guarded = start(settings).await;
    for id in &ids {
        let found = eventually(Duration::from_secs(10), "a blocked result", || async {
            let found = results(&guarded, &token, *id).await;
            found
                .iter()
                .any(|r| r["error"]["kind"] == "blocked")
                .then_some(found)
        })
        .await;
        let blocked = found
            .iter()
            .find(|r| r["error"]["kind"] == "blocked")
            .expect("blocked");
        assert!(
            blocked["status_code"].is_null() && blocked["connect_ms"].is_null(),
            "{blocked}"
        );
    }
    sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        (target.count("/ok"), target.count("/status/200")),
        before,
        "no request reached the private target once refused"
    );
}
