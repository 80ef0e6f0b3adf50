//! Notification channels over the API, and their notifications delivered to real local
//! receivers: secrets never come back, ownership is checked, tests reach the receiver, and
//! a monitor going down and up again is announced once per transition, retried with the
//! same event id until the receiver takes it, signed.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::checks::eventually;
use crate::helpers::{TestApp, expect_error, spawn_app, spawn_with};
use crate::receiver::Receiver;

const SECRET: &str = "webhook-signing-secret-1234";

async fn notify_app() -> TestApp {
    spawn_with(|s| {
        s.min_interval = Duration::from_secs(1);
        s.allow_private_targets = true;
        s.notify_retry = Duration::from_millis(200);
        s.notify_timeout = Duration::from_secs(2);
    })
    .await
}

async fn create_channel(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app
        .send(Method::POST, "/api/v1/channels", token, Some(body))
        .await;
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(status, StatusCode::CREATED, "{text}");
    serde_json::from_str(&text).expect("channel JSON")
}

fn verify(body: &[u8], signature: &str) {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(
        signature, expected,
        "the signature is the body's HMAC-SHA256"
    );
}

#[tokio::test]
async fn channels_are_kept_per_account_without_ever_showing_a_secret() {
    let app = spawn_with(|s| s.allow_private_targets = true).await;
    let token = app.new_user().await;
    let created = create_channel(
        &app,
        &token,
        json!({"name": "ops hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook?token=abc",
               "headers": {"Authorization": "Bearer hidden-value"}, "secret": SECRET}),
    )
    .await;
    let text = created.to_string();
    for secret in [SECRET, "hidden-value", "token=abc"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert_eq!(created["kind"], "webhook");
    assert_eq!(created["settings"]["secret"], true);
    assert_eq!(created["settings"]["headers"], json!(["Authorization"]));
    let id = created["id"].as_i64().expect("id");

    let telegram = create_channel(
        &app,
        &token,
        json!({"name": "tg", "kind": "telegram", "bot_token": "123:SECRET", "chat_id": "42"}),
    )
    .await;
    assert!(!telegram.to_string().contains("123:SECRET"));
    let slack = create_channel(
        &app,
        &token,
        json!({"name": "slack", "kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/XYZ"}),
    )
    .await;
    assert!(!slack.to_string().contains("XYZ"), "{slack}");

    // A patch keeps the secret it does not name.
    let response = app
        .send(
            Method::PATCH,
            &format!("/api/v1/channels/{id}"),
            &token,
            Some(json!({"name": "renamed"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let patched: Value = response.json().await.expect("JSON");
    assert_eq!(patched["name"], "renamed");
    assert_eq!(patched["settings"]["secret"], true);

    let list: Value = app
        .get("/api/v1/channels", &token)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(list["channels"].as_array().expect("list").len(), 3);

    // Another account sees none of them, and may not name them on a monitor.
    let other = app.new_user().await;
    let response = app.get(&format!("/api/v1/channels/{id}"), &other).await;
    expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
    let response = app
        .send(
            Method::POST,
            "/api/v1/monitors",
            &other,
            Some(json!({"url": "https://example.com/", "channel_ids": [id]})),
        )
        .await;
    let message = expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(message.contains(&id.to_string()), "{message}");

    // Deleting a channel takes it off the monitors that named it.
    let monitor = app
        .create_monitor(
            &token,
            json!({"url": "https://example.com/", "channel_ids": [id]}),
        )
        .await;
    assert_eq!(monitor["channel_ids"], json!([id]));
    let response = app
        .send(
            Method::DELETE,
            &format!("/api/v1/channels/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let monitor: Value = app
        .get(&format!("/api/v1/monitors/{}", monitor["id"]), &token)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(monitor["channel_ids"], json!([]));
}

#[tokio::test]
async fn bad_channels_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let cases = [
        (json!({"name": "x", "kind": "pager"}), "kind"),
        (
            json!({"kind": "webhook", "url": "https://example.com/"}),
            "name",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": "ftp://example.com/"}),
            "url",
        ),
        (
            json!({"name": "x", "kind": "webhook", "url": "https://example.com/", "colour": 1}),
            "colour",
        ),
        (
            json!({"name": "x", "kind": "ntfy", "topic": "has space"}),
            "topic",
        ),
        (
            json!({"name": "x", "kind": "email", "to": ["a@example.com"]}),
            "TOCSIN_SMTP_URL",
        ),
    ];
    for (body, named) in cases {
        let response = app
            .send(Method::POST, "/api/v1/channels", &token, Some(body.clone()))
            .await;
        let message = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(message.contains(named), "{body}: {message}");
    }
    // Private addresses are refused unless allowed, like check targets.
    let response = app
        .send(
            Method::POST,
            "/api/v1/channels",
            &token,
            Some(json!({"name": "x", "kind": "webhook", "url": "http://127.0.0.1:8080/"})),
        )
        .await;
    expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "private_target").await;
    // A name is unique per account.
    let body = json!({"name": "dup", "kind": "webhook", "url": "https://example.com/"});
    create_channel(&app, &token, body.clone()).await;
    let response = app
        .send(Method::POST, "/api/v1/channels", &token, Some(body))
        .await;
    expect_error(response, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn a_test_reaches_the_receiver_signed_or_says_why_not() {
    let app = notify_app().await;
    let receiver = Receiver::start().await;
    let token = app.new_user().await;
    let good = create_channel(
        &app,
        &token,
        json!({"name": "good", "kind": "webhook", "url": receiver.url("/ok/test"), "secret": SECRET}),
    )
    .await;
    let response = app
        .send(
            Method::POST,
            &format!("/api/v1/channels/{}/test", good["id"]),
            &token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(answer, json!({"delivered": true, "error": null}));
    let got = receiver.received("/ok/test");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["event"], "test");
    verify(
        &got[0].body,
        &got[0].header("x-tocsin-signature").expect("signed"),
    );

    let bad = create_channel(
        &app,
        &token,
        json!({"name": "bad", "kind": "webhook", "url": receiver.url("/fail/9/test")}),
    )
    .await;
    let answer: Value = app
        .send(
            Method::POST,
            &format!("/api/v1/channels/{}/test", bad["id"]),
            &token,
            None,
        )
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(answer["delivered"], false);
    let error = answer["error"].as_str().expect("error");
    assert!(
        error.contains("500") && error.contains("maintenance"),
        "{error}"
    );
}

#[tokio::test]
async fn down_and_up_are_delivered_once_each_retried_with_the_same_event_id() {
    let app = notify_app().await;
    let receiver = Receiver::start().await;
    let token = app.new_user().await;
    // Fails the first two attempts of each path: every event is retried twice.
    let flaky = create_channel(
        &app,
        &token,
        json!({"name": "flaky", "kind": "webhook", "url": receiver.url("/fail/2/hook"), "secret": SECRET}),
    )
    .await;
    // A receiver that hangs delays only itself.
    let hanging = create_channel(
        &app,
        &token,
        json!({"name": "hanging", "kind": "webhook", "url": receiver.url("/hang/hook")}),
    )
    .await;
    let monitor = app
        .create_monitor(
            &token,
            json!({"url": receiver.url("/switch"), "interval_seconds": 1, "failure_threshold": 2,
                   "channel_ids": [flaky["id"], hanging["id"]]}),
        )
        .await;
    eventually(Duration::from_secs(10), "the monitor up", || async {
        let m: Value = app
            .get(&format!("/api/v1/monitors/{}", monitor["id"]), &token)
            .await
            .json()
            .await
            .ok()?;
        (m["state"] == "up").then_some(())
    })
    .await;
    receiver.set_up(false);
    let down = eventually(
        Duration::from_secs(20),
        "the down event delivered",
        || async {
            let got = receiver.received("/fail/2/hook");
            (got.len() >= 3).then_some(got)
        },
    )
    .await;
    let ids: Vec<String> = down
        .iter()
        .map(|r| r.header("x-tocsin-event-id").expect("event id"))
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "retries keep the event id: {ids:?}"
    );
    for attempt in &down {
        verify(
            &attempt.body,
            &attempt.header("x-tocsin-signature").expect("signed"),
        );
        let body = attempt.json();
        assert_eq!(body["event"], "down");
        assert_eq!(body["monitor"]["id"], monitor["id"]);
        assert!(body["cause"]["message"].is_string(), "{body}");
        assert!(body["incident"]["resolved_at"].is_null());
    }

    receiver.set_up(true);
    let all = eventually(
        Duration::from_secs(20),
        "the up event delivered",
        || async {
            let got = receiver.received("/fail/2/hook");
            got.iter().any(|r| r.json()["event"] == "up").then_some(got)
        },
    )
    .await;
    let up: Vec<Value> = all
        .iter()
        .map(|r| r.json())
        .filter(|b| b["event"] == "up")
        .collect();
    assert!(up[0]["incident"]["resolved_at"].is_string());
    assert_eq!(up[0]["incident"]["id"], down[0].json()["incident"]["id"]);
    // Settled: once delivered, nothing more arrives for the flaky channel.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let delivered: std::collections::BTreeSet<String> = receiver
        .received("/fail/2/hook")
        .iter()
        .map(|r| r.header("x-tocsin-event-id").expect("id"))
        .collect();
    assert_eq!(
        delivered.len(),
        2,
        "one down and one up event: {delivered:?}"
    );
    // The hanging channel was tried too, and held nothing else up.
    assert!(!receiver.received("/hang/hook").is_empty());

    // Counted by kind and outcome, with their latency.
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    for line in [
        "tocsin_notification_deliveries_total{kind=\"webhook\",outcome=\"delivered\"} 2",
        "tocsin_notification_deliveries_total{kind=\"webhook\",outcome=\"retry\"}",
        "tocsin_notification_delivery_seconds_count{kind=\"webhook\"}",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
}

#[tokio::test]
async fn a_pagerduty_test_triggers_and_resolves_at_once() {
    let app = notify_app().await;
    let receiver = Receiver::start().await;
    let token = app.new_user().await;
    let pd = create_channel(
        &app,
        &token,
        json!({"name": "pd", "kind": "pagerduty", "routing_key": "R0UT1NG",
               "base_url": receiver.url("/pd")}),
    )
    .await;
    assert_eq!(pd["settings"]["routing_key"], true, "the key is not shown");
    let answer: Value = app
        .send(
            Method::POST,
            &format!("/api/v1/channels/{}/test", pd["id"]),
            &token,
            None,
        )
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(answer["delivered"], true, "{answer}");
    let actions: Vec<Value> = receiver
        .received("/pd/v2/enqueue")
        .iter()
        .map(|r| r.json()["event_action"].clone())
        .collect();
    assert_eq!(actions, vec![json!("trigger"), json!("resolve")]);
}
