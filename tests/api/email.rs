//! Email channels against a real SMTP server process on loopback (aiosmtpd): a test
//! arrives, and a relay that cannot do the STARTTLS `smtp://` requires is reported, without
//! the URL's password.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_with};
use crate::smtp::SmtpServer;

async fn app_with_relay(url: String) -> TestApp {
    spawn_with(move |s| {
        s.smtp_url = Some(url.into());
        s.smtp_from = Some("tocsin <tocsin@example.com>".into());
        s.notify_timeout = Duration::from_secs(5);
    })
    .await
}

async fn test_channel(app: &TestApp, token: &str, to: &str) -> Value {
    let response = app
        .send(
            Method::POST,
            "/api/v1/channels",
            token,
            Some(json!({"name": "mail", "kind": "email", "to": [to]})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let channel: Value = response.json().await.expect("JSON");
    app.send(
        Method::POST,
        &format!("/api/v1/channels/{}/test", channel["id"]),
        token,
        None,
    )
    .await
    .json()
    .await
    .expect("JSON")
}

#[tokio::test]
async fn a_test_email_reaches_the_smtp_server() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = app_with_relay(format!("smtp://127.0.0.1:{}?tls=none", smtp.port)).await;
    let token = app.new_user().await;
    let answer = test_channel(&app, &token, "ops@example.com").await;
    assert_eq!(answer, json!({"delivered": true, "error": null}));
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert!(
        message.contains("Subject: [tocsin] test notification"),
        "{message}"
    );
    assert!(message.contains("To: ops@example.com"), "{message}");
    assert!(
        message.contains("From: tocsin <tocsin@example.com>"),
        "{message}"
    );
    assert!(message.contains("this channel works"), "{message}");
}

#[tokio::test]
async fn a_relay_without_starttls_is_refused_and_the_password_never_shown() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = app_with_relay(format!(
        "smtp://alerts:hunter2secret@127.0.0.1:{}",
        smtp.port
    ))
    .await;
    let token = app.new_user().await;
    let answer = test_channel(&app, &token, "ops@example.com").await;
    assert_eq!(answer["delivered"], false);
    let error = answer["error"].as_str().expect("error");
    assert!(!error.contains("hunter2secret"), "{error}");
    assert!(error.to_lowercase().contains("tls"), "{error}");
    assert!(smtp.messages().is_empty());
}
