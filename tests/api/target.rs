//! A local HTTP server for tocsin to check: it records when each request arrived, per path.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tokio::time::Instant;

type Hits = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

/// A running target; dropping it does not stop it (the test's runtime does).
pub struct Target {
    /// Where it listens.
    pub addr: SocketAddr,
    hits: Hits,
}

impl Target {
    /// Starts a target on a free loopback port, serving `/ok`, `/slow/{ms}` and `/status/{code}`.
    pub async fn start() -> Self {
        let hits: Hits = Arc::default();
        let app = Router::new()
            .route("/ok", get(|| async { "hello tocsin" }))
            .route(
                "/slow/{ms}",
                get(|Path(ms): Path<u64>| async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    "slow hello"
                }),
            )
            .route(
                "/status/{code}",
                get(|Path(code): Path<u16>| async move {
                    StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT)
                }),
            )
            .layer(middleware::from_fn_with_state(hits.clone(), record));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("target binds");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, hits }
    }

    /// The absolute URL of `path` on this target.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// When each request for `path` arrived, in order.
    pub fn hits(&self, path: &str) -> Vec<Instant> {
        self.hits
            .lock()
            .expect("hits")
            .get(path)
            .cloned()
            .unwrap_or_default()
    }

    /// How many requests `path` got.
    pub fn count(&self, path: &str) -> usize {
        self.hits(path).len()
    }
}

async fn record(State(hits): State<Hits>, request: Request, next: Next) -> Response {
    hits.lock()
        .expect("hits")
        .entry(request.uri().path().to_owned())
        .or_default()
        .push(Instant::now());
    next.run(request).await
}
