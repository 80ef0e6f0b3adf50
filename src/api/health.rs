//! Liveness and readiness, for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::pipeline::BufferHealth;

/// A health answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` (liveness), `ready`, `degraded` (serving, but something is wrong) or `unavailable`.
    status: &'static str,
    /// What is wrong, when something is.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// Whether the database answered (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<DatabaseHealth>,
    /// Where results wait before the database (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    buffer: Option<BufferHealth>,
}

/// The database's part of a readiness answer.
#[derive(Serialize, ToSchema)]
pub struct DatabaseHealth {
    /// Whether it answered a ping just now.
    reachable: bool,
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The process answers. Stays 200 whatever the database or Redis do: restarting the
/// process would not bring them back.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        detail: None,
        database: None,
        buffer: None,
    })
}

/// Whether this instance can serve the API: 503 only when the database does not answer.
/// A Redis outage is `degraded` with 200, since checks go on and results wait locally.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let buffer = state.buffer.health();
    let database = state.store.ping().await;
    if let Err(error) = &database {
        tracing::warn!(%error, "readiness check failed");
    }
    let mut problems = Vec::new();
    if database.is_err() {
        problems.push("database unreachable; results wait in the buffer".to_owned());
    }
    if buffer.persistence == Some("none") {
        problems.push(format!(
            "{} persists nothing (no AOF, no RDB): a restart of it loses the results it holds",
            buffer.backend
        ));
    }
    if !buffer.reachable {
        problems.push(format!(
            "{} unreachable; {} results held in this process",
            buffer.backend, buffer.held_locally
        ));
    }
    let (code, status) = match (database.is_ok(), problems.is_empty()) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        (true, true) => (StatusCode::OK, "ready"),
        (true, false) => (StatusCode::OK, "degraded"),
    };
    let health = Health {
        status,
        detail: (!problems.is_empty()).then(|| problems.join("; ")),
        database: Some(DatabaseHealth {
            reachable: database.is_ok(),
        }),
        buffer: Some(buffer),
    };
    (code, Json(health))
}
