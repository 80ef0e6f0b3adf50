//! `/api/v1/api-keys`: the caller's API keys: made (the key is shown once), listed (never
//! the key) and revoked.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{IdParam, PathId};
use crate::api::AppState;
use crate::api::current_user::CurrentUser;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::json::JsonBody;
use crate::api::views::{optional_timestamp, timestamp};
use crate::auth::api_key::Scope;
use crate::store::ApiKey;

/// A key to make.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// A label, e.g. where the key is used: 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// `read` (GET only) or `write` (everything the account may do).
    scope: Scope,
    /// Days until it stops working (1 to 3650); default never.
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<u32>,
}

/// A key as listed: never the key itself.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    /// The key's id.
    id: i64,
    /// Its label.
    name: String,
    /// What it may do.
    scope: Scope,
    /// When it was made.
    #[serde(serialize_with = "timestamp")]
    created_at: DateTime<Utc>,
    /// When it stops working; `null`: never.
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(value_type = Option<String>)]
    expires_at: Option<DateTime<Utc>>,
    /// When a request last used it, to the minute; `null`: never used.
    #[serde(serialize_with = "optional_timestamp")]
    #[schema(value_type = Option<String>)]
    last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id,
            name: key.name,
            scope: key.scope,
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_used_at: key.last_used_at,
        }
    }
}

/// A key just made, with the key: shown this once, never again.
#[derive(Serialize, ToSchema)]
pub struct CreatedKeyView {
    /// The key: send it as `Authorization: Bearer tcn_…`.
    key: String,
    /// The key as it will be listed.
    #[serde(flatten)]
    info: ApiKeyView,
}

/// The caller's keys.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    /// Oldest first.
    api_keys: Vec<ApiKeyView>,
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
}

/// Makes an API key. The answer holds the key, which is not kept and cannot be shown again.
#[utoipa::path(post, path = "/api-keys", tag = "account", request_body = NewKeyRequest,
    security(("token" = [])),
    responses((status = 201, body = CreatedKeyView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_api_key(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<NewKeyRequest>,
) -> Result<(StatusCode, Json<CreatedKeyView>), ApiError> {
    let created = state
        .accounts
        .create_api_key(user, &body.name, body.scope, body.expires_in_days)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKeyView {
            key: created.key.expose_secret().to_owned(),
            info: created.info.into(),
        }),
    ))
}

/// Lists the caller's API keys, without the keys.
#[utoipa::path(get, path = "/api-keys", tag = "account", security(("token" = [])),
    responses((status = 200, body = ApiKeyList), (status = 401, body = ErrorBody)))]
async fn list_api_keys(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<ApiKeyList>, ApiError> {
    let keys = state.accounts.api_keys(user).await?;
    Ok(Json(ApiKeyList {
        api_keys: keys.into_iter().map(ApiKeyView::from).collect(),
    }))
}

/// Revokes an API key: it stops working at once, on every instance.
#[utoipa::path(delete, path = "/api-keys/{id}", tag = "account", security(("token" = [])),
    params(("id" = i64, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdParam(KeyId(id)): IdParam<KeyId>,
) -> Result<StatusCode, ApiError> {
    state.accounts.revoke_api_key(user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The `{id}` path segment of a key, parsed.
struct KeyId(i64);

impl PathId for KeyId {
    const WHAT: &'static str = "API key";

    fn from_positive(id: i64) -> Self {
        Self(id)
    }
}
