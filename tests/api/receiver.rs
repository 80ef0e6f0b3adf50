//! Local receivers for notifications: a server that records every POST (path, headers,
//! JSON body) and answers by its path: `/ok/…` takes it, `/fail/{n}/…` answers 500 to the
//! first `n` requests of that path and then takes them, `/hang/…` never answers in time.
//! `/switch` is a check target that answers 200 or 503 as the test flips it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{any, get};
use serde_json::Value;

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its path.
    pub path: String,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its raw body.
    pub body: Bytes,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    seen: Mutex<HashMap<String, u32>>,
    up: AtomicBool,
}

/// A running receiver.
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Receiver {
    /// Starts one on a free loopback port; `/switch` starts up.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        shared.up.store(true, Ordering::SeqCst);
        let app = Router::new()
            .route("/switch", get(switch))
            .fallback(any(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("receiver binds");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, shared }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Makes `/switch` answer 200 (`true`) or 503.
    pub fn set_up(&self, up: bool) {
        self.shared.up.store(up, Ordering::SeqCst);
    }

    /// Every request to a path starting with `prefix`, in arrival order (failed ones too).
    pub fn received(&self, prefix: &str) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .expect("received")
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .cloned()
            .collect()
    }
}

async fn switch(State(shared): State<Arc<Shared>>) -> StatusCode {
    if shared.up.load(Ordering::SeqCst) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let path = uri.path().to_owned();
    shared.received.lock().expect("received").push(Received {
        path: path.clone(),
        headers,
        body,
    });
    let count = {
        let mut seen = shared.seen.lock().expect("seen");
        let count = seen.entry(path.clone()).or_default();
        *count += 1;
        *count
    };
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some("hang"), _) => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            (StatusCode::OK, "late")
        }
        (Some("fail"), Some(n)) if count <= n.parse().unwrap_or(0) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "receiver down for maintenance",
        ),
        _ => (StatusCode::OK, "ok"),
    }
}
