//! The versioned API under `/api/v1`.

mod auth;
mod monitors;

use utoipa_axum::router::OpenApiRouter;

use super::AppState;

/// Register and login: the routes that hash, and so are throttled.
pub fn auth_router() -> OpenApiRouter<AppState> {
    auth::router()
}

/// The monitor routes.
pub fn monitors_router() -> OpenApiRouter<AppState> {
    monitors::router()
}
