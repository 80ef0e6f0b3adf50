//! Monitors with conditions, and TCP and DNS monitors, through the API: fields saved and
//! shown, malformed conditions refused with their place, and the checks' results carrying
//! their kind, the DNS answer and `condition` failures.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::checks::{engine_app, eventually, results};
use crate::dns::DnsServer;
use crate::helpers::{expect_error, spawn_app};
use crate::target::Target;

#[tokio::test]
async fn conditions_are_saved_shown_patched_and_reset() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let created = app
        .create_monitor(
            &token,
            json!({"url": "https://example.com/health",
                   "conditions": ["[STATUS] == 200", "[BODY].status == UP"]}),
        )
        .await;
    assert_eq!(
        created["conditions"],
        json!(["[STATUS] == 200", "[BODY].status == UP"])
    );
    let id = created["id"].as_i64().expect("id");
    let path = format!("/api/v1/monitors/{id}");
    let fetched: Value = app.get(&path, &token).await.json().await.expect("monitor");
    assert_eq!(fetched["conditions"], created["conditions"]);

    let patched = app
        .send(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"conditions": ["len([BODY].items) > 0"]})),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.expect("monitor");
    assert_eq!(patched["conditions"], json!(["len([BODY].items) > 0"]));

    let reset = app
        .send(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"conditions": null})),
        )
        .await;
    let reset: Value = reset.json().await.expect("monitor");
    assert_eq!(reset["conditions"], json!([]));
    let plain = app
        .create_monitor(&token, json!({"url": "https://example.com"}))
        .await;
    assert_eq!(plain["conditions"], json!([]));
}

#[tokio::test]
async fn a_malformed_condition_is_a_422_naming_it_and_where_it_broke() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let response = app
        .send(
            Method::POST,
            "/api/v1/monitors",
            &token,
            Some(json!({"url": "https://example.com",
                        "conditions": ["[STATUS] == 200", "[BODY].data[x].id == 1"]})),
        )
        .await;
    let message = expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        message,
        "conditions: condition 2 `[BODY].data[x].id == 1` at column 13: `x` is not an array \
         index (a whole number from 0)"
    );
    let response = app
        .send(
            Method::POST,
            "/api/v1/monitors",
            &token,
            Some(json!({"url": "dns://8.8.8.8/example.com", "conditions": ["[STATUS] == 200"]})),
        )
        .await;
    let message = expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        message.contains("[STATUS] has no value in a dns check"),
        "{message}"
    );
    let response = app
        .send(
            Method::POST,
            "/api/v1/monitors",
            &token,
            Some(json!({"url": "https://example.com", "conditions": "[STATUS] == 200"})),
        )
        .await;
    expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_json").await;
}

#[tokio::test]
async fn tcp_and_dns_targets_are_normalised_and_vetted() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let tcp = app
        .create_monitor(&token, json!({"url": "TCP://Example.COM:5432"}))
        .await;
    assert_eq!(tcp["url"], "tcp://example.com:5432");
    assert_eq!(tcp["name"], "example.com");
    let dns = app
        .create_monitor(&token, json!({"url": "dns://8.8.8.8/Example.com?type=mx"}))
        .await;
    assert_eq!(dns["url"], "dns://8.8.8.8/example.com?type=MX");
    assert_eq!(dns["name"], "example.com MX");
    for (url, code) in [
        ("dns://127.0.0.1/example.com", "private_target"),
        ("tcp://10.0.0.1:22", "private_target"),
        ("tcp://example.com", "validation_failed"),
        ("dns://8.8.8.8/example.com?type=SRV", "validation_failed"),
    ] {
        let response = app
            .send(
                Method::POST,
                "/api/v1/monitors",
                &token,
                Some(json!({"url": url})),
            )
            .await;
        let message = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, code).await;
        assert!(message.starts_with("url: "), "{url}: {message}");
    }
    let response = app
        .send(
            Method::POST,
            "/api/v1/monitors",
            &token,
            Some(json!({"url": "tcp://example.com:22", "keyword": "SSH"})),
        )
        .await;
    let message = expect_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        message.starts_with("keyword: applies to http(s) monitors only"),
        "{message}"
    );
}

/// The newest result of monitor `id` once there is one.
async fn first_result(app: &crate::helpers::TestApp, token: &str, id: i64) -> Value {
    eventually(Duration::from_secs(10), "a result", || async {
        results(app, token, id).await.into_iter().next()
    })
    .await
}

#[tokio::test]
async fn tcp_dns_and_condition_results_show_their_kind_and_answer() {
    let app = engine_app().await;
    let token = app.new_user().await;
    let (target, server) = (Target::start().await, DnsServer::start().await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let monitor = |url: String, conditions: Value| json!({"url": url, "interval_seconds": 1, "conditions": conditions});
    let tcp = app
        .create_monitor(
            &token,
            monitor(
                format!("tcp://127.0.0.1:{port}"),
                json!(["[CONNECTED] == true"]),
            ),
        )
        .await;
    let dns = app
        .create_monitor(
            &token,
            monitor(
                server.url("example.test", "A"),
                json!(["[DNS_RCODE] == NOERROR"]),
            ),
        )
        .await;
    let failing = app
        .create_monitor(
            &token,
            monitor(target.url("/ok"), json!(["[BODY] == pat(*bye*)"])),
        )
        .await;

    let result = first_result(&app, &token, tcp["id"].as_i64().expect("id")).await;
    assert_eq!(result["check_kind"], "tcp");
    assert_eq!(result["ok"], true, "{result}");
    assert!(result["connect_ms"].as_f64().is_some(), "{result}");
    assert!(result["status_code"].is_null() && result["dns_rcode"].is_null());

    let result = first_result(&app, &token, dns["id"].as_i64().expect("id")).await;
    assert_eq!(result["check_kind"], "dns");
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["dns_rcode"], "NOERROR");
    assert_eq!(result["dns_answer"], json!(["192.0.2.10", "192.0.2.11"]));
    assert!(server.udp_queries() >= 1 && server.tcp_queries() == 0);

    let id = failing["id"].as_i64().expect("id");
    let result = first_result(&app, &token, id).await;
    assert_eq!(result["check_kind"], "http");
    assert_eq!(result["ok"], false);
    assert_eq!(result["error"]["kind"], "condition");
    assert_eq!(
        result["error"]["message"],
        "The condition `[BODY] == pat(*bye*)` is not met: [BODY] is `hello tocsin`."
    );

    let stats: Value = app
        .get(
            &format!("/api/v1/monitors/{}/stats?window=1h", dns["id"]),
            &token,
        )
        .await
        .json()
        .await
        .expect("stats");
    assert!(stats["latency_ms"]["max"].as_f64().is_some(), "{stats}");
}
