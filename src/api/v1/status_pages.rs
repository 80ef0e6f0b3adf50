//! `/api/v1/status-pages`: a user's public status pages. Another user's page answers 404,
//! like a missing one.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{IdParam, PathId};
use crate::api::AppState;
use crate::api::current_user::CurrentUser;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::json::JsonBody;
use crate::api::views::timestamp;
use crate::public::{StatusPage, StatusPageDraft, StatusPageId, StatusPagePatch};

/// A status page's settings, as its owner sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusPageView {
    /// The page's id.
    pub id: i64,
    /// Its address: the page is at `/status/{slug}`.
    pub slug: String,
    /// Its heading.
    pub title: String,
    /// Its paragraph (may be empty).
    pub description: String,
    /// The monitors it shows, in order.
    pub monitor_ids: Vec<i64>,
    /// Where anyone can read it.
    pub url: String,
    /// When it was made.
    #[serde(serialize_with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    #[serde(serialize_with = "timestamp")]
    pub updated_at: DateTime<Utc>,
}

impl From<StatusPage> for StatusPageView {
    fn from(page: StatusPage) -> Self {
        Self {
            id: page.id.0,
            url: format!("/status/{}", page.spec.slug.as_str()),
            slug: page.spec.slug.as_str().to_owned(),
            title: page.spec.title,
            description: page.spec.description,
            monitor_ids: page.spec.monitor_ids.iter().map(|m| m.0).collect(),
            created_at: page.created_at,
            updated_at: page.updated_at,
        }
    }
}

/// The caller's status pages.
#[derive(Serialize, ToSchema)]
pub struct StatusPageList {
    /// Oldest first.
    status_pages: Vec<StatusPageView>,
}

impl PathId for StatusPageId {
    const WHAT: &'static str = "status page";

    fn from_positive(id: i64) -> Self {
        Self(id)
    }
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, update, delete))
}

/// Makes a public status page of some of the caller's monitors.
#[utoipa::path(post, path = "/status-pages", tag = "status pages", operation_id = "create_status_page",
    request_body = StatusPageDraft, security(("token" = [])),
    responses((status = 201, body = StatusPageView),
        (status = 409, body = ErrorBody, description = "Another page has this slug (`slug_taken`)")))]
async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(draft): JsonBody<StatusPageDraft>,
) -> Result<(StatusCode, HeaderMap, Json<StatusPageView>), ApiError> {
    let page = state.status_pages.create(user, draft).await?;
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/status-pages/{}", page.id.0)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(page.into())))
}

/// Lists the caller's status pages.
#[utoipa::path(get, path = "/status-pages", tag = "status pages", operation_id = "list_status_pages", security(("token" = [])),
    responses((status = 200, body = StatusPageList)))]
async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<StatusPageList>, ApiError> {
    let pages = state.status_pages.list(user).await?;
    Ok(Json(StatusPageList {
        status_pages: pages.into_iter().map(StatusPageView::from).collect(),
    }))
}

/// One of the caller's status pages.
#[utoipa::path(get, path = "/status-pages/{id}", tag = "status pages", operation_id = "get_status_page", security(("token" = [])),
    params(("id" = i64, Path, description = "Status page id")),
    responses((status = 200, body = StatusPageView),
        (status = 404, body = ErrorBody, description = "No such status page of yours (`not_found`)")))]
async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam<StatusPageId>,
) -> Result<Json<StatusPageView>, ApiError> {
    Ok(Json(state.status_pages.get(user, id).await?.into()))
}

/// Changes a status page; absent fields stay.
#[utoipa::path(patch, path = "/status-pages/{id}", tag = "status pages", operation_id = "update_status_page",
    request_body = StatusPagePatch, security(("token" = [])),
    params(("id" = i64, Path, description = "Status page id")),
    responses((status = 200, body = StatusPageView),
        (status = 404, body = ErrorBody, description = "No such status page of yours (`not_found`)"),
        (status = 409, body = ErrorBody, description = "Another page has this slug (`slug_taken`)")))]
async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam<StatusPageId>,
    JsonBody(patch): JsonBody<StatusPagePatch>,
) -> Result<Json<StatusPageView>, ApiError> {
    Ok(Json(
        state.status_pages.update(user, id, patch).await?.into(),
    ))
}

/// Deletes a status page; its address answers 404 from then on.
#[utoipa::path(delete, path = "/status-pages/{id}", tag = "status pages", operation_id = "delete_status_page", security(("token" = [])),
    params(("id" = i64, Path, description = "Status page id")),
    responses((status = 204),
        (status = 404, body = ErrorBody, description = "No such status page of yours (`not_found`)")))]
async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam<StatusPageId>,
) -> Result<StatusCode, ApiError> {
    state.status_pages.delete(user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
