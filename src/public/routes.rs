//! The public routes under `/status/{slug}`: no login, nothing about a monitor the page does
//! not list, short cache lifetimes so proxies and READMEs stay close to the truth.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::PublicPageView;
use super::{badge, feed, html};
use crate::api::AppState;
use crate::api::error::{ApiError, ErrorBody};
use crate::check::stats::Window;
use crate::monitor::MonitorId;
use crate::service::ServiceError;

/// How long caches may keep a badge, in seconds.
pub const MAX_AGE_SECONDS: u32 = 60;

/// How long caches may keep a page (HTML, JSON, feed), in seconds: half its refresh
/// period, so a reload never shows a page more than a refresh late.
pub const PAGE_MAX_AGE_SECONDS: u32 = 30;

/// The windows an uptime badge accepts (every stats window but the hour).
const BADGE_WINDOWS: &str = "24h, 7d, 30d, 90d, 365d";

/// The public routes.
pub fn router() -> OpenApiRouter<AppState> {
    let mut routes = OpenApiRouter::new()
        .routes(routes!(page))
        .routes(routes!(atom_feed))
        .routes(routes!(status_badge))
        .routes(routes!(uptime_badge))
        .routes(routes!(latency_badge));
    routes.get_openapi_mut().merge(JsonDocument::openapi());
    routes
}

/// `/status/{slug}.json` is served by [`page`] (a route cannot end in a suffix after a
/// parameter), and documented on its own here.
#[derive(OpenApi)]
#[openapi(paths(page_json))]
struct JsonDocument;

fn headers(response: &mut Response, content_type: &'static str, csp: &str, max_age: u32) {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!("public, max-age={max_age}"))
            .unwrap_or(HeaderValue::from_static("no-cache")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(csp) = HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
}

fn answer(body: String, content_type: &'static str, csp: &str, max_age: u32) -> Response {
    let mut response = body.into_response();
    headers(&mut response, content_type, csp, max_age);
    response
}

/// A public status page as HTML (no login): a banner, each listed monitor's state and 90
/// days of daily uptime, the incidents of the last 14 days. `{slug}.json` answers the same
/// as JSON.
#[utoipa::path(get, path = "/status/{slug}", tag = "status pages", operation_id = "status_page",
    params(("slug" = String, Path, description = "The page's slug")),
    responses((status = 200, description = "The page", content_type = "text/html"),
        (status = 404, body = ErrorBody, description = "No page has this slug (`not_found`)")))]
async fn page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(slug) = slug.strip_suffix(".json") {
        let page = state.status_pages.public(slug).await?;
        let body = serde_json::to_string(&PublicPageView::from(page.as_ref()))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut response = answer(
            body,
            "application/json",
            "default-src 'none'",
            PAGE_MAX_AGE_SECONDS,
        );
        // Public data, for widgets on other sites.
        response.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        return Ok(response);
    }
    match state.status_pages.public(&slug).await {
        Ok(page) => Ok(answer(
            html::render(&page),
            "text/html; charset=utf-8",
            &html::CSP,
            PAGE_MAX_AGE_SECONDS,
        )),
        // A person who mistyped an address gets a page, not JSON; programs still get JSON.
        Err(ServiceError::NotFound(_)) if wants_html(&request_headers) => {
            let mut response = answer(
                html::not_found(),
                "text/html; charset=utf-8",
                &html::CSP,
                PAGE_MAX_AGE_SECONDS,
            );
            *response.status_mut() = StatusCode::NOT_FOUND;
            Ok(response)
        }
        Err(error) => Err(error.into()),
    }
}

/// Whether the client asked for HTML by name (browsers do; `*/*` alone is not asking).
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A public status page as JSON: the same figures as the HTML page.
#[utoipa::path(get, path = "/status/{slug}.json", tag = "status pages", operation_id = "status_page_json",
    params(("slug" = String, Path, description = "The page's slug")),
    responses((status = 200, body = PublicPageView),
        (status = 404, body = ErrorBody, description = "No page has this slug (`not_found`)")))]
#[allow(dead_code)] // Documentation only: `page` serves the route.
async fn page_json() {}

/// The incidents of a status page's monitors in the last 14 days, as an Atom feed.
#[utoipa::path(get, path = "/status/{slug}/feed.atom", tag = "status pages", operation_id = "status_page_feed",
    params(("slug" = String, Path, description = "The page's slug")),
    responses((status = 200, description = "An Atom 1.0 feed", content_type = "application/atom+xml"),
        (status = 404, body = ErrorBody, description = "No page has this slug (`not_found`)")))]
async fn atom_feed(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let page = state.status_pages.public(&slug).await?;
    Ok(answer(
        feed::render(&page),
        "application/atom+xml; charset=utf-8",
        "default-src 'none'",
        PAGE_MAX_AGE_SECONDS,
    ))
}

fn monitor_id(raw: &str) -> Result<MonitorId, ApiError> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(MonitorId(id)),
        _ => Err(ApiError::BadRequest(format!(
            "monitor id `{raw}` is not a positive integer"
        ))),
    }
}

fn svg(body: String) -> Response {
    answer(body, "image/svg+xml", "default-src 'none'", MAX_AGE_SECONDS)
}

/// A monitor's state as a badge: up, down, degraded, paused or pending. Only for a monitor
/// the page lists.
#[utoipa::path(get, path = "/status/{slug}/badges/{monitor_id}/status.svg", tag = "status pages",
    params(("slug" = String, Path, description = "The page's slug"),
        ("monitor_id" = i64, Path, description = "A monitor the page lists")),
    responses((status = 200, description = "An SVG badge", content_type = "image/svg+xml"),
        (status = 400, body = ErrorBody, description = "The id is not a positive integer"),
        (status = 404, body = ErrorBody, description = "No such page, or it does not list the monitor")))]
async fn status_badge(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let monitor = state
        .status_pages
        .shown_monitor(&slug, monitor_id(&id)?)
        .await?;
    let status = super::view::public_state(&monitor);
    Ok(svg(badge::render(
        monitor.spec.name(),
        status,
        badge::state_colour(status),
    )))
}

/// The `window` query parameter of an uptime badge.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UptimeQuery {
    /// `24h`, `7d`, `30d` (default), `90d` or `365d`.
    window: Option<String>,
}

/// A monitor's uptime over a window as a badge. Only for a monitor the page lists.
#[utoipa::path(get, path = "/status/{slug}/badges/{monitor_id}/uptime.svg", tag = "status pages",
    params(("slug" = String, Path, description = "The page's slug"),
        ("monitor_id" = i64, Path, description = "A monitor the page lists"), UptimeQuery),
    responses((status = 200, description = "An SVG badge", content_type = "image/svg+xml"),
        (status = 400, body = ErrorBody, description = "A bad id or window (`bad_request`)"),
        (status = 404, body = ErrorBody, description = "No such page, or it does not list the monitor")))]
async fn uptime_badge(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Query(query): Query<UptimeQuery>,
) -> Result<Response, ApiError> {
    let id = monitor_id(&id)?;
    let raw = query.window.as_deref().unwrap_or("30d");
    let window = match raw.parse::<Window>() {
        Ok(Window::Hour) | Err(_) => {
            return Err(ApiError::BadRequest(format!(
                "window: `{raw}` is not one of {BADGE_WINDOWS}"
            )));
        }
        Ok(window) => window,
    };
    let (_, stats) = state.status_pages.shown_stats(&slug, id, window).await?;
    let message = stats.uptime_ratio.map_or_else(
        || "no data".to_owned(),
        |r| html::percent(r).replace(' ', ""),
    );
    Ok(svg(badge::render(
        &format!("uptime {window}"),
        &message,
        badge::uptime_colour(stats.uptime_ratio),
    )))
}

/// A monitor's 95th percentile latency over the last 24 hours as a badge. Only for a
/// monitor the page lists.
#[utoipa::path(get, path = "/status/{slug}/badges/{monitor_id}/latency.svg", tag = "status pages",
    params(("slug" = String, Path, description = "The page's slug"),
        ("monitor_id" = i64, Path, description = "A monitor the page lists")),
    responses((status = 200, description = "An SVG badge", content_type = "image/svg+xml"),
        (status = 400, body = ErrorBody, description = "The id is not a positive integer"),
        (status = 404, body = ErrorBody, description = "No such page, or it does not list the monitor")))]
async fn latency_badge(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, stats) = state
        .status_pages
        .shown_stats(&slug, monitor_id(&id)?, Window::Day)
        .await?;
    let (message, colour) = match stats.latency.p95 {
        Some(ms) => (format!("{} ms", ms.round()), badge::BLUE),
        None => ("no data".to_owned(), badge::GREY),
    };
    Ok(svg(badge::render("p95 24h", &message, colour)))
}
