//! `/api/v1/monitors`: a user's monitors. Another user's monitor answers 404, like a
//! missing one, so ids reveal nothing.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::current_user::CurrentUser;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::json::JsonBody;
use crate::api::v1::IdParam;
use crate::api::views::MonitorView;
use crate::monitor::{MonitorDraft, MonitorId, MonitorPatch};
use crate::service::monitors::MAX_MONITORS_PAGE;

/// The caller's monitors.
#[derive(Serialize, ToSchema)]
pub struct MonitorList {
    /// Oldest first.
    monitors: Vec<MonitorView>,
    /// When paging (`limit` or `after` given): pass as `after` for the next page; `null` on
    /// the last page. Absent from an answer without paging, which lists every monitor.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>, required = false)]
    next_after: Option<Option<i64>>,
}

/// Paging of the monitors list. Raw text, parsed here so errors name the parameter.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Monitors per page, 1 to 1000 (default 100 when `after` is given). Without `limit`
    /// and `after`, every monitor is listed at once.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Only monitors with a larger id (the previous page's `next_after`).
    #[param(value_type = Option<i64>)]
    after: Option<String>,
}

/// Monitors per page when `after` is given without `limit`.
const DEFAULT_LIMIT: u32 = 100;

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

/// Lists the caller's monitors, all at once or a page at a time (`limit`, `after`); a page
/// that has a successor links to it in a `Link: <…>; rel="next"` header too.
#[utoipa::path(get, path = "/monitors", tag = "monitors", security(("token" = [])),
    params(ListQuery),
    responses((status = 200, body = MonitorList), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<(HeaderMap, Json<MonitorList>), ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if query.limit.is_none() && query.after.is_none() {
        let monitors = state.monitors.list(user).await?;
        return Ok((
            HeaderMap::new(),
            Json(MonitorList {
                monitors: monitors.into_iter().map(MonitorView::from).collect(),
                next_after: None,
            }),
        ));
    }
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_MONITORS_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::Validation(format!(
                    "limit: must be a whole number from 1 to {MAX_MONITORS_PAGE} (got `{raw}`)"
                ))
            })?,
    };
    let after = query
        .after
        .as_deref()
        .map(|raw| {
            raw.trim()
                .parse::<i64>()
                .ok()
                .filter(|id| *id >= 0)
                .map(MonitorId)
                .ok_or_else(|| {
                    ApiError::Validation(format!(
                        "after: must be a monitor id, a whole number of 0 or more (got `{raw}`)"
                    ))
                })
        })
        .transpose()?;
    let page = state.monitors.page(user, after, limit).await?;
    let next = page.next_after.map(|id| id.0);
    let mut headers = HeaderMap::new();
    if let Some(next) = next
        && let Ok(link) = HeaderValue::from_str(&format!(
            "</api/v1/monitors?limit={limit}&after={next}>; rel=\"next\""
        ))
    {
        headers.insert(header::LINK, link);
    }
    Ok((
        headers,
        Json(MonitorList {
            monitors: page.monitors.into_iter().map(MonitorView::from).collect(),
            next_after: Some(next),
        }),
    ))
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
