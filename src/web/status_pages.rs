//! `/app/status-pages`: the account's public status pages: a link to each, the badges to
//! embed for its monitors, a form for a new one (the API's fields: `slug`, `title`,
//! `description`, `monitor_ids`) and deleting one. The public pages themselves are
//! [`crate::public`]'s.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::WebError;
use super::auth_pages::Empty;
use super::layout::{csrf, field, monitor_choice, page as shell, posted, posted_monitor_ids};
use super::session::{Posted, Viewer};
use crate::api::AppState;
use crate::monitor::{Monitor, MonitorId};
use crate::public::{StatusPage, StatusPageDraft, StatusPageId};
use crate::service::ServiceError;
use crate::store::StoreError;

/// What was typed into the form, shown again with an error.
#[derive(Debug, Default)]
struct Typed {
    slug: String,
    title: String,
    description: String,
    monitor_ids: Vec<i64>,
}

/// The address pages are reached at: `TOCSIN_PUBLIC_URL` when set, else this page's own
/// origin (a relative link).
fn base(state: &AppState) -> String {
    state
        .public_url
        .as_ref()
        .map(|url| url.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

fn view(
    state: &AppState,
    viewer: &Viewer,
    monitors: &[Monitor],
    pages: &[StatusPage],
    typed: &Typed,
    error: Option<(&str, &str)>,
) -> Markup {
    let err = |name: &str| error.filter(|(f, _)| *f == name).map(|(_, m)| m);
    let names: HashMap<MonitorId, &str> = monitors.iter().map(|m| (m.id, m.spec.name())).collect();
    let base = base(state);
    let body = html! {
        h1 { "Status pages" }
        p.hint { "A status page is public: anyone with its address sees the state and uptime of the monitors on it, and nothing about the others." }
        @if pages.is_empty() {
            p { "No status pages yet." }
        }
        @for p in pages {
            section.card aria-labelledby={"page-" (p.id.0)} {
                h2 id={"page-" (p.id.0)} { (p.spec.title) }
                @let address = format!("{base}/status/{}", p.spec.slug.as_str());
                p { a href={"/status/" (p.spec.slug.as_str())} { (address) } }
                @if p.spec.monitor_ids.is_empty() {
                    p { "No monitors on it." }
                } @else {
                    p { "Badges to embed (Markdown):" }
                    ul.badges {
                        @for id in &p.spec.monitor_ids {
                            li {
                                (names.get(id).copied().unwrap_or("(deleted)")) ": "
                                code { "![status](" (address) "/badges/" (id.0) "/status.svg)" }
                            }
                        }
                    }
                }
                form.inline method="post" action={"/app/status-pages/" (p.id.0) "/delete"} {
                    (csrf(viewer))
                    button.danger type="submit" aria-label={"Delete " (p.spec.title)} { "Delete" }
                }
            }
        }
        h2 { "New status page" }
        @if let Some((field, message)) = error.filter(|(f, _)| !["slug", "title", "description"].contains(f)) {
            p.notice.bad role="alert" data-field=(field) { (message) }
        }
        form method="post" action="/app/status-pages" novalidate {
            (csrf(viewer))
            (field("slug", "Address (slug)", "text", &typed.slug, err("slug"),
                Some("lowercase letters, digits and dashes: /status/your-slug")))
            (field("title", "Title", "text", &typed.title, err("title"), None))
            (field("description", "Description", "text", &typed.description, err("description"), Some("optional")))
            (monitor_choice("Monitors on the page", monitors, &typed.monitor_ids))
            button type="submit" { "Make status page" }
        }
    };
    shell("Status pages", Some(viewer), body)
}

/// `GET /app/status-pages`
pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Result<Markup, WebError> {
    let monitors = state.monitors.list(viewer.user).await?;
    let pages = state.status_pages.list(viewer.user).await?;
    Ok(view(
        &state,
        &viewer,
        &monitors,
        &pages,
        &Typed::default(),
        None,
    ))
}

/// `POST /app/status-pages`
pub async fn create(
    State(state): State<AppState>,
    Posted(viewer, pairs): Posted<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |name: &str| posted(&pairs, name).trim().to_owned();
    let ids = posted_monitor_ids(&pairs);
    let typed = Typed {
        slug: get("slug"),
        title: get("title"),
        description: get("description"),
        monitor_ids: ids.clone().unwrap_or_default(),
    };
    let (field, message) = match ids {
        Err(_) => (
            "monitor_ids".to_owned(),
            "monitor_ids: must be monitor ids".to_owned(),
        ),
        Ok(ids) => {
            let draft = StatusPageDraft {
                slug: typed.slug.clone(),
                title: typed.title.clone(),
                description: (!typed.description.is_empty()).then(|| typed.description.clone()),
                monitor_ids: Some(ids),
            };
            match state.status_pages.create(viewer.user, draft).await {
                Ok(_) => return Ok(Redirect::to("/app/status-pages").into_response()),
                Err(ServiceError::StatusPage(e)) => (e.field.to_owned(), e.to_string()),
                Err(ServiceError::Store(StoreError::Conflict(what))) => (
                    "slug".to_owned(),
                    format!("slug: `{}` is taken ({what} already exists)", typed.slug),
                ),
                Err(ServiceError::Conflict(message)) => ("slug".to_owned(), message),
                Err(other) => return Err(other.into()),
            }
        }
    };
    let monitors = state.monitors.list(viewer.user).await?;
    let pages = state.status_pages.list(viewer.user).await?;
    let markup = view(
        &state,
        &viewer,
        &monitors,
        &pages,
        &typed,
        Some((&field, &message)),
    );
    Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
}

/// `POST /app/status-pages/{id}/delete`
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(viewer, _): Posted<Empty>,
) -> Result<Response, WebError> {
    state
        .status_pages
        .delete(viewer.user, StatusPageId(id))
        .await?;
    Ok(Redirect::to("/app/status-pages").into_response())
}
