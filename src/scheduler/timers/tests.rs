use chrono::Duration as ChronoDuration;

use super::*;
use crate::auth::UserId;
use crate::monitor::{MonitorDraft, MonitorSpec, Rules};

fn monitor(id: i64, url: &str) -> Monitor {
    let draft = MonitorDraft {
        url: url.to_owned(),
        ..MonitorDraft::default()
    };
    Monitor {
        id: MonitorId(id),
        owner: UserId(1),
        spec: MonitorSpec::parse(draft, &Rules::STORED).expect("valid"),
        paused: false,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        state: Default::default(),
        last_check: None,
    }
}

fn claim(id: i64, due_in_ms: i64) -> Claim {
    Claim {
        monitor: monitor(id, "https://example.com/"),
        due: Utc::now() + ChronoDuration::milliseconds(due_in_ms),
    }
}

fn ids(due: &[DueCheck]) -> Vec<i64> {
    due.iter().map(|d| d.monitor.id.0).collect()
}

#[test]
fn entries_fire_earliest_first_and_only_when_due() {
    let mut timers = Timers::default();
    timers.insert(claim(1, 300));
    timers.insert(claim(2, -5));
    timers.insert(claim(3, 100));
    let now = Instant::now();
    assert_eq!(ids(&timers.pop_due(now)), vec![2]);
    let later = now + std::time::Duration::from_millis(400);
    assert_eq!(ids(&timers.pop_due(later)), vec![3, 1]);
    assert!(timers.is_empty() && timers.next_at().is_none());
}

#[test]
fn an_edit_applies_to_claimed_checks_and_a_pause_or_delete_drops_them() {
    let mut timers = Timers::default();
    timers.insert(claim(1, 0));
    timers.insert(claim(1, 1000));
    timers.insert(claim(2, 0));
    timers.insert(claim(3, 0));
    timers.update(monitor(1, "https://example.org/new"));
    let mut paused = monitor(2, "https://example.com/");
    paused.paused = true;
    timers.update(paused);
    timers.remove(MonitorId(3));
    let due = timers.pop_due(Instant::now() + std::time::Duration::from_secs(2));
    assert_eq!(ids(&due), vec![1, 1]);
    assert!(
        due.iter()
            .all(|d| d.monitor.spec.target().as_str() == "https://example.org/new")
    );
}

#[test]
fn a_monitor_removed_then_claimed_again_fires_only_for_the_new_claim() {
    let mut timers = Timers::default();
    timers.insert(claim(7, 0));
    timers.remove(MonitorId(7));
    timers.insert(claim(7, 10));
    let due = timers.pop_due(Instant::now() + std::time::Duration::from_secs(1));
    assert_eq!(ids(&due), vec![7]);
}

#[test]
fn drain_gives_back_the_live_claims() {
    let mut timers = Timers::default();
    let kept = claim(1, 5000);
    timers.insert(kept.clone());
    timers.insert(claim(2, 5000));
    timers.remove(MonitorId(2));
    let claims = timers.drain();
    assert_eq!(claims, vec![kept]);
    assert!(timers.is_empty());
}
