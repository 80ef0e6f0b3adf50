//! Several identical instances on one PostgreSQL database: every due check runs on exactly
//! one of them, a token from one is good on the other, `GET /api/v1/cluster` lists both
//! with the checks each ran, and a change made through one applies at once to checks the
//! other already claimed.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tocsin::config::{DatabaseUrl, Settings};
use tokio::time::Instant;

use crate::checks::eventually;
use crate::helpers::{TestApp, start, test_settings};
use crate::services::fresh_postgres;
use crate::target::Target;

fn instance(dir: &TempDir, database: &str) -> Settings {
    let mut settings = test_settings(dir.path());
    settings.database_url = DatabaseUrl::try_from(database.to_owned()).expect("URL");
    // Generated once and kept in the database: both instances must find the same one.
    settings.jwt_secret = None;
    settings.min_interval = Duration::from_secs(1);
    settings.allow_private_targets = true;
    settings
}

/// Two instances on one database; the folder (their settings' files) must outlive them.
async fn two_instances(database: &str) -> (TempDir, TestApp, TestApp) {
    let dir = TempDir::new().expect("dir");
    let first = start(instance(&dir, database)).await;
    let second = start(instance(&dir, database)).await;
    (dir, first, second)
}

async fn cluster(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get("/api/v1/cluster", token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    body["instances"].as_array().expect("instances").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_checks_once_each_and_list_each_other() {
    let Some(database) = fresh_postgres().await else {
        return;
    };
    let target = Target::start().await;
    let (_dir, first, second) = two_instances(&database.url).await;

    let token = first.new_user().await;
    let unauthorised = second
        .client
        .get(second.url("/api/v1/cluster"))
        .send()
        .await
        .expect("sent");
    assert_eq!(unauthorised.status(), StatusCode::UNAUTHORIZED);
    let paths: Vec<String> = (0..6).map(|n| format!("/status/{}", 200 + n)).collect();
    for path in &paths {
        // Created through the second with the first's token.
        second
            .create_monitor(
                &token,
                json!({"url": target.url(path), "interval_seconds": 1}),
            )
            .await;
    }

    // Both instances check, and report it in their heartbeats (every 5 s).
    let listed = eventually(Duration::from_secs(20), "both instances busy", || async {
        let listed = cluster(&first, &token).await;
        let busy = listed
            .iter()
            .filter(|i| i["checks_last_minute"].as_u64() > Some(0))
            .count();
        (listed.len() == 2 && busy == 2).then_some(listed)
    })
    .await;
    assert_eq!(
        listed.iter().filter(|i| i["this"] == true).count(),
        1,
        "{listed:?}"
    );
    let addresses: Vec<&str> = listed
        .iter()
        .map(|i| i["address"].as_str().expect("address"))
        .collect();
    assert!(addresses.contains(&first.addr.to_string().as_str()));
    assert!(addresses.contains(&second.addr.to_string().as_str()));

    // One check per period per monitor, whichever instance ran it: two instances checking
    // the same due time would show two hits a few milliseconds apart. (The first check runs
    // at once, the second on the monitor's phase grid, up to an interval later: not a pair.)
    for path in &paths {
        let hits = target.hits(path);
        assert!(hits.len() >= 4, "{path}: {} hits", hits.len());
        for pair in hits.windows(2).skip(1) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= Duration::from_millis(700),
                "{path}: two checks {gap:?} apart"
            );
        }
    }
}

/// How long after a change returns a check already started may still reach the target.
const IN_FLIGHT: Duration = Duration::from_millis(150);
/// How long the target is watched after the changes: over two more checks per monitor.
const WATCH: Duration = Duration::from_millis(2500);
/// Monitors per kind of change: with two instances, the one not making a change holds the
/// next claim of about half of them, so some change always has to cross instances.
const EACH: u16 = 4;

/// The hits of `path` after `since` plus [`IN_FLIGHT`].
fn later_hits(target: &Target, path: &str, since: Instant) -> usize {
    target
        .hits(path)
        .iter()
        .filter(|&&hit| hit > since + IN_FLIGHT)
        .count()
}

/// Asserts the answer to a change and returns when it came.
async fn change(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Instant {
    let response = app.send(method, path, token, body).await;
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    Instant::now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_instance_applies_to_checks_the_other_claimed() {
    let Some(database) = fresh_postgres().await else {
        return;
    };
    let target = Target::start().await;
    let (_dir, first, second) = two_instances(&database.url).await;
    let token = first.new_user().await;

    // Which instance holds a monitor's next claim is up to the phase of their polls, so each
    // kind of change is made through both in turn: some always cross instances.
    let via = |n: usize| if n.is_multiple_of(2) { &first } else { &second };
    let paths =
        |base: u16| -> Vec<String> { (0..EACH).map(|n| format!("/status/{}", base + n)).collect() };
    let (paused, deleted, edited, moved_to) = (paths(200), paths(210), paths(220), paths(230));
    let mut ids = HashMap::new();
    for (n, path) in paused.iter().chain(&deleted).chain(&edited).enumerate() {
        let body = json!({"url": target.url(path), "interval_seconds": 1});
        let monitor = via(n).create_monitor(&token, body).await;
        ids.insert(path.clone(), monitor["id"].as_i64().expect("id"));
    }
    eventually(
        Duration::from_secs(20),
        "every monitor checked twice",
        || async { ids.keys().all(|path| target.count(path) >= 2).then_some(()) },
    )
    .await;

    let mut changed = Vec::new();
    for (n, path) in paused.iter().enumerate() {
        let at = format!("/api/v1/monitors/{}/pause", ids[path]);
        let done = change(via(n), Method::POST, &at, &token, None).await;
        changed.push((path, done));
    }
    for (n, path) in deleted.iter().enumerate() {
        let at = format!("/api/v1/monitors/{}", ids[path]);
        let done = change(via(n), Method::DELETE, &at, &token, None).await;
        changed.push((path, done));
    }
    for (n, (path, new)) in edited.iter().zip(&moved_to).enumerate() {
        let at = format!("/api/v1/monitors/{}", ids[path]);
        let body = json!({"url": target.url(new)});
        let done = change(via(n), Method::PATCH, &at, &token, Some(body)).await;
        changed.push((path, done));
    }
    tokio::time::sleep(WATCH).await;

    let late: Vec<String> = changed
        .iter()
        .map(|(path, at)| (path, later_hits(&target, path, *at)))
        .filter(|(_, hits)| *hits > 0)
        .map(|(path, hits)| format!("{path}: {hits}"))
        .collect();
    assert!(late.is_empty(), "checked after the change: {late:?}");
    for path in &moved_to {
        assert!(
            target.count(path) >= 1,
            "{path} never checked after the edit"
        );
    }
}
