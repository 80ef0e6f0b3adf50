//! `/api/v1/monitors`: a user's monitors. Another user's monitor answers 404, like a
//! missing one, so ids reveal nothing.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::current_user::CurrentUser;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::json::JsonBody;
use crate::api::v1::IdParam;
use crate::api::views::MonitorView;
use crate::monitor::{MonitorDraft, MonitorPatch};

/// The caller's monitors.
#[derive(Serialize, ToSchema)]
pub struct MonitorList {
    /// Oldest first.
    monitors: Vec<MonitorView>,
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, update, delete))
        .routes(routes!(pause))
        .routes(routes!(resume))
}

/// Creates a monitor; its first check starts within a second.
#[utoipa::path(post, path = "/monitors", tag = "monitors", request_body = MonitorDraft,
    security(("token" = [])),
    responses((status = 201, body = MonitorView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(draft): JsonBody<MonitorDraft>,
) -> Result<(StatusCode, HeaderMap, Json<MonitorView>), ApiError> {
    let monitor = state.monitors.create(user, draft).await?;
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/monitors/{}", monitor.id.0)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(monitor.into())))
}

/// Lists the caller's monitors.
#[utoipa::path(get, path = "/monitors", tag = "monitors", security(("token" = [])),
    responses((status = 200, body = MonitorList), (status = 401, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<MonitorList>, ApiError> {
    let monitors = state.monitors.list(user).await?;
    Ok(Json(MonitorList {
        monitors: monitors.into_iter().map(MonitorView::from).collect(),
    }))
}

/// One monitor.
#[utoipa::path(get, path = "/monitors/{id}", tag = "monitors", security(("token" = [])),
    params(("id" = i64, Path, description = "Monitor id")),
    responses((status = 200, body = MonitorView), (status = 404, body = ErrorBody)))]
async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam,
) -> Result<Json<MonitorView>, ApiError> {
    Ok(Json(state.monitors.get(user, id).await?.into()))
}

/// Changes some settings; absent fields stay, `null` resets an optional one to its default.
#[utoipa::path(patch, path = "/monitors/{id}", tag = "monitors", request_body = MonitorPatch,
    security(("token" = [])), params(("id" = i64, Path, description = "Monitor id")),
    responses((status = 200, body = MonitorView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam,
    JsonBody(patch): JsonBody<MonitorPatch>,
) -> Result<Json<MonitorView>, ApiError> {
    Ok(Json(state.monitors.update(user, id, patch).await?.into()))
}

/// Deletes a monitor.
#[utoipa::path(delete, path = "/monitors/{id}", tag = "monitors", security(("token" = [])),
    params(("id" = i64, Path, description = "Monitor id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam,
) -> Result<StatusCode, ApiError> {
    state.monitors.delete(user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Suspends checks.
#[utoipa::path(post, path = "/monitors/{id}/pause", tag = "monitors", security(("token" = [])),
    params(("id" = i64, Path, description = "Monitor id")),
    responses((status = 200, body = MonitorView), (status = 404, body = ErrorBody)))]
async fn pause(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam,
) -> Result<Json<MonitorView>, ApiError> {
    Ok(Json(
        state.monitors.set_paused(user, id, true).await?.into(),
    ))
}

/// Resumes checks.
#[utoipa::path(post, path = "/monitors/{id}/resume", tag = "monitors", security(("token" = [])),
    params(("id" = i64, Path, description = "Monitor id")),
    responses((status = 200, body = MonitorView), (status = 404, body = ErrorBody)))]
async fn resume(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam,
) -> Result<Json<MonitorView>, ApiError> {
    Ok(Json(
        state.monitors.set_paused(user, id, false).await?.into(),
    ))
}
