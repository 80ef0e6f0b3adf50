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
        ("/api/v1/cluster", "get"),
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
    // Every documented route is served: none answers 404 or 405.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            let url = app.url(&path.replace("{id}", "1"));
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let status = app
                .client
                .request(method.clone(), url)
                .send()
                .await
                .expect("sent")
                .status();
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {status}"
            );
        }
    }
}
