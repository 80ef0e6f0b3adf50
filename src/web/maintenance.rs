//! `/app/maintenance`: planned work during which alerts are muted: the account's windows,
//! a form for a new one (the API's fields: `name`, `monitor_ids`, `starts_at`, `ends_at`),
//! and deleting one.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::WebError;
use super::auth_pages::Empty;
use super::layout::{csrf, field, monitor_choice, page as shell, posted, posted_monitor_ids};
use super::session::{Posted, Viewer};
use crate::alerting::{MaintenanceId, WindowDraft};
use crate::api::AppState;
use crate::monitor::{Monitor, MonitorId};
use crate::service::ServiceError;

/// The form: times in UTC as a `datetime-local` input gives them (or RFC 3339), and the
/// monitors as repeated `monitor_ids` checkboxes (none: every monitor).
#[derive(Debug, Default, Deserialize)]
pub struct WindowForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
}

/// Reads a time typed into the form: `2026-12-01T22:00` (UTC) or a full RFC 3339 time.
fn time(field: &str, raw: &str) -> Result<DateTime<Utc>, (String, String)> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(raw, format) {
            return Ok(at.and_utc());
        }
    }
    Err((
        field.to_owned(),
        format!("{field}: `{raw}` is not a time such as 2026-12-01T22:00 (UTC)"),
    ))
}

fn view(
    viewer: &Viewer,
    monitors: &[Monitor],
    windows: &[crate::alerting::MaintenanceWindow],
    form: &WindowForm,
    error: Option<(&str, &str)>,
) -> Markup {
    let err = |name: &str| error.filter(|(f, _)| *f == name).map(|(_, m)| m);
    let names: HashMap<MonitorId, &str> = monitors.iter().map(|m| (m.id, m.spec.name())).collect();
    let body = html! {
        h1 { "Maintenance windows" }
        p.hint { "During a window, the monitors it covers are checked as usual but their incidents notify nobody." }
        @if windows.is_empty() {
            p { "No maintenance windows." }
        } @else {
            div.table-wrap { table {
                thead { tr { th { "Name" } th { "From" } th { "To" } th.hide-narrow { "Monitors" } th { span.sr-only { "Actions" } } } }
                tbody {
                    @for w in windows {
                        tr {
                            td { (w.spec.name()) }
                            td { (w.spec.starts_at().format("%Y-%m-%d %H:%M UTC")) }
                            td { (w.spec.ends_at().format("%Y-%m-%d %H:%M UTC")) }
                            td.hide-narrow {
                                @match w.spec.monitors() {
                                    None => "all",
                                    Some(ids) => {
                                        (ids.iter().map(|id| names.get(id).copied().unwrap_or("(deleted)")).collect::<Vec<_>>().join(", "))
                                    }
                                }
                            }
                            td {
                                form.inline method="post" action={"/app/maintenance/" (w.id.0) "/delete"} {
                                    (csrf(viewer))
                                    button.danger type="submit" aria-label={"Delete " (w.spec.name())} { "Delete" }
                                }
                            }
                        }
                    }
                }
            } }
        }
        h2 { "New window" }
        @if let Some((field, message)) = error.filter(|(f, _)| !["name", "starts_at", "ends_at"].contains(f)) {
            p.notice.bad role="alert" data-field=(field) { (message) }
        }
        form method="post" action="/app/maintenance" novalidate {
            (csrf(viewer))
            (field("name", "Name", "text", &form.name, err("name"), None))
            (field("starts_at", "Starts at (UTC)", "datetime-local", &form.starts_at, err("starts_at"), None))
            (field("ends_at", "Ends at (UTC)", "datetime-local", &form.ends_at, err("ends_at"), None))
            (monitor_choice("Monitors (none ticked: every monitor)", monitors, &[]))
            button type="submit" { "Add window" }
        }
    };
    shell("Maintenance", Some(viewer), body)
}

/// `GET /app/maintenance`
pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Result<Markup, WebError> {
    let monitors = state.monitors.list(viewer.user).await?;
    let windows = state.maintenance.list(viewer.user).await?;
    Ok(view(
        &viewer,
        &monitors,
        &windows,
        &WindowForm::default(),
        None,
    ))
}

/// `POST /app/maintenance`
pub async fn create(
    State(state): State<AppState>,
    Posted(viewer, pairs): Posted<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |name: &str| posted(&pairs, name).to_owned();
    let form = WindowForm {
        name: get("name"),
        starts_at: get("starts_at"),
        ends_at: get("ends_at"),
    };
    let ids = posted_monitor_ids(&pairs);
    let draft = (|| {
        let ids = ids.map_err(|_| {
            (
                "monitor_ids".to_owned(),
                "monitor_ids: must be monitor ids".to_owned(),
            )
        })?;
        Ok::<_, (String, String)>(WindowDraft {
            name: form.name.clone(),
            monitor_ids: (!ids.is_empty()).then_some(ids),
            starts_at: time("starts_at", &form.starts_at)?,
            ends_at: time("ends_at", &form.ends_at)?,
        })
    })();
    let (field, message) = match draft {
        Ok(draft) => match state.maintenance.create(viewer.user, draft).await {
            Ok(_) => return Ok(Redirect::to("/app/maintenance").into_response()),
            Err(ServiceError::Invalid(message)) => {
                (message.split(':').next().unwrap_or("").to_owned(), message)
            }
            Err(other) => return Err(other.into()),
        },
        Err(error) => error,
    };
    let monitors = state.monitors.list(viewer.user).await?;
    let windows = state.maintenance.list(viewer.user).await?;
    let markup = view(
        &viewer,
        &monitors,
        &windows,
        &form,
        Some((&field, &message)),
    );
    Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
}

/// `POST /app/maintenance/{id}/delete`
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(viewer, _): Posted<Empty>,
) -> Result<Response, WebError> {
    state
        .maintenance
        .delete(viewer.user, MaintenanceId(id))
        .await?;
    Ok(Redirect::to("/app/maintenance").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_times_are_utc() {
        let at = time("starts_at", "2026-12-01T22:00").expect("valid");
        assert_eq!(at.to_rfc3339(), "2026-12-01T22:00:00+00:00");
        assert!(time("starts_at", "2026-12-01T23:00:00+01:00").is_ok());
        let (field, message) = time("ends_at", "tomorrow").expect_err("not a time");
        assert_eq!(field, "ends_at");
        assert!(message.starts_with("ends_at:"));
    }
}
