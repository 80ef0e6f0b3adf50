//! The routes outside `/api/v1`, which the original Go project's clients call exactly as its
//! README's curl examples do: `POST /register`, `POST /login` (answers the token as a bare
//! JSON string) and `POST /url` (`Period` in minutes). Their keys match in any case
//! (`"Email"`, `"email"`), as the Go binding did.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::current_user::CurrentUser;
use super::error::{ApiError, ErrorBody};
use super::json::{AnyCaseFields, AnyCaseJson};
use super::views::{MonitorView, UserView};
use crate::monitor::MonitorDraft;

/// Credentials with `Email` and `Password` keys in any case.
#[derive(Deserialize, ToSchema)]
pub struct AnyCaseCredentials {
    /// The account's email.
    #[serde(rename = "Email")]
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// 8 to 1024 characters.
    #[serde(rename = "Password")]
    #[schema(value_type = String, min_length = 8, max_length = 1024)]
    password: SecretString,
}

impl AnyCaseFields for AnyCaseCredentials {
    const FIELDS: &'static [&'static str] = &["Email", "Password"];
}

/// A URL to check every `Period` minutes, keys in any case.
#[derive(Deserialize, ToSchema)]
pub struct AnyCaseUrl {
    /// The http(s) URL to check.
    #[serde(rename = "URL")]
    #[schema(format = "uri", max_length = 2048)]
    url: String,
    /// Minutes between checks, 1 to 100; default 1.
    #[serde(rename = "Period", default)]
    #[schema(minimum = 1, maximum = 100)]
    period: Option<i64>,
}

impl AnyCaseFields for AnyCaseUrl {
    const FIELDS: &'static [&'static str] = &["URL", "Period"];
}

const MAX_PERIOD_MINUTES: i64 = 100;

/// Register and login: the routes that hash, and so are throttled.
pub fn auth_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
}

/// Adding a URL.
pub fn url_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_url))
}

/// Creates an account (the seed's route).
#[utoipa::path(post, path = "/register", tag = "unversioned", operation_id = "unversioned_register",
    request_body = AnyCaseCredentials,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    AnyCaseJson(body): AnyCaseJson<AnyCaseCredentials>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let user = state.accounts.register(&body.email, body.password).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Logs in and answers the token as a bare JSON string, as the seed did.
#[utoipa::path(post, path = "/login", tag = "unversioned", operation_id = "unversioned_login",
    request_body = AnyCaseCredentials,
    responses((status = 200, description = "The token, as a JSON string",
        content_type = "application/json", body = String), (status = 401, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    AnyCaseJson(body): AnyCaseJson<AnyCaseCredentials>,
) -> Result<Json<String>, ApiError> {
    let issued = state.accounts.login(&body.email, body.password).await?;
    Ok(Json(issued.token))
}

/// Adds a URL to check every `Period` minutes.
#[utoipa::path(post, path = "/url", tag = "unversioned", operation_id = "unversioned_add_url",
    request_body = AnyCaseUrl,
    security(("token" = [])),
    responses((status = 201, body = MonitorView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_url(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    AnyCaseJson(body): AnyCaseJson<AnyCaseUrl>,
) -> Result<(StatusCode, Json<MonitorView>), ApiError> {
    let period = body.period.unwrap_or(1);
    let min_minutes = i64::from(state.monitors.rules().min_interval_secs.div_ceil(60)).max(1);
    if !(min_minutes..=MAX_PERIOD_MINUTES).contains(&period) {
        return Err(ApiError::Validation(format!(
            "Period: must be between {min_minutes} and {MAX_PERIOD_MINUTES} minutes (got {period})"
        )));
    }
    let draft = MonitorDraft {
        url: body.url,
        interval_seconds: Some(period as u32 * 60),
        ..MonitorDraft::default()
    };
    let monitor = state.monitors.create(user, draft).await?;
    Ok((StatusCode::CREATED, Json(monitor.into())))
}
