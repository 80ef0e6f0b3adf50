//! The one mapping from every failure to an HTTP answer: `{"error": {"code", "message"}}`.
//!
//! Client mistakes get a 4xx whose message names what was wrong; anything else is logged in
//! full here and answered with a bare 500 or 503, so internals never leak to a client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::monitor::MonitorError;
use crate::service::ServiceError;
use crate::store::StoreError;

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all, or is cut short.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The JSON has the wrong shape: a missing field, a wrong type, an unknown key.
    #[error("{0}")]
    InvalidJson(String),
    /// A field's value breaks a rule.
    #[error("{0}")]
    Validation(String),
    /// The monitor's URL is a literal internal address.
    #[error("{0}")]
    PrivateTarget(String),
    /// A path or query parameter is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// No usable credentials or token; `code` says which case.
    #[error("{message}")]
    Unauthorized {
        /// `missing_token`, `invalid_token`, `token_expired` or `invalid_credentials`.
        code: &'static str,
        /// Explanation for the client.
        message: String,
    },
    /// The caller may not do this; `code` says why.
    #[error("{message}")]
    Forbidden {
        /// `registration_closed` or `admin_only`.
        code: &'static str,
        /// Explanation for the client.
        message: String,
    },
    /// The account may not have more monitors.
    #[error("monitor limit reached: an account may have at most {0} monitors")]
    MonitorLimit(u32),
    /// Nothing here, or nothing of the caller's.
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// The email is already registered.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// A unique value other than the email is taken (a channel's name).
    #[error("{0}")]
    Conflict(String),
    /// A unique value other than an email is taken; the payload names it (`slug`).
    #[error("this {0} is already taken: choose another")]
    Taken(&'static str),
    /// The body is over the limit.
    #[error("request body is larger than {} bytes", super::json::MAX_BODY_BYTES)]
    PayloadTooLarge,
    /// The body is not declared as JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many attempts from this address.
    #[error("too many requests: retry in {0} s")]
    TooManyRequests(u64),
    /// The store cannot be reached; the detail is logged, not sent.
    #[error("service temporarily unavailable")]
    Unavailable(String),
    /// A bug or an unexpected failure; the detail is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable snake_case code for programs.
    pub code: &'static str,
    /// A sentence for people, naming the field or value at fault.
    pub message: String,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Self::InvalidJson(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_json"),
            Self::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            Self::PrivateTarget(_) => (StatusCode::UNPROCESSABLE_ENTITY, "private_target"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Unauthorized { code, .. } => (StatusCode::UNAUTHORIZED, code),
            Self::MonitorLimit(_) => (StatusCode::FORBIDDEN, "monitor_limit_reached"),
            Self::Forbidden { code, .. } => (StatusCode::FORBIDDEN, code),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::Taken("slug") => (StatusCode::CONFLICT, "slug_taken"),
            Self::Taken(_) => (StatusCode::CONFLICT, "conflict"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// A 404 for a monitor that does not exist or is not the caller's: the same answer for
    /// both, so ids cannot be probed.
    pub fn monitor_not_found() -> Self {
        Self::NotFound("monitor not found".into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(detail) => tracing::error!(%detail, "request failed"),
            Self::Unavailable(detail) => tracing::warn!(%detail, "store unavailable"),
            _ => {}
        }
        let (status, code) = self.status_and_code();
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            Self::TooManyRequests(secs) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            Self::Unauthorized { .. } => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let unauthorized = |code, error: &AuthError| Self::Unauthorized {
            code,
            message: error.to_string(),
        };
        match error {
            AuthError::InvalidEmail(_) | AuthError::InvalidPassword(_) => {
                Self::Validation(error.to_string())
            }
            AuthError::InvalidCredentials => unauthorized("invalid_credentials", &error),
            AuthError::InvalidToken(_) => unauthorized("invalid_token", &error),
            AuthError::TokenExpired => unauthorized("token_expired", &error),
            AuthError::TokenRevoked(_) => unauthorized("token_revoked", &error),
            AuthError::Internal(detail) => Self::Internal(detail),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict("email") => Self::EmailTaken,
            StoreError::Conflict(what) => Self::Taken(what),
            StoreError::LimitReached { limit } => Self::MonitorLimit(limit),
            StoreError::Unavailable(detail) => Self::Unavailable(detail),
            StoreError::Backend(_) | StoreError::Corrupt(_) => Self::Internal(error.to_string()),
        }
    }
}

impl From<MonitorError> for ApiError {
    fn from(error: MonitorError) -> Self {
        match error {
            MonitorError::Invalid { .. } => Self::Validation(error.to_string()),
            MonitorError::Blocked { message } => Self::PrivateTarget(message),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Auth(e) => e.into(),
            ServiceError::Monitor(e) => e.into(),
            ServiceError::Store(e) => e.into(),
            ServiceError::Invalid(message) => Self::Validation(message),
            ServiceError::Conflict(message) => Self::Conflict(message),
            ServiceError::Blocked(message) => Self::PrivateTarget(message),
            ServiceError::StatusPage(e) => Self::Validation(e.to_string()),
            ServiceError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            ServiceError::RegistrationClosed => Self::Forbidden {
                code: "registration_closed",
                message: error.to_string(),
            },
            ServiceError::Forbidden(why) => Self::Forbidden {
                code: "admin_only",
                message: why.to_owned(),
            },
        }
    }
}
