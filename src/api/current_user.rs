//! The `CurrentUser` extractor: who sent the request, from the `Authorization` header.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};

use super::AppState;
use super::error::ApiError;
use crate::auth::UserId;
use crate::auth::api_key::Scope;
use crate::service::Caller;

/// The user a valid token was issued to, whose account exists and whose token is of its
/// current generation.
///
/// Accepts `Authorization: Bearer <token>` and, as the seed's clients send it, the bare
/// token (`Authorization: <token>`); an API key (`tcn_…`) works wherever a token does, and
/// a read-only key gets 403 on any method but GET, HEAD and OPTIONS.
#[derive(Debug, Clone, Copy)]
pub struct CurrentUser(pub UserId);

/// Like [`CurrentUser`], for routes only the instance's administrator may use: anyone else
/// gets 403.
#[derive(Debug, Clone, Copy)]
pub struct Administrator(pub UserId);

/// Like [`CurrentUser`] but with the credential's scope, for a route that decides itself
/// what a read-only key may do there (a dry run of `apply` only reads).
#[derive(Debug, Clone, Copy)]
pub struct AnyScope(pub Caller);

impl FromRequestParts<AppState> for AnyScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(caller(parts, state).await?))
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(scoped(parts, state).await?.id))
    }
}

/// Refuses a caller whose credential is a read-only API key.
pub fn writable(caller: Caller) -> Result<(), ApiError> {
    match caller.scope {
        Scope::Write => Ok(()),
        Scope::Read => Err(ApiError::Forbidden {
            code: "read_only_key",
            message: "this API key's scope is `read`: it may not change anything (make a \
                      `write` key for this)"
                .into(),
        }),
    }
}

impl FromRequestParts<AppState> for Administrator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = scoped(parts, state).await?;
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

/// The caller, refused if its key is read-only and the method may change something: the
/// check is made here once for every route, those of later features included.
async fn scoped(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let caller = caller(parts, state).await?;
    if ![Method::GET, Method::HEAD, Method::OPTIONS].contains(&parts.method) {
        writable(caller)?;
    }
    Ok(caller)
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
