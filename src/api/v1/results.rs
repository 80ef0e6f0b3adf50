//! A monitor's results and statistics: `GET /api/v1/monitors/{id}/results` and `/stats`.
//! Someone else's monitor answers 404, like a missing one.

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::IdParam;
use crate::api::AppState;
use crate::api::current_user::CurrentUser;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::views::{ResultView, StatsView};
use crate::check::stats::Window;
use crate::monitor::MonitorId;
use crate::service::monitors::MAX_RESULTS_PAGE as MAX_LIMIT;

/// The most results one page may hold.
const DEFAULT_LIMIT: u32 = 100;

/// A page of results, newest first.
#[derive(Serialize, ToSchema)]
pub struct ResultPage {
    /// Newest first.
    results: Vec<ResultView>,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    #[serde(serialize_with = "crate::api::views::optional_timestamp")]
    next_before: Option<DateTime<Utc>>,
}

/// Paging of the results list. Raw text, parsed here so errors name the parameter.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ResultsQuery {
    /// Results per page, 1 to 1000 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Only results checked before this RFC 3339 time (the previous page's `next_before`).
    #[param(value_type = Option<String>, format = DateTime)]
    before: Option<String>,
}

/// The statistics window.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StatsQuery {
    /// `1h`, `24h` (default), `7d`, `30d`, `90d` or `365d`.
    #[param(value_type = Option<WindowName>, inline)]
    window: Option<String>,
}

/// The statistics windows, as the `window` parameter names them.
#[derive(ToSchema)]
#[allow(dead_code)] // only its schema is used
enum WindowName {
    #[schema(rename = "1h")]
    Hour,
    #[schema(rename = "24h")]
    Day,
    #[schema(rename = "7d")]
    Week,
    #[schema(rename = "30d")]
    Month,
    #[schema(rename = "90d")]
    Quarter,
    #[schema(rename = "365d")]
    Year,
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(results))
        .routes(routes!(stats))
}

/// A monitor's raw results (kept `TOCSIN_RETENTION`), newest first.
#[utoipa::path(get, path = "/monitors/{id}/results", tag = "results", security(("token" = [])),
    params(("id" = i64, Path, description = "Monitor id"), ResultsQuery),
    responses((status = 200, body = ResultPage), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn results(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam<MonitorId>,
    query: Result<Query<ResultsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ResultPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::Validation(format!(
                    "limit: must be a whole number from 1 to {MAX_LIMIT} (got `{raw}`)"
                ))
            })?,
    };
    let before = query
        .before
        .as_deref()
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    ApiError::Validation(format!(
                        "before: `{raw}` is not an RFC 3339 time such as 2026-01-31T12:00:00Z ({e})"
                    ))
                })
        })
        .transpose()?;
    let page = state.monitors.results(user, id, before, limit).await?;
    Ok(Json(ResultPage {
        results: page.results.iter().map(ResultView::from).collect(),
        next_before: page.next_before,
    }))
}

/// Uptime and latency over a window: raw results where they are kept, hourly rollups beyond.
#[utoipa::path(get, path = "/monitors/{id}/stats", tag = "results", security(("token" = [])),
    params(("id" = i64, Path, description = "Monitor id"), StatsQuery),
    responses((status = 200, body = StatsView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn stats(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam<MonitorId>,
    query: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<StatsView>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let window = match query.window.as_deref() {
        None => Window::Day,
        Some(raw) => raw.trim().parse::<Window>().map_err(ApiError::Validation)?,
    };
    Ok(Json(state.monitors.stats(user, id, window).await?.into()))
}
