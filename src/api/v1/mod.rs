//! The versioned API under `/api/v1`.

mod auth;
mod channels;
mod cluster;
mod incidents;
mod maintenance;
mod me;
mod monitors;
mod results;
mod status_pages;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use utoipa_axum::router::OpenApiRouter;

use super::AppState;
use super::error::ApiError;
use crate::monitor::MonitorId;

/// Register, login and password changes: the routes that hash, and so are throttled.
pub fn auth_router() -> OpenApiRouter<AppState> {
    auth::router().merge(me::password_router())
}

/// The caller's own account.
pub fn me_router() -> OpenApiRouter<AppState> {
    me::router()
}

/// The monitor routes, with their results and statistics.
pub fn monitors_router() -> OpenApiRouter<AppState> {
    monitors::router().merge(results::router())
}

/// The notification channels.
pub fn channels_router() -> OpenApiRouter<AppState> {
    channels::router()
}

/// The caller's public status pages.
pub fn status_pages_router() -> OpenApiRouter<AppState> {
    status_pages::router()
}

/// Incidents and maintenance windows.
pub fn incidents_router() -> OpenApiRouter<AppState> {
    incidents::router().merge(maintenance::router())
}

/// The instances sharing this database.
pub fn cluster_router() -> OpenApiRouter<AppState> {
    cluster::router()
}

/// The `{id}` path segment, parsed.
struct IdParam(MonitorId);

impl<S: Send + Sync> FromRequestParts<S> for IdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => Ok(Self(MonitorId(id))),
            _ => Err(ApiError::BadRequest(format!(
                "monitor id `{raw}` is not a positive integer"
            ))),
        }
    }
}
