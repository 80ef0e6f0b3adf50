//! Email channels against a real SMTP server process on loopback (aiosmtpd): a test
//! arrives, and a relay that cannot do the STARTTLS `smtp://` requires is reported, without
//! the URL's password.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_with};
use crate::pki::{Ca, write};
use crate::smtp::SmtpServer;

async fn app_with_relay(url: String) -> TestApp {
    app_with_relay_trusting(url, None).await
}

async fn app_with_relay_trusting(url: String, ca: Option<std::path::PathBuf>) -> TestApp {
    spawn_with(move |s| {
        s.smtp_url = Some(url.into());
        s.smtp_ca = ca;
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

#[tokio::test]
async fn starttls_to_a_relay_with_a_private_ca_works_only_with_that_ca() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let ca = Ca::new("tocsin test SMTP CA");
    let leaf = ca.server(&["127.0.0.1", "localhost"]);
    let cert = write(dir.path(), "smtp.pem", &leaf.cert);
    let key = write(dir.path(), "smtp.key", &leaf.key);
    let ca_file = write(dir.path(), "ca.pem", &ca.pem());
    let (cert, key) = (cert.to_str().expect("path"), key.to_str().expect("path"));
    let Some(smtp) = SmtpServer::start_with(&["--tlscert", cert, "--tlskey", key]) else {
        return;
    };
    let url = format!("smtp://alerts:hunter2secret@127.0.0.1:{}", smtp.port);

    // The web's roots do not vouch for the relay: refused, said, nothing sent.
    let untrusted = app_with_relay(url.clone()).await;
    let token = untrusted.new_user().await;
    let answer = test_channel(&untrusted, &token, "ops@example.com").await;
    assert_eq!(answer["delivered"], false);
    let error = answer["error"].as_str().expect("error");
    assert!(!error.contains("hunter2secret"), "{error}");
    assert!(smtp.messages().is_empty());

    // With its CA trusted, the message goes over STARTTLS (aiosmtpd requires it before
    // MAIL FROM when it has a certificate).
    // (This relay takes no login: the URL carries none.)
    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    let trusted = app_with_relay_trusting(url, Some(ca_file)).await;
    let token = trusted.new_user().await;
    let answer = test_channel(&trusted, &token, "ops@example.com").await;
    assert_eq!(answer, json!({"delivered": true, "error": null}));
    assert_eq!(smtp.messages().len(), 1);
}
