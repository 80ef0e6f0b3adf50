//! `/app/account`: who is logged in, a password change (which ends every other session) and
//! the account's API keys (see `api_keys`).

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use secrecy::SecretString;
use serde::Deserialize;

use super::layout::{csrf, field, page as shell};
use super::session::{Posted, Viewer, session_cookie};
use super::{WebError, api_keys};
use crate::api::AppState;
use crate::auth::AuthError;
use crate::service::ServiceError;

/// The password form's fields, as named in the API.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// The account page, with `keys` (the API keys section) after the password form.
pub(super) fn account(
    viewer: &Viewer,
    email: &str,
    notice: Option<&str>,
    error: Option<(&str, &str)>,
    keys: Markup,
) -> Markup {
    let err = |name: &str| error.filter(|(f, _)| *f == name).map(|(_, m)| m);
    let body = html! {
        h1 { "Account" }
        @if let Some(notice) = notice {
            p.notice role="status" { (notice) }
        }
        dl.facts { dt { "Email" } dd { (email) } }
        h2 { "Change the password" }
        p.hint { "Every other browser and every API token of this account is logged out." }
        form method="post" action="/app/account/password" novalidate {
            (csrf(viewer))
            (field("current_password", "Current password", "password", "", err("current_password"), None))
            (field("new_password", "New password", "password", "", err("new_password"), Some("8 to 1024 characters")))
            button type="submit" { "Change password" }
        }
        (keys)
    };
    shell("Account", Some(viewer), body)
}

/// `?changed=1` after a password change.
#[derive(Deserialize)]
pub struct Changed {
    #[serde(default)]
    changed: Option<String>,
}

/// `GET /app/account`
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<Changed>,
) -> Result<Markup, WebError> {
    let me = state.accounts.me(viewer.user).await?;
    let notice = query
        .changed
        .is_some()
        .then_some("The password is changed; every other session and API token is logged out.");
    let keys = state.accounts.api_keys(viewer.user).await?;
    let keys = api_keys::section(&viewer, &keys, &api_keys::Shown::default());
    Ok(account(&viewer, me.email.as_str(), notice, None, keys))
}

/// `POST /app/account/password`: the API's rules and messages; this browser stays logged in
/// with a new session.
pub async fn change_password(
    State(state): State<AppState>,
    Posted(viewer, form): Posted<PasswordForm>,
) -> Result<Response, WebError> {
    let me = state.accounts.me(viewer.user).await?;
    let result = state
        .sessions
        .change_password(
            viewer.user,
            SecretString::from(form.current_password),
            SecretString::from(form.new_password),
        )
        .await;
    let message = match result {
        Ok(opened) => {
            let mut response = Redirect::to("/app/account?changed=1").into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(&state, &opened.cookie));
            return Ok(response);
        }
        Err(ServiceError::Invalid(message)) => message,
        Err(ServiceError::Auth(AuthError::InvalidPassword(why))) => {
            format!("current_password: {why}")
        }
        Err(other) => return Err(other.into()),
    };
    let field = message.split(':').next().unwrap_or("").to_owned();
    let keys = state.accounts.api_keys(viewer.user).await?;
    let keys = api_keys::section(&viewer, &keys, &api_keys::Shown::default());
    let markup = account(
        &viewer,
        me.email.as_str(),
        None,
        Some((&field, &message)),
        keys,
    );
    Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
}
