//! Maintenance windows: spans of time in which a monitor's checks and incidents go on but
//! nobody is told (see [`super::plan`]). A window names some of its owner's monitors, or
//! covers all of them, including monitors created while it lasts.

use chrono::{DateTime, Utc};

use crate::auth::UserId;
use crate::monitor::MonitorId;

/// The most monitors one window may name.
pub const MAX_MONITORS: usize = 1000;
/// The longest name.
pub const MAX_NAME: usize = 200;

/// A maintenance window's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MaintenanceId(pub i64);

/// A window as a client describes it, not yet checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowDraft {
    /// `name`.
    pub name: String,
    /// `monitor_ids`; `None` covers every monitor of the account.
    pub monitor_ids: Option<Vec<i64>>,
    /// `starts_at`.
    pub starts_at: DateTime<Utc>,
    /// `ends_at`.
    pub ends_at: DateTime<Utc>,
}

/// A valid window: a name, a span that ends after it starts, and the monitors it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpec {
    name: String,
    monitors: Option<Vec<MonitorId>>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

/// A field of a window breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidWindow {
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl WindowSpec {
    /// Checks `draft`, naming the first bad field. Whether the monitors are the owner's is
    /// the service's to check.
    pub fn parse(draft: WindowDraft) -> Result<Self, InvalidWindow> {
        let invalid = |field, message: String| InvalidWindow { field, message };
        let name = draft.name.trim().to_owned();
        let length = name.chars().count();
        if !(1..=MAX_NAME).contains(&length) {
            return Err(invalid(
                "name",
                format!("must be 1 to {MAX_NAME} characters (got {length})"),
            ));
        }
        if draft.ends_at <= draft.starts_at {
            return Err(invalid("ends_at", "must be after starts_at".into()));
        }
        let monitors = match draft.monitor_ids {
            None => None,
            Some(ids) => {
                if let Some(bad) = ids.iter().find(|id| **id <= 0) {
                    return Err(invalid(
                        "monitor_ids",
                        format!("{bad} is not a monitor id (ids are positive integers)"),
                    ));
                }
                let mut ids: Vec<MonitorId> = ids.into_iter().map(MonitorId).collect();
                ids.sort();
                ids.dedup();
                if ids.is_empty() {
                    return Err(invalid(
                        "monitor_ids",
                        "must name at least one monitor, or be left out to cover them all".into(),
                    ));
                }
                if ids.len() > MAX_MONITORS {
                    return Err(invalid(
                        "monitor_ids",
                        format!("at most {MAX_MONITORS} monitors (got {})", ids.len()),
                    ));
                }
                Some(ids)
            }
        };
        Ok(Self {
            name,
            monitors,
            starts_at: draft.starts_at,
            ends_at: draft.ends_at,
        })
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The monitors covered, ascending; `None` for all of the owner's.
    pub fn monitors(&self) -> Option<&[MonitorId]> {
        self.monitors.as_deref()
    }

    /// When it starts.
    pub fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }

    /// When it ends (exclusive).
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.ends_at
    }
}

/// A stored window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceWindow {
    /// Its id.
    pub id: MaintenanceId,
    /// What it covers and when.
    pub spec: WindowSpec,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// The maintenance windows that may cover a batch's decisions, read once per batch, so
/// the results write asks the database once rather than once per transition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    windows: Vec<CoveringWindow>,
}

/// One window as [`Coverage`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CoveringWindow {
    owner: UserId,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    monitors: Option<Vec<MonitorId>>,
}

impl Coverage {
    /// Adds a stored window of `owner` (`monitors` as stored: `None` covers them all).
    pub fn add(
        &mut self,
        owner: UserId,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        monitors: Option<Vec<i64>>,
    ) {
        self.windows.push(CoveringWindow {
            owner,
            starts_at,
            ends_at,
            monitors: monitors.map(|ids| ids.into_iter().map(MonitorId).collect()),
        });
    }

    /// Whether a window of `owner` covers `monitor` at `at` (from its start up to, not
    /// including, its end).
    pub fn covers(&self, owner: UserId, monitor: MonitorId, at: DateTime<Utc>) -> bool {
        self.windows.iter().any(|w| {
            w.owner == owner
                && w.starts_at <= at
                && at < w.ends_at
                && w.monitors.as_ref().is_none_or(|ids| ids.contains(&monitor))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(ids: Option<Vec<i64>>, hours: i64) -> WindowDraft {
        let starts_at = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        WindowDraft {
            name: " deploy ".into(),
            monitor_ids: ids,
            starts_at,
            ends_at: starts_at + chrono::TimeDelta::hours(hours),
        }
    }

    #[test]
    fn a_window_must_end_after_it_starts() {
        let error = WindowSpec::parse(draft(None, 0)).expect_err("empty span");
        assert_eq!(error.field, "ends_at");
        assert!(WindowSpec::parse(draft(None, -1)).is_err());
        let spec = WindowSpec::parse(draft(None, 2)).expect("valid");
        assert_eq!(spec.name(), "deploy");
        assert_eq!(spec.monitors(), None);
    }

    #[test]
    fn monitor_ids_are_positive_sorted_and_unique() {
        let spec = WindowSpec::parse(draft(Some(vec![3, 1, 3]), 1)).expect("valid");
        assert_eq!(spec.monitors(), Some(&[MonitorId(1), MonitorId(3)][..]));
        let error = WindowSpec::parse(draft(Some(vec![0]), 1)).expect_err("zero");
        assert_eq!(error.field, "monitor_ids");
        let error = WindowSpec::parse(draft(Some(vec![]), 1)).expect_err("empty");
        assert_eq!(error.field, "monitor_ids");
    }

    #[test]
    fn coverage_is_per_owner_and_monitor_from_start_to_end_exclusive() {
        let t = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).expect("time");
        let mut coverage = Coverage::default();
        coverage.add(UserId(1), t(10), t(20), Some(vec![5]));
        coverage.add(UserId(2), t(0), t(100), None);
        assert!(coverage.covers(UserId(1), MonitorId(5), t(10)));
        assert!(!coverage.covers(UserId(1), MonitorId(5), t(20)));
        assert!(!coverage.covers(UserId(1), MonitorId(5), t(9)));
        assert!(!coverage.covers(UserId(1), MonitorId(6), t(15)));
        assert!(coverage.covers(UserId(2), MonitorId(6), t(15)));
        assert!(!coverage.covers(UserId(3), MonitorId(6), t(15)));
    }

    #[test]
    fn a_name_is_required() {
        let mut blank = draft(None, 1);
        blank.name = "  ".into();
        assert_eq!(WindowSpec::parse(blank).expect_err("blank").field, "name");
    }
}
