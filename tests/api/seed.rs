//! The seed's routes, driven exactly as its README's curl examples and its k6 load test do.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{expect_error, spawn_app, spawn_with};

const CREDENTIALS: &str = r#"{"Email": "elahe.dstn@gmail.com", "Password": "XXXXXXXX"}"#;

#[tokio::test]
async fn the_seed_readme_flow_works_as_written() {
    let app = spawn_app().await;

    let registered = app.post("/register", CREDENTIALS, None).await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let user: Value = registered.json().await.expect("user JSON");
    assert_eq!(user["email"], "elahe.dstn@gmail.com");
    assert!(user["id"].as_i64().is_some_and(|id| id > 0));

    let login = app.post("/login", CREDENTIALS, None).await;
    assert_eq!(login.status(), StatusCode::OK);
    // The seed answered the token as a bare JSON string.
    let token: String = login.json().await.expect("a JSON string");
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");

    // The seed sent the raw token, without `Bearer`.
    let added = app
        .post(
            "/url",
            r#"{"URL": "https://www.google.com", "Period": 2}"#,
            Some(&token),
        )
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let monitor: Value = added.json().await.expect("monitor JSON");
    assert_eq!(monitor["url"], "https://www.google.com/");
    assert_eq!(monitor["interval_seconds"], 120, "Period is in minutes");
    assert_eq!(monitor["paused"], false);

    // And the v1 API sees the same monitor.
    let listed: Value = app
        .get("/api/v1/monitors", &token)
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(listed["monitors"][0]["id"], monitor["id"]);
}

#[tokio::test]
async fn the_k6_load_test_lowercase_keys_work() {
    let app = spawn_app().await;
    let body = r#"{"email": "a1b2c3d4e5f6g7h8i9j0k1l@x.io", "password": "abcdefghijkl"}"#;
    assert_eq!(
        app.post("/register", body, None).await.status(),
        StatusCode::CREATED
    );
    let token: String = app
        .post("/login", body, None)
        .await
        .json()
        .await
        .expect("token");
    let added = app
        .post(
            "/url",
            r#"{"url": "https://example.com", "PERIOD": 5}"#,
            Some(&format!("Bearer {token}")),
        )
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let monitor: Value = added.json().await.expect("monitor");
    assert_eq!(monitor["interval_seconds"], 300);
}

#[tokio::test]
async fn register_never_returns_the_password_or_its_hash() {
    let app = spawn_app().await;
    let text = app
        .post("/register", CREDENTIALS, None)
        .await
        .text()
        .await
        .expect("body");
    assert!(
        !text.contains("XXXXXXXX")
            && !text.contains("argon2")
            && !text.to_lowercase().contains("password"),
        "{text}"
    );
}

#[tokio::test]
async fn a_taken_email_is_a_conflict_in_any_case() {
    let app = spawn_app().await;
    assert_eq!(
        app.post("/register", CREDENTIALS, None).await.status(),
        StatusCode::CREATED
    );
    let again = r#"{"Email": "  Elahe.DSTN@gmail.com ", "Password": "another password"}"#;
    expect_error(
        app.post("/register", again, None).await,
        StatusCode::CONFLICT,
        "email_taken",
    )
    .await;
}

#[tokio::test]
async fn the_period_defaults_to_one_minute() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let added = app
        .post("/url", r#"{"URL": "https://example.com"}"#, Some(&token))
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let monitor: Value = added.json().await.expect("monitor");
    assert_eq!(monitor["interval_seconds"], 60);
}

#[tokio::test]
async fn the_period_must_be_between_1_and_100_minutes() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    for period in ["0", "101", "-3"] {
        let body = format!(r#"{{"URL": "https://example.com", "Period": {period}}}"#);
        let message = expect_error(
            app.post("/url", &body, Some(&token)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            message.contains("Period") && message.contains("between 1 and 100"),
            "{message}"
        );
    }
    let ok = app
        .post(
            "/url",
            r#"{"URL": "https://example.com", "Period": 100}"#,
            Some(&token),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_period_respects_a_minimum_interval_above_a_minute() {
    let app = spawn_with(|s| s.min_interval = std::time::Duration::from_secs(120)).await;
    let token = app.new_user().await;
    let body = r#"{"URL": "https://example.com", "Period": 1}"#;
    let message = expect_error(
        app.post("/url", body, Some(&token)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(message.contains("between 2 and 100"), "{message}");
}

#[tokio::test]
async fn seed_bodies_name_the_bad_field() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let wrong_type = app
        .post(
            "/url",
            r#"{"URL": "https://example.com", "Period": "2"}"#,
            Some(&token),
        )
        .await;
    let message = expect_error(wrong_type, StatusCode::UNPROCESSABLE_ENTITY, "invalid_json").await;
    assert!(message.starts_with("Period:"), "{message}");
    let missing = app.post("/url", r#"{"Period": 2}"#, Some(&token)).await;
    let message = expect_error(missing, StatusCode::UNPROCESSABLE_ENTITY, "invalid_json").await;
    assert!(message.contains("URL"), "{message}");
    let bad_url = app
        .post("/url", r#"{"URL": "ftp://example.com"}"#, Some(&token))
        .await;
    let message = expect_error(
        bad_url,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(message.contains("scheme `ftp`"), "{message}");
    let twice = app
        .post(
            "/url",
            r#"{"URL": "https://a.com", "url": "https://b.com"}"#,
            Some(&token),
        )
        .await;
    let message = expect_error(twice, StatusCode::UNPROCESSABLE_ENTITY, "invalid_json").await;
    assert!(message.contains("twice"), "{message}");
    let not_object = app.post("/register", r#"["a", "b"]"#, None).await;
    expect_error(not_object, StatusCode::UNPROCESSABLE_ENTITY, "invalid_json").await;
}

#[tokio::test]
async fn the_seed_placeholder_password_is_too_short_and_says_so() {
    let app = spawn_app().await;
    let body = r#"{"Email": "elahe.dstn@gmail.com", "Password": "XXXX"}"#;
    let message = expect_error(
        app.post("/register", body, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(message, "password: must be at least 8 characters");
}

#[tokio::test]
async fn seed_login_refuses_wrong_credentials() {
    let app = spawn_app().await;
    app.post("/register", CREDENTIALS, None).await;
    let wrong = r#"{"Email": "elahe.dstn@gmail.com", "Password": "YYYYYYYY"}"#;
    expect_error(
        app.post("/login", wrong, None).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn adding_a_url_needs_a_valid_token() {
    let app = spawn_app().await;
    let body = r#"{"URL": "https://www.google.com", "Period": 2}"#;
    expect_error(
        app.post("/url", body, None).await,
        StatusCode::UNAUTHORIZED,
        "missing_token",
    )
    .await;
    // The seed README's literal placeholder is not a token.
    expect_error(
        app.post("/url", body, Some("token")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn a_key_given_twice_is_refused_not_taken_last() {
    let app = spawn_app().await;
    let body =
        r#"{"Email": "first@example.com", "Email": "second@example.com", "Password": "XXXXXXXX"}"#;
    let message = expect_error(
        app.post("/register", body, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
    )
    .await;
    assert!(
        message.contains("Email") && message.contains("twice"),
        "{message}"
    );
    let message = expect_error(
        app.post(
            "/api/v1/auth/register",
            r#"{"email": "a@b.co", "email": "c@d.co", "password": "XXXXXXXX"}"#,
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
    )
    .await;
    assert!(message.contains("duplicate"), "{message}");
}
