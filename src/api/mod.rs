//! The HTTP API: the original project's unversioned routes, `/api/v1`, health probes and the OpenAPI document.
//! Handlers parse input into domain types, call a use case in [`crate::service`], and map
//! errors in one place ([`error::ApiError`]); no SQL and no business rule lives here.

mod current_user;
pub mod error;
mod health;
pub mod json;
mod metrics;
mod openapi;
pub mod server;
mod throttle;
mod unversioned;
mod v1;
pub mod views;

use std::any::Any;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::jobs::heartbeat::Instance;
use crate::pipeline::Buffer;
use crate::service::{
    Accounts, Channels, EventBus, Incidents, Maintenance, Monitors, Sessions, StatusPages,
};
use crate::store::Store;
use crate::telemetry::Metrics;

pub use error::ApiError;
pub use throttle::Throttle;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The account use cases: register, login, who a token speaks for.
    pub accounts: Accounts,
    /// Turns true when the process starts to stop, so long-lived responses (the pages'
    /// live stream) end at once rather than hold the stop up.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// The web pages' sessions.
    pub sessions: Sessions,
    /// The address people reach tocsin at (`TOCSIN_PUBLIC_URL`), if set.
    pub public_url: Option<url::Url>,
    /// The monitor use cases.
    pub monitors: Monitors,
    /// The notification channel use cases.
    pub channels: Channels,
    /// The status page use cases, public reads included.
    pub status_pages: StatusPages,
    /// The incident use cases.
    pub incidents: Incidents,
    /// The maintenance window use cases.
    pub maintenance: Maintenance,
    /// What happens to monitors, for live views.
    pub events: EventBus,
    /// The database, for readiness and the cluster view only: use cases go through the
    /// services above.
    pub store: Arc<dyn Store>,
    /// Register and login attempts per address.
    pub throttle: Arc<Throttle>,
    /// The process's metrics.
    pub metrics: Arc<Metrics>,
    /// Where finished checks wait, for readiness.
    pub buffer: Arc<dyn Buffer>,
    /// Who this process is among the instances sharing the database.
    pub instance: Arc<Instance>,
}

/// The OpenAPI document, serialized once: it never changes while the process runs.
#[derive(Clone)]
struct OpenApiDocument(Bytes);

/// Every route, and the OpenAPI document generated from the same definitions.
pub fn router(state: AppState) -> Router {
    let (router, mut openapi) = api_routes(&state).split_for_parts();
    openapi::complete(&mut openapi);
    let document = OpenApiDocument(openapi_json(&openapi));
    // The browsable reference; its page loads the document from the route above and its
    // assets from this process only.
    let reference = utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json"));
    router
        .layer(axum::Extension(document))
        .merge(reference)
        .merge(crate::web::router(state.clone()))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        // Responses and failures at DEBUG: a 5xx is already logged where it arises
        // (`ApiError`), and `/readyz` answers 503 by design through a database outage,
        // polled several times a second by load balancers. The layer costs no measurable
        // throughput (below 0.3 % of a profile of GET /api/v1/monitors), so it stays for
        // request spans at DEBUG.
        .layer(
            TraceLayer::new_for_http()
                .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .with_state(state)
}

fn openapi_json(doc: &OpenApi) -> Bytes {
    match openapi::to_json(doc).and_then(|json| serde_json::to_vec(&json)) {
        Ok(json) => Bytes::from(json),
        Err(error) => {
            tracing::error!(%error, "cannot serialize the OpenAPI document");
            Bytes::from_static(b"{}")
        }
    }
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "health",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json",
        body = Object)))]
async fn openapi_document(
    axum::Extension(OpenApiDocument(body)): axum::Extension<OpenApiDocument>,
) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

fn api_routes(state: &AppState) -> OpenApiRouter<AppState> {
    let throttled = unversioned::auth_router()
        .nest("/api/v1", v1::auth_router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            throttle::limit,
        ));
    let mut routes = OpenApiRouter::new()
        .merge(throttled)
        .merge(unversioned::url_router())
        .nest("/api/v1", v1::monitors_router())
        .nest("/api/v1", v1::channels_router())
        .nest("/api/v1", v1::cluster_router())
        .nest("/api/v1", v1::incidents_router())
        .nest("/api/v1", v1::me_router())
        .nest("/api/v1", v1::status_pages_router())
        .merge(crate::public::router())
        .merge(health::router())
        .routes(utoipa_axum::routes!(metrics::metrics))
        .routes(utoipa_axum::routes!(openapi_document));
    let doc = routes.get_openapi_mut();
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "token",
            // A raw or `Bearer`-prefixed token in `Authorization`; the seed sent it raw.
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("Authorization"))),
        );
    routes
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::Internal("handler panicked".into()).into_response()
}
