//! The incidents and maintenance routes: listing, filters and their validation, ownership,
//! and maintenance windows muting the incidents they cover.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::checks::{engine_app, eventually};
use crate::helpers::{TestApp, expect_error};
use crate::target::Target;

/// The answer to `GET path`, asserting a 200.
async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.expect("JSON")
}

/// Waits for `path` to list at least one incident; returns the page.
async fn first_incident(app: &TestApp, path: &str, token: &str) -> Value {
    eventually(Duration::from_secs(15), "an incident", || async {
        let page = get_json(app, path, token).await;
        (!page["incidents"].as_array()?.is_empty()).then_some(page)
    })
    .await
}

/// Adds a channel of the caller straight into the app's SQLite database (the channels API
/// is not on this branch); returns its id.
pub async fn add_channel(app: &TestApp, token: &str) -> i64 {
    let me = get_json(app, "/api/v1/me", token).await;
    let tocsin::config::DatabaseUrl::Sqlite { path } = &app.settings.database_url else {
        panic!("test apps use SQLite");
    };
    let conn = rusqlite::Connection::open(path).expect("opens");
    conn.busy_timeout(Duration::from_secs(5)).expect("timeout");
    conn.query_row(
        "INSERT INTO channels (user_id, name, kind, config, created_at, updated_at) \
         VALUES (?1, 'hook', 'webhook', '{\"url\": \"http://127.0.0.1:9/\"}', 0, 0) RETURNING id",
        [me["id"].as_i64().expect("id")],
        |row| row.get(0),
    )
    .expect("channel inserted")
}

#[tokio::test]
async fn a_monitor_going_down_opens_an_incident_listed_with_its_cause_and_notifications() {
    let (app, target) = (engine_app().await, Target::start().await);
    let token = app.new_user().await;
    let channel = add_channel(&app, &token).await;
    let m = app
        .create_monitor(
            &token,
            json!({"url": target.url("/status/503"), "interval_seconds": 1,
                   "failure_threshold": 1, "channel_ids": [channel]}),
        )
        .await;
    let id = m["id"].as_i64().expect("id");
    let page = first_incident(&app, "/api/v1/incidents", &token).await;
    let incident = &page["incidents"][0];
    assert_eq!(incident["monitor_id"], id);
    assert_eq!(incident["kind"], "down");
    assert_eq!(incident["resolved_at"], Value::Null);
    assert_eq!(incident["muted"], false);
    assert_eq!(incident["cert_expires_at"], Value::Null);
    assert_eq!(incident["cause"]["kind"], "status");
    assert_eq!(incident["cause"]["status_code"], 503);
    assert!(
        incident["cause"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(
        incident["started_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let notification = &incident["notifications"][0];
    assert_eq!(notification["channel_id"], channel);
    assert_eq!(notification["event"], "down");
    assert!(
        ["pending", "delivered", "failed"].contains(&notification["state"].as_str().unwrap_or(""))
    );
    assert!(notification["attempts"].as_u64().is_some());
    assert_eq!(page["next_before"], Value::Null);

    let of_monitor = get_json(&app, &format!("/api/v1/monitors/{id}/incidents"), &token).await;
    assert_eq!(of_monitor["incidents"][0]["id"], incident["id"]);
    let filtered = get_json(
        &app,
        &format!("/api/v1/incidents?monitor_id={id}&state=open&limit=1"),
        &token,
    )
    .await;
    assert_eq!(filtered["incidents"][0]["id"], incident["id"]);
    assert_eq!(
        filtered["next_before"], incident["id"],
        "a full page points to the next"
    );
    let resolved = get_json(&app, "/api/v1/incidents?state=resolved", &token).await;
    assert_eq!(resolved["incidents"], json!([]));
    let before = get_json(
        &app,
        &format!("/api/v1/incidents?before={}", incident["id"]),
        &token,
    )
    .await;
    assert_eq!(before["incidents"], json!([]));

    // Someone else sees nothing of it, and its monitor is not found for them.
    let stranger = app.new_user().await;
    let theirs = get_json(&app, "/api/v1/incidents", &stranger).await;
    assert_eq!(theirs["incidents"], json!([]));
    for path in [
        format!("/api/v1/monitors/{id}/incidents"),
        format!("/api/v1/incidents?monitor_id={id}"),
    ] {
        expect_error(
            app.get(&path, &stranger).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}

#[tokio::test]
async fn bad_incident_filters_are_refused_naming_the_parameter() {
    let app = engine_app().await;
    let token = app.new_user().await;
    for (query, name) in [
        ("state=closed", "state"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("before=-3", "before"),
        ("before=x", "before"),
        ("monitor_id=0", "monitor_id"),
    ] {
        let message = expect_error(
            app.get(&format!("/api/v1/incidents?{query}"), &token).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(message.starts_with(name), "{query}: {message}");
    }
    let message = expect_error(
        app.get("/api/v1/monitors/abc/incidents", &token).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(message.contains("abc"), "{message}");
}

fn window(monitor_ids: Option<Vec<i64>>, from: TimeDelta, to: TimeDelta) -> Value {
    let now = Utc::now();
    let mut body = json!({"name": "deploy", "starts_at": (now + from).to_rfc3339(),
                          "ends_at": (now + to).to_rfc3339()});
    if let Some(ids) = monitor_ids {
        body["monitor_ids"] = json!(ids);
    }
    body
}

#[tokio::test]
async fn maintenance_windows_are_validated_listed_and_deleted() {
    let app = engine_app().await;
    let token = app.new_user().await;
    let stranger = app.new_user().await;
    let theirs = app
        .create_monitor(&stranger, json!({"url": "https://example.com"}))
        .await;
    let post = |body: Value| app.send(Method::POST, "/api/v1/maintenance", &token, Some(body));
    let hour = TimeDelta::hours(1);

    let message = expect_error(
        post(window(None, hour, TimeDelta::zero())).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(message.starts_with("ends_at"), "{message}");
    let message = expect_error(
        post(window(
            Some(vec![theirs["id"].as_i64().expect("id")]),
            TimeDelta::zero(),
            hour,
        ))
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(message.starts_with("monitor_ids"), "{message}");
    let mut bad_time = window(None, TimeDelta::zero(), hour);
    bad_time["starts_at"] = json!("tomorrow");
    let message = expect_error(
        post(bad_time).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(message.starts_with("starts_at"), "{message}");
    let mut unknown = window(None, TimeDelta::zero(), hour);
    unknown["reason"] = json!("x");
    expect_error(
        post(unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
    )
    .await;

    let created = post(window(None, TimeDelta::zero(), hour)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("JSON");
    assert_eq!(created["name"], "deploy");
    assert_eq!(created["monitor_ids"], Value::Null);
    let listed = get_json(&app, "/api/v1/maintenance", &token).await;
    assert_eq!(listed["maintenance"][0]["id"], created["id"]);
    assert_eq!(
        get_json(&app, "/api/v1/maintenance", &stranger).await["maintenance"],
        json!([])
    );

    let path = format!("/api/v1/maintenance/{}", created["id"]);
    expect_error(
        app.send(Method::DELETE, &path, &stranger, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let deleted = app.send(Method::DELETE, &path, &token, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    expect_error(
        app.send(Method::DELETE, &path, &token, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        app.send(Method::DELETE, "/api/v1/maintenance/0", &token, None)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn an_incident_inside_a_maintenance_window_is_muted_and_notifies_nobody() {
    let (app, target) = (engine_app().await, Target::start().await);
    let token = app.new_user().await;
    let channel = add_channel(&app, &token).await;
    // Made first, so the monitor's first check is already inside it: without monitor ids it
    // covers every monitor of the account, new ones too.
    let created = app
        .send(
            Method::POST,
            "/api/v1/maintenance",
            &token,
            Some(window(None, TimeDelta::minutes(-1), TimeDelta::hours(1))),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let m = app
        .create_monitor(
            &token,
            json!({"url": target.url("/status/500"), "interval_seconds": 1,
                   "failure_threshold": 1, "channel_ids": [channel]}),
        )
        .await;
    let id = m["id"].as_i64().expect("id");
    let page = first_incident(&app, &format!("/api/v1/monitors/{id}/incidents"), &token).await;
    assert_eq!(page["incidents"][0]["muted"], true);
    assert_eq!(page["incidents"][0]["notifications"], json!([]));
}

#[tokio::test]
async fn the_incident_and_maintenance_routes_are_documented() {
    let app = engine_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    for (path, method) in [
        ("/api/v1/incidents", "get"),
        ("/api/v1/monitors/{id}/incidents", "get"),
        ("/api/v1/maintenance", "get"),
        ("/api/v1/maintenance", "post"),
        ("/api/v1/maintenance/{id}", "delete"),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        assert!(
            operation["responses"]["401"].is_object(),
            "{method} {path}: 401"
        );
    }
    let incident = &doc["components"]["schemas"]["IncidentView"]["properties"];
    for field in ["cause", "muted", "cert_expires_at", "notifications"] {
        assert!(incident[field].is_object(), "IncidentView.{field}");
    }
}

#[tokio::test]
async fn events_created_and_the_outbox_backlog_are_metrics() {
    let (app, target) = (engine_app().await, Target::start().await);
    let token = app.new_user().await;
    let channel = add_channel(&app, &token).await;
    app.create_monitor(
        &token,
        json!({"url": target.url("/status/503"), "interval_seconds": 1,
               "failure_threshold": 1, "channel_ids": [channel]}),
    )
    .await;
    first_incident(&app, "/api/v1/incidents", &token).await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains("tocsin_alert_events_total{event=\"down\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE tocsin_alert_outbox_backlog gauge"),
        "{text}"
    );
}

#[test]
fn the_readme_incidents_flow_runs_verbatim_against_the_binary() {
    use crate::binary::{Server, readme_commands, same_shape, shell, shown};

    let server = Server::start(&[("TOCSIN_ALLOW_PRIVATE_TARGETS", "true")]);
    let commands = readme_commands("<!-- incidents-flow -->");
    let script = commands
        .iter()
        .map(|(c, _)| c.replace("127.0.0.1:8080", &server.addr))
        .collect::<Vec<_>>()
        .join("\n");
    let output = shell(&format!("set -e\n{script}"));
    let answers: Vec<Value> = serde_json::Deserializer::from_str(&output)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .expect("JSON answers");
    let shown_answers: Vec<Value> = commands
        .iter()
        .filter(|(_, out)| !out.is_empty())
        .map(|(_, out)| shown(out))
        .collect();
    assert_eq!(answers.len(), shown_answers.len(), "{output}");
    for (i, (shown, actual)) in shown_answers.iter().zip(&answers).enumerate() {
        same_shape(shown, actual, &format!("answer {i}"));
    }
    let incident = &answers[0]["incidents"][0];
    assert_eq!(incident["kind"], "down");
    assert_eq!(incident["cause"]["kind"], "connect");
    assert_eq!(answers[2]["maintenance"][0]["name"], "database upgrade");
    let _ = server.stop();
}
