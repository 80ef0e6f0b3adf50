//! `/api/v1/maintenance`: the caller's maintenance windows. While one covers a monitor, its
//! checks and incidents go on but nobody is told, and its incidents show `muted: true`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{IdParam, PathId};
use crate::alerting::{MaintenanceId, MaintenanceWindow, WindowDraft};
use crate::api::AppState;
use crate::api::current_user::CurrentUser;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::json::JsonBody;

/// A maintenance window as a client sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceBody {
    /// A label, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    name: String,
    /// The monitors it covers; left out (or `null`), every monitor of the account,
    /// including ones created while it lasts.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 1000, value_type = Option<Vec<u64>>)]
    monitor_ids: Option<Vec<i64>>,
    /// When it starts, RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    starts_at: String,
    /// When it ends, RFC 3339, after `starts_at`.
    #[schema(value_type = String, format = DateTime)]
    ends_at: String,
}

/// A stored maintenance window.
#[derive(Serialize, ToSchema)]
pub struct MaintenanceView {
    /// Never reused.
    id: i64,
    /// Its label.
    name: String,
    /// The monitors it covers, ascending; `null` for every monitor of the account.
    monitor_ids: Option<Vec<i64>>,
    /// When it starts.
    #[serde(serialize_with = "crate::api::views::timestamp")]
    starts_at: DateTime<Utc>,
    /// When it ends.
    #[serde(serialize_with = "crate::api::views::timestamp")]
    ends_at: DateTime<Utc>,
    /// When it was made.
    #[serde(serialize_with = "crate::api::views::timestamp")]
    created_at: DateTime<Utc>,
}

impl From<MaintenanceWindow> for MaintenanceView {
    fn from(w: MaintenanceWindow) -> Self {
        Self {
            id: w.id.0,
            name: w.spec.name().to_owned(),
            monitor_ids: w
                .spec
                .monitors()
                .map(|ids| ids.iter().map(|id| id.0).collect()),
            starts_at: w.spec.starts_at(),
            ends_at: w.spec.ends_at(),
            created_at: w.created_at,
        }
    }
}

/// The caller's maintenance windows.
#[derive(Serialize, ToSchema)]
pub struct MaintenanceList {
    /// By start, then id.
    maintenance: Vec<MaintenanceView>,
}

impl PathId for MaintenanceId {
    const WHAT: &'static str = "maintenance window";

    fn from_positive(id: i64) -> Self {
        Self(id)
    }
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_maintenance, list_maintenance))
        .routes(routes!(delete_maintenance))
}

fn time(field: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            ApiError::Validation(format!(
                "{field}: `{raw}` is not an RFC 3339 time such as 2026-01-31T12:00:00Z ({e})"
            ))
        })
}

/// Creates a maintenance window.
#[utoipa::path(post, path = "/maintenance", tag = "maintenance", request_body = MaintenanceBody,
    security(("token" = [])),
    responses((status = 201, body = MaintenanceView), (status = 422, body = ErrorBody)))]
async fn create_maintenance(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<MaintenanceBody>,
) -> Result<(StatusCode, Json<MaintenanceView>), ApiError> {
    let draft = WindowDraft {
        name: body.name,
        monitor_ids: body.monitor_ids,
        starts_at: time("starts_at", &body.starts_at)?,
        ends_at: time("ends_at", &body.ends_at)?,
    };
    let window = state.maintenance.create(user, draft).await?;
    Ok((StatusCode::CREATED, Json(window.into())))
}

/// Lists the caller's maintenance windows, past, present and future.
#[utoipa::path(get, path = "/maintenance", tag = "maintenance", security(("token" = [])),
    responses((status = 200, body = MaintenanceList)))]
async fn list_maintenance(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<MaintenanceList>, ApiError> {
    let windows = state.maintenance.list(user).await?;
    Ok(Json(MaintenanceList {
        maintenance: windows.into_iter().map(Into::into).collect(),
    }))
}

/// Deletes a maintenance window; monitors it covered notify again from now on.
#[utoipa::path(delete, path = "/maintenance/{id}", tag = "maintenance",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Maintenance window id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, body = ErrorBody, description = "No such maintenance window of yours")))]
async fn delete_maintenance(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam<MaintenanceId>,
) -> Result<StatusCode, ApiError> {
    state.maintenance.delete(user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
