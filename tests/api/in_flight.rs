//! The max-in-flight limit: checks run concurrently, but never more at once than
//! `TOCSIN_MAX_IN_FLIGHT`, however many are due, and the ones that wait still run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::json;

use crate::checks::{eventually, results};
use crate::helpers::spawn_with;

/// Requests being answered now, the most seen at once, and how many were answered.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
    answered: AtomicUsize,
}

/// A target that holds every request for 400 ms, counting how many it holds at once.
async fn holding_target() -> (String, Arc<Gauge>) {
    let gauge = Arc::new(Gauge::default());
    let app = Router::new()
        .route(
            "/hold",
            get(|State(gauge): State<Arc<Gauge>>| async move {
                let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
                gauge.peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(400)).await;
                gauge.now.fetch_sub(1, Ordering::SeqCst);
                gauge.answered.fetch_add(1, Ordering::SeqCst);
                "held"
            }),
        )
        .with_state(gauge.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("target binds");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hold"), gauge)
}

// Two workers, so the limit is shared between two check lanes (2 + 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_run_concurrently_but_never_more_than_the_limit() {
    let app = spawn_with(|settings| {
        settings.min_interval = Duration::from_secs(1);
        settings.allow_private_targets = true;
        settings.max_in_flight = 3;
    })
    .await;
    let (url, gauge) = holding_target().await;
    let token = app.new_user().await;
    // Each is due when created: eight checks due within a moment, 400 ms each. A 30 s
    // interval gives a 10 s grace, so the ones waiting for a slot run rather than skip.
    let mut ids = Vec::new();
    for _ in 0..8 {
        let monitor = app
            .create_monitor(&token, json!({"url": url, "interval_seconds": 30}))
            .await;
        ids.push(monitor["id"].as_i64().expect("id"));
    }
    eventually(Duration::from_secs(15), "eight answered checks", || async {
        (gauge.answered.load(Ordering::SeqCst) >= 8).then_some(())
    })
    .await;
    let peak = gauge.peak.load(Ordering::SeqCst);
    assert!(peak <= 3, "{peak} checks ran at once with a limit of 3");
    assert!(peak >= 2, "checks ran one at a time (peak {peak})");
    for id in ids {
        let found = eventually(Duration::from_secs(10), "a stored result", || async {
            let found = results(&app, &token, id).await;
            (!found.is_empty()).then_some(found)
        })
        .await;
        // The second check falls on the monitor's phase grid (monitor::phase), up to an
        // interval after the first: on a slow machine it may already have run.
        for result in &found {
            assert_eq!(result["ok"], true, "{result}");
        }
    }
}
