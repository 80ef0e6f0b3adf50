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
use crate::monitor::{MonitorDraft, MonitorId, MonitorPatch, MonitorSpec};

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
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(draft): JsonBody<MonitorDraft>,
) -> Result<(StatusCode, HeaderMap, Json<MonitorView>), ApiError> {
    let spec = MonitorSpec::parse(draft, &state.rules)?;
    let monitor = state
        .store
        .create_monitor(user, &spec, state.max_monitors_per_user)
        .await?;
    state.scheduler.wake();
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
    let monitors = state.store.list_monitors(user).await?;
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
    let monitor = state
        .store
        .get_monitor(user, id)
        .await?
        .ok_or_else(ApiError::monitor_not_found)?;
    Ok(Json(monitor.into()))
}

/// Changes some settings; absent fields stay, `null` resets an optional one to its default.
#[utoipa::path(patch, path = "/monitors/{id}", tag = "monitors", request_body = MonitorPatch,
    security(("token" = [])), params(("id" = i64, Path, description = "Monitor id")),
    responses((status = 200, body = MonitorView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam,
    JsonBody(patch): JsonBody<MonitorPatch>,
) -> Result<Json<MonitorView>, ApiError> {
    let current = state
        .store
        .get_monitor(user, id)
        .await?
        .ok_or_else(ApiError::monitor_not_found)?;
    let spec = MonitorSpec::parse(patch.apply(current.spec.to_draft())?, &state.rules)?;
    let monitor = state
        .store
        .update_monitor(user, id, &spec)
        .await?
        .ok_or_else(ApiError::monitor_not_found)?;
    state.scheduler.changed(monitor.clone());
    Ok(Json(monitor.into()))
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
    if state.store.delete_monitor(user, id).await? {
        state.scheduler.removed(id);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::monitor_not_found())
    }
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
    set_paused(&state, user, id, true).await
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
    set_paused(&state, user, id, false).await
}

async fn set_paused(
    state: &AppState,
    user: crate::auth::UserId,
    id: MonitorId,
    paused: bool,
) -> Result<Json<MonitorView>, ApiError> {
    let monitor = state
        .store
        .set_paused(user, id, paused)
        .await?
        .ok_or_else(ApiError::monitor_not_found)?;
    // A pause drops the checks already claimed; a resume is due at once.
    state.scheduler.changed(monitor.clone());
    if !paused {
        state.scheduler.wake();
    }
    Ok(Json(monitor.into()))
}
