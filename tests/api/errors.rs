//! Transport-level mistakes: every one answers a JSON error with the right status, and no
//! input a client can send produces a 500.

use reqwest::{Body, Method, StatusCode};
use serde_json::json;

use crate::helpers::{expect_error, spawn_app};

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let big = format!(
        r#"{{"url": "https://e.example", "name": "{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    let declared = app
        .post("/api/v1/monitors", &big, Some(&format!("Bearer {token}")))
        .await;
    expect_error(declared, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    // Without a Content-Length (chunked), the limit holds while reading.
    let chunks: Vec<Result<String, std::io::Error>> =
        (0..20).map(|_| Ok("x".repeat(100 * 1024))).collect();
    let streamed = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("Content-Type", "application/json")
        .body(Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .expect("sent");
    expect_error(streamed, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_415() {
    let app = spawn_app().await;
    let body = r#"{"Email": "a@b.example", "Password": "XXXXXXXX"}"#;
    let form = app
        .client
        .post(app.url("/register"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("sent");
    let message = expect_error(
        form,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    assert!(message.contains("application/json"), "{message}");
    let none = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .body(body)
        .send()
        .await
        .expect("sent");
    expect_error(
        none,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let with_charset = app
        .client
        .post(app.url("/register"))
        .header("Content-Type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(with_charset.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn truncated_or_broken_json_is_400_with_the_position() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    for body in [
        r#"{"url": "https://e.example""#,
        "{",
        "",
        "not json",
        r#"{"url": "x"} trailing"#,
    ] {
        let response = app.post("/api/v1/monitors", body, Some(&token)).await;
        let message = expect_error(response, StatusCode::BAD_REQUEST, "malformed_json").await;
        assert!(
            message.starts_with("malformed JSON:") && message.contains("line 1"),
            "{body:?}: {message}"
        );
    }
    let seed = app
        .post(
            "/url",
            r#"{"URL": "https://www.google.com", "Period": 2"#,
            Some(&token),
        )
        .await;
    expect_error(seed, StatusCode::BAD_REQUEST, "malformed_json").await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let app = spawn_app().await;
    let missing = app.client.get(app.url("/nope")).send().await.expect("sent");
    expect_error(missing, StatusCode::NOT_FOUND, "not_found").await;
    let wrong_method = app
        .client
        .put(app.url("/api/v1/monitors"))
        .send()
        .await
        .expect("sent");
    expect_error(
        wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    let get_register = app
        .client
        .get(app.url("/register"))
        .send()
        .await
        .expect("sent");
    expect_error(
        get_register,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn malformed_ids_are_400_naming_the_id() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    for id in ["abc", "-1", "0", "99999999999999999999999"] {
        let message = expect_error(
            app.get(&format!("/api/v1/monitors/{id}"), &token).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        )
        .await;
        assert!(message.contains(id), "{message}");
    }
}

#[tokio::test]
async fn no_client_input_produces_a_server_error() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let monitor = app
        .create_monitor(&token, json!({"url": "https://e.example"}))
        .await;
    let monitor_path = format!("/api/v1/monitors/{}", monitor["id"]);
    let bodies = [
        "null",
        "[]",
        "0",
        "\"s\"",
        "{}",
        r#"{"url": null}"#,
        r#"{"url": ""}"#,
        r#"{"URL": {}}"#,
        r#"{"Email": [], "Password": 5}"#,
        r#"{"email": "a@b.c", "password": null}"#,
        "\u{0}\u{1}",
        r#"{"url": "https://e.example", "interval_seconds": 1e309}"#,
        r#"{"url": "http://[::1"}"#,
        r#"{"url": "https://e.example", "headers": {"": ""}}"#,
        r#"{"Period": 18446744073709551616}"#,
        r#"{"url": "https://\u00e9\u00e9.example/\ud800"}"#,
        "\u{feff}{}",
    ];
    let routes = [
        (Method::POST, "/register".to_owned()),
        (Method::POST, "/login".to_owned()),
        (Method::POST, "/url".to_owned()),
        (Method::POST, "/api/v1/auth/register".to_owned()),
        (Method::POST, "/api/v1/auth/login".to_owned()),
        (Method::POST, "/api/v1/monitors".to_owned()),
        (Method::PATCH, monitor_path.clone()),
    ];
    for (method, path) in &routes {
        for body in bodies {
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .header("Content-Type", "application/json")
                .header("Authorization", &token)
                .body(body)
                .send()
                .await
                .expect("sent");
            let status = response.status();
            let text = response.text().await.expect("body");
            assert!(
                status.is_client_error() || status.is_success(),
                "{method} {path} {body:?} -> {status} {text}"
            );
            if !status.is_success() {
                assert!(
                    text.contains(r#""code""#),
                    "{method} {path} {body:?} -> {text}"
                );
            }
        }
    }
}
