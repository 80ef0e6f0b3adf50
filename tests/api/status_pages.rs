//! Status pages over real HTTP: the owner's API, then what anyone sees without a token
//! (HTML, JSON, Atom, badges), with user strings escaped and unlisted monitors hidden.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::checks::{engine_app, eventually};
use crate::helpers::{TestApp, expect_error, spawn_app};
use crate::target::Target;

const XSS: &str = "<img src=x onerror=alert(1)>";

pub async fn create_page(app: &TestApp, token: &str, body: Value) -> Response {
    app.send(Method::POST, "/api/v1/status-pages", token, Some(body))
        .await
}

/// An anonymous GET.
pub async fn public(app: &TestApp, path: &str) -> Response {
    app.client
        .get(app.url(path))
        .send()
        .await
        .expect("request sent")
}

pub async fn public_text(app: &TestApp, path: &str) -> String {
    let response = public(app, path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.expect("body")
}

/// Waits until the monitor's state is `state`.
pub async fn wait_for_state(app: &TestApp, token: &str, id: i64, state: &str) {
    eventually(Duration::from_secs(10), state, || async {
        let view: Value = app
            .get(&format!("/api/v1/monitors/{id}"), token)
            .await
            .json()
            .await
            .expect("monitor");
        (view["state"] == state).then_some(())
    })
    .await;
}

#[tokio::test]
async fn owners_make_change_and_delete_pages_with_unique_slugs_of_their_own_monitors() {
    let app = spawn_app().await;
    let (alice, bob) = (app.new_user().await, app.new_user().await);
    let mine = app
        .create_monitor(&alice, json!({"url": "https://a.example/"}))
        .await;
    let theirs = app
        .create_monitor(&bob, json!({"url": "https://b.example/"}))
        .await;

    let message = expect_error(
        create_page(&app, &alice, json!({"slug": "Acme Prod", "title": "Acme"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(message.starts_with("slug:"), "{message}");
    let message = expect_error(
        create_page(
            &app,
            &alice,
            json!({"slug": "acme", "title": "Acme", "monitor_ids": [mine["id"], theirs["id"]]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        message.starts_with("monitor_ids:") && message.contains(&theirs["id"].to_string()),
        "{message}"
    );
    expect_error(
        app.post(
            "/api/v1/status-pages",
            r#"{"slug": "acme", "title": "Acme"}"#,
            None,
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "missing_token",
    )
    .await;

    let created = create_page(
        &app,
        &alice,
        json!({"slug": "acme", "title": "Acme", "monitor_ids": [mine["id"]]}),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let page: Value = created.json().await.expect("page");
    assert_eq!(location, format!("/api/v1/status-pages/{}", page["id"]));
    assert_eq!(page["slug"], "acme");
    assert_eq!(page["url"], "/status/acme");
    assert_eq!(page["description"], "");
    assert_eq!(page["monitor_ids"], json!([mine["id"]]));

    // The slug is the server's, not the account's.
    expect_error(
        create_page(&app, &bob, json!({"slug": "acme", "title": "Mine"})).await,
        StatusCode::CONFLICT,
        "slug_taken",
    )
    .await;
    expect_error(
        app.get(&location, &bob).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let patched: Value = app
        .send(
            Method::PATCH,
            &location,
            &alice,
            Some(json!({"title": "Acme status", "description": "Everything we run"})),
        )
        .await
        .json()
        .await
        .expect("patched");
    assert_eq!(patched["title"], "Acme status");
    assert_eq!(patched["slug"], "acme", "absent fields stay");
    let listed: Value = app
        .get("/api/v1/status-pages", &alice)
        .await
        .json()
        .await
        .expect("list");
    assert_eq!(listed["status_pages"], json!([patched]));

    // A page read (and kept in memory) is forgotten at once when it moves or goes.
    assert_eq!(public(&app, "/status/acme").await.status(), StatusCode::OK);
    let moved = app
        .send(
            Method::PATCH,
            &location,
            &alice,
            Some(json!({"slug": "acme-prod"})),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    expect_error(
        public(&app, "/status/acme").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        public(&app, "/status/acme-prod").await.status(),
        StatusCode::OK
    );
    let deleted = app.send(Method::DELETE, &location, &alice, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    expect_error(
        public(&app, "/status/acme-prod").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_public_page_shows_only_listed_monitors_with_every_user_string_escaped() {
    let (app, target) = (engine_app().await, Target::start().await);
    let token = app.new_user().await;
    let listed = app
        .create_monitor(
            &token,
            json!({"url": target.url("/ok"), "name": XSS, "interval_seconds": 60}),
        )
        .await;
    let hidden = app
        .create_monitor(
            &token,
            json!({"url": target.url("/ok?secret"), "name": "Secret backend", "interval_seconds": 60}),
        )
        .await;
    let id = listed["id"].as_i64().expect("id");
    wait_for_state(&app, &token, id, "up").await;
    let created = create_page(
        &app,
        &token,
        json!({"slug": "xss", "title": "<script>alert(1)</script>",
               "description": "a & b", "monitor_ids": [id]}),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    let response = public(&app, "/status/xss").await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "public, max-age=30");
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("script-src"),
        "{csp}"
    );
    let html = response.text().await.expect("html");
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a &amp; b"));
    assert!(!html.contains("<img") && !html.contains("<script"));
    assert!(html.contains("http-equiv=\"refresh\""));
    assert!(html.contains("All systems operational"));
    assert!(html.contains("prefers-color-scheme:dark"));
    assert!(!html.contains("Secret backend") && !html.contains("/ok"));
    // 90 days of bars.
    assert_eq!(html.matches("<rect").count(), 90);

    let json: Value = public(&app, "/status/xss.json")
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(json["slug"], "xss");
    assert_eq!(json["title"], "<script>alert(1)</script>");
    assert_eq!(json["status"], "operational");
    assert_eq!(json["incidents"], json!([]));
    let monitors = json["monitors"].as_array().expect("monitors");
    assert_eq!(monitors.len(), 1);
    assert_eq!(monitors[0]["id"], id);
    assert_eq!(monitors[0]["name"], XSS);
    assert_eq!(monitors[0]["state"], "up");
    assert!(monitors[0].get("url").is_none(), "no URL: {}", monitors[0]);
    let days = monitors[0]["days"].as_array().expect("days");
    assert_eq!(days.len(), 90);
    let today = &days[89];
    assert!(today["checks"].as_u64().is_some_and(|n| n >= 1), "{today}");
    assert_eq!(today["uptime_ratio"], 1.0);
    assert_eq!(days[0]["uptime_ratio"], Value::Null);

    // Badges, for the listed monitor only.
    let badge = public(&app, &format!("/status/xss/badges/{id}/status.svg")).await;
    assert_eq!(badge.status(), StatusCode::OK);
    assert_eq!(badge.headers()["content-type"], "image/svg+xml");
    assert_eq!(badge.headers()["cache-control"], "public, max-age=60");
    let svg = badge.text().await.expect("svg");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains(">up</text>") && svg.contains("&lt;img src=x"));
    assert!(!svg.contains("<img"));
    let uptime = public_text(
        &app,
        &format!("/status/xss/badges/{id}/uptime.svg?window=7d"),
    )
    .await;
    assert!(
        uptime.contains(">uptime 7d</text>") && uptime.contains(">100.00%</text>"),
        "{uptime}"
    );
    let default = public_text(&app, &format!("/status/xss/badges/{id}/uptime.svg")).await;
    assert!(default.contains(">uptime 30d</text>"));
    let latency = public_text(&app, &format!("/status/xss/badges/{id}/latency.svg")).await;
    assert!(
        latency.contains(">p95 24h</text>") && latency.contains(" ms</text>"),
        "{latency}"
    );
    let message = expect_error(
        public(
            &app,
            &format!("/status/xss/badges/{id}/uptime.svg?window=2h"),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(
        message.contains("window") && message.contains("`2h`"),
        "{message}"
    );

    // The unlisted monitor, an unknown page and a malformed slug reveal nothing.
    let hidden_id = hidden["id"].as_i64().expect("id");
    for path in [
        format!("/status/xss/badges/{hidden_id}/status.svg"),
        format!("/status/xss/badges/{hidden_id}/uptime.svg?window=24h"),
        format!("/status/xss/badges/{hidden_id}/latency.svg"),
        format!("/status/nope/badges/{id}/status.svg"),
        "/status/nope".to_owned(),
        "/status/nope.json".to_owned(),
        "/status/nope/feed.atom".to_owned(),
        "/status/XSS".to_owned(),
    ] {
        expect_error(
            public(&app, &path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // A browser that mistyped the address gets a page.
    let typo = app
        .client
        .get(app.url("/status/typo"))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .expect("sent");
    assert_eq!(typo.status(), StatusCode::NOT_FOUND);
    assert_eq!(typo.headers()["content-type"], "text/html; charset=utf-8");
    assert!(
        typo.text()
            .await
            .expect("html")
            .contains("No such status page")
    );
    expect_error(
        public(&app, "/status/xss/badges/abc/status.svg").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
}
