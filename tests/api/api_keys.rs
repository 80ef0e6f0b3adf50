//! API keys: shown once, listed without the key, usable wherever a token is, read-only keys
//! refused on every write, revoked at once on every instance sharing the database.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tocsin::config::DatabaseUrl;

use crate::helpers::{TestApp, expect_error, spawn_app, start, test_settings};
use crate::services::fresh_postgres;

/// Makes a key with `scope` and answers the whole created answer.
async fn make_key(app: &TestApp, token: &str, scope: &str) -> Value {
    let response = app
        .send(
            Method::POST,
            "/api/v1/api-keys",
            token,
            Some(json!({"name": format!("{scope} key"), "scope": scope, "expires_in_days": 30})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("key JSON")
}

#[tokio::test]
async fn a_key_is_shown_once_and_works_like_a_token() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let created = make_key(&app, &token, "write").await;
    let key = created["key"].as_str().expect("key");
    assert!(key.starts_with("tcn_") && key.len() >= 4 + 43, "{key}");
    assert_eq!(created["scope"], "write");
    assert_eq!(created["name"], "write key");
    assert!(created["expires_at"].is_string());
    assert_eq!(created["last_used_at"], Value::Null);

    // The key does what a token does, on the versioned and the seed's routes alike.
    let monitor = app
        .create_monitor(
            key,
            json!({"url": "https://example.com/", "name": "by key"}),
        )
        .await;
    assert_eq!(monitor["name"], "by key");
    let seed = app
        .post(
            "/url",
            r#"{"URL": "https://example.org/"}"#,
            Some(&format!("Bearer {key}")),
        )
        .await;
    assert_eq!(seed.status(), StatusCode::CREATED);

    // Listed without the key, with its last use recorded.
    let listed: Value = app
        .get("/api/v1/api-keys", &token)
        .await
        .json()
        .await
        .expect("list");
    let keys = listed["api_keys"].as_array().expect("array");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], created["id"]);
    assert!(keys[0].get("key").is_none(), "{listed}");
    assert!(keys[0]["last_used_at"].is_string(), "{listed}");
    assert!(!listed.to_string().contains(key));
}

#[tokio::test]
async fn a_read_key_reads_and_gets_403_on_every_write() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let monitor = app
        .create_monitor(&token, json!({"url": "https://example.com/"}))
        .await;
    let id = monitor["id"].as_i64().expect("id");
    let read = make_key(&app, &token, "read").await;
    let key = read["key"].as_str().expect("key");

    for path in [
        "/api/v1/monitors".to_owned(),
        format!("/api/v1/monitors/{id}"),
        format!("/api/v1/monitors/{id}/results"),
        "/api/v1/me".to_owned(),
        "/api/v1/api-keys".to_owned(),
    ] {
        assert_eq!(app.get(&path, key).await.status(), StatusCode::OK, "{path}");
    }
    let writes = [
        (
            Method::POST,
            "/api/v1/monitors".to_owned(),
            Some(json!({"url": "https://x.example/"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/monitors/{id}"),
            Some(json!({"name": "renamed"})),
        ),
        (Method::POST, format!("/api/v1/monitors/{id}/pause"), None),
        (Method::DELETE, format!("/api/v1/monitors/{id}"), None),
        (
            Method::POST,
            "/api/v1/api-keys".to_owned(),
            Some(json!({"name": "x", "scope": "write"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/api-keys/{}", read["id"]),
            None,
        ),
        (Method::DELETE, "/api/v1/me".to_owned(), None),
    ];
    for (method, path, body) in writes {
        let response = app.send(method.clone(), &path, key, body).await;
        let message = expect_error(response, StatusCode::FORBIDDEN, "read_only_key").await;
        assert!(message.contains("read"), "{method} {path}: {message}");
    }
    let seed = app
        .post("/url", r#"{"URL": "https://example.org/"}"#, Some(key))
        .await;
    expect_error(seed, StatusCode::FORBIDDEN, "read_only_key").await;
    // Nothing changed.
    let still = app.get(&format!("/api/v1/monitors/{id}"), &token).await;
    assert_eq!(still.status(), StatusCode::OK);
}

#[tokio::test]
async fn keys_are_checked_and_bounded() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let forged = "tcn_0000000000000000000000000000000000000000000";
    expect_error(
        app.get("/api/v1/monitors", forged).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    for (body, field) in [
        (json!({"name": "", "scope": "read"}), "name"),
        (
            json!({"name": "x", "scope": "read", "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "scope": "read", "expires_in_days": 4000}),
            "expires_in_days",
        ),
    ] {
        let response = app
            .send(Method::POST, "/api/v1/api-keys", &token, Some(body))
            .await;
        let message = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(message.contains(field), "{message}");
    }
    let response = app
        .send(
            Method::POST,
            "/api/v1/api-keys",
            &token,
            Some(json!({"name": "x", "scope": "admin"})),
        )
        .await;
    let message = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_json").await;
    assert!(message.contains("scope"), "{message}");
    // Another account's key is not found.
    let key = make_key(&app, &token, "write").await;
    let other = app.new_user().await;
    let path = format!("/api/v1/api-keys/{}", key["id"]);
    let response = app.send(Method::DELETE, &path, &other, None).await;
    expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
}

/// Two instances on one PostgreSQL database: a key revoked through one stops working on the
/// other at the very next request.
#[tokio::test]
async fn a_revoked_key_stops_working_at_once_on_every_instance() {
    let Some(database) = fresh_postgres().await else {
        return;
    };
    let dirs = [TempDir::new().expect("dir"), TempDir::new().expect("dir")];
    let settings = |dir: &TempDir| {
        let mut settings = test_settings(dir.path());
        settings.database_url = DatabaseUrl::Postgres {
            url: database.url.clone(),
        };
        settings
    };
    let first = start(settings(&dirs[0])).await;
    let second = start(settings(&dirs[1])).await;
    let token = first.new_user().await;
    let created = make_key(&first, &token, "write").await;
    let key = created["key"].as_str().expect("key");
    assert_eq!(
        second.get("/api/v1/monitors", key).await.status(),
        StatusCode::OK,
        "a key made on one instance works on the other"
    );
    let revoke = first
        .send(
            Method::DELETE,
            &format!("/api/v1/api-keys/{}", created["id"]),
            &token,
            None,
        )
        .await;
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    for app in [&second, &first] {
        let message = expect_error(
            app.get("/api/v1/monitors", key).await,
            StatusCode::UNAUTHORIZED,
            "token_revoked",
        )
        .await;
        assert!(message.contains("revoked"), "{message}");
    }
}

#[tokio::test]
async fn an_expired_key_is_refused_saying_so() {
    use tocsin::auth::api_key::{Scope, hash};
    use tocsin::store::prelude::*;
    use tocsin::store::{NewApiKey, SqliteStore};

    let app = spawn_app().await;
    let token = app.new_user().await;
    let me: Value = app
        .get("/api/v1/me", &token)
        .await
        .json()
        .await
        .expect("me");
    let DatabaseUrl::Sqlite { path } = &app.settings.database_url else {
        panic!("test apps use SQLite");
    };
    // A key made with a lifetime that has run out (the API only makes future ones).
    let store = SqliteStore::open(path).await.expect("the app's database");
    let key = "tcn_ExpiredExpiredExpiredExpiredExpiredExpired1";
    store
        .create_api_key(
            tocsin::auth::UserId(me["id"].as_i64().expect("id")),
            &NewApiKey {
                name: "old",
                scope: Scope::Write,
                hash: &hash(key),
                expires_at: Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
            },
            10,
        )
        .await
        .expect("stored");
    let message = expect_error(
        app.get("/api/v1/monitors", key).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    assert!(message.contains("expired"), "{message}");
}
