//! What a public page shows, computed once from a store snapshot and presented three ways
//! (HTML, JSON, Atom) so the three always agree.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::monitor::{Monitor, MonitorId};
use crate::store::PublicSnapshot;

/// Days in a monitor's uptime bar, today included.
pub const DAYS: i64 = 90;
/// How far back incidents are listed.
pub const INCIDENT_DAYS: i64 = 14;

/// The banner: how the page's monitors are doing together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overall {
    /// Every running monitor is up (or has no verdict yet).
    Operational,
    /// Some are down or degraded.
    PartialOutage,
    /// Every running monitor is down.
    MajorOutage,
}

impl Overall {
    /// The name in JSON and CSS classes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
        }
    }

    /// The banner's words.
    pub fn headline(self) -> &'static str {
        match self {
            Self::Operational => "All systems operational",
            Self::PartialOutage => "Partial outage",
            Self::MajorOutage => "Major outage",
        }
    }

    /// The verdict over monitors in these states (`paused` and `pending` do not count).
    pub fn of<'a>(states: impl IntoIterator<Item = &'a str>) -> Self {
        let (mut running, mut down, mut troubled) = (0, 0, 0);
        for state in states {
            match state {
                "up" => running += 1,
                "degraded" => {
                    running += 1;
                    troubled += 1;
                }
                "down" => {
                    running += 1;
                    down += 1;
                    troubled += 1;
                }
                _ => {}
            }
        }
        if running > 0 && down == running {
            Self::MajorOutage
        } else if troubled > 0 {
            Self::PartialOutage
        } else {
            Self::Operational
        }
    }
}

/// One day of one monitor's checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Day {
    /// Checks that day.
    pub checks: u64,
    /// Of which failed.
    pub failures: u64,
}

impl Day {
    /// The share of checks that passed; `None` without checks.
    pub fn uptime(self) -> Option<f64> {
        (self.checks > 0)
            .then(|| (self.checks - self.failures.min(self.checks)) as f64 / self.checks as f64)
    }
}

/// A monitor as the public sees it: its name and state, never its URL or settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicMonitor {
    /// Its id (badges are addressed by it).
    pub id: MonitorId,
    /// Its name.
    pub name: String,
    /// `up`, `down`, `degraded`, `paused` or `pending`.
    pub state: &'static str,
    /// One entry per day, oldest first, [`DAYS`] of them.
    pub days: Vec<Day>,
    /// The share of checks that passed over the [`DAYS`]; `None` without checks.
    pub uptime: Option<f64>,
}

/// An incident as the public sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicIncidentView {
    /// Its id.
    pub id: i64,
    /// The monitor's id.
    pub monitor_id: MonitorId,
    /// The monitor's name.
    pub monitor_name: String,
    /// `down`, `degraded` or `certificate`.
    pub kind: String,
    /// The kind of failure that opened it.
    pub cause: String,
    /// When it opened.
    pub started_at: DateTime<Utc>,
    /// When it closed; `None` while open.
    pub resolved_at: Option<DateTime<Utc>>,
}

impl PublicIncidentView {
    /// A one-line summary for headings and feed titles.
    pub fn title(&self) -> String {
        let what = match self.kind.as_str() {
            "down" => "down",
            "degraded" => "degraded",
            "certificate" => "certificate expiring",
            other => other,
        };
        let when = if self.resolved_at.is_some() {
            "resolved"
        } else {
            "ongoing"
        };
        format!("{}: {what} ({when})", self.monitor_name)
    }
}

/// A public status page, ready to present.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicPage {
    /// Its address.
    pub slug: String,
    /// Its heading.
    pub title: String,
    /// Its paragraph.
    pub description: String,
    /// The banner.
    pub overall: Overall,
    /// When this view was computed.
    pub generated_at: DateTime<Utc>,
    /// The first day of the bars.
    pub first_day: NaiveDate,
    /// The listed monitors, in order.
    pub monitors: Vec<PublicMonitor>,
    /// Incidents of the last [`INCIDENT_DAYS`], newest first.
    pub incidents: Vec<PublicIncidentView>,
}

/// The state a public page shows for a monitor.
pub fn public_state(monitor: &Monitor) -> &'static str {
    if monitor.paused {
        "paused"
    } else {
        monitor.state.as_str()
    }
}

/// The first day of the bars ending today (UTC).
pub fn first_day(now: DateTime<Utc>) -> NaiveDate {
    now.date_naive() - Duration::days(DAYS - 1)
}

impl PublicPage {
    /// The view of `snapshot` at `now`.
    pub fn build(snapshot: PublicSnapshot, now: DateTime<Utc>) -> Self {
        let first = first_day(now);
        // The store counts days since the epoch.
        let first_index = first
            .signed_duration_since(DateTime::UNIX_EPOCH.date_naive())
            .num_days();
        // One pass over the day counts, whatever the number of monitors.
        let position: HashMap<MonitorId, usize> = snapshot
            .monitors
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id, i))
            .collect();
        let mut days = vec![vec![Day::default(); DAYS as usize]; snapshot.monitors.len()];
        for counts in &snapshot.days {
            let Some(&monitor) = position.get(&counts.monitor) else {
                continue;
            };
            let index = usize::try_from(counts.day - first_index).ok();
            if let Some(day) = index.and_then(|i| days[monitor].get_mut(i)) {
                day.checks += counts.checks;
                day.failures += counts.failures;
            }
        }
        let monitors: Vec<PublicMonitor> = snapshot
            .monitors
            .iter()
            .zip(days)
            .map(|(monitor, days)| {
                let total = days.iter().fold(Day::default(), |sum, d| Day {
                    checks: sum.checks + d.checks,
                    failures: sum.failures + d.failures,
                });
                PublicMonitor {
                    id: monitor.id,
                    name: monitor.spec.name().to_owned(),
                    state: public_state(monitor),
                    days,
                    uptime: total.uptime(),
                }
            })
            .collect();
        let name_of = |id: MonitorId| {
            monitors
                .iter()
                .find(|m| m.id == id)
                .map(|m| m.name.clone())
                .unwrap_or_default()
        };
        let incidents = snapshot
            .incidents
            .into_iter()
            .map(|incident| PublicIncidentView {
                id: incident.id,
                monitor_id: incident.monitor,
                monitor_name: name_of(incident.monitor),
                kind: incident.kind,
                cause: incident.cause_kind,
                started_at: incident.started_at,
                resolved_at: incident.resolved_at,
            })
            .collect();
        Self {
            slug: snapshot.page.spec.slug.as_str().to_owned(),
            title: snapshot.page.spec.title,
            description: snapshot.page.spec.description,
            overall: Overall::of(monitors.iter().map(|m| m.state)),
            generated_at: now,
            first_day: first,
            monitors,
            incidents,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_follows_the_running_monitors() {
        assert_eq!(Overall::of([]), Overall::Operational);
        assert_eq!(
            Overall::of(["up", "paused", "pending"]),
            Overall::Operational
        );
        assert_eq!(Overall::of(["up", "degraded"]), Overall::PartialOutage);
        assert_eq!(Overall::of(["up", "down"]), Overall::PartialOutage);
        assert_eq!(
            Overall::of(["down", "paused", "down"]),
            Overall::MajorOutage
        );
    }

    #[test]
    fn a_day_without_checks_has_no_uptime() {
        assert_eq!(Day::default().uptime(), None);
        let day = Day {
            checks: 4,
            failures: 1,
        };
        assert_eq!(day.uptime(), Some(0.75));
    }

    #[test]
    fn the_bars_end_today() {
        let now = DateTime::parse_from_rfc3339("2026-03-31T12:00:00Z")
            .expect("time")
            .to_utc();
        assert_eq!(first_day(now).to_string(), "2026-01-01");
    }
}
