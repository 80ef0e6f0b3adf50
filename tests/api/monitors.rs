//! `/api/v1/monitors`: create, list, read, patch, delete, pause and resume, each only for
//! the monitor's owner.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{expect_error, spawn_app, spawn_with};

#[tokio::test]
async fn a_minimal_monitor_gets_every_default() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let response = app
        .send(
            Method::POST,
            "/api/v1/monitors",
            &token,
            Some(json!({"url": "https://example.com/health"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let m: Value = response.json().await.expect("monitor");
    assert_eq!(location, Some(format!("/api/v1/monitors/{}", m["id"])));
    assert_eq!(m["name"], "example.com");
    assert_eq!(m["url"], "https://example.com/health");
    assert_eq!(m["method"], "GET");
    assert_eq!(m["interval_seconds"], 60);
    assert_eq!(m["timeout_ms"], 10_000);
    assert_eq!(m["expected_status"], "200-399");
    assert_eq!(m["keyword"], Value::Null);
    assert_eq!(m["follow_redirects"], true);
    assert_eq!(m["paused"], false);
    assert_eq!(m["headers"], json!({}));
    for field in ["created_at", "updated_at"] {
        let at = m[field].as_str().expect("timestamp");
        assert!(
            at.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(at).is_ok(),
            "{field}: {at}"
        );
    }
}

#[tokio::test]
async fn every_field_can_be_set_and_read_back() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let body = json!({
        "name": "checkout API", "url": "https://api.example.com/v2/ping", "method": "post",
        "interval_seconds": 30, "timeout_ms": 2500, "expected_status": "200,204",
        "keyword": "pong", "follow_redirects": false, "headers": {"X-Api-Key": "k"}, "body": "{}"
    });
    let created = app.create_monitor(&token, body).await;
    let fetched: Value = app
        .get(&format!("/api/v1/monitors/{}", created["id"]), &token)
        .await
        .json()
        .await
        .expect("monitor");
    assert_eq!(created, fetched);
    assert_eq!(fetched["method"], "POST");
    assert_eq!(fetched["headers"], json!({"x-api-key": "k"}));
    assert_eq!(fetched["timeout_ms"], 2500);
    assert_eq!(fetched["keyword"], "pong");
}

#[tokio::test]
async fn a_user_sees_and_touches_only_their_own_monitors() {
    let app = spawn_app().await;
    let alice = app.new_user().await;
    let bob = app.new_user().await;
    let mine = app
        .create_monitor(&alice, json!({"url": "https://alice.example"}))
        .await;
    let path = format!("/api/v1/monitors/{}", mine["id"]);

    let bobs: Value = app
        .get("/api/v1/monitors", &bob)
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(bobs["monitors"], json!([]));
    expect_error(
        app.get(&path, &bob).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let patch = Some(json!({"name": "stolen"}));
    expect_error(
        app.send(Method::PATCH, &path, &bob, patch).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    for action in ["pause", "resume"] {
        let response = app
            .send(Method::POST, &format!("{path}/{action}"), &bob, None)
            .await;
        expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    expect_error(
        app.send(Method::DELETE, &path, &bob, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Someone else's monitor answers exactly like a missing one.
    let missing = app
        .get("/api/v1/monitors/999999", &bob)
        .await
        .text()
        .await
        .expect("body");
    let others = app.get(&path, &bob).await.text().await.expect("body");
    assert_eq!(missing, others);

    let still: Value = app.get(&path, &alice).await.json().await.expect("monitor");
    assert_eq!(still, mine, "nothing Bob did changed Alice's monitor");
}

#[tokio::test]
async fn list_returns_the_owners_monitors_oldest_first() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let a = app
        .create_monitor(&token, json!({"url": "https://a.example"}))
        .await;
    let b = app
        .create_monitor(&token, json!({"url": "https://b.example"}))
        .await;
    let list: Value = app
        .get("/api/v1/monitors", &token)
        .await
        .json()
        .await
        .expect("list");
    let ids: Vec<&Value> = list["monitors"]
        .as_array()
        .expect("array")
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, vec![&a["id"], &b["id"]]);
}

#[tokio::test]
async fn patch_changes_only_the_given_fields_and_null_resets() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let m = app
        .create_monitor(
            &token,
            json!({"url": "https://e.example", "keyword": "ok", "timeout_ms": 3000}),
        )
        .await;
    let path = format!("/api/v1/monitors/{}", m["id"]);
    let patched = app
        .send(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"interval_seconds": 10, "keyword": null, "timeout_ms": null})),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let p: Value = patched.json().await.expect("monitor");
    assert_eq!(p["interval_seconds"], 10);
    assert_eq!(p["keyword"], Value::Null);
    assert_eq!(
        p["timeout_ms"], 8000,
        "the default timeout follows the new interval"
    );
    assert_eq!(p["url"], m["url"]);
    assert_eq!(p["created_at"], m["created_at"]);
    assert!(p["updated_at"].as_str() >= m["updated_at"].as_str());

    let bad = app
        .send(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"timeout_ms": 20_000})),
        )
        .await;
    let message = expect_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(message.starts_with("timeout_ms:"), "{message}");
    let null_url = app
        .send(Method::PATCH, &path, &token, Some(json!({"url": null})))
        .await;
    let message = expect_error(
        null_url,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(message, "url: cannot be null");
    let unknown = app
        .send(Method::PATCH, &path, &token, Some(json!({"paused": true})))
        .await;
    let message = expect_error(unknown, StatusCode::UNPROCESSABLE_ENTITY, "invalid_json").await;
    assert!(message.contains("unknown field `paused`"), "{message}");
    let unchanged: Value = app.get(&path, &token).await.json().await.expect("monitor");
    assert_eq!(unchanged, p, "refused patches change nothing");
}

#[tokio::test]
async fn pause_resume_and_delete() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let m = app
        .create_monitor(&token, json!({"url": "https://e.example"}))
        .await;
    let path = format!("/api/v1/monitors/{}", m["id"]);
    let paused: Value = app
        .send(Method::POST, &format!("{path}/pause"), &token, None)
        .await
        .json()
        .await
        .expect("monitor");
    assert_eq!(paused["paused"], true);
    assert_eq!(
        app.get(&path, &token)
            .await
            .json::<Value>()
            .await
            .expect("monitor")["paused"],
        true
    );
    let resumed: Value = app
        .send(Method::POST, &format!("{path}/resume"), &token, None)
        .await
        .json()
        .await
        .expect("monitor");
    assert_eq!(resumed["paused"], false);

    let deleted = app.send(Method::DELETE, &path, &token, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    expect_error(
        app.get(&path, &token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        app.send(Method::DELETE, &path, &token, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_per_user_monitor_limit_is_enforced_with_a_clear_message() {
    let app = spawn_with(|s| s.max_monitors_per_user = 2).await;
    let token = app.new_user().await;
    app.create_monitor(&token, json!({"url": "https://a.example"}))
        .await;
    app.create_monitor(&token, json!({"url": "https://b.example"}))
        .await;
    let third = app
        .send(
            Method::POST,
            "/api/v1/monitors",
            &token,
            Some(json!({"url": "https://c.example"})),
        )
        .await;
    let message = expect_error(third, StatusCode::FORBIDDEN, "monitor_limit_reached").await;
    assert!(message.contains("at most 2 monitors"), "{message}");
    let seed = app
        .post("/url", r#"{"URL": "https://c.example"}"#, Some(&token))
        .await;
    expect_error(seed, StatusCode::FORBIDDEN, "monitor_limit_reached").await;
    // Another account has its own allowance.
    let other = app.new_user().await;
    app.create_monitor(&other, json!({"url": "https://a.example"}))
        .await;
}
