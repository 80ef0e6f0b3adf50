//! `POST /api/v1/apply` and `GET /api/v1/export`: the plan, all or nothing, idempotent,
//! pruning, dry runs, errors with their line, and a read key's dry run.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, spawn_app, spawn_with};

const FIRST: &str = "\
monitors:
  api:
    url: https://api.example.com/health
    interval_seconds: 30
    conditions:
      - \"[STATUS] == 200\"
      - \"[BODY].status == UP\"
  db:
    url: tcp://db.example.com:5432
    conditions: [\"[CONNECTED] == true\"]
  dns:
    url: dns://1.1.1.1/example.com?type=A
    conditions: [\"[DNS_RCODE] == NOERROR\"]
";

async fn apply(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.send(Method::POST, "/api/v1/apply", token, Some(body))
        .await
}

async fn plan(app: &TestApp, token: &str, body: Value) -> Value {
    let response = apply(app, token, body).await;
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).expect("plan JSON")
}

fn names(plan: &Value, key: &str) -> Vec<String> {
    plan[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {plan}"))
        .iter()
        .map(|v| match v {
            Value::String(name) => name.clone(),
            other => other["name"].as_str().expect("name").to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn a_document_is_planned_applied_once_and_exported_back() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    // A monitor the document does not name: kept unless pruned.
    app.create_monitor(
        &token,
        json!({"url": "https://old.example/", "name": "old"}),
    )
    .await;

    let dry = plan(&app, &token, json!({"document": FIRST, "dry_run": true})).await;
    assert_eq!(names(&dry, "created"), ["api", "db", "dns"]);
    assert_eq!(dry["applied"], false);
    let listed: Value = app
        .get("/api/v1/monitors", &token)
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(
        listed["monitors"].as_array().expect("array").len(),
        1,
        "a dry run changes nothing"
    );

    let first = plan(&app, &token, json!({"document": FIRST})).await;
    assert_eq!(names(&first, "created"), ["api", "db", "dns"]);
    assert_eq!(first["applied"], true);
    assert!(
        names(&first, "deleted").is_empty(),
        "no prune, nothing deleted"
    );
    let again = plan(&app, &token, json!({"document": FIRST})).await;
    assert_eq!(names(&again, "unchanged"), ["api", "db", "dns"]);
    assert_eq!(again["applied"], false, "applying twice changes nothing");

    // An edit shows each field's change.
    let edited = FIRST
        .replace(
            "interval_seconds: 30",
            "interval_seconds: 45\n    paused: true",
        )
        .replace("[STATUS] == 200", "[STATUS] < 300");
    let update = plan(
        &app,
        &token,
        json!({"document": edited, "dry_run": true, "prune": true}),
    )
    .await;
    assert_eq!(names(&update, "updated"), ["api"]);
    assert_eq!(names(&update, "deleted"), ["old"]);
    let changes = &update["updated"][0]["changes"];
    let fields: Vec<&str> = changes
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["field"].as_str().expect("field"))
        .collect();
    assert_eq!(
        fields,
        ["conditions", "interval_seconds", "paused"],
        "{update}"
    );
    assert_eq!(changes[1]["from"], 30);
    assert_eq!(changes[1]["to"], 45);
    plan(&app, &token, json!({"document": edited, "prune": true})).await;
    let listed: Value = app
        .get("/api/v1/monitors", &token)
        .await
        .json()
        .await
        .expect("list");
    let monitors = listed["monitors"].as_array().expect("array");
    assert_eq!(monitors.len(), 3);
    let api = monitors.iter().find(|m| m["name"] == "api").expect("api");
    assert_eq!(api["interval_seconds"], 45);
    assert_eq!(api["paused"], true);

    // The export, in YAML or JSON, applies as unchanged.
    let yaml = app
        .client
        .get(app.url("/api/v1/export"))
        .bearer_auth(&token)
        .header("Accept", "application/yaml")
        .send()
        .await
        .expect("sent");
    assert_eq!(yaml.headers()["content-type"], "application/yaml");
    let yaml = yaml.text().await.expect("text");
    assert!(yaml.contains("interval_seconds: 45"), "{yaml}");
    assert!(
        !yaml.contains("follow_redirects"),
        "defaults are left out: {yaml}"
    );
    let same = plan(&app, &token, json!({"document": yaml, "prune": true})).await;
    assert_eq!(names(&same, "unchanged"), ["api", "db", "dns"], "{same}");
    let json_export: Value = app
        .get("/api/v1/export", &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        json_export["monitors"]["db"]["url"],
        "tcp://db.example.com:5432"
    );
    let same = plan(
        &app,
        &token,
        json!({"document": json_export, "prune": true}),
    )
    .await;
    assert_eq!(names(&same, "unchanged"), ["api", "db", "dns"]);
}

#[tokio::test]
async fn errors_name_the_monitor_the_field_and_the_line() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    for (document, expected) in [
        (
            FIRST.replace("interval_seconds: 30", "interval_seconds: 5"),
            "monitor `api`, field `interval_seconds` (line 4)",
        ),
        (
            FIRST.replace("[BODY].status == UP", "[BODY].status === UP"),
            "monitor `api`, field `conditions` (line 5)",
        ),
        (
            FIRST.replace("interval_seconds: 30", "intervall: 30"),
            "monitor `api`, field `intervall` (line 4)",
        ),
        (
            FIRST.replace("tcp://db.example.com:5432", "tcp://db.example.com"),
            "monitor `db`, field `url` (line 9)",
        ),
    ] {
        let response = apply(&app, &token, json!({"document": document})).await;
        let message = expect_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
        )
        .await;
        assert!(message.starts_with(expected), "{message}");
    }
    // Only the account's own channels may be named.
    let foreign = FIRST.replace(
        "    interval_seconds: 30\n",
        "    interval_seconds: 30\n    channel_ids: [999999]\n",
    );
    let response = apply(&app, &token, json!({"document": foreign})).await;
    let message = expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_document",
    )
    .await;
    assert!(
        message.starts_with("monitor `api`, field `channel_ids` (line 5): 999999"),
        "{message}"
    );
    let response = apply(&app, &token, json!({"document": 5})).await;
    expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_json").await;
    // Nothing was made by any of them.
    let listed: Value = app
        .get("/api/v1/monitors", &token)
        .await
        .json()
        .await
        .expect("list");
    assert!(listed["monitors"].as_array().expect("array").is_empty());
}

#[tokio::test]
async fn a_document_past_the_limit_changes_nothing() {
    let app = spawn_with(|s| s.max_monitors_per_user = 2).await;
    let token = app.new_user().await;
    app.create_monitor(
        &token,
        json!({"url": "https://old.example/", "name": "old"}),
    )
    .await;
    let response = apply(&app, &token, json!({"document": FIRST, "prune": true})).await;
    expect_error(response, StatusCode::FORBIDDEN, "monitor_limit_reached").await;
    let listed: Value = app
        .get("/api/v1/monitors", &token)
        .await
        .json()
        .await
        .expect("list");
    let monitors = listed["monitors"].as_array().expect("array");
    assert_eq!(monitors.len(), 1);
    assert_eq!(
        monitors[0]["name"], "old",
        "the prune was undone with the rest"
    );
}

#[tokio::test]
async fn a_read_key_may_plan_but_not_apply() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let key: Value = app
        .send(
            Method::POST,
            "/api/v1/api-keys",
            &token,
            Some(json!({"name": "ci", "scope": "read"})),
        )
        .await
        .json()
        .await
        .expect("key");
    let key = key["key"].as_str().expect("key");
    let dry = plan(&app, key, json!({"document": FIRST, "dry_run": true})).await;
    assert_eq!(names(&dry, "created").len(), 3);
    let response = apply(&app, key, json!({"document": FIRST})).await;
    expect_error(response, StatusCode::FORBIDDEN, "read_only_key").await;
    assert_eq!(
        app.get("/api/v1/export", key).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn channels_are_named_in_documents() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let channel: Value = app
        .send(
            Method::POST,
            "/api/v1/channels",
            &token,
            Some(json!({"name": "ops hook", "kind": "webhook", "url": "https://hooks.example.com/x"})),
        )
        .await
        .json()
        .await
        .expect("channel");
    let id = channel["id"].as_i64().expect("id");
    let document =
        "monitors:\n  web:\n    url: https://web.example.com/\n    channels: [ops hook]\n";
    let first = plan(&app, &token, json!({"document": document})).await;
    assert_eq!(names(&first, "created"), ["web"]);
    let listed: Value = app
        .get("/api/v1/monitors", &token)
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(listed["monitors"][0]["channel_ids"], json!([id]));
    // Exported by name, and applying the export changes nothing.
    let exported: Value = app
        .get("/api/v1/export", &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(exported["monitors"]["web"]["channels"], json!(["ops hook"]));
    assert!(
        exported["monitors"]["web"].get("channel_ids").is_none(),
        "{exported}"
    );
    let same = plan(&app, &token, json!({"document": exported})).await;
    assert_eq!(names(&same, "unchanged"), ["web"]);
    let unknown = document.replace("ops hook", "pager");
    let response = apply(&app, &token, json!({"document": unknown})).await;
    let message = expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_document",
    )
    .await;
    assert!(
        message.starts_with(
            "monitor `web`, field `channels` (line 4): the account has no channel named `pager`"
        ),
        "{message}"
    );
}
