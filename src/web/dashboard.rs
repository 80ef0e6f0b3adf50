//! `/app`: every monitor with its state, name, URL, 24 h uptime, last checks and latency,
//! filtered by state and searched by name or URL on the server, a page at a time.

use std::collections::HashMap;

use axum::extract::{Query, State};
use futures_util::future::join_all;
use maud::{Markup, html};
use serde::Deserialize;

use super::WebError;
use super::charts::{self, TICKS};
use super::layout::page as shell;
use super::session::Viewer;
use crate::api::AppState;
use crate::check::stats::Window;
use crate::monitor::Monitor;

/// Monitors per page: the figures of a page are read for its monitors only.
pub const PAGE_SIZE: usize = 50;

/// The states one can filter by, in the order the filter lists them.
const STATES: [&str; 5] = ["up", "down", "degraded", "pending", "paused"];

/// The dashboard's query: `?state=down&q=shop&page=2`.
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    page: Option<usize>,
}

/// A monitor's state as shown: `paused` over its verdict.
pub fn state_name(monitor: &Monitor) -> &'static str {
    if monitor.paused {
        "paused"
    } else {
        monitor.state.as_str()
    }
}

/// The state as a badge that the live script keeps current.
pub fn state_badge(monitor: &Monitor) -> Markup {
    let state = state_name(monitor);
    html! {
        span class={"state state-" (state)} data-state-of=(monitor.id.0) { (state) }
    }
}

/// What the dashboard shows of one monitor beside its settings.
struct Row {
    monitor: Monitor,
    oks: Vec<bool>,
    latencies: Vec<f64>,
    uptime: Option<f64>,
}

/// `GET /app`
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(filter): Query<Filter>,
) -> Result<Markup, WebError> {
    let all = state.monitors.list(viewer.user).await?;
    let total = all.len();
    let mut counts = [0usize; STATES.len()];
    for monitor in &all {
        if let Some(i) = STATES.iter().position(|s| *s == state_name(monitor)) {
            counts[i] += 1;
        }
    }
    let wanted = filter.state.as_deref().filter(|s| STATES.contains(s));
    let needle = filter.q.as_deref().unwrap_or("").trim().to_lowercase();
    let matching: Vec<Monitor> = all
        .into_iter()
        .filter(|m| wanted.is_none_or(|s| state_name(m) == s))
        .filter(|m| {
            needle.is_empty()
                || m.spec.name().to_lowercase().contains(&needle)
                || m.spec.target().as_str().to_lowercase().contains(&needle)
        })
        .collect();
    let pages = matching.len().div_ceil(PAGE_SIZE).max(1);
    let page_no = filter.page.unwrap_or(1).clamp(1, pages);
    let shown: Vec<Monitor> = matching
        .iter()
        .skip((page_no - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .cloned()
        .collect();
    let ids: Vec<_> = shown.iter().map(|m| m.id).collect();
    let uptimes: HashMap<_, _> = state
        .monitors
        .uptimes(viewer.user, &ids, Window::Day)
        .await?
        .into_iter()
        .collect();
    let rows = join_all(shown.into_iter().map(|m| {
        let uptime = uptimes.get(&m.id).copied();
        figures(&state, viewer.user, m, uptime)
    }))
    .await;
    let rows = rows.into_iter().collect::<Result<Vec<_>, WebError>>()?;

    let link = |page: usize| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(s) = wanted {
            query.append_pair("state", s);
        }
        if !needle.is_empty() {
            query.append_pair("q", filter.q.as_deref().unwrap_or(""));
        }
        query.append_pair("page", &page.to_string());
        format!("/app?{}", query.finish())
    };
    let body = html! {
        h1 { "Monitors" }
        @if total == 0 {
            p.notice { "No monitors yet. " a href="/app/monitors/new" { "Add your first monitor" } }
        }
        ul.counts aria-label="Monitors by state" {
            li { a href="/app" { "all " (total) } }
            @for (state, n) in STATES.iter().zip(counts) {
                li { a href={"/app?state=" (state)} { (state) " " (n) } }
            }
        }
        form.filters method="get" action="/app" role="search" {
            div.field {
                label for="f-q" { "Search by name or URL" }
                input #f-q type="search" name="q" value=(filter.q.as_deref().unwrap_or(""));
            }
            div.field {
                label for="f-state" { "State" }
                select #f-state name="state" {
                    option value="" selected[wanted.is_none()] { "any" }
                    @for s in STATES {
                        option value=(s) selected[wanted == Some(s)] { (s) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        @if total > 0 && matching.is_empty() {
            p.notice { "No monitor matches." }
        }
        ul.monitors #monitors data-live="list" {
            @for row in &rows { (row_markup(row)) }
        }
        @if pages > 1 {
            nav.pager aria-label="Pages" {
                @if page_no > 1 { a href=(link(page_no - 1)) { "← Previous" } }
                span { "Page " (page_no) " of " (pages) }
                @if page_no < pages { a href=(link(page_no + 1)) { "Next →" } }
            }
        }
    };
    Ok(shell("Monitors", Some(&viewer), body))
}

fn row_markup(row: &Row) -> Markup {
    let m = &row.monitor;
    html! {
        li data-monitor-id=(m.id.0) {
            (state_badge(m))
            div.who {
                a href={"/app/monitors/" (m.id.0)} { (m.spec.name()) }
                div.url { (m.spec.target().as_str()) }
            }
            div.figures {
                span.uptime title="uptime over the last 24 hours" {
                    @match row.uptime {
                        Some(ratio) => { (format!("{:.2} %", ratio * 100.0)) }
                        None => { "–" }
                    }
                    span.sr-only { " uptime over 24 h" }
                }
                span.ticks { (charts::ticks(&row.oks)) }
                (charts::sparkline(&row.latencies))
            }
        }
    }
}

/// The last checks of one monitor: its latest results, an index range read of [`TICKS`]
/// rows.
async fn figures(
    state: &AppState,
    owner: crate::auth::UserId,
    monitor: Monitor,
    uptime: Option<f64>,
) -> Result<Row, WebError> {
    let latest = state
        .monitors
        .results(owner, monitor.id, None, TICKS as u32)
        .await?;
    Ok(Row {
        oks: latest.results.iter().map(|r| r.ok()).collect(),
        latencies: latest
            .results
            .iter()
            .map(|r| r.latency.as_secs_f64() * 1000.0)
            .collect(),
        uptime,
        monitor,
    })
}
