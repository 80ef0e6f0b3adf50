//! `/api/v1/me`: the caller's own account: who it is, a new password, and deleting it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::current_user::CurrentUser;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::json::JsonBody;
use crate::api::views::{TokenView, UserView};

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The account's password now.
    #[schema(value_type = String, min_length = 1, max_length = 1024)]
    current_password: SecretString,
    /// The new one: 8 to 1024 characters.
    #[schema(value_type = String, min_length = 8, max_length = 1024)]
    new_password: SecretString,
}

/// Reading and deleting the account.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me, delete_me))
}

/// Changing the password: it hashes, so it is throttled with register and login.
pub(super) fn password_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(change_password))
}

/// The caller's account.
#[utoipa::path(get, path = "/me", tag = "account", security(("token" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(state.accounts.me(user).await?.into()))
}

/// Changes the password. Every token issued before stops working, on every instance; the
/// answer is a token for the new password.
#[utoipa::path(post, path = "/me/password", tag = "account", request_body = PasswordChange,
    security(("token" = [])),
    responses((status = 200, body = TokenView), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<Json<TokenView>, ApiError> {
    let issued = state
        .accounts
        .change_password(user, body.current_password, body.new_password)
        .await?;
    Ok(Json(issued.into()))
}

/// Deletes the account with its monitors, their results and everything else it owns.
#[utoipa::path(delete, path = "/me", tag = "account", security(("token" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn delete_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<StatusCode, ApiError> {
    state.accounts.delete(user).await?;
    Ok(StatusCode::NO_CONTENT)
}
