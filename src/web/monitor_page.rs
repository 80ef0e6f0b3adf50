//! `/app/monitors/{id}`: one monitor's state, settings, uptime per window, latency by phase
//! over 24 h / 7 d / 30 d, and its results a page at a time; pause, resume and delete.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::WebError;
use super::auth_pages::Empty;
use super::charts::{self, PhaseBin};
use super::dashboard::state_badge;
use super::layout::{csrf, page as shell};
use super::session::{Posted, Viewer};
use crate::alerting::IncidentFilter;
use crate::api::AppState;
use crate::auth::UserId;
use crate::check::stats::Window;
use crate::monitor::{Monitor, MonitorId};
use crate::service::ServiceError;
use crate::store::StoredResult;

/// Results per page of the results table.
const RESULTS_PAGE: u32 = 25;
/// Columns of the phase chart.
const BINS: usize = 48;
/// The most raw results read for the phase chart (five pages of the API's largest).
const CHART_PAGES: usize = 5;
/// The windows the phase chart offers.
const CHART_WINDOWS: [Window; 3] = [Window::Day, Window::Week, Window::Month];
/// The windows whose uptime is shown.
const UPTIME_WINDOWS: [Window; 4] = [Window::Day, Window::Week, Window::Month, Window::Quarter];

/// `?window=7d&before=2026-01-01T00:00:00Z`
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    window: Option<String>,
    #[serde(default)]
    before: Option<String>,
}

/// `GET /app/monitors/{id}`
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> Result<Markup, WebError> {
    let id = MonitorId(id);
    let monitor = state.monitors.get(viewer.user, id).await?;
    let window = match query.window.as_deref() {
        None | Some("") => Window::Day,
        Some(raw) => raw
            .parse::<Window>()
            .ok()
            .filter(|w| CHART_WINDOWS.contains(w))
            .ok_or_else(|| {
                ServiceError::Invalid(format!("window: `{raw}` is not one of 24h, 7d, 30d"))
            })?,
    };
    let before = match query.before.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            DateTime::parse_from_rfc3339(raw)
                .map_err(|_| {
                    ServiceError::Invalid(format!("before: `{raw}` is not an RFC 3339 time"))
                })?
                .with_timezone(&Utc),
        ),
    };
    let mut uptimes = Vec::new();
    for w in UPTIME_WINDOWS {
        uptimes.push((w, state.monitors.stats(viewer.user, id, w).await?));
    }
    let bins = phase_bins(&state, viewer.user, id, window).await?;
    let results = state
        .monitors
        .results(viewer.user, id, before, RESULTS_PAGE)
        .await?;
    let incidents = state
        .incidents
        .list(
            viewer.user,
            IncidentFilter {
                monitor: Some(id),
                state: None,
                before: None,
                limit: 10,
            },
        )
        .await?;
    let checked = bins.iter().map(|b| b.checks).sum::<u32>();
    let summary = format!("latency by phase over {window}, {checked} checks in {BINS} columns");
    let m = &monitor;
    let body = html! {
        p { a href="/app" { "← Monitors" } }
        h1 { (m.spec.name()) " " (state_badge(m)) }
        dl.facts {
            dt { "URL" } dd { (m.spec.target().as_str()) }
            dt { "Checked every" } dd { (m.spec.interval_secs()) " s" }
            dt { "Last check" }
            dd {
                @match &m.last_check {
                    Some(last) => {
                        (time(last.at)) " · " (if last.ok { "passed" } else { "failed" })
                        @if let Some(code) = last.status_code { " · HTTP " (code) }
                        " · " (format!("{:.0} ms", last.latency.as_secs_f64() * 1000.0))
                    }
                    None => "not yet",
                }
            }
        }
        (actions(&viewer, m))
        h2 { "Uptime" }
        div.table-wrap { table {
            thead { tr { th { "Window" } th.num { "Uptime" } th.num.hide-narrow { "Checks" } th.num.hide-narrow { "Failures" } th.num { "p95 latency" } } }
            tbody {
                @for (w, stats) in &uptimes {
                    tr {
                        td { (w.as_str()) }
                        td.num { (percent(stats.uptime_ratio)) }
                        td.num.hide-narrow { (stats.checks) }
                        td.num.hide-narrow { (stats.failures) }
                        td.num { (ms(stats.latency.p95)) }
                    }
                }
            }
        } }
        h2 #latency { "Latency by phase" }
        nav.windows aria-label="Chart window" {
            @for w in CHART_WINDOWS {
                a href={"/app/monitors/" (m.id.0) "?window=" (w.as_str()) "#latency"}
                    aria-current=[(w == window).then_some("page")] { (w.as_str()) }
            }
        }
        (charts::phases(&bins, &summary))
        p.hint { "Phases are kept with the raw results, for as long as those are kept (TOCSIN_RETENTION); older hours show their total latency from the hourly rollups." }
        h2 #incidents { "Incidents" }
        (super::incidents::table(&incidents.incidents, None))
        @if incidents.next_before.is_some() {
            p { a href="/app/incidents" { "All incidents" } }
        }
        h2 #results { "Results" }
        (results_table(&results.results))
        nav.pager aria-label="Results pages" {
            @if before.is_some() {
                a href={"/app/monitors/" (m.id.0) "#results"} { "Newest" }
            }
            @if let Some(next) = results.next_before {
                a href={"/app/monitors/" (m.id.0) "?before=" (stamp(next)) "#results"} { "Older →" }
            }
        }
    };
    Ok(shell(m.spec.name(), Some(&viewer), body))
}

fn actions(viewer: &Viewer, m: &Monitor) -> Markup {
    let id = m.id.0;
    html! {
        div.actions {
            a.button.secondary href={"/app/monitors/" (id) "/edit"} { "Edit" }
            @if m.paused {
                form.inline method="post" action={"/app/monitors/" (id) "/resume"} {
                    (csrf(viewer)) button.secondary type="submit" { "Resume" }
                }
            } @else {
                form.inline method="post" action={"/app/monitors/" (id) "/pause"} {
                    (csrf(viewer)) button.secondary type="submit" { "Pause" }
                }
            }
            a.button.secondary href={"/app/monitors/" (id) "/delete"} { "Delete" }
        }
    }
}

fn results_table(results: &[StoredResult]) -> Markup {
    html! {
        @if results.is_empty() {
            p { "No results yet." }
        } @else {
            div.table-wrap {
                table {
                    thead { tr { th { "Checked at" } th { "Result" } th.num.hide-narrow { "Status" } th.num { "Latency" } th.hide-narrow { "Why it failed" } } }
                    tbody {
                        @for r in results {
                            tr {
                                td { (time(r.checked_at)) }
                                td { (if r.ok() { "passed" } else { "failed" }) }
                                td.num.hide-narrow { @if let Some(code) = r.status_code { (code) } @else { "–" } }
                                td.num { (format!("{:.0} ms", r.latency.as_secs_f64() * 1000.0)) }
                                td.hide-narrow { @if let Some(f) = &r.failure { (f.message) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The raw results in `window`, averaged per phase into [`BINS`] columns.
async fn phase_bins(
    state: &AppState,
    owner: UserId,
    id: MonitorId,
    window: Window,
) -> Result<Vec<PhaseBin>, WebError> {
    let now = Utc::now();
    let from = now - crate::time::delta(window.duration());
    let span = (now - from).num_milliseconds().max(1) as f64;
    let mut bins = vec![PhaseBin::default(); BINS];
    let mut before = None;
    for _ in 0..CHART_PAGES {
        let page = state
            .monitors
            .results(
                owner,
                id,
                before,
                crate::service::monitors::MAX_RESULTS_PAGE,
            )
            .await?;
        for r in page.results.iter().filter(|r| r.checked_at >= from) {
            let at = (r.checked_at - from).num_milliseconds() as f64 / span;
            let bin = &mut bins[((at * BINS as f64) as usize).min(BINS - 1)];
            let ms = |d: Option<std::time::Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
            bin.dns += ms(r.phases.dns);
            bin.connect += ms(r.phases.connect);
            bin.tls += ms(r.phases.tls);
            bin.ttfb += ms(r.phases.ttfb);
            bin.checks += 1;
        }
        match page.next_before {
            Some(next) if next >= from => before = Some(next),
            _ => break,
        }
    }
    // Where the raw results are gone, the hourly rollups still say how slow it was.
    let mut rolled = vec![(0u64, 0.0f64); BINS];
    for hour in state.monitors.hourly_latency(owner, id, window).await? {
        let at = (hour.hour - from).num_milliseconds().max(0) as f64 / span;
        let i = ((at * BINS as f64) as usize).min(BINS - 1);
        rolled[i].0 += hour.responses;
        rolled[i].1 += hour.total.as_secs_f64() * 1000.0;
    }
    for (bin, (responses, total)) in bins.iter_mut().zip(rolled) {
        if bin.checks > 0 {
            let n = f64::from(bin.checks);
            bin.dns /= n;
            bin.connect /= n;
            bin.tls /= n;
            bin.ttfb /= n;
        } else if responses > 0 {
            bin.rolled = total / responses as f64;
        }
    }
    Ok(bins)
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn time(at: DateTime<Utc>) -> Markup {
    html! { time datetime=(stamp(at)) { (at.format("%Y-%m-%d %H:%M:%S UTC")) } }
}

fn percent(ratio: Option<f64>) -> String {
    ratio.map_or("–".into(), |r| format!("{:.2} %", r * 100.0))
}

fn ms(value: Option<f64>) -> String {
    value.map_or("–".into(), |v| format!("{v:.0} ms"))
}

async fn set_paused(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    paused: bool,
) -> Result<Response, WebError> {
    state
        .monitors
        .set_paused(viewer.user, MonitorId(id), paused)
        .await?;
    Ok(Redirect::to(&format!("/app/monitors/{id}")).into_response())
}

/// `POST /app/monitors/{id}/pause`
pub async fn pause(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(viewer, _): Posted<Empty>,
) -> Result<Response, WebError> {
    set_paused(&state, &viewer, id, true).await
}

/// `POST /app/monitors/{id}/resume`
pub async fn resume(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(viewer, _): Posted<Empty>,
) -> Result<Response, WebError> {
    set_paused(&state, &viewer, id, false).await
}

/// `GET /app/monitors/{id}/delete`: asks before deleting, since nothing brings the results
/// back.
pub async fn confirm_delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Markup, WebError> {
    let m = state.monitors.get(viewer.user, MonitorId(id)).await?;
    let body = html! {
        h1 { "Delete " (m.spec.name()) "?" }
        p { "The monitor stops being checked, and its results and incidents are deleted with it. This cannot be undone." }
        div.actions {
            form.inline method="post" action={"/app/monitors/" (id) "/delete"} {
                (csrf(&viewer)) button.danger type="submit" { "Delete for good" }
            }
            a.button.secondary href={"/app/monitors/" (id)} { "Keep it" }
        }
    };
    Ok(shell("Delete monitor", Some(&viewer), body))
}

/// `POST /app/monitors/{id}/delete`
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(viewer, _): Posted<Empty>,
) -> Result<Response, WebError> {
    state.monitors.delete(viewer.user, MonitorId(id)).await?;
    Ok(Redirect::to("/app").into_response())
}
