//! `GET /api/v1/incidents` and `GET /api/v1/monitors/{id}/incidents`: the caller's incidents,
//! newest first, each with its notifications. Someone else's monitor answers 404.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::IdParam;
use crate::alerting::{Cause, Incident, IncidentFilter, IncidentId, IncidentState, Notification};
use crate::api::AppState;
use crate::api::current_user::CurrentUser;
use crate::api::error::{ApiError, ErrorBody};
use crate::auth::UserId;
use crate::monitor::MonitorId;
use crate::service::incidents::MAX_INCIDENTS_PAGE as MAX_LIMIT;

/// Incidents per page unless `limit` says otherwise.
const DEFAULT_LIMIT: u32 = 50;

/// A page of incidents, newest first.
#[derive(Serialize, ToSchema)]
pub struct IncidentPage {
    /// Newest (highest id) first.
    incidents: Vec<IncidentView>,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    next_before: Option<i64>,
}

/// A `down`, `degraded` or `certificate` episode of a monitor.
#[derive(Serialize, ToSchema)]
pub struct IncidentView {
    /// Never reused.
    id: i64,
    /// The monitor it is about.
    monitor_id: i64,
    /// `down`, `degraded` or `certificate`.
    kind: &'static str,
    /// The first check of the failing (or slow) run; for a certificate, the check that saw it.
    #[serde(serialize_with = "crate::api::views::timestamp")]
    started_at: DateTime<Utc>,
    /// When the check that ended it ran; `null` while open.
    #[serde(serialize_with = "crate::api::views::optional_timestamp")]
    resolved_at: Option<DateTime<Utc>>,
    /// The check that opened it.
    cause: CauseView,
    /// Opened inside a maintenance window: nobody is told about it.
    muted: bool,
    /// For a certificate incident, the expiry that opened it; `null` otherwise.
    #[serde(serialize_with = "crate::api::views::optional_timestamp")]
    cert_expires_at: Option<DateTime<Utc>>,
    /// One per event (`down`, `up`, `reminder`…) and channel, oldest first.
    notifications: Vec<NotificationView>,
}

/// Why an incident was opened.
#[derive(Serialize, ToSchema)]
pub struct CauseView {
    /// The failure kind (`timeout`, `status`…), `latency` for a slow monitor, `certificate`
    /// for an expiring certificate.
    kind: String,
    /// What was seen, in a sentence.
    message: String,
    /// The response's status code, `null` if none came.
    status_code: Option<u16>,
}

/// One event about an incident, for one channel.
#[derive(Serialize, ToSchema)]
pub struct NotificationView {
    /// The channel it goes to.
    channel_id: i64,
    /// `down`, `up`, `degraded`, `reminder` or `certificate_expiring`.
    event: &'static str,
    /// `pending` (waiting for an attempt), `delivered` or `failed` (given up).
    state: &'static str,
    /// Delivery attempts so far.
    attempts: u32,
    /// Why the last attempt failed; `null` if none did.
    last_error: Option<String>,
    /// When the receiver took it; `null` until then.
    #[serde(serialize_with = "crate::api::views::optional_timestamp")]
    delivered_at: Option<DateTime<Utc>>,
}

impl From<Incident> for IncidentView {
    fn from(i: Incident) -> Self {
        let Cause {
            kind,
            message,
            status_code,
        } = i.cause;
        Self {
            id: i.id.0,
            monitor_id: i.monitor.0,
            kind: i.kind.as_str(),
            started_at: i.started_at,
            resolved_at: i.resolved_at,
            cause: CauseView {
                kind,
                message,
                status_code,
            },
            muted: i.muted,
            cert_expires_at: i.cert_expires_at,
            notifications: i.notifications.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        Self {
            channel_id: n.channel.0,
            event: n.event.as_str(),
            state: n.state.as_str(),
            attempts: n.attempts,
            last_error: n.last_error,
            delivered_at: n.delivered_at,
        }
    }
}

/// The incidents list's filters and paging. Raw text, parsed here so errors name the
/// parameter.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct IncidentsQuery {
    /// Only this monitor's incidents.
    #[param(value_type = Option<i64>, minimum = 1)]
    monitor_id: Option<String>,
    /// `open` or `resolved`; both when left out.
    #[param(value_type = Option<StateName>, inline)]
    state: Option<String>,
    /// Incidents per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// Only incidents with a lower id (the previous page's `next_before`).
    #[param(value_type = Option<i64>, minimum = 1)]
    before: Option<String>,
}

/// A monitor's incidents: the same filters, less the monitor.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct MonitorIncidentsQuery {
    /// `open` or `resolved`; both when left out.
    #[param(value_type = Option<StateName>, inline)]
    state: Option<String>,
    /// Incidents per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// Only incidents with a lower id (the previous page's `next_before`).
    #[param(value_type = Option<i64>, minimum = 1)]
    before: Option<String>,
}

/// The `state` filter's values.
#[derive(ToSchema)]
#[allow(dead_code)] // only its schema is used
enum StateName {
    #[schema(rename = "open")]
    Open,
    #[schema(rename = "resolved")]
    Resolved,
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_incidents))
        .routes(routes!(list_monitor_incidents))
}

/// The caller's incidents, newest first, optionally of one monitor and open or resolved.
#[utoipa::path(get, path = "/incidents", tag = "incidents", security(("token" = [])),
    params(IncidentsQuery),
    responses((status = 200, body = IncidentPage), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`monitor_id` names no monitor of yours"),
        (status = 422, body = ErrorBody)))]
async fn list_incidents(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    query: Result<Query<IncidentsQuery>, QueryRejection>,
) -> Result<Json<IncidentPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let monitor = query
        .monitor_id
        .as_deref()
        .map(|raw| positive("monitor_id", raw))
        .transpose()?
        .map(MonitorId);
    page(
        &state,
        user,
        monitor,
        &query.state,
        &query.limit,
        &query.before,
    )
    .await
}

/// One monitor's incidents, newest first, optionally open or resolved only.
#[utoipa::path(get, path = "/monitors/{id}/incidents", tag = "incidents",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Monitor id"), MonitorIncidentsQuery),
    responses((status = 200, body = IncidentPage), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_monitor_incidents(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam<MonitorId>,
    query: Result<Query<MonitorIncidentsQuery>, QueryRejection>,
) -> Result<Json<IncidentPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    page(
        &state,
        user,
        Some(id),
        &query.state,
        &query.limit,
        &query.before,
    )
    .await
}

async fn page(
    state: &AppState,
    user: UserId,
    monitor: Option<MonitorId>,
    filter_state: &Option<String>,
    limit: &Option<String>,
    before: &Option<String>,
) -> Result<Json<IncidentPage>, ApiError> {
    let filter_state = filter_state
        .as_deref()
        .map(|raw| {
            raw.trim().parse::<IncidentState>().map_err(|_| {
                ApiError::Validation(format!("state: must be `open` or `resolved` (got `{raw}`)"))
            })
        })
        .transpose()?;
    let limit = match limit.as_deref() {
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
    let before = before
        .as_deref()
        .map(|raw| positive("before", raw))
        .transpose()?
        .map(IncidentId);
    let filter = IncidentFilter {
        monitor,
        state: filter_state,
        before,
        limit,
    };
    let page = state.incidents.list(user, filter).await?;
    Ok(Json(IncidentPage {
        incidents: page.incidents.into_iter().map(Into::into).collect(),
        next_before: page.next_before.map(|id| id.0),
    }))
}

/// A positive id given as the query parameter `name`.
fn positive(name: &str, raw: &str) -> Result<i64, ApiError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            ApiError::Validation(format!("{name}: `{raw}` is not a positive integer id"))
        })
}
