//! `/app/monitors/new` and `/app/monitors/{id}/edit`: a monitor's form, with the fields
//! named as in the API. The form becomes the API's draft (or patch), checked by the same
//! use case, and a refusal is shown with the API's message beside the field it names.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::WebError;
use super::layout::{csrf, field, page};
use super::session::{Posted, Viewer};
use crate::api::AppState;
use crate::monitor::{MonitorDraft, MonitorId, MonitorPatch};
use crate::service::ServiceError;

/// The form's fields, as typed; empty means "the default".
#[derive(Debug, Default, Deserialize)]
pub struct MonitorForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    interval_seconds: String,
    #[serde(default)]
    timeout_ms: String,
    #[serde(default)]
    expected_status: String,
    #[serde(default)]
    keyword: String,
    #[serde(default)]
    follow_redirects: String,
    #[serde(default)]
    failure_threshold: String,
    #[serde(default)]
    success_threshold: String,
    #[serde(default)]
    latency_threshold_ms: String,
}

/// Text fields and whole-number fields, as named in the API.
const TEXT: [&str; 5] = ["url", "name", "method", "expected_status", "keyword"];
const NUMBERS: [&str; 5] = [
    "interval_seconds",
    "timeout_ms",
    "failure_threshold",
    "success_threshold",
    "latency_threshold_ms",
];

impl MonitorForm {
    fn value(&self, name: &str) -> &str {
        match name {
            "url" => &self.url,
            "name" => &self.name,
            "method" => &self.method,
            "interval_seconds" => &self.interval_seconds,
            "timeout_ms" => &self.timeout_ms,
            "expected_status" => &self.expected_status,
            "keyword" => &self.keyword,
            "follow_redirects" => &self.follow_redirects,
            "failure_threshold" => &self.failure_threshold,
            "success_threshold" => &self.success_threshold,
            "latency_threshold_ms" => &self.latency_threshold_ms,
            _ => "",
        }
    }

    /// The form as the API's JSON body: an empty field is `null` (the default: left out
    /// of a new monitor, reset by an edit). A number that is not one, or no URL, is refused
    /// with the field named, as the API would.
    fn to_json(&self) -> Result<Map<String, Value>, FieldError> {
        let mut body = Map::new();
        if self.url.trim().is_empty() {
            return Err(FieldError {
                field: "url".into(),
                message: "url: is required: the address to check".into(),
            });
        }
        for name in TEXT {
            let raw = self.value(name).trim();
            let value = if raw.is_empty() {
                Value::Null
            } else {
                Value::String(raw.to_owned())
            };
            body.insert(name.to_owned(), value);
        }
        for name in NUMBERS {
            let raw = self.value(name).trim();
            let value = if raw.is_empty() {
                Value::Null
            } else {
                Value::from(raw.parse::<u32>().map_err(|_| FieldError {
                    field: name.to_owned(),
                    message: format!("{name}: must be a whole number (got `{raw}`)"),
                })?)
            };
            body.insert(name.to_owned(), value);
        }
        body.insert(
            "follow_redirects".into(),
            Value::Bool(self.follow_redirects != "false"),
        );
        Ok(body)
    }

    fn from_draft(draft: &MonitorDraft) -> Self {
        let n = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
        Self {
            url: draft.url.clone(),
            name: draft.name.clone().unwrap_or_default(),
            method: draft.method.clone().unwrap_or_default(),
            interval_seconds: n(draft.interval_seconds),
            timeout_ms: n(draft.timeout_ms),
            expected_status: draft.expected_status.clone().unwrap_or_default(),
            keyword: draft.keyword.clone().unwrap_or_default(),
            follow_redirects: draft
                .follow_redirects
                .map(|f| f.to_string())
                .unwrap_or_default(),
            failure_threshold: n(draft.failure_threshold),
            success_threshold: n(draft.success_threshold),
            latency_threshold_ms: n(draft.latency_threshold_ms),
        }
    }
}

/// A refusal to show beside a field (or above the form when `field` is empty).
#[derive(Debug)]
struct FieldError {
    field: String,
    message: String,
}

impl FieldError {
    fn from_service(error: ServiceError) -> Result<Self, WebError> {
        match error {
            ServiceError::Monitor(e) => Ok(Self {
                field: e.field().to_owned(),
                message: e.to_string(),
            }),
            ServiceError::Invalid(message) => Ok(Self {
                field: message.split(':').next().unwrap_or("").to_owned(),
                message,
            }),
            error @ ServiceError::NameTaken(_) => Ok(Self {
                field: "name".into(),
                message: format!("name: {error}"),
            }),
            ServiceError::Store(crate::store::StoreError::LimitReached { limit }) => Ok(Self {
                field: String::new(),
                message: format!("you have the most monitors allowed ({limit})"),
            }),
            other => Err(other.into()),
        }
    }
}

fn form(
    viewer: &Viewer,
    title: &str,
    action: &str,
    values: &MonitorForm,
    error: Option<&FieldError>,
) -> Markup {
    let err = |name: &str| {
        error
            .filter(|e| e.field == name)
            .map(|e| e.message.as_str())
    };
    let known = [TEXT.as_slice(), NUMBERS.as_slice(), &["follow_redirects"]].concat();
    let general = error.filter(|e| !known.contains(&e.field.as_str()));
    let text = |name: &str, label: &str, hint: Option<&str>| {
        field(name, label, "text", values.value(name), err(name), hint)
    };
    let number = |name: &str, label: &str, hint: Option<&str>| {
        field(name, label, "text", values.value(name), err(name), hint)
    };
    let follow = values.follow_redirects != "false";
    let body = html! {
        h1 { (title) }
        @if let Some(error) = general {
            p.notice.bad role="alert" { (error.message) }
        }
        form method="post" action=(action) novalidate {
            (csrf(viewer))
            (field("url", "URL", "url", values.value("url"), err("url"),
                Some("http(s)://…, tcp://host:port, tls://host:port or dns://resolver/name?type=A")))
            (text("name", "Name", Some("defaults to the URL's host")))
            (text("method", "HTTP method", Some("default GET")))
            (number("interval_seconds", "Check every (seconds)", Some("default 60")))
            (number("timeout_ms", "Timeout (ms)", Some("default 10000 or four fifths of the interval")))
            (text("expected_status", "Expected status codes", Some("e.g. 200-299,301; default 200-399")))
            (text("keyword", "Keyword the body must contain", None))
            div.field {
                label for="f-follow_redirects" { "Follow redirects" }
                select #f-follow_redirects name="follow_redirects" {
                    option value="true" selected[follow] { "yes" }
                    option value="false" selected[!follow] { "no" }
                }
            }
            (number("failure_threshold", "Failed checks in a row before down", Some("1 to 20; default 3")))
            (number("success_threshold", "Passing checks in a row before up again", Some("1 to 20; default 1")))
            (number("latency_threshold_ms", "Slow above (ms)", Some("a slow run makes it degraded; default none")))
            button type="submit" { "Save monitor" }
        }
    };
    page(title, Some(viewer), body)
}

/// `GET /app/monitors/new`
pub async fn new_page(viewer: Viewer) -> Markup {
    form(
        &viewer,
        "New monitor",
        "/app/monitors/new",
        &MonitorForm::default(),
        None,
    )
}

/// `POST /app/monitors/new`: creates the monitor and shows it.
pub async fn create(
    State(state): State<AppState>,
    Posted(viewer, values): Posted<MonitorForm>,
) -> Result<Response, WebError> {
    let refused = |error: FieldError| {
        let markup = form(
            &viewer,
            "New monitor",
            "/app/monitors/new",
            &values,
            Some(&error),
        );
        (StatusCode::UNPROCESSABLE_ENTITY, markup).into_response()
    };
    let draft = match values.to_json() {
        Ok(body) => serde_json::from_value::<MonitorDraft>(Value::Object(body)),
        Err(error) => return Ok(refused(error)),
    };
    let draft = match draft {
        Ok(draft) => draft,
        Err(e) => return Err(WebError::BadForm(format!("the form cannot be read: {e}"))),
    };
    match state.monitors.create(viewer.user, draft).await {
        Ok(monitor) => Ok(Redirect::to(&format!("/app/monitors/{}", monitor.id.0)).into_response()),
        Err(error) => Ok(refused(FieldError::from_service(error)?)),
    }
}

/// `GET /app/monitors/{id}/edit`
pub async fn edit_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Markup, WebError> {
    let monitor = state.monitors.get(viewer.user, MonitorId(id)).await?;
    let values = MonitorForm::from_draft(&monitor.spec.to_draft());
    let title = format!("Edit {}", monitor.spec.name());
    Ok(form(
        &viewer,
        &title,
        &format!("/app/monitors/{id}/edit"),
        &values,
        None,
    ))
}

/// `POST /app/monitors/{id}/edit`: empty fields go back to their defaults.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(viewer, values): Posted<MonitorForm>,
) -> Result<Response, WebError> {
    let monitor = state.monitors.get(viewer.user, MonitorId(id)).await?;
    let title = format!("Edit {}", monitor.spec.name());
    let action = format!("/app/monitors/{id}/edit");
    let refused = |error: FieldError| {
        let markup = form(&viewer, &title, &action, &values, Some(&error));
        (StatusCode::UNPROCESSABLE_ENTITY, markup).into_response()
    };
    let patch = match values.to_json() {
        Ok(mut body) => {
            // The interval has no default to go back to: an emptied one stays as it is.
            body.retain(|name, value| !(name == "interval_seconds" && value.is_null()));
            serde_json::from_value::<MonitorPatch>(Value::Object(body))
                .map_err(|e| WebError::BadForm(format!("the form cannot be read: {e}")))?
        }
        Err(error) => return Ok(refused(error)),
    };
    match state
        .monitors
        .update(viewer.user, MonitorId(id), patch)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/app/monitors/{id}")).into_response()),
        Err(error) => Ok(refused(FieldError::from_service(error)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_left_out_and_numbers_are_checked() {
        let form = MonitorForm {
            url: " https://example.com ".into(),
            interval_seconds: "30".into(),
            ..MonitorForm::default()
        };
        let body = form.to_json().expect("valid");
        assert_eq!(body["url"], "https://example.com");
        assert_eq!(body["interval_seconds"], 30);
        assert_eq!(body["name"], Value::Null);
        assert_eq!(body["follow_redirects"], true);
        let bad = MonitorForm {
            url: "https://example.com".into(),
            interval_seconds: "often".into(),
            ..MonitorForm::default()
        };
        let error = bad.to_json().expect_err("not a number");
        assert_eq!(error.field, "interval_seconds");
    }
}
