//! What a monitor may be: interval bounds, literal internal addresses, and field errors
//! that name the field.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{expect_error, spawn_app, spawn_with};

#[tokio::test]
async fn the_interval_is_bounded_by_the_configured_minimum_and_a_day() {
    let app = spawn_with(|s| s.min_interval = std::time::Duration::from_secs(30)).await;
    let token = app.new_user().await;
    for (interval, ok) in [(29, false), (30, true), (86_400, true), (86_401, false)] {
        let response = app
            .send(
                Method::POST,
                "/api/v1/monitors",
                &token,
                Some(json!({"url": "https://e.example", "interval_seconds": interval})),
            )
            .await;
        if ok {
            assert_eq!(response.status(), StatusCode::CREATED, "{interval}");
        } else {
            let message = expect_error(
                response,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            )
            .await;
            assert!(
                message.contains("interval_seconds: must be between 30 and 86400"),
                "{message}"
            );
        }
    }
}

#[tokio::test]
async fn literal_internal_addresses_are_refused_in_every_spelling() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    for url in [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:8080/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/",
    ] {
        let response = app
            .send(
                Method::POST,
                "/api/v1/monitors",
                &token,
                Some(json!({"url": url})),
            )
            .await;
        let message =
            expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "private_target").await;
        assert!(
            message.contains("TOCSIN_ALLOW_PRIVATE_TARGETS"),
            "{url}: {message}"
        );
    }
    let list: Value = app
        .get("/api/v1/monitors", &token)
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(list["monitors"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn internal_addresses_are_allowed_when_configured() {
    let app = spawn_with(|s| s.allow_private_targets = true).await;
    let token = app.new_user().await;
    let m = app
        .create_monitor(&token, json!({"url": "http://127.1:9000/health"}))
        .await;
    assert_eq!(m["url"], "http://127.0.0.1:9000/health");
}

#[tokio::test]
async fn invalid_fields_are_named() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    for (body, code, field) in [
        (json!({"url": "not a url"}), "validation_failed", "url:"),
        (
            json!({"url": "ftp://e.example"}),
            "validation_failed",
            "url:",
        ),
        (
            json!({"url": "https://e.example", "method": "TRACE"}),
            "validation_failed",
            "method:",
        ),
        (
            json!({"url": "https://e.example", "expected_status": "600"}),
            "validation_failed",
            "expected_status:",
        ),
        (
            json!({"url": "https://e.example", "headers": {"Content-Length": "1"}}),
            "validation_failed",
            "headers:",
        ),
        (
            json!({"url": "https://e.example", "name": ""}),
            "validation_failed",
            "name:",
        ),
        (
            json!({"url": "https://e.example", "interval_seconds": -1}),
            "invalid_json",
            "interval_seconds:",
        ),
        (
            json!({"url": "https://e.example", "follow_redirects": "yes"}),
            "invalid_json",
            "follow_redirects:",
        ),
        (
            json!({"url": "https://e.example", "headers": {"x-a": 1}}),
            "invalid_json",
            "headers.x-a:",
        ),
        (json!({"url": 42}), "invalid_json", "url:"),
        (
            json!({"url": "https://e.example", "intervall": 60}),
            "invalid_json",
            "intervall",
        ),
    ] {
        let response = app
            .send(Method::POST, "/api/v1/monitors", &token, Some(body.clone()))
            .await;
        let message = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, code).await;
        assert!(message.contains(field), "{body}: {message}");
    }
}
