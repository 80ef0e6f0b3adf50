//! Overload is honest: when this process cannot serve its checks on time, checks past the
//! limit are skipped and counted, and no healthy target is ever reported failed (issue 17).

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use serde_json::json;

use crate::checks::{eventually, results};
use crate::helpers::spawn_with;

/// A healthy target on its own thread and runtime, so the overload of the test's runtime
/// cannot slow it down: it redirects once and then answers, each within 5 ms, so a check
/// takes two round trips (as a check of `http://` that moved to `https://` does).
fn healthy_target() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("target binds");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("target runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let app = Router::new()
                .route(
                    "/up",
                    get(|| async {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        axum::response::Redirect::to("/ok")
                    }),
                )
                .route(
                    "/ok",
                    get(|| async {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        "up"
                    }),
                );
            let _ = axum::serve(listener, app).await;
        });
    });
    format!("http://{addr}/up")
}

/// The value of a counter in the classic metrics text.
fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0.0)
}

// One worker (the test's current-thread runtime) runs the app, and a task hogs it for 250 ms
// at a time, letting the other tasks run in between: a check needs a step after each of its
// round trips, so its 200 ms timer fires far late, and checks wait past their 500 ms grace.
// Measuring the timeout from the timer alone reported this healthy target timed out.
#[tokio::test]
async fn an_overloaded_engine_skips_and_counts_checks_and_never_fails_a_healthy_target() {
    let app = spawn_with(|settings| {
        settings.min_interval = Duration::from_secs(1);
        settings.allow_private_targets = true;
        settings.max_in_flight = 4;
        // On the test's runtime, which the hog below starves: dedicated check threads
        // would not be.
        settings.check_threads = 0;
    })
    .await;
    let url = healthy_target();
    let token = app.new_user().await;
    let mut ids = Vec::new();
    for _ in 0..40 {
        let monitor = app
            .create_monitor(
                &token,
                json!({"url": url, "interval_seconds": 1, "timeout_ms": 200}),
            )
            .await;
        ids.push(monitor["id"].as_i64().expect("id"));
    }
    let hog = tokio::spawn(async {
        let until = Instant::now() + Duration::from_secs(6);
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(250));
            tokio::task::yield_now().await;
        }
    });
    hog.await.expect("hog");
    // Let the last checks finish and their results reach the store.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    let skipped = counter(&metrics, "tocsin_checks_skipped_total");
    assert!(
        skipped > 0.0,
        "an overloaded engine skipped nothing:\n{metrics}"
    );
    let starved = counter(&metrics, "tocsin_checks_starved_total");
    assert!(starved > 0.0, "no check was served too late:\n{metrics}");
    let mut stored = 0;
    for id in ids {
        let found = eventually(Duration::from_secs(10), "results", || async {
            Some(results(&app, &token, id).await)
        })
        .await;
        for result in &found {
            assert_eq!(
                result["ok"], true,
                "a healthy target reported failed: {result}"
            );
        }
        stored += found.len();
    }
    assert!(stored > 0, "no check ran at all");
    assert!(
        counter(&metrics, "tocsin_checks_total{outcome=\"timeout\"}") == 0.0,
        "timeouts counted under overload:\n{metrics}"
    );
}
