//! `GET /metrics` (Prometheus) and the middleware that counts API requests by route.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// OpenMetrics text, which Prometheus scrapes natively.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The process's metrics in the Prometheus text format.
pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.encode(),
    )
}

/// Counts each request under its route template (`/api/v1/monitors/{id}`), never its raw
/// path, so ids and probes of random paths do not each make a new series.
pub(super) async fn count(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Both are cheap clones (the method is an enum, the path an `Arc<str>`), kept past
    // the handler without copying strings.
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state
        .metrics
        .http_request(method.as_str(), route, response.status().as_u16());
    response
}
