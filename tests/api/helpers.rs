//! `spawn_app()` and the small request helpers every API test uses.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use tocsin::app::App;
use tocsin::config::{DatabaseUrl, Settings};
use tokio::sync::oneshot;

/// A password every test user gets.
pub const PASSWORD: &str = "correct horse battery";
/// The secret test apps sign with, so tests can forge and expire tokens.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret!";

/// A running instance and a client for it. Dropping it stops the server.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A plain HTTP client.
    pub client: Client,
    /// The settings it was started with.
    pub settings: Settings,
    _stop: oneshot::Sender<()>,
    _dir: Option<TempDir>,
}

/// An app with the test defaults: fresh database, known JWT secret, throttling off.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// An app whose settings `configure` adjusts after the test defaults are applied.
pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = TempDir::new().expect("temp dir");
    let mut settings = test_settings(dir.path());
    configure(&mut settings);
    let mut app = start(settings).await;
    app._dir = Some(dir);
    app
}

/// The test defaults: a free port, a database in `folder`, the known JWT secret, no throttling.
pub fn test_settings(folder: &std::path::Path) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: DatabaseUrl::sqlite(folder.join("tocsin.db")),
        jwt_secret: Some(JWT_SECRET.to_owned().into()),
        auth_rate_per_minute: 0,
        ..Settings::default()
    }
}

/// Starts an app on exactly these settings (e.g. a second instance on the same database).
pub async fn start(settings: Settings) -> TestApp {
    let app = App::build(&settings).await.expect("app builds");
    let addr = app.local_addr().expect("bound");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: Client::new(),
        settings,
        _stop: stop,
        _dir: None,
    }
}

/// A unique email for this test run.
pub fn unique_email() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("user{}@example.com", NEXT.fetch_add(1, Ordering::Relaxed))
}

impl TestApp {
    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a raw JSON text, with an optional raw `Authorization` value.
    pub async fn post(&self, path: &str, body: &str, authorization: Option<&str>) -> Response {
        let mut request = self
            .client
            .post(self.url(path))
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send().await.expect("request sent")
    }

    /// GETs `path` with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// Sends `method path` with a bearer token and an optional JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }

    /// Registers `email` through the v1 API and asserts it worked.
    pub async fn register(&self, email: &str) {
        let body = serde_json::json!({"email": email, "password": PASSWORD}).to_string();
        let response = self.post("/api/v1/auth/register", &body, None).await;
        assert_eq!(response.status(), StatusCode::CREATED, "register {email}");
    }

    /// Logs `email` in through the v1 API and returns the token.
    pub async fn login(&self, email: &str) -> String {
        let body = serde_json::json!({"email": email, "password": PASSWORD}).to_string();
        let response = self.post("/api/v1/auth/login", &body, None).await;
        assert_eq!(response.status(), StatusCode::OK, "login {email}");
        let json: Value = response.json().await.expect("token JSON");
        json["token"].as_str().expect("token").to_owned()
    }

    /// A new user's token.
    pub async fn new_user(&self) -> String {
        let email = unique_email();
        self.register(&email).await;
        self.login(&email).await
    }

    /// Creates a monitor from `body` and returns its JSON, asserting a 201.
    pub async fn create_monitor(&self, token: &str, body: Value) -> Value {
        let response = self
            .send(reqwest::Method::POST, "/api/v1/monitors", token, Some(body))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.expect("monitor JSON")
    }
}

/// Asserts an error answer's status and code, and returns its message.
pub async fn expect_error(response: Response, status: StatusCode, code: &str) -> String {
    let actual = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "body: {text}");
    let json: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("error body is JSON: {text}"));
    assert_eq!(json["error"]["code"], code, "body: {text}");
    json["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned()
}
