//! `GET /metrics` (Prometheus) and the middleware that counts API requests by route.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// OpenMetrics text, which Prometheus asks for first.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// Prometheus' classic text format, which `promtool`, curl and older scrapers get.
const CLASSIC: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The process's metrics, in OpenMetrics when the `Accept` header prefers it, else in the
/// classic text format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus metrics: OpenMetrics when `Accept` prefers \
        `application/openmetrics-text`, else the classic text format (`text/plain; version=0.0.4`)",
        content_type = "text/plain", body = String)))]
pub(super) async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> impl IntoResponse {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    if prefers_openmetrics(&accept) {
        (
            [(header::CONTENT_TYPE, OPENMETRICS)],
            state.metrics.encode(),
        )
    } else {
        (
            [(header::CONTENT_TYPE, CLASSIC)],
            state.metrics.encode_classic(),
        )
    }
}

/// Whether `accept` ranks OpenMetrics above the classic format (ties go to OpenMetrics,
/// which carries more; no header at all gets the classic format, as curl and promtool
/// expect).
fn prefers_openmetrics(accept: &str) -> bool {
    let (mut openmetrics, mut classic) = (0.0_f32, 0.0_f32);
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let mime = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        match mime.as_str() {
            "application/openmetrics-text" => openmetrics = openmetrics.max(q),
            "text/plain" | "text/*" | "*/*" => classic = classic.max(q),
            _ => {}
        }
    }
    openmetrics > 0.0 && openmetrics >= classic
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

#[cfg(test)]
mod tests {
    use super::prefers_openmetrics;

    #[test]
    fn the_format_follows_the_accept_header() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
            version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(prefers_openmetrics(prometheus));
        assert!(prefers_openmetrics("application/openmetrics-text"));
        assert!(!prefers_openmetrics(""));
        assert!(!prefers_openmetrics("*/*"));
        assert!(!prefers_openmetrics("text/plain;version=0.0.4"));
        assert!(!prefers_openmetrics(
            "application/openmetrics-text;q=0.2,text/plain;version=0.0.4"
        ));
    }
}
