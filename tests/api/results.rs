//! The results and stats endpoints' paging, validation and ownership; retention with a
//! retention of seconds; the Prometheus metrics.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::time::sleep;

use crate::checks::{engine_app, eventually, results};
use crate::helpers::{expect_error, spawn_with};
use crate::target::Target;

#[tokio::test]
async fn results_page_newest_first_and_validate_their_parameters() {
    let (app, target) = (engine_app().await, Target::start().await);
    let token = app.new_user().await;
    let m = app
        .create_monitor(
            &token,
            json!({"url": target.url("/ok"), "interval_seconds": 1}),
        )
        .await;
    let base = format!("/api/v1/monitors/{}", m["id"]);
    let all = eventually(Duration::from_secs(10), "three results", || async {
        let found = results(&app, &token, m["id"].as_i64().expect("id")).await;
        (found.len() >= 3).then_some(found)
    })
    .await;

    let first: Value = app
        .get(&format!("{base}/results?limit=1"), &token)
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(first["results"].as_array().map(Vec::len), Some(1));
    let newest = &first["results"][0]["checked_at"];
    assert!(
        newest.as_str() >= all[1]["checked_at"].as_str(),
        "newest first"
    );
    let cursor = first["next_before"].as_str().expect("a next page");
    assert_eq!(Some(cursor), newest.as_str());
    let second: Value = app
        .get(&format!("{base}/results?limit=1&before={cursor}"), &token)
        .await
        .json()
        .await
        .expect("page");
    assert!(
        second["results"][0]["checked_at"].as_str() < Some(cursor),
        "older than the cursor"
    );
    let rest: Value = app
        .get(&format!("{base}/results?limit=1000"), &token)
        .await
        .json()
        .await
        .expect("page");
    assert!(rest["next_before"].is_null(), "a short page is the last");

    for (query, names) in [
        ("results?limit=0", "limit"),
        ("results?limit=1001", "limit"),
        ("results?limit=ten", "limit"),
        ("results?before=yesterday", "before"),
        ("stats?window=2d", "window"),
    ] {
        let message = expect_error(
            app.get(&format!("{base}/{query}"), &token).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(message.starts_with(names), "{query}: {message}");
    }
    let stranger = app.new_user().await;
    for route in ["results", "stats", "stats?window=365d"] {
        let response = app.get(&format!("{base}/{route}"), &stranger).await;
        expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    let missing = app.get("/api/v1/monitors/999999/results", &token).await;
    expect_error(missing, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn old_results_are_rolled_up_then_deleted_and_still_counted() {
    let retention = Duration::from_secs(2);
    let app = spawn_with(|s| {
        s.min_interval = Duration::from_secs(1);
        s.allow_private_targets = true;
        s.retention = retention;
    })
    .await;
    let target = Target::start().await;
    let token = app.new_user().await;
    let m = app
        .create_monitor(
            &token,
            json!({"url": target.url("/ok"), "interval_seconds": 1}),
        )
        .await;
    let id = m["id"].as_i64().expect("id");
    sleep(Duration::from_secs(6)).await;

    let raw = results(&app, &token, id).await;
    let now = chrono::Utc::now();
    let oldest: chrono::DateTime<chrono::Utc> = raw
        .last()
        .and_then(|r| r["checked_at"].as_str())
        .expect("some raw results")
        .parse()
        .expect("RFC 3339");
    // 1.25 × the retention, and a little for a loaded machine's timers.
    let bound = retention.mul_f64(1.25) + Duration::from_millis(400);
    assert!(
        (now - oldest).to_std().expect("past") < bound,
        "a raw result {:?} old survived a retention of {retention:?}",
        now - oldest
    );
    let stats: Value = app
        .get(&format!("/api/v1/monitors/{id}/stats?window=1h"), &token)
        .await
        .json()
        .await
        .expect("stats");
    let checks = stats["checks"].as_u64().expect("checks") as usize;
    let hits = target.count("/ok");
    assert!(
        checks > raw.len(),
        "rolled-up checks still count: {checks} vs {} raw",
        raw.len()
    );
    assert!(
        checks + 2 >= hits && checks <= hits,
        "{checks} counted, {hits} made"
    );
    assert_eq!(stats["failures"], 0);
}

#[tokio::test]
async fn metrics_count_checks_lateness_and_requests_by_route() {
    let (app, target) = (engine_app().await, Target::start().await);
    let token = app.new_user().await;
    app.create_monitor(
        &token,
        json!({"url": target.url("/ok"), "interval_seconds": 60}),
    )
    .await;
    app.create_monitor(
        &token,
        json!({"url": target.url("/status/500"), "interval_seconds": 60}),
    )
    .await;
    let text = eventually(
        Duration::from_secs(10),
        "both checks in the metrics",
        || async {
            let response = app
                .client
                .get(app.url("/metrics"))
                .send()
                .await
                .expect("metrics");
            let text = response.text().await.expect("text");
            (text.contains("tocsin_checks_total{outcome=\"ok\"} 1")
                && text.contains("tocsin_checks_total{outcome=\"status\"} 1"))
            .then_some(text)
        },
    )
    .await;
    for expected in [
        "tocsin_schedule_lateness_seconds_count 2",
        "tocsin_check_duration_seconds_count 2",
        "tocsin_checks_in_flight 0",
        "tocsin_http_requests_total{method=\"POST\",route=\"/api/v1/monitors\",status=\"201\"} 2",
        "# TYPE tocsin_batch_write_seconds histogram",
        "# TYPE tocsin_results_buffered gauge",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
}

/// `GET /metrics` as text.
async fn metrics_text(app: &crate::helpers::TestApp) -> String {
    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    response.text().await.expect("text")
}

#[tokio::test]
async fn per_monitor_metrics_are_opt_in_and_forget_deleted_monitors() {
    let target = Target::start().await;
    let plain = engine_app().await;
    let token = plain.new_user().await;
    plain
        .create_monitor(
            &token,
            json!({"url": target.url("/ok"), "interval_seconds": 60}),
        )
        .await;
    eventually(Duration::from_secs(10), "a check", || async {
        metrics_text(&plain)
            .await
            .contains("tocsin_checks_total{outcome=\"ok\"} 1")
            .then_some(())
    })
    .await;
    assert!(!metrics_text(&plain).await.contains("tocsin_monitor_up"));

    let app = crate::helpers::spawn_with(|settings| {
        settings.min_interval = Duration::from_secs(1);
        settings.allow_private_targets = true;
        settings.metrics_per_monitor = true;
    })
    .await;
    let token = app.new_user().await;
    let up = app
        .create_monitor(
            &token,
            json!({"name": "front", "url": target.url("/ok"), "interval_seconds": 60}),
        )
        .await;
    let down = app
        .create_monitor(
            &token,
            json!({"name": "broken", "url": target.url("/status/500"), "interval_seconds": 60}),
        )
        .await;
    let (up_id, down_id) = (
        up["id"].as_i64().expect("id"),
        down["id"].as_i64().expect("id"),
    );
    let up_line = format!("tocsin_monitor_up{{id=\"{up_id}\",name=\"front\"}} 1");
    let down_line = format!("tocsin_monitor_up{{id=\"{down_id}\",name=\"broken\"}} 0");
    let text = eventually(Duration::from_secs(10), "both monitors' gauges", || async {
        let text = metrics_text(&app).await;
        (text.contains(&up_line) && text.contains(&down_line)).then_some(text)
    })
    .await;
    assert!(
        text.contains(&format!(
            "tocsin_monitor_latency_seconds{{id=\"{up_id}\",name=\"front\"}} "
        )),
        "{text}"
    );
    let deleted = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/monitors/{down_id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(deleted.status(), reqwest::StatusCode::NO_CONTENT);
    eventually(
        Duration::from_secs(5),
        "the deleted monitor forgotten",
        || async {
            let text = metrics_text(&app).await;
            (!text.contains(&format!("id=\"{down_id}\"")) && text.contains(&up_line)).then_some(())
        },
    )
    .await;
}
