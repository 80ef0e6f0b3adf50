//! The page shell every page shares (head, navigation, skip link) and the embedded assets.

use std::num::ParseIntError;

use axum::http::header;
use axum::response::IntoResponse;
use maud::{DOCTYPE, Markup, html};

use super::session::{CSRF_FIELD, Viewer};
use crate::monitor::Monitor;

/// The stylesheet, embedded in the binary.
pub const STYLE: &str = include_str!("assets/style.css");
/// The live-update script, embedded in the binary.
pub const SCRIPT: &str = include_str!("assets/live.js");

/// A whole page: `title`, the navigation for `viewer` (none on the login pages), `body`.
pub fn page(title: &str, viewer: Option<&Viewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · tocsin" }
                link rel="stylesheet" href="/app/assets/style.css";
                link rel="icon" href="data:,";
                @if viewer.is_some() {
                    script src="/app/assets/live.js" defer {}
                }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/app" { "tocsin" }
                    @if let Some(viewer) = viewer {
                        nav aria-label="Main" {
                            a href="/app" { "Monitors" }
                            a href="/app/monitors/new" { "New monitor" }
                            a href="/app/incidents" { "Incidents" }
                            a href="/app/channels" { "Channels" }
                            a href="/app/maintenance" { "Maintenance" }
                            a href="/app/status-pages" { "Status pages" }
                            a href="/app/account" { "Account" }
                            form.inline method="post" action="/app/logout" {
                                (csrf(viewer))
                                button.link type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

/// The hidden CSRF field of a form posted by `viewer`.
pub fn csrf(viewer: &Viewer) -> Markup {
    csrf_token(&viewer.csrf)
}

/// A hidden CSRF field holding `token`.
pub fn csrf_token(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// A labelled input with its error, if any, beside it (linked by `aria-describedby`).
pub fn field(
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    error: Option<&str>,
    hint: Option<&str>,
) -> Markup {
    let id = format!("f-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = match (error.is_some(), hint.is_some()) {
        (true, true) => Some(format!("{error_id} {hint_id}")),
        (true, false) => Some(error_id.clone()),
        (false, true) => Some(hint_id.clone()),
        (false, false) => None,
    };
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) value=(value)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[described];
            @if let Some(hint) = hint {
                small.hint id=(hint_id) { (hint) }
            }
            @if let Some(error) = error {
                p.error id=(error_id) data-field=(name) { (error) }
            }
        }
    }
}

/// The value a posted form carried for `name`, or "" when it carried none.
pub fn posted<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The `monitor_ids` ticked in a posted form; an error when one is not a number.
pub fn posted_monitor_ids(pairs: &[(String, String)]) -> Result<Vec<i64>, ParseIntError> {
    pairs
        .iter()
        .filter(|(k, _)| k == "monitor_ids")
        .map(|(_, v)| v.parse::<i64>())
        .collect()
}

/// The account's monitors as `monitor_ids` checkboxes under `legend`, the `ticked` ones
/// checked; nothing when the account has no monitors.
pub fn monitor_choice(legend: &str, monitors: &[Monitor], ticked: &[i64]) -> Markup {
    html! {
        @if !monitors.is_empty() {
            fieldset.field {
                legend { (legend) }
                @for m in monitors {
                    label.check {
                        input type="checkbox" name="monitor_ids" value=(m.id.0)
                            checked[ticked.contains(&m.id.0)];
                        " " (m.spec.name())
                    }
                }
            }
        }
    }
}

/// `GET /app/assets/style.css`
pub async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
}

/// `GET /app/assets/live.js`
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
}
