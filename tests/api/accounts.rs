//! The account's own routes and what accounts may do: `/api/v1/me`, password changes that
//! revoke earlier tokens everywhere, deletion, closed registration and the administrator.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tocsin::config::Registration;

use crate::helpers::{
    PASSWORD, expect_error, spawn_app, spawn_with, start, test_settings, unique_email,
};

#[tokio::test]
async fn a_deleted_accounts_token_is_refused_everywhere() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let monitor = app
        .create_monitor(&token, json!({"url": "https://example.com/"}))
        .await;
    let id = monitor["id"].as_i64().expect("id");
    let deleted = app.send(Method::DELETE, "/api/v1/me", &token, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    for (method, path, body) in [
        (Method::GET, "/api/v1/monitors".to_owned(), None),
        (
            Method::POST,
            "/api/v1/monitors".to_owned(),
            Some(json!({"url": "https://example.com/"})),
        ),
        (Method::GET, format!("/api/v1/monitors/{id}"), None),
        (Method::GET, format!("/api/v1/monitors/{id}/results"), None),
        (Method::GET, "/api/v1/me".to_owned(), None),
    ] {
        let response = app.send(method.clone(), &path, &token, body).await;
        let message = expect_error(response, StatusCode::UNAUTHORIZED, "token_revoked").await;
        assert!(
            message.contains("no longer exists"),
            "{method} {path}: {message}"
        );
    }
    // The seed's route too (it answered 500 on a foreign-key error).
    let seed = app
        .post(
            "/url",
            r#"{"URL": "https://example.com", "Period": 2}"#,
            Some(&token),
        )
        .await;
    expect_error(seed, StatusCode::UNAUTHORIZED, "token_revoked").await;
}

#[tokio::test]
async fn me_shows_the_account_and_the_first_is_the_administrator() {
    let app = spawn_app().await;
    let first = app.new_user().await;
    let second_email = unique_email();
    app.register(&second_email).await;
    let second = app.login(&second_email).await;
    let me: Value = app
        .get("/api/v1/me", &first)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["admin"], true);
    let me: Value = app
        .get("/api/v1/me", &second)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(me["email"], second_email.as_str());
    assert_eq!(me["admin"], false);
    assert!(me.get("password_hash").is_none());

    // The cluster shows host names, process ids and addresses: the administrator's only.
    assert_eq!(
        app.get("/api/v1/cluster", &first).await.status(),
        StatusCode::OK
    );
    expect_error(
        app.get("/api/v1/cluster", &second).await,
        StatusCode::FORBIDDEN,
        "admin_only",
    )
    .await;
}

#[tokio::test]
async fn closed_registration_lets_only_the_first_account_in() {
    let app = spawn_with(|s| s.registration = Registration::Closed).await;
    let body = json!({"email": unique_email(), "password": PASSWORD}).to_string();
    let first = app.post("/api/v1/auth/register", &body, None).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("JSON");
    assert_eq!(first["admin"], true);
    for path in ["/api/v1/auth/register", "/register"] {
        let body = json!({"email": unique_email(), "password": PASSWORD}).to_string();
        let message = expect_error(
            app.post(path, &body, None).await,
            StatusCode::FORBIDDEN,
            "registration_closed",
        )
        .await;
        assert!(message.contains("closed"), "{message}");
    }
}

#[tokio::test]
async fn a_password_change_revokes_every_earlier_token_on_every_instance() {
    let dir = TempDir::new().expect("dir");
    let first = start(test_settings(dir.path())).await;
    let second = start(test_settings(dir.path())).await;
    let email = unique_email();
    first.register(&email).await;
    let old_on_first = first.login(&email).await;
    let old_on_second = second.login(&email).await;

    let wrong = json!({"current_password": "not the password", "new_password": "a new passphrase"});
    let message = expect_error(
        first
            .send(
                Method::POST,
                "/api/v1/me/password",
                &old_on_first,
                Some(wrong),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(message.contains("current_password"), "{message}");
    let short = json!({"current_password": PASSWORD, "new_password": "short"});
    let message = expect_error(
        first
            .send(
                Method::POST,
                "/api/v1/me/password",
                &old_on_first,
                Some(short),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(message.contains("new_password"), "{message}");

    let change = json!({"current_password": PASSWORD, "new_password": "a new passphrase"});
    let changed = first
        .send(
            Method::POST,
            "/api/v1/me/password",
            &old_on_first,
            Some(change),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.expect("JSON");
    let new_token = changed["token"].as_str().expect("a new token");

    for (app, token) in [
        (&first, &old_on_first),
        (&second, &old_on_first),
        (&first, &old_on_second),
        (&second, &old_on_second),
    ] {
        expect_error(
            app.get("/api/v1/monitors", token).await,
            StatusCode::UNAUTHORIZED,
            "token_revoked",
        )
        .await;
    }
    for app in [&first, &second] {
        assert_eq!(
            app.get("/api/v1/monitors", new_token).await.status(),
            StatusCode::OK
        );
    }
    let old_login = json!({"email": email, "password": PASSWORD}).to_string();
    expect_error(
        second.post("/api/v1/auth/login", &old_login, None).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let new_login = json!({"email": email, "password": "a new passphrase"}).to_string();
    assert_eq!(
        second
            .post("/api/v1/auth/login", &new_login, None)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn deleting_an_account_removes_its_monitors_and_frees_its_email() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email).await;
    let token = app.login(&email).await;
    let other = app.new_user().await;
    app.create_monitor(&token, json!({"url": "https://example.com/a"}))
        .await;
    let kept = app
        .create_monitor(&other, json!({"url": "https://example.com/b"}))
        .await;
    assert_eq!(
        app.send(Method::DELETE, "/api/v1/me", &token, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    app.register(&email).await;
    let again = app.login(&email).await;
    let listed: Value = app
        .get("/api/v1/monitors", &again)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        listed["monitors"],
        json!([]),
        "nothing of the old account is left"
    );
    let theirs: Value = app
        .get("/api/v1/monitors", &other)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(theirs["monitors"][0]["id"], kept["id"]);
}
