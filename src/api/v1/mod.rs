//! The versioned API under `/api/v1`.

mod api_keys;
mod auth;
mod channels;
mod cluster;
mod documents;
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

/// The caller's own account and its API keys.
pub fn me_router() -> OpenApiRouter<AppState> {
    me::router().merge(api_keys::router())
}

/// The monitor routes, with their results and statistics, and the account's monitors as
/// one document (apply, export).
pub fn monitors_router() -> OpenApiRouter<AppState> {
    monitors::router()
        .merge(results::router())
        .merge(documents::router())
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

/// What a resource's id is called in an error, and how it is made from a positive integer.
pub(super) trait PathId: Sized {
    /// The resource, as an error names it (`monitor`, `channel`…).
    const WHAT: &'static str;

    /// The id from a positive integer.
    fn from_positive(id: i64) -> Self;
}

/// The `{id}` path segment of a resource route, parsed once for every resource, so each
/// answers a bad id with the same 400 naming what it is.
pub(super) struct IdParam<T>(pub T);

impl<S: Send + Sync, T: PathId> FromRequestParts<S> for IdParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => Ok(Self(T::from_positive(id))),
            _ => Err(ApiError::BadRequest(format!(
                "{} id `{raw}` is not a positive integer",
                T::WHAT
            ))),
        }
    }
}

impl PathId for MonitorId {
    const WHAT: &'static str = "monitor";

    fn from_positive(id: i64) -> Self {
        Self(id)
    }
}
