//! Two `tocsin serve` processes on one PostgreSQL database, monitors flapping under them,
//! one process killed with SIGKILL mid-run: every transition is one event, and every event
//! reaches the webhook, counted by event id, whichever instance stored the checks and
//! whichever claimed the notification (a delivery cut short by the kill may arrive twice,
//! with the same id).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};

use crate::binary::Server;
use crate::checks::eventually;
use crate::helpers::PASSWORD;
use crate::receiver::Receiver;
use crate::services::fresh_postgres;

const MONITORS: usize = 4;
const CYCLES: usize = 3;

async fn call(
    client: &Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Value,
) -> Value {
    let mut request = client.request(method, url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("sent");
    let status = response.status();
    let text = response.text().await.expect("body");
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transition_is_delivered_once_per_channel_across_instances_and_a_kill() {
    let Some(database) = fresh_postgres().await else {
        return;
    };
    let envs = [
        ("TOCSIN_DATABASE_URL", database.url.as_str()),
        ("TOCSIN_ALLOW_PRIVATE_TARGETS", "true"),
        ("TOCSIN_MIN_INTERVAL", "1s"),
        ("TOCSIN_NOTIFY_TIMEOUT", "1s"),
        ("TOCSIN_NOTIFY_RETRY", "200ms"),
        ("TOCSIN_LOG", "warn"),
    ];
    let first = Server::start(&envs);
    let second = Server::start(&envs);
    let rx = Receiver::start().await;
    let client = Client::new();
    let api = |server: &Server, path: &str| format!("http://{}{path}", server.addr);

    let credentials = json!({"email": "ops@example.com", "password": PASSWORD});
    call(
        &client,
        reqwest::Method::POST,
        api(&first, "/api/v1/auth/register"),
        None,
        credentials.clone(),
    )
    .await;
    let login = call(
        &client,
        reqwest::Method::POST,
        api(&second, "/api/v1/auth/login"),
        None,
        credentials,
    )
    .await;
    let token = login["token"].as_str().expect("token").to_owned();
    let channel = call(
        &client,
        reqwest::Method::POST,
        api(&first, "/api/v1/channels"),
        Some(&token),
        json!({"name": "hook", "kind": "webhook", "url": rx.url("/ok/hook")}),
    )
    .await;
    let channel_id = channel["id"].as_i64().expect("id");
    for i in 0..MONITORS {
        call(
            &client,
            reqwest::Method::POST,
            api(&second, "/api/v1/monitors"),
            Some(&token),
            json!({"name": format!("m{i}"), "url": rx.url("/switch"), "interval_seconds": 1,
                   "failure_threshold": 1, "channel_ids": [channel_id]}),
        )
        .await;
    }
    // Up first (announced to nobody), then down and up again CYCLES times; the first
    // instance is killed in the middle of the second outage.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut first = Some(first);
    for cycle in 0..CYCLES {
        rx.set_up(false);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        if cycle == 1
            && let Some(first) = first.take()
        {
            first.kill();
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        rx.set_up(true);
        tokio::time::sleep(Duration::from_secs(4)).await;
    }

    // Every event stored for the channel, read from the database.
    let (db, connection) = tokio_postgres::connect(&database.url, tokio_postgres::NoTls)
        .await
        .expect("database");
    tokio::spawn(connection);
    let settled = eventually(
        Duration::from_secs(40),
        "every notification delivered",
        || async {
            let rows = db
                .query(
                    "SELECT e.id, e.kind, i.monitor_id, n.state FROM notifications n \
                 JOIN events e ON e.id = n.event_id JOIN incidents i ON i.id = e.incident_id \
                 WHERE n.channel_id = $1 ORDER BY e.id",
                    &[&channel_id],
                )
                .await
                .ok()?;
            let all_delivered = rows.iter().all(|r| r.get::<_, String>(3) == "delivered");
            (all_delivered && !rows.is_empty()).then_some(rows)
        },
    )
    .await;

    // Each monitor's events alternate down, up: no transition announced twice.
    let mut by_monitor: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for row in &settled {
        by_monitor
            .entry(row.get::<_, i64>(2))
            .or_default()
            .push(row.get::<_, String>(1));
    }
    assert_eq!(by_monitor.len(), MONITORS, "{by_monitor:?}");
    for (monitor, kinds) in &by_monitor {
        for (i, kind) in kinds.iter().enumerate() {
            let expected = if i % 2 == 0 { "down" } else { "up" };
            assert_eq!(kind, expected, "monitor {monitor}: {kinds:?}");
        }
        // At least the outages before the kill and after it were seen.
        assert!(kinds.len() >= 4, "monitor {monitor}: {kinds:?}");
    }

    // The webhook got every event, by id, and nothing else.
    let stored: BTreeSet<String> = settled
        .iter()
        .map(|r| r.get::<_, i64>(0).to_string())
        .collect();
    let got = rx.received("/ok/hook");
    let received: Vec<String> = got
        .iter()
        .map(|r| r.header("x-tocsin-event-id").expect("event id"))
        .collect();
    let distinct: BTreeSet<String> = received.iter().cloned().collect();
    assert_eq!(
        distinct, stored,
        "each stored event arrived, and only those"
    );
    let repeats = received.len() - distinct.len();
    // Only deliveries in flight at the kill may repeat: one per event at most.
    assert!(
        repeats <= MONITORS,
        "{repeats} repeats of {} events",
        stored.len()
    );
    second.stop();
}
