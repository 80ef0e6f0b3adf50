//! `GET /api/v1/cluster`: the live instances sharing this database and how many checks each
//! ran in the last minute, from their heartbeats, so any instance gives the same answer.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::current_user::Administrator;
use crate::api::error::{ApiError, ErrorBody};
use crate::jobs::heartbeat::LIVE_FOR;

/// The live instances.
#[derive(Serialize, ToSchema)]
pub struct ClusterView {
    /// Every instance heard from in the last 15 seconds, by id.
    instances: Vec<InstanceView>,
}

/// One instance.
#[derive(Serialize, ToSchema)]
pub struct InstanceView {
    /// Unique per process: host name, process id and a random part.
    id: String,
    /// Where its API listens.
    address: String,
    /// When it started.
    #[serde(serialize_with = "crate::api::views::timestamp")]
    started_at: DateTime<Utc>,
    /// Its last heartbeat (every 5 seconds).
    #[serde(serialize_with = "crate::api::views::timestamp")]
    last_seen: DateTime<Utc>,
    /// Checks it finished in the minute before `last_seen`.
    checks_last_minute: u64,
    /// Whether this is the instance that answered.
    this: bool,
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(cluster))
}

/// The live instances and the checks each ran in the last minute; for the administrator
/// only, since it shows host names, process ids and addresses.
#[utoipa::path(get, path = "/cluster", tag = "cluster", security(("token" = [])),
    responses((status = 200, body = ClusterView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn cluster(
    State(state): State<AppState>,
    Administrator(_admin): Administrator,
) -> Result<Json<ClusterView>, ApiError> {
    let since = Utc::now() - crate::time::delta(LIVE_FOR);
    let instances = state
        .store
        .instances(since)
        .await?
        .into_iter()
        .map(|beat| InstanceView {
            this: beat.instance == state.instance.id,
            id: beat.instance,
            address: beat.address,
            started_at: beat.started_at,
            last_seen: beat.seen_at,
            checks_last_minute: beat.checks_last_minute,
        })
        .collect();
    Ok(Json(ClusterView { instances }))
}
