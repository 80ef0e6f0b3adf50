//! A graceful stop loses nothing: SIGTERM during a check lets it finish, and every request
//! the target saw has its result in the database after the process exits 0.

use std::time::Duration;
use tocsin::store::prelude::*;

use serde_json::{Value, json};
use tocsin::auth::UserId;
use tocsin::monitor::MonitorId;
use tocsin::store::SqliteStore;
use tokio::time::sleep;

use crate::binary::Server;
use crate::checks::eventually;
use crate::helpers::PASSWORD;
use crate::target::Target;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_checks_in_flight_and_stores_every_result() {
    let target = Target::start().await;
    let server = tokio::task::block_in_place(|| {
        Server::start(&[
            ("TOCSIN_ALLOW_PRIVATE_TARGETS", "true"),
            ("TOCSIN_MIN_INTERVAL", "1s"),
        ])
    });
    let client = reqwest::Client::new();
    let api = |path: &str| format!("http://{}{path}", server.addr);
    let credentials = json!({"email": "stop@example.com", "password": PASSWORD});
    let user: Value = client
        .post(api("/api/v1/auth/register"))
        .json(&credentials)
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("user");
    let login: Value = client
        .post(api("/api/v1/auth/login"))
        .json(&credentials)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    let token = login["token"].as_str().expect("token");
    // Each check takes 600 ms of its 1 s period (the default timeout is 800 ms), so a stop
    // right after a request arrives lands during its check.
    let monitor: Value = client
        .post(api("/api/v1/monitors"))
        .bearer_auth(token)
        .json(&json!({"url": target.url("/slow/600"), "interval_seconds": 1}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("monitor");

    eventually(Duration::from_secs(10), "three checks", || async {
        (target.count("/slow/600") >= 3).then_some(())
    })
    .await;
    let seen = target.count("/slow/600");
    eventually(Duration::from_secs(5), "a check in flight", || async {
        (target.count("/slow/600") > seen).then_some(())
    })
    .await;
    // The target answers 600 ms after this request arrived: the check is in flight now.
    let (output, dir) = tokio::task::block_in_place(|| server.stop());
    assert!(output.status.success(), "SIGTERM exits 0: {output:?}");
    sleep(Duration::from_millis(100)).await;
    let checks = target.count("/slow/600");

    let store = SqliteStore::open(&dir.path().join("tocsin.db"))
        .await
        .expect("database");
    let owner = UserId(user["id"].as_i64().expect("user id"));
    let id = MonitorId(monitor["id"].as_i64().expect("monitor id"));
    let stored = store
        .list_results(owner, id, None, 1000)
        .await
        .expect("results")
        .expect("the monitor");
    assert_eq!(
        stored.len(),
        checks,
        "every check made has its result stored"
    );
    assert!(
        stored.iter().all(|r| r.ok() && r.status_code == Some(200)),
        "the check in flight at the stop ran to its end: {stored:#?}"
    );
}
