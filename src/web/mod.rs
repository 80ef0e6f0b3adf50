//! The web pages: a dashboard behind a login, served by the same process as the API.
//!
//! Server-rendered HTML (maud templates, checked at compile time, escaping every value
//! they are given), charts drawn on the server as inline SVG, one small script for live
//! updates over server-sent events, and every asset embedded in the binary: the pages load
//! nothing from anywhere else. Handlers parse forms into the same drafts as the API and call
//! the same use cases in [`crate::service`], so the rules and their messages are the API's.

mod account;
mod api_keys;
mod auth_pages;
mod channels;
mod charts;
mod dashboard;
mod incidents;
mod layout;
mod live;
mod maintenance;
mod monitor_form;
mod monitor_page;
mod session;
mod status_pages;

use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;

use crate::api::AppState;
use crate::service::ServiceError;
use crate::store::StoreError;

/// Scripts from this origin only, no inline script, no framing, nothing sent anywhere else.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Why a page could not be shown as asked.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No live session: the answer is the login page.
    #[error("log in first")]
    LoginNeeded,
    /// A post without the form's CSRF token, or with another one.
    #[error("this form has expired or did not come from tocsin: reload the page and try again")]
    Csrf,
    /// The body is not a readable form.
    #[error("{0}")]
    BadForm(String),
    /// Too many password attempts from this address.
    #[error("too many attempts: wait {0} s and try again")]
    Throttled(u64),
    /// A use case refused or failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        Self::Service(error.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::LoginNeeded => return Redirect::to("/app/login").into_response(),
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::BadForm(_) => StatusCode::BAD_REQUEST,
            Self::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Service(error) => service_status(error),
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "a page failed");
        }
        let message = if status == StatusCode::SERVICE_UNAVAILABLE {
            "the database is not answering: try again in a moment".to_owned()
        } else if status.is_server_error() {
            "something went wrong on the server; it is logged".to_owned()
        } else {
            self.to_string()
        };
        let title = status.canonical_reason().unwrap_or("Error");
        let body = html! {
            h1 { (title) }
            p.notice.bad role="alert" { (message) }
            p { a href="/app" { "Back to the dashboard" } }
        };
        (status, layout::page(title, None, body)).into_response()
    }
}

/// The HTTP status of a use case's refusal, as the API would answer it.
fn service_status(error: &ServiceError) -> StatusCode {
    use crate::auth::AuthError;
    match error {
        ServiceError::Auth(AuthError::InvalidCredentials | AuthError::TokenRevoked(_)) => {
            StatusCode::UNAUTHORIZED
        }
        ServiceError::Auth(AuthError::InvalidEmail(_) | AuthError::InvalidPassword(_))
        | ServiceError::Monitor(_)
        | ServiceError::StatusPage(_)
        | ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::RegistrationClosed | ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::Store(StoreError::Conflict(_))
        | ServiceError::Conflict(_)
        | ServiceError::NameTaken(_)
        | ServiceError::Concurrent(_) => StatusCode::CONFLICT,
        ServiceError::Document(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Blocked(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Store(StoreError::LimitReached { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The pages' routes, merged into the API's router.
pub fn router(state: AppState) -> Router<AppState> {
    let throttled = Router::new()
        .route("/app/login", post(auth_pages::login))
        .route("/app/register", post(auth_pages::register))
        .route("/app/account/password", post(account::change_password))
        .route_layer(middleware::from_fn_with_state(state, throttle));
    Router::new()
        .route("/", get(auth_pages::root))
        .route("/app/login", get(auth_pages::login_page))
        .route("/app/register", get(auth_pages::register_page))
        .route("/app/logout", post(auth_pages::logout))
        .route("/app", get(dashboard::page))
        .route(
            "/app/monitors/new",
            get(monitor_form::new_page).post(monitor_form::create),
        )
        .route("/app/monitors/{id}", get(monitor_page::page))
        .route(
            "/app/monitors/{id}/edit",
            get(monitor_form::edit_page).post(monitor_form::update),
        )
        .route("/app/monitors/{id}/pause", post(monitor_page::pause))
        .route("/app/monitors/{id}/resume", post(monitor_page::resume))
        .route(
            "/app/monitors/{id}/delete",
            get(monitor_page::confirm_delete).post(monitor_page::delete),
        )
        .route("/app/account", get(account::page))
        .route("/app/account/api-keys", post(api_keys::create))
        .route("/app/account/api-keys/{id}/revoke", post(api_keys::revoke))
        .route("/app/incidents", get(incidents::page))
        .route("/app/channels", get(channels::page).post(channels::create))
        .route("/app/channels/{id}/test", post(channels::test))
        .route("/app/channels/{id}/delete", post(channels::delete))
        .route(
            "/app/maintenance",
            get(maintenance::page).post(maintenance::create),
        )
        .route("/app/maintenance/{id}/delete", post(maintenance::delete))
        .route(
            "/app/status-pages",
            get(status_pages::page).post(status_pages::create),
        )
        .route("/app/status-pages/{id}/delete", post(status_pages::delete))
        .route("/app/events", get(live::events))
        .route("/app/assets/style.css", get(layout::style))
        .route("/app/assets/live.js", get(layout::script))
        .route("/app/{*rest}", get(not_found))
        .merge(throttled)
        .layer(middleware::from_fn(security_headers))
}

/// An address under `/app` that is no page: an HTML answer, not the API's JSON one.
async fn not_found() -> WebError {
    WebError::Service(ServiceError::NotFound("page"))
}

/// The headers every page carries: the content policy, no sniffing, no framing, and no
/// caching of pages that show an account's data.
async fn security_headers(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/app/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !is_asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The API's per-address throttle, on the pages that hash a password.
async fn throttle(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let client = state.throttle.client(peer.ip(), request.headers());
    match state.throttle.check(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = WebError::Throttled(seconds).into_response();
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}
