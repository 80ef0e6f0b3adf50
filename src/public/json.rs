//! The status page as JSON (`/status/{slug}.json`): the same figures as the HTML page.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::view::PublicPage;
use crate::api::views::{optional_timestamp, timestamp};

/// A public status page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicPageView {
    /// Its address under `/status/`.
    pub slug: String,
    /// Its heading.
    pub title: String,
    /// Its paragraph (may be empty).
    pub description: String,
    /// `operational`, `partial_outage` or `major_outage`.
    pub status: &'static str,
    /// When these figures were computed.
    #[serde(serialize_with = "timestamp")]
    pub generated_at: DateTime<Utc>,
    /// The listed monitors, in the page's order.
    pub monitors: Vec<PublicMonitorView>,
    /// Incidents of the last 14 days, newest first.
    pub incidents: Vec<PublicIncidentJson>,
}

/// A listed monitor: its name and state, never its URL or settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicMonitorView {
    /// Its id (badges are addressed by it).
    pub id: i64,
    /// Its name.
    pub name: String,
    /// `up`, `down`, `degraded`, `paused` or `pending`.
    pub state: &'static str,
    /// Share of checks that passed over the 90 days; `null` without checks.
    pub uptime_ratio_90d: Option<f64>,
    /// The 90 days, oldest first.
    pub days: Vec<DayView>,
}

/// One UTC day of a monitor's checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayView {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Checks that day.
    pub checks: u64,
    /// Of which failed.
    pub failures: u64,
    /// Share that passed; `null` without checks.
    pub uptime_ratio: Option<f64>,
}

/// An incident of a listed monitor.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicIncidentJson {
    /// Its id.
    pub id: i64,
    /// The monitor's id.
    pub monitor_id: i64,
    /// The monitor's name.
    pub monitor_name: String,
    /// `down`, `degraded` or `certificate`.
    pub kind: String,
    /// The kind of failure that opened it (`timeout`, `status`…).
    pub cause: String,
    /// When it opened.
    #[serde(serialize_with = "timestamp")]
    pub started_at: DateTime<Utc>,
    /// When it closed; `null` while open.
    #[serde(serialize_with = "optional_timestamp")]
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<&PublicPage> for PublicPageView {
    fn from(page: &PublicPage) -> Self {
        Self {
            slug: page.slug.clone(),
            title: page.title.clone(),
            description: page.description.clone(),
            status: page.overall.as_str(),
            generated_at: page.generated_at,
            monitors: page
                .monitors
                .iter()
                .map(|m| PublicMonitorView {
                    id: m.id.0,
                    name: m.name.clone(),
                    state: m.state,
                    uptime_ratio_90d: m.uptime,
                    days: m
                        .days
                        .iter()
                        .enumerate()
                        .map(|(i, day)| DayView {
                            date: (page.first_day + Duration::days(i as i64)).to_string(),
                            checks: day.checks,
                            failures: day.failures,
                            uptime_ratio: day.uptime(),
                        })
                        .collect(),
                })
                .collect(),
            incidents: page
                .incidents
                .iter()
                .map(|i| PublicIncidentJson {
                    id: i.id,
                    monitor_id: i.monitor_id.0,
                    monitor_name: i.monitor_name.clone(),
                    kind: i.kind.clone(),
                    cause: i.cause.clone(),
                    started_at: i.started_at,
                    resolved_at: i.resolved_at,
                })
                .collect(),
        }
    }
}
