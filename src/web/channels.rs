//! `/app/channels`: where alerts go: the account's channels, a form for a new one (the
//! API's fields: `name`, `kind` and the kind's own), a test send, and deleting one. Secrets
//! are never shown back.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde_json::{Map, Value};

use super::WebError;
use super::auth_pages::Empty;
use super::layout::{csrf, field, page as shell, posted};
use super::session::{Posted, Viewer};
use crate::alerting::ChannelId;
use crate::alerting::channels::{Channel, ChannelKind};
use crate::api::AppState;
use crate::service::ServiceError;
use crate::service::channels::ChannelDraft;

/// The kinds' own fields, as named in the API, with their labels; a kind uses some of them.
const SETTINGS: [(&str, &str); 9] = [
    ("url", "URL (webhook, slack, discord, teams)"),
    ("secret", "Signing secret (webhook, optional)"),
    ("to", "Email addresses, comma-separated (email)"),
    ("topic", "Topic (ntfy)"),
    ("server", "Server (ntfy, optional)"),
    ("token", "Access token (ntfy, optional)"),
    ("bot_token", "Bot token (telegram)"),
    ("chat_id", "Chat id (telegram)"),
    ("routing_key", "Routing key (pagerduty)"),
];

fn view(
    viewer: &Viewer,
    channels: &[Channel],
    typed: &[(String, String)],
    notice: Option<&str>,
    error: Option<(&str, &str)>,
) -> Markup {
    let value = |name: &str| posted(typed, name);
    let err = |name: &str| error.filter(|(f, _)| *f == name).map(|(_, m)| m);
    let known: Vec<&str> = ["name", "kind"]
        .into_iter()
        .chain(SETTINGS.iter().map(|(n, _)| *n))
        .collect();
    let body = html! {
        h1 { "Alert channels" }
        @if let Some(notice) = notice {
            p.notice role="status" { (notice) }
        }
        @if channels.is_empty() {
            p { "No channels yet: a monitor's incidents are only logged. Add one below, then name it in a monitor's channel_ids (API) to be told." }
        } @else {
            div.table-wrap { table {
                thead { tr { th { "Name" } th { "Kind" } th { "Id" } th { span.sr-only { "Actions" } } } }
                tbody {
                    @for c in channels {
                        tr {
                            td { (c.name) }
                            td { (c.config.kind().as_str()) }
                            td { (c.id.0) }
                            td {
                                div.actions {
                                    form.inline method="post" action={"/app/channels/" (c.id.0) "/test"} {
                                        (csrf(viewer))
                                        button.secondary type="submit" aria-label={"Send a test to " (c.name)} { "Test" }
                                    }
                                    form.inline method="post" action={"/app/channels/" (c.id.0) "/delete"} {
                                        (csrf(viewer))
                                        button.danger type="submit" aria-label={"Delete " (c.name)} { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
        h2 { "New channel" }
        @if let Some((field, message)) = error.filter(|(f, _)| !known.contains(f)) {
            p.notice.bad role="alert" data-field=(field) { (message) }
        }
        form method="post" action="/app/channels" novalidate {
            (csrf(viewer))
            (field("name", "Name", "text", value("name"), err("name"), None))
            div.field {
                label for="f-kind" { "Kind" }
                select #f-kind name="kind" aria-describedby=[err("kind").map(|_| "f-kind-error")] {
                    @for kind in ChannelKind::ALL {
                        option value=(kind.as_str()) selected[value("kind") == kind.as_str()] { (kind.as_str()) }
                    }
                }
                @if let Some(error) = err("kind") {
                    p.error id="f-kind-error" data-field="kind" { (error) }
                }
            }
            @for (name, label) in SETTINGS {
                @let shown = if ["secret", "token", "bot_token", "routing_key"].contains(&name) { "" } else { value(name) };
                (field(name, label, "text", shown, err(name), None))
            }
            button type="submit" { "Add channel" }
        }
    };
    shell("Channels", Some(viewer), body)
}

/// `GET /app/channels`
pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Result<Markup, WebError> {
    let channels = state.channels.list(viewer.user).await?;
    Ok(view(&viewer, &channels, &[], None, None))
}

/// The form as the API's body: empty fields left out, `to` split at commas.
fn body(typed: &[(String, String)]) -> Map<String, Value> {
    let mut object = Map::new();
    for (key, value) in typed {
        let value = value.trim();
        if key == "csrf" || value.is_empty() {
            continue;
        }
        let value = if key == "to" {
            Value::Array(
                value
                    .split(',')
                    .map(|a| Value::String(a.trim().to_owned()))
                    .filter(|a| a.as_str().is_some_and(|s| !s.is_empty()))
                    .collect(),
            )
        } else {
            Value::String(value.to_owned())
        };
        object.insert(key.clone(), value);
    }
    object
}

/// `POST /app/channels`
pub async fn create(
    State(state): State<AppState>,
    Posted(viewer, typed): Posted<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let made = match ChannelDraft::from_object(body(&typed)) {
        Ok(draft) => state.channels.create(viewer.user, draft).await,
        Err(error) => Err(error),
    };
    let message = match made {
        Ok(_) => return Ok(Redirect::to("/app/channels").into_response()),
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m) | ServiceError::Blocked(m)) => m,
        Err(other) => return Err(other.into()),
    };
    // `to[0]: …` is about the `to` field.
    let field = message
        .split(':')
        .next()
        .and_then(|f| f.split('[').next())
        .unwrap_or("")
        .to_owned();
    let field = if field.contains(' ') {
        String::new()
    } else {
        field
    };
    let channels = state.channels.list(viewer.user).await?;
    let markup = view(&viewer, &channels, &typed, None, Some((&field, &message)));
    Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
}

/// `POST /app/channels/{id}/test`: sends a test event now and says how it went.
pub async fn test(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(viewer, _): Posted<Empty>,
) -> Result<Markup, WebError> {
    let outcome = state.channels.test(viewer.user, ChannelId(id)).await?;
    let notice = match (&outcome.delivered, &outcome.error) {
        (true, _) => "The test was delivered.".to_owned(),
        (false, Some(error)) => format!("The test was not delivered: {error}"),
        (false, None) => "The test was not delivered.".to_owned(),
    };
    let channels = state.channels.list(viewer.user).await?;
    Ok(view(&viewer, &channels, &[], Some(&notice), None))
}

/// `POST /app/channels/{id}/delete`
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(viewer, _): Posted<Empty>,
) -> Result<Response, WebError> {
    state.channels.delete(viewer.user, ChannelId(id)).await?;
    Ok(Redirect::to("/app/channels").into_response())
}
