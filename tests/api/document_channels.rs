//! A document's `channels:` section through the API: applied with its monitors, exported
//! with every secret as a `${TOCSIN_<CHANNEL>_<FIELD>}` reference, refused while such a
//! reference is unresolved, and unchanged when applied again with the same secret.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

const DOCUMENT: &str = "\
channels:
  ops:
    kind: webhook
    url: https://hooks.example.com/in
    secret: s3cret-value
    headers:
      Authorization: Bearer t0ken-value
monitors:
  api:
    url: https://api.example.com/health
    channels: [ops]
";

#[tokio::test]
async fn a_webhook_channel_with_a_secret_applies_exports_and_applies_again_unchanged() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let apply = |body: Value| {
        let (app, token) = (&app, &token);
        async move {
            let response = app
                .send(Method::POST, "/api/v1/apply", token, Some(body))
                .await;
            let status = response.status();
            (status, response.text().await.expect("body"))
        }
    };

    let (status, text) = apply(json!({"document": DOCUMENT})).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let plan: Value = serde_json::from_str(&text).expect("plan");
    assert_eq!(plan["channels"]["created"], json!(["ops"]));
    assert_eq!(plan["created"], json!(["api"]));
    // The monitor names the channel made in the same application.
    let channels: Value = app
        .get("/api/v1/channels", &token)
        .await
        .json()
        .await
        .expect("channels");
    let id = channels["channels"][0]["id"].as_i64().expect("id");
    let monitors: Value = app
        .get("/api/v1/monitors", &token)
        .await
        .json()
        .await
        .expect("monitors");
    assert_eq!(monitors["monitors"][0]["channel_ids"], json!([id]));

    // The export never writes a secret: references instead.
    let response = app.get("/api/v1/export", &token).await;
    let exported = response.text().await.expect("export");
    assert!(!exported.contains("s3cret-value"), "{exported}");
    assert!(!exported.contains("t0ken-value"), "{exported}");
    let mut document: Value = serde_json::from_str(&exported).expect("JSON export");
    let ops = &document["channels"]["ops"];
    assert_eq!(ops["kind"], "webhook");
    assert_eq!(ops["url"], "https://hooks.example.com/in");
    assert_eq!(ops["secret"], "${TOCSIN_OPS_SECRET}");
    assert_eq!(
        ops["headers"]["Authorization"],
        "${TOCSIN_OPS_HEADERS_AUTHORIZATION}"
    );
    assert_eq!(document["monitors"]["api"]["channels"], json!(["ops"]));

    // Sent as it is, the references are refused, naming the channel and the field.
    let (status, text) = apply(json!({"document": document.clone()})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(
        text.contains("channel `ops`, field `headers.Authorization`"),
        "{text}"
    );
    assert!(text.contains("unresolved"), "{text}");

    // Resolved to the same values: nothing changes.
    document["channels"]["ops"]["secret"] = json!("s3cret-value");
    document["channels"]["ops"]["headers"]["Authorization"] = json!("Bearer t0ken-value");
    let (status, text) = apply(json!({"document": document.clone()})).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let plan: Value = serde_json::from_str(&text).expect("plan");
    assert_eq!(plan["channels"]["unchanged"], json!(["ops"]), "{plan}");
    assert_eq!(plan["applied"], false, "{plan}");

    // A new secret is an update whose values the plan never shows.
    document["channels"]["ops"]["secret"] = json!("n3w-secret");
    let (status, text) = apply(json!({"document": document.clone()})).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        !text.contains("n3w-secret") && !text.contains("s3cret-value"),
        "{text}"
    );
    let plan: Value = serde_json::from_str(&text).expect("plan");
    assert_eq!(
        plan["channels"]["updated"],
        json!([{"name": "ops", "changes": [
            {"field": "secret", "from": "changed", "to": "changed"}
        ]}])
    );

    // A kind the channel does not have is refused, naming the field.
    let (status, text) = apply(json!({"document": DOCUMENT.replace(
        "kind: webhook\n    url: https://hooks.example.com/in\n    secret: s3cret-value\n    \
         headers:\n      Authorization: Bearer t0ken-value",
        "kind: ntfy\n    topic: alerts",
    )}))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains("channel `ops`, field `kind`"), "{text}");

    // Pruning with an empty `channels` deletes the channel (and its monitor with it).
    let (status, text) = apply(json!({
        "document": {"channels": {}, "monitors": {}},
        "prune": true,
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let plan: Value = serde_json::from_str(&text).expect("plan");
    assert_eq!(plan["channels"]["deleted"], json!(["ops"]), "{plan}");
    assert_eq!(plan["deleted"], json!(["api"]), "{plan}");
    let channels: Value = app
        .get("/api/v1/channels", &token)
        .await
        .json()
        .await
        .expect("channels");
    assert_eq!(channels["channels"], json!([]));
}
