//! Health probes and the OpenAPI document.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = spawn_app().await;
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await.expect("json")["status"], "ok");
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: Value = ready.json().await.expect("json");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"]["reachable"], true);
    assert_eq!(ready["buffer"]["backend"], "memory");
    assert_eq!(ready["buffer"]["reachable"], true);
    assert!(ready.get("detail").is_none(), "{ready}");
}

#[tokio::test]
async fn openapi_documents_every_route() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for (path, method) in [
        ("/register", "post"),
        ("/login", "post"),
        ("/url", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/monitors", "post"),
        ("/api/v1/monitors", "get"),
        ("/api/v1/monitors/{id}", "get"),
        ("/api/v1/monitors/{id}", "patch"),
        ("/api/v1/monitors/{id}", "delete"),
        ("/api/v1/monitors/{id}/pause", "post"),
        ("/api/v1/monitors/{id}/resume", "post"),
        ("/api/v1/channels", "post"),
        ("/api/v1/channels", "get"),
        ("/api/v1/channels/{id}", "get"),
        ("/api/v1/channels/{id}", "patch"),
        ("/api/v1/channels/{id}", "delete"),
        ("/api/v1/channels/{id}/test", "post"),
        ("/api/v1/cluster", "get"),
        ("/api/v1/me", "get"),
        ("/api/v1/me", "delete"),
        ("/api/v1/me/password", "post"),
        ("/metrics", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/status-pages", "post"),
        ("/api/v1/status-pages", "get"),
        ("/api/v1/status-pages/{id}", "get"),
        ("/api/v1/status-pages/{id}", "patch"),
        ("/api/v1/status-pages/{id}", "delete"),
        ("/status/{slug}", "get"),
        ("/status/{slug}.json", "get"),
        ("/status/{slug}/feed.atom", "get"),
        ("/status/{slug}/badges/{monitor_id}/status.svg", "get"),
        ("/status/{slug}/badges/{monitor_id}/uptime.svg", "get"),
        ("/status/{slug}/badges/{monitor_id}/latency.svg", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "MonitorView",
        "MonitorDraft",
        "MonitorPatch",
        "ErrorBody",
        "TokenView",
        "UserView",
        "StatusPageView",
        "StatusPageDraft",
        "StatusPagePatch",
        "PublicPageView",
    ] {
        assert!(schemas[schema].is_object(), "schema {schema}");
    }
    for (schema, field) in [
        ("MonitorDraft", "conditions"),
        ("MonitorPatch", "conditions"),
        ("MonitorView", "conditions"),
        ("ResultView", "check_kind"),
        ("ResultView", "dns_answer"),
    ] {
        assert!(
            schemas[schema]["properties"][field].is_object(),
            "{schema}.{field} missing from the OpenAPI document"
        );
    }
    // Every documented route is served: none answers 405, nor a 404 for want of a route
    // (a public page's 404 says which page is missing).
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            let path = path
                .replace("{id}", "1")
                .replace("{slug}", "no-page")
                .replace("{monitor_id}", "1");
            let url = app.url(&path);
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let response = app
                .client
                .request(method.clone(), url)
                .send()
                .await
                .expect("sent");
            let status = response.status();
            let body = response.text().await.expect("body");
            assert!(
                status != StatusCode::METHOD_NOT_ALLOWED
                    && !(status == StatusCode::NOT_FOUND && body.contains("no such route")),
                "{method} {path}: {status} {body}"
            );
        }
    }
}

#[tokio::test]
async fn the_openapi_document_is_our_own_and_says_every_answer() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["info"]["license"]["name"], "MIT");
    assert_eq!(doc["info"]["contact"]["name"], "tocsin");
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let id = operation["operationId"].as_str().expect("an operationId");
            assert!(
                ids.insert(id.to_owned()),
                "{id} used twice ({method} {path})"
            );
            let responses = &operation["responses"];
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses[status].is_object(), "{method} {path}: {status}");
                }
            }
            if operation.get("security").is_some() {
                assert!(responses["401"].is_object(), "{method} {path}: 401");
            }
            if path.contains("{id}") {
                assert!(responses["400"].is_object() && responses["404"].is_object());
                let id = &operation["parameters"][0]["schema"];
                assert_eq!(id["minimum"], 1, "{method} {path}");
            }
        }
    }
    for path in [
        "/register",
        "/login",
        "/api/v1/auth/register",
        "/api/v1/auth/login",
    ] {
        assert!(
            doc["paths"][path]["post"]["responses"]["429"].is_object(),
            "{path}"
        );
    }
    let window = &doc["paths"]["/api/v1/monitors/{id}/stats"]["get"]["parameters"];
    let window = window
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "window")
        .expect("window");
    assert!(window.to_string().contains("365d"), "{window}");
}

#[tokio::test]
async fn the_reference_is_browsable_with_every_asset_served_here() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(app.url("/api/docs/"))
        .send()
        .await
        .expect("sent");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    // Every script and style the page loads comes from this server.
    for asset in html
        .split(['"', '\''])
        .filter(|s| s.ends_with(".js") || s.ends_with(".css"))
    {
        assert!(!asset.contains("//"), "{asset} is loaded from elsewhere");
        let url = app.url(&format!("/api/docs/{}", asset.trim_start_matches("./")));
        let served = app.client.get(&url).send().await.expect("sent");
        assert_eq!(served.status(), StatusCode::OK, "{url}");
    }
    let init = app
        .client
        .get(app.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("js");
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
}

#[tokio::test]
async fn metrics_come_in_the_format_asked_for_and_methods_are_a_closed_set() {
    let app = spawn_app().await;
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("BREW{i}").as_bytes()).expect("method");
        app.client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .expect("sent");
    }
    let classic = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent");
    let content_type = classic.headers()["content-type"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = classic.text().await.expect("text");
    assert!(
        text.contains("# TYPE tocsin_http_requests_total counter"),
        "{text}"
    );
    assert!(!text.contains("# EOF"), "{text}");
    assert!(text.contains("method=\"other\""), "{text}");
    assert!(!text.contains("BREW"), "{text}");
    let openmetrics = app
        .client
        .get(app.url("/metrics"))
        .header("Accept", "application/openmetrics-text; version=1.0.0")
        .send()
        .await
        .expect("sent");
    let content_type = openmetrics.headers()["content-type"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(openmetrics.text().await.expect("text").ends_with("# EOF\n"));
}
