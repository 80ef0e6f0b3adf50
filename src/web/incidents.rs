//! `/app/incidents`: the account's incidents, newest first, open or resolved, with what
//! became of their notifications; and the same table on a monitor's page.

use std::collections::HashMap;

use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::WebError;
use super::layout::page as shell;
use super::session::Viewer;
use crate::alerting::{Incident, IncidentFilter, IncidentId, IncidentState, NotificationState};
use crate::api::AppState;
use crate::monitor::MonitorId;
use crate::service::ServiceError;

/// Incidents per page.
const PAGE: u32 = 50;

/// `?state=open&before=42`
#[derive(Debug, Default, Deserialize)]
pub struct IncidentQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    before: Option<i64>,
}

/// `GET /app/incidents`
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<IncidentQuery>,
) -> Result<Markup, WebError> {
    let wanted = match query.state.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<IncidentState>()
                .map_err(|e| ServiceError::Invalid(format!("state: {e}")))?,
        ),
    };
    let filter = IncidentFilter {
        monitor: None,
        state: wanted,
        before: query.before.map(IncidentId),
        limit: PAGE,
    };
    let found = state.incidents.list(viewer.user, filter).await?;
    let names: HashMap<MonitorId, String> = state
        .monitors
        .list(viewer.user)
        .await?
        .into_iter()
        .map(|m| (m.id, m.spec.name().to_owned()))
        .collect();
    let state_param = wanted.map(|s| s.as_str()).unwrap_or("");
    let body = html! {
        h1 { "Incidents" }
        nav.windows aria-label="Incident state" {
            a href="/app/incidents" aria-current=[wanted.is_none().then_some("page")] { "all" }
            @for s in IncidentState::ALL {
                a href={"/app/incidents?state=" (s.as_str())}
                    aria-current=[(wanted == Some(*s)).then_some("page")] { (s.as_str()) }
            }
        }
        (table(&found.incidents, Some(&names)))
        @if let Some(next) = found.next_before {
            nav.pager aria-label="Incident pages" {
                a href={"/app/incidents?state=" (state_param) "&before=" (next.0)} { "Older →" }
            }
        }
    };
    Ok(shell("Incidents", Some(&viewer), body))
}

/// The incidents as a table; with `names`, a column names each one's monitor.
pub fn table(incidents: &[Incident], names: Option<&HashMap<MonitorId, String>>) -> Markup {
    html! {
        @if incidents.is_empty() {
            p { "No incidents." }
        } @else {
            div.table-wrap {
                table {
                    thead {
                        tr {
                            @if names.is_some() { th { "Monitor" } }
                            th { "Kind" } th { "Started" } th { "Resolved" }
                            th.hide-narrow { "Cause" } th.hide-narrow { "Notifications" }
                        }
                    }
                    tbody {
                        @for i in incidents {
                            tr {
                                @if let Some(names) = names {
                                    td {
                                        a href={"/app/monitors/" (i.monitor.0)} {
                                            (names.get(&i.monitor).map_or("(deleted)", String::as_str))
                                        }
                                    }
                                }
                                td { (i.kind.as_str()) @if i.muted { " (muted)" } }
                                td { (when(i.started_at)) }
                                td { @match i.resolved_at { Some(at) => (when(at)), None => strong { "open" } } }
                                td.hide-narrow { (i.cause.message) }
                                td.hide-narrow { (notifications(i)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn notifications(incident: &Incident) -> String {
    if incident.notifications.is_empty() {
        return "none".into();
    }
    let delivered = incident
        .notifications
        .iter()
        .filter(|n| n.state == NotificationState::Delivered)
        .count();
    format!("{delivered} of {} delivered", incident.notifications.len())
}

fn when(at: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)) {
            (at.format("%Y-%m-%d %H:%M UTC"))
        }
    }
}
