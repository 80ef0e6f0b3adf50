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

/// Registers, logs in and creates one monitor with `body`; returns the owner and monitor ids.
async fn one_monitor(addr: &str, body: Value) -> (UserId, MonitorId) {
    let client = reqwest::Client::new();
    let credentials = json!({"email": "quick@example.com", "password": PASSWORD});
    let user: Value = client
        .post(format!("http://{addr}/api/v1/auth/register"))
        .json(&credentials)
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("user");
    let login: Value = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&credentials)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    let monitor: Value = client
        .post(format!("http://{addr}/api/v1/monitors"))
        .bearer_auth(login["token"].as_str().expect("token"))
        .json(&body)
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("monitor");
    (
        UserId(user["id"].as_i64().expect("user id")),
        MonitorId(monitor["id"].as_i64().expect("monitor id")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_nothing_in_flight_exits_at_once_whatever_clients_hold_open() {
    use std::io::{Read, Write};

    let target = Target::start().await;
    let server =
        tokio::task::block_in_place(|| Server::start(&[("TOCSIN_ALLOW_PRIVATE_TARGETS", "true")]));
    one_monitor(
        &server.addr,
        json!({"url": target.url("/ok"), "interval_seconds": 60}),
    )
    .await;
    eventually(Duration::from_secs(10), "the first check", || async {
        (target.count("/ok") >= 1).then_some(())
    })
    .await;
    // A keep-alive connection that stays open after its answer, one that sent half a
    // request and stopped, and one that sent nothing: none is work in flight.
    let mut idle = std::net::TcpStream::connect(&server.addr).expect("connects");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("request");
    let mut answer = [0u8; 256];
    let read = idle.read(&mut answer).expect("an answer");
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"));
    let mut half = std::net::TcpStream::connect(&server.addr).expect("connects");
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost:")
        .expect("half");
    let _silent = std::net::TcpStream::connect(&server.addr).expect("connects");
    sleep(Duration::from_millis(200)).await;

    let started = std::time::Instant::now();
    let (output, _dir) = tokio::task::block_in_place(|| server.stop());
    let took = started.elapsed();
    assert!(output.status.success(), "{output:?}");
    // The target is 250 ms (measured in BENCHMARKS.md); this bound only has to catch a
    // stop that waits on its clients, on a loaded machine.
    assert!(took < Duration::from_secs(1), "the stop took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_waits_for_a_check_in_flight_but_not_past_its_timeout() {
    let target = Target::start().await;
    let server =
        tokio::task::block_in_place(|| Server::start(&[("TOCSIN_ALLOW_PRIVATE_TARGETS", "true")]));
    // The target would answer after 30 s; the check gives up after 2.
    let (owner, id) = one_monitor(
        &server.addr,
        json!({"url": target.url("/slow/30000"), "interval_seconds": 60, "timeout_ms": 2000}),
    )
    .await;
    eventually(Duration::from_secs(10), "the check in flight", || async {
        (target.count("/slow/30000") >= 1).then_some(())
    })
    .await;
    let started = std::time::Instant::now();
    let (output, dir) = tokio::task::block_in_place(|| server.stop());
    let took = started.elapsed();
    assert!(output.status.success(), "{output:?}");
    assert!(
        took >= Duration::from_millis(1500),
        "the stop waited for the check: {took:?}"
    );
    assert!(
        took < Duration::from_millis(3500),
        "but not past its 2 s timeout: {took:?}"
    );
    let store = SqliteStore::open(&dir.path().join("tocsin.db"))
        .await
        .expect("database");
    let stored = store
        .list_results(owner, id, None, 10)
        .await
        .expect("results")
        .expect("the monitor");
    assert_eq!(stored.len(), 1, "{stored:#?}");
    assert_eq!(
        stored[0].failure.as_ref().map(|f| f.kind.as_str()),
        Some("timeout")
    );
}
