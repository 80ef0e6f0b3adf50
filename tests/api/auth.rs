//! `/api/v1/auth`, tokens and throttling.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    JWT_SECRET, PASSWORD, expect_error, spawn_app, spawn_with, start, unique_email,
};

#[tokio::test]
async fn register_then_login_gives_a_token_with_its_expiry() {
    let app = spawn_app().await;
    let email = unique_email();
    let body = json!({"email": email, "password": PASSWORD}).to_string();
    let registered = app.post("/api/v1/auth/register", &body, None).await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let user: Value = registered.json().await.expect("user");
    assert_eq!(user["email"], email.as_str());
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());

    let login: Value = app
        .post("/api/v1/auth/login", &body, None)
        .await
        .json()
        .await
        .expect("token");
    let expires_at = login["expires_at"].as_str().expect("expires_at");
    // Milliseconds, like every other time the API writes: `…T12:34:56.000Z`.
    let fraction = expires_at
        .rsplit_once('.')
        .map(|(_, f)| f.len())
        .unwrap_or_default();
    assert_eq!(fraction, "000Z".len(), "{expires_at}");
    let expires_at = chrono::DateTime::parse_from_rfc3339(expires_at).expect("RFC 3339");
    let ttl = expires_at.signed_duration_since(chrono::Utc::now());
    assert!(
        ttl > chrono::Duration::minutes(14) && ttl <= chrono::Duration::minutes(15),
        "15 minutes like the seed: {ttl}"
    );
    let token = login["token"].as_str().expect("token");
    assert_eq!(
        app.get("/api/v1/monitors", token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn emails_are_trimmed_and_lowercased() {
    let app = spawn_app().await;
    let body = json!({"email": "  Mixed.Case@Example.COM ", "password": PASSWORD}).to_string();
    let user: Value = app
        .post("/api/v1/auth/register", &body, None)
        .await
        .json()
        .await
        .expect("user");
    assert_eq!(user["email"], "mixed.case@example.com");
    app.login("mixed.case@example.com").await;
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email).await;
    let wrong_password = json!({"email": email, "password": "not the password"}).to_string();
    let unknown_email = json!({"email": unique_email(), "password": PASSWORD}).to_string();
    let a = app.post("/api/v1/auth/login", &wrong_password, None).await;
    let b = app.post("/api/v1/auth/login", &unknown_email, None).await;
    assert_eq!(a.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(b.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(a.text().await.expect("body"), b.text().await.expect("body"));
}

#[tokio::test]
async fn weak_passwords_and_bad_emails_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let short = json!({"email": unique_email(), "password": "1234567"}).to_string();
    let message = expect_error(
        app.post("/api/v1/auth/register", &short, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(message.starts_with("password:"), "{message}");
    let bad_email = json!({"email": "not-an-email", "password": PASSWORD}).to_string();
    let message = expect_error(
        app.post("/api/v1/auth/register", &bad_email, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(message.starts_with("email:"), "{message}");
    let missing = json!({"email": unique_email()}).to_string();
    let message = expect_error(
        app.post("/api/v1/auth/register", &missing, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
    )
    .await;
    assert!(message.contains("password"), "{message}");
}

#[tokio::test]
async fn v1_register_conflicts_on_a_taken_email() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email).await;
    let body = json!({"email": email.to_uppercase(), "password": PASSWORD}).to_string();
    expect_error(
        app.post("/api/v1/auth/register", &body, None).await,
        StatusCode::CONFLICT,
        "email_taken",
    )
    .await;
}

fn signed(claims: Value, alg: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode")
}

#[tokio::test]
async fn bad_tokens_are_401_with_a_reason() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let get = |auth: Option<String>| {
        let request = app.client.get(app.url("/api/v1/monitors"));
        let request = match auth {
            Some(value) => request.header("Authorization", value),
            None => request,
        };
        async move { request.send().await.expect("sent") }
    };
    let unauthorized = StatusCode::UNAUTHORIZED;
    expect_error(get(None).await, unauthorized, "missing_token").await;
    expect_error(
        get(Some("Bearer".into())).await,
        unauthorized,
        "invalid_token",
    )
    .await;
    expect_error(
        get(Some("Basic dXNlcjpwYXNz".into())).await,
        unauthorized,
        "invalid_token",
    )
    .await;
    expect_error(
        get(Some("Bearer not.a.jwt".into())).await,
        unauthorized,
        "invalid_token",
    )
    .await;

    let forged = signed(
        json!({"sub": "1", "exp": now + 600}),
        Algorithm::HS256,
        "some-other-secret-some-other-secret",
    );
    expect_error(
        get(Some(format!("Bearer {forged}"))).await,
        unauthorized,
        "invalid_token",
    )
    .await;

    let expired = signed(
        json!({"sub": "1", "iat": now - 1000, "exp": now - 100}),
        Algorithm::HS256,
        JWT_SECRET,
    );
    let message = expect_error(
        get(Some(format!("Bearer {expired}"))).await,
        unauthorized,
        "token_expired",
    )
    .await;
    assert!(message.contains("expired"), "{message}");

    let hs512 = signed(
        json!({"sub": "1", "exp": now + 600}),
        Algorithm::HS512,
        JWT_SECRET,
    );
    expect_error(
        get(Some(format!("Bearer {hs512}"))).await,
        unauthorized,
        "invalid_token",
    )
    .await;

    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"1","exp":{}}}"#, now + 600));
    expect_error(
        get(Some(format!("{header}.{claims}."))).await,
        unauthorized,
        "invalid_token",
    )
    .await;

    let no_exp = signed(json!({"sub": "1"}), Algorithm::HS256, JWT_SECRET);
    expect_error(
        get(Some(format!("Bearer {no_exp}"))).await,
        unauthorized,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn unauthorized_answers_carry_www_authenticate() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/monitors"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().ok()),
        Some(Some("Bearer"))
    );
}

#[tokio::test]
async fn tokens_expire_after_the_configured_ttl() {
    let app = spawn_with(|s| s.jwt_ttl = Duration::from_secs(1)).await;
    let token = app.new_user().await;
    assert_eq!(
        app.get("/api/v1/monitors", &token).await.status(),
        StatusCode::OK
    );
    // exp has one-second resolution and a 5 s leeway for clock skew between instances.
    tokio::time::sleep(Duration::from_secs(7)).await;
    expect_error(
        app.get("/api/v1/monitors", &token).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    )
    .await;
}

#[tokio::test]
async fn a_generated_secret_is_kept_so_tokens_survive_restarts_and_work_on_every_instance() {
    let first = spawn_with(|s| s.jwt_secret = None).await;
    let token = first.new_user().await;

    // A second instance on the same database, started later, accepts the first one's token.
    let mut settings = first.settings.clone();
    settings.listen = "127.0.0.1:0".parse().expect("address");
    let second = start(settings.clone()).await;
    assert_eq!(
        second.get("/api/v1/monitors", &token).await.status(),
        StatusCode::OK
    );

    // So does an instance on the same database with the first one stopped (a restart).
    drop(second);
    let secret_row_survives = start(settings).await;
    assert_eq!(
        secret_row_survives
            .get("/api/v1/monitors", &token)
            .await
            .status(),
        StatusCode::OK
    );

    // But a token signed with any other secret is refused.
    let other = spawn_with(|s| s.jwt_secret = None).await;
    expect_error(
        other.get("/api/v1/monitors", &token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn register_and_login_are_throttled_per_address() {
    let app = spawn_with(|s| s.auth_rate_per_minute = 3).await;
    let email = unique_email();
    app.register(&email).await;
    let token = app.login(&email).await;
    let body = json!({"email": email, "password": "wrong password"}).to_string();
    assert_eq!(
        app.post("/login", &body, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let throttled = app.post("/api/v1/auth/login", &body, None).await;
    let retry_after: u64 = throttled
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    expect_error(
        throttled,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
    )
    .await;
    // Register shares the budget; the rest of the API does not.
    let register = json!({"email": unique_email(), "password": PASSWORD}).to_string();
    expect_error(
        app.post("/register", &register, None).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
    )
    .await;
    assert_eq!(
        app.get("/api/v1/monitors", &token).await.status(),
        StatusCode::OK
    );
}

/// No account enumeration through the answer: an unknown email and a wrong password get
/// the same status and body. That both cost one argon2 computation is checked by counting,
/// not timing, in `auth::password`'s unit tests.
#[tokio::test]
async fn login_for_an_unknown_email_answers_like_a_wrong_password() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email).await;
    let wrong_password = json!({"email": email, "password": "not the password"}).to_string();
    let unknown_email = json!({"email": unique_email(), "password": PASSWORD}).to_string();
    let wrong = app.post("/api/v1/auth/login", &wrong_password, None).await;
    let unknown = app.post("/api/v1/auth/login", &unknown_email, None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), wrong.status());
    assert_eq!(unknown.text().await.ok(), wrong.text().await.ok());
}

#[tokio::test]
async fn an_overlong_password_is_refused_before_any_hashing() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email).await;
    let long = "x".repeat(1_000_000);
    for path in [
        "/api/v1/auth/login",
        "/login",
        "/api/v1/auth/register",
        "/register",
    ] {
        let body = json!({"email": email, "password": long}).to_string();
        let message = expect_error(
            app.post(path, &body, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        // Login used to hash it (three normal hashes' time) and answer 401.
        assert!(
            message.contains("at most 1024 characters"),
            "{path}: {message}"
        );
    }
}
