//! `/api/v1/channels`: where a user's alerts go. Another user's channel answers 404, like a
//! missing one. Answers never hold a secret: webhook secrets and header values, bot
//! tokens, routing keys, and chat webhook URLs (which are secrets themselves) show only
//! whether they are set, or their origin.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{IdParam, PathId};
use crate::alerting::ChannelId;
use crate::alerting::channels::Channel;
use crate::api::AppState;
use crate::api::current_user::CurrentUser;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::json::JsonBody;
use crate::api::views::timestamp;
use crate::service::ChannelDraft;

/// A channel as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct ChannelView {
    /// Its id, for a monitor's `channel_ids`.
    id: i64,
    /// Its name, unique in the account.
    name: String,
    /// `webhook`, `email`, `slack`, `discord`, `teams`, `ntfy`, `telegram` or `pagerduty`.
    kind: &'static str,
    /// The kind's settings without secrets: a secret shows as `true` when set.
    #[schema(value_type = Object)]
    settings: Value,
    /// When it was made.
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "timestamp")]
    #[schema(value_type = String, format = DateTime)]
    updated_at: DateTime<Utc>,
}

impl From<Channel> for ChannelView {
    fn from(c: Channel) -> Self {
        Self {
            id: c.id.0,
            name: c.name,
            kind: c.config.kind().as_str(),
            settings: c.config.public(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// The caller's channels.
#[derive(Serialize, ToSchema)]
pub struct ChannelList {
    /// Oldest first.
    channels: Vec<ChannelView>,
}

/// What a test sent.
#[derive(Serialize, ToSchema)]
pub struct TestAnswer {
    /// Whether the receiver took the `test` event.
    delivered: bool,
    /// The receiver's error, when it did not.
    error: Option<String>,
}

impl PathId for ChannelId {
    const WHAT: &'static str = "channel";

    fn from_positive(id: i64) -> Self {
        Self(id)
    }
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_channel, list_channels))
        .routes(routes!(get_channel, update_channel, delete_channel))
        .routes(routes!(test_channel))
}

/// Creates a channel: `{"name", "kind", ...the kind's settings}` (see the README's Alerts
/// section for each kind's fields).
#[utoipa::path(post, path = "/channels", tag = "channels",
    request_body(content = Object, description = "`name`, `kind` and the kind's settings"),
    security(("token" = [])),
    responses((status = 201, body = ChannelView), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The name is taken (`conflict`)"),
        (status = 422, body = ErrorBody)))]
async fn create_channel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<(StatusCode, HeaderMap, Json<ChannelView>), ApiError> {
    let channel = state
        .channels
        .create(user, ChannelDraft::from_object(body)?)
        .await?;
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/channels/{}", channel.id.0)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(channel.into())))
}

/// Lists the caller's channels.
#[utoipa::path(get, path = "/channels", tag = "channels", security(("token" = [])),
    responses((status = 200, body = ChannelList), (status = 401, body = ErrorBody)))]
async fn list_channels(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<ChannelList>, ApiError> {
    let channels = state.channels.list(user).await?;
    Ok(Json(ChannelList {
        channels: channels.into_iter().map(ChannelView::from).collect(),
    }))
}

/// One channel.
#[utoipa::path(get, path = "/channels/{id}", tag = "channels", security(("token" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = ChannelView),
        (status = 404, body = ErrorBody, description = "No such channel of yours (`not_found`)")))]
async fn get_channel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam<ChannelId>,
) -> Result<Json<ChannelView>, ApiError> {
    Ok(Json(state.channels.get(user, id).await?.into()))
}

/// Changes a channel: absent fields stay (secrets too), `null` removes an optional one;
/// the kind cannot change.
#[utoipa::path(patch, path = "/channels/{id}", tag = "channels",
    request_body(content = Object, description = "`name` and any of the kind's settings"),
    security(("token" = [])), params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = ChannelView),
        (status = 404, body = ErrorBody, description = "No such channel of yours (`not_found`)"),
        (status = 409, body = ErrorBody, description = "The name is taken (`conflict`)"),
        (status = 422, body = ErrorBody)))]
async fn update_channel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam<ChannelId>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<ChannelView>, ApiError> {
    let patch = ChannelDraft::from_object(body)?;
    Ok(Json(state.channels.update(user, id, patch).await?.into()))
}

/// Deletes a channel; monitors that named it stop naming it, and its pending
/// notifications are dropped.
#[utoipa::path(delete, path = "/channels/{id}", tag = "channels", security(("token" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 204),
        (status = 404, body = ErrorBody, description = "No such channel of yours (`not_found`)")))]
async fn delete_channel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam<ChannelId>,
) -> Result<StatusCode, ApiError> {
    state.channels.delete(user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a `test` event to the channel now; answers whether the receiver took it, with
/// the receiver's error when it did not.
#[utoipa::path(post, path = "/channels/{id}/test", tag = "channels", security(("token" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = TestAnswer),
        (status = 404, body = ErrorBody, description = "No such channel of yours (`not_found`)")))]
async fn test_channel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(id): IdParam<ChannelId>,
) -> Result<Json<TestAnswer>, ApiError> {
    let outcome = state.channels.test(user, id).await?;
    Ok(Json(TestAnswer {
        delivered: outcome.delivered,
        error: outcome.error,
    }))
}
