//! The `CurrentUser` extractor: who sent the request, from the `Authorization` header.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::auth::UserId;
use crate::service::Caller;

/// The user a valid token was issued to, whose account exists and whose token is of its
/// current generation.
///
/// Accepts `Authorization: Bearer <token>` and, as the seed's clients send it, the bare
/// token (`Authorization: <token>`).
#[derive(Debug, Clone, Copy)]
pub struct CurrentUser(pub UserId);

/// Like [`CurrentUser`], for routes only the instance's administrator may use: anyone else
/// gets 403.
#[derive(Debug, Clone, Copy)]
pub struct Administrator(pub UserId);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(caller(parts, state).await?.id))
    }
}

impl FromRequestParts<AppState> for Administrator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = caller(parts, state).await?;
        if !caller.admin {
            return Err(ApiError::Forbidden {
                code: "admin_only",
                message: "only the instance's administrator (its first account) may see this"
                    .into(),
            });
        }
        Ok(Self(caller.id))
    }
}

/// The caller the `Authorization` header names, checked with the store.
async fn caller(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::Unauthorized {
            code: "missing_token",
            message: "missing Authorization header: log in and send the token".into(),
        });
    };
    let invalid = |why: &str| ApiError::Unauthorized {
        code: "invalid_token",
        message: format!("invalid token: {why}"),
    };
    let value = value
        .to_str()
        .map_err(|_| invalid("the header is not ASCII"))?
        .trim();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return Err(invalid("expected `Bearer <token>` or the bare token")),
        None => value,
    };
    // Clients that kept the seed's JSON answer verbatim send the token in quotes.
    let token = token.trim_matches('"');
    if token.is_empty() {
        return Err(invalid("empty"));
    }
    Ok(state.accounts.authenticate(token).await?)
}
