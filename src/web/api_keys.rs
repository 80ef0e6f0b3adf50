//! The account page's API keys: listed (never the key itself), made through a form that shows
//! the new key once, and revoked one by one, all through the same use cases as `/api/v1/api-keys`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use maud::{Markup, html};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::WebError;
use super::account::account;
use super::auth_pages::Empty;
use super::layout::{csrf, field};
use super::session::{Posted, Viewer};
use crate::api::AppState;
use crate::auth::api_key::Scope;
use crate::service::ServiceError;
use crate::store::ApiKey;

/// The new-key form's fields, as named in the API.
#[derive(Deserialize, Default)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    expires_in_days: String,
}

/// What the keys section shows besides the list.
#[derive(Default)]
pub struct Shown<'a> {
    /// The form as typed, kept after a refusal.
    pub typed: Option<&'a KeyForm>,
    /// The refusal, as (field, message); an empty field means the form as a whole.
    pub error: Option<(&'a str, &'a str)>,
    /// A key just made, with its name: shown this once.
    pub created: Option<(&'a str, &'a str)>,
}

fn when(at: Option<DateTime<Utc>>, none: &str) -> Markup {
    html! {
        @match at {
            Some(at) => time datetime=(at.to_rfc3339_opts(SecondsFormat::Secs, true)) {
                (at.format("%Y-%m-%d %H:%M UTC"))
            },
            None => { (none) },
        }
    }
}

/// The keys section of the account page.
pub fn section(viewer: &Viewer, keys: &[ApiKey], shown: &Shown<'_>) -> Markup {
    let err = |name: &str| shown.error.filter(|(f, _)| *f == name).map(|(_, m)| m);
    let typed = |pick: fn(&KeyForm) -> &str| shown.typed.map(pick).unwrap_or("");
    let scope = shown.typed.map_or("read", |t| t.scope.as_str());
    let known = ["name", "scope", "expires_in_days"];
    html! {
        h2 id="api-keys" { "API keys" }
        @if let Some((name, key)) = shown.created {
            div.notice role="status" {
                p { "The key " strong { (name) } " is made. Copy it now: it is not shown again." }
                p { code.secret data-api-key { (key) } }
            }
        }
        @if keys.is_empty() {
            p.hint { "No API keys yet." }
        } @else {
            table {
                thead { tr { th { "Name" } th { "Scope" } th { "Created" } th { "Expires" } th { "Last used" } th { "Action" } } }
                tbody {
                    @for key in keys {
                        tr {
                            td { (key.name) }
                            td { (key.scope.as_str()) }
                            td { (when(Some(key.created_at), "")) }
                            td { (when(key.expires_at, "never")) }
                            td { (when(key.last_used_at, "never")) }
                            td {
                                form.inline method="post" action={"/app/account/api-keys/" (key.id) "/revoke"} {
                                    (csrf(viewer))
                                    button.danger type="submit" aria-label={"Revoke " (key.name)} { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h3 { "New API key" }
        @if let Some((field, message)) = shown.error.filter(|(f, _)| !known.contains(f)) {
            p.notice.bad role="alert" data-field=(field) { (message) }
        }
        form method="post" action="/app/account/api-keys" novalidate {
            (csrf(viewer))
            (field("name", "Name", "text", typed(|t| &t.name), err("name"), None))
            div.field {
                label for="f-scope" { "Scope" }
                select #f-scope name="scope" aria-describedby=[err("scope").map(|_| "f-scope-error")] {
                    option value="read" selected[scope == "read"] { "read" }
                    option value="write" selected[scope == "write"] { "write" }
                }
                @if let Some(error) = err("scope") {
                    p.error id="f-scope-error" data-field="scope" { (error) }
                }
            }
            (field("expires_in_days", "Expires in days", "number", typed(|t| &t.expires_in_days), err("expires_in_days"), Some("Empty: never expires")))
            button type="submit" { "Make key" }
        }
    }
}

/// The form's fields parsed as the API would, or (field, message).
fn parse(form: &KeyForm) -> Result<(Scope, Option<u32>), ServiceError> {
    let scope = Scope::parse(form.scope.trim()).ok_or_else(|| {
        ServiceError::Invalid(format!(
            "scope: must be read or write (got `{}`)",
            form.scope.trim()
        ))
    })?;
    let days = form.expires_in_days.trim();
    let days = if days.is_empty() {
        None
    } else {
        Some(days.parse::<u32>().map_err(|_| {
            ServiceError::Invalid(format!(
                "expires_in_days: must be a whole number of days (got `{days}`)"
            ))
        })?)
    };
    Ok((scope, days))
}

/// `POST /app/account/api-keys`: the new key is in this answer only.
pub async fn create(
    State(state): State<AppState>,
    Posted(viewer, form): Posted<KeyForm>,
) -> Result<Response, WebError> {
    let me = state.accounts.me(viewer.user).await?;
    let made = match parse(&form) {
        Ok((scope, days)) => {
            state
                .accounts
                .create_api_key(viewer.user, &form.name, scope, days)
                .await
        }
        Err(error) => Err(error),
    };
    let message = match made {
        Ok(made) => {
            let keys = state.accounts.api_keys(viewer.user).await?;
            let shown = Shown {
                created: Some((&made.info.name, made.key.expose_secret())),
                ..Shown::default()
            };
            let markup = account(
                &viewer,
                me.email.as_str(),
                None,
                None,
                section(&viewer, &keys, &shown),
            );
            return Ok(markup.into_response());
        }
        Err(ServiceError::Invalid(message)) => message,
        Err(other) => return Err(other.into()),
    };
    let field = message.split(':').next().unwrap_or("");
    let field = if field.contains(' ') { "" } else { field };
    let keys = state.accounts.api_keys(viewer.user).await?;
    let shown = Shown {
        typed: Some(&form),
        error: Some((field, &message)),
        created: None,
    };
    let markup = account(
        &viewer,
        me.email.as_str(),
        None,
        None,
        section(&viewer, &keys, &shown),
    );
    Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
}

/// `POST /app/account/api-keys/{id}/revoke`: the key stops working at once.
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(viewer, _): Posted<Empty>,
) -> Result<Response, WebError> {
    state.accounts.revoke_api_key(viewer.user, id).await?;
    Ok(Redirect::to("/app/account#api-keys").into_response())
}
