use std::time::Duration;

use super::*;
use crate::auth::UserId;
use crate::monitor::{MonitorDraft, MonitorSpec, Rules};

/// 2026-01-01T00:00:00Z.
fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("in range")
}

fn secs(n: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(n)
}

/// Ids whose phase is zero at 10 s and 30 s intervals (see `monitor::phase`), so the grids
/// below are the plain multiples of the interval from `t0`; tests name them 1 to 4.
const IDS: [i64; 5] = [0, 10_946, 61_495, 112_044, 122_990];

fn monitor(n: i64, interval: u32) -> Monitor {
    let id = IDS[usize::try_from(n).expect("a test monitor")];
    let draft = MonitorDraft {
        url: "https://example.com/".to_owned(),
        interval_seconds: Some(interval),
        ..MonitorDraft::default()
    };
    Monitor {
        id: MonitorId(id),
        owner: UserId(1),
        spec: MonitorSpec::parse(draft, &Rules::STORED).expect("valid"),
        paused: false,
        created_at: t0(),
        updated_at: t0(),
        state: Default::default(),
        last_check: None,
    }
}

fn claim(id: i64, interval: u32, due: i64) -> Claim {
    Claim {
        monitor: monitor(id, interval),
        due: secs(due),
    }
}

fn dues(claims: &[Claim]) -> Vec<(i64, i64)> {
    let mut v: Vec<_> = claims
        .iter()
        .map(|c| {
            let n = IDS.iter().position(|&id| id == c.monitor.id.0);
            (
                n.expect("a test monitor") as i64,
                (c.due - t0()).num_seconds(),
            )
        })
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn the_test_ids_have_no_phase() {
    for id in &IDS[1..] {
        assert_eq!(crate::monitor::phase::phase_ms(*id, 10_000), 0);
        assert_eq!(crate::monitor::phase::phase_ms(*id, 30_000), 0);
    }
}

#[test]
fn local_checks_follow_the_monitors_phase_after_a_first_check_off_it() {
    let mut c = Continuity::default();
    // Monitor 7 (phase 3.262 s at 10 s) was created at 1 s and checked then: its next due
    // times are on its own grid, at least half an interval on (not at 3.262 s).
    let mut first = claim(1, 10, 1);
    first.monitor.id = MonitorId(7);
    assert!(c.claimed(&first));
    let _ = c.store_failed(secs(2), secs(3));
    let local = c.store_failed(secs(4), secs(14));
    let at: Vec<_> = local
        .iter()
        .map(|c| (c.due - t0()).num_milliseconds())
        .collect();
    assert_eq!(at, vec![13_262]);
}

#[test]
fn a_single_failed_poll_is_not_an_outage() {
    let mut c = Continuity::default();
    assert!(c.claimed(&claim(1, 10, 10)));
    assert_eq!(c.store_failed(secs(15), secs(21)), vec![]);
    // Failing for a second: from then on the monitor stays on its grid locally.
    assert_eq!(dues(&c.store_failed(secs(16), secs(21))), vec![(1, 20)]);
    assert_eq!(dues(&c.store_failed(secs(20), secs(31))), vec![(1, 30)]);
}

#[test]
fn missed_grid_points_are_skipped_not_bunched() {
    let mut c = Continuity::default();
    assert!(c.claimed(&claim(1, 10, 10)));
    let _ = c.store_failed(secs(11), secs(12));
    // 40 s later: 20 and 30 are beyond their 5 s grace; 50 is due, 60 is not yet.
    assert_eq!(dues(&c.store_failed(secs(48), secs(51))), vec![(1, 50)]);
}

#[test]
fn claims_of_due_times_run_locally_are_dropped_when_the_store_is_back() {
    let mut c = Continuity::default();
    assert!(c.claimed(&claim(1, 10, 10)));
    let _ = c.store_failed(secs(11), secs(12));
    assert_eq!(dues(&c.store_failed(secs(19), secs(20))), vec![(1, 20)]);
    // The store still holds 20 as the next due time: it ran here, so its claim is dropped.
    assert!(!c.claimed(&claim(1, 10, 20)));
    assert!(c.claimed(&claim(1, 10, 30)));
    assert!(
        c.claimed(&claim(1, 10, 40)),
        "the filter is gone once passed"
    );
}

#[test]
fn monitors_claimed_elsewhere_paused_or_deleted_are_not_continued() {
    let mut c = Continuity::default();
    for id in 1..=4 {
        assert!(c.claimed(&claim(id, 10, 10)));
    }
    assert!(c.claimed(&claim(1, 10, 20)));
    assert!(c.claimed(&claim(2, 10, 20)));
    // At 22 (1 s slack), monitor 3's and 4's due time 20 was claimed by someone else.
    c.store_answered(secs(22), secs(23), Duration::from_secs(1));
    let mut paused = monitor(2, 10);
    paused.paused = true;
    c.update(&paused);
    c.remove(MonitorId(IDS[1]));
    let _ = c.store_failed(secs(23), secs(24));
    assert_eq!(c.store_failed(secs(29), secs(31)), vec![]);
}

#[test]
fn an_edited_interval_applies_to_local_checks() {
    let mut c = Continuity::default();
    assert!(c.claimed(&claim(1, 10, 10)));
    c.update(&monitor(1, 30));
    let _ = c.store_failed(secs(11), secs(12));
    // The next point of the 30 s grid after 10, then every 30 s.
    assert_eq!(dues(&c.store_failed(secs(29), secs(31))), vec![(1, 30)]);
    assert_eq!(dues(&c.store_failed(secs(59), secs(61))), vec![(1, 60)]);
}

#[test]
fn a_due_time_the_last_complete_round_covered_belongs_to_another_instance() {
    let mut c = Continuity::default();
    assert!(c.claimed(&claim(1, 10, 10)));
    assert!(c.claimed(&claim(2, 10, 10)));
    assert!(c.claimed(&claim(2, 10, 20)));
    // The round at 19 claimed everything due up to 21: monitor 1's due time 20 went
    // to another instance, which goes on with it; monitor 2's 30 was not yet claimable.
    c.store_answered(secs(19), secs(21), Duration::from_secs(1));
    let _ = c.store_failed(secs(21), secs(22));
    assert_eq!(dues(&c.store_failed(secs(29), secs(31))), vec![(2, 30)]);
    assert_eq!(dues(&c.store_failed(secs(39), secs(41))), vec![(2, 40)]);
}

#[test]
fn a_monitor_taken_elsewhere_between_sweeps_is_still_not_continued() {
    let mut c = Continuity::default();
    assert!(c.claimed(&claim(1, 10, 10)));
    assert!(c.claimed(&claim(2, 10, 10)));
    // The first round sweeps; both next due times (20) are still ahead.
    c.store_answered(secs(11), secs(12), Duration::from_secs(1));
    assert!(c.claimed(&claim(1, 10, 20)));
    // Four seconds later, no sweep: monitor 2 is still known, though the round claimed
    // everything due up to 21 and its 20 went to another instance.
    c.store_answered(secs(15), secs(21), Duration::ZERO);
    let _ = c.store_failed(secs(21), secs(22));
    assert_eq!(dues(&c.store_failed(secs(29), secs(31))), vec![(1, 30)]);
}
