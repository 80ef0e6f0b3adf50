//! Claims: due monitors are handed out once per grid point, in order, within the limit.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tocsin::monitor::phase::next_due;
use tocsin::monitor::{Monitor, MonitorId};
use tocsin::store::Claim;

use crate::suite::{S, spec, spec_every, user};

const MINUTE: Duration = Duration::seconds(60);

async fn monitor(store: &S, owner: tocsin::auth::UserId, url: &str, seconds: u32) -> Monitor {
    store
        .create_monitor(owner, &spec_every(url, seconds), 100)
        .await
        .expect("created")
}

async fn claim(store: &S, now: DateTime<Utc>, until: DateTime<Utc>, limit: u32) -> Vec<Claim> {
    store
        .claim_due(now, until, limit)
        .await
        .expect("claim")
        .claims
}

/// The monitor's next due time after `due`: one interval on, on its phase grid
/// (`tocsin::monitor::phase`), sooner after a first check off that grid.
fn after(m: &Monitor, due: DateTime<Utc>) -> DateTime<Utc> {
    next_due(m.id.0, m.spec.interval_secs(), due)
}

/// What a claim list comes down to: which monitor is due when, in the order given.
fn dues(claims: &[Claim]) -> Vec<(MonitorId, DateTime<Utc>)> {
    claims.iter().map(|c| (c.monitor.id, c.due)).collect()
}

pub async fn a_new_monitor_is_claimable_at_once(store: S) {
    let owner = user(&store, "s1@example.com").await;
    let m = store
        .create_monitor(owner, &spec("https://a.example"), 10)
        .await
        .expect("created");
    let now = Utc::now();
    let claims = claim(&store, now, now, 10).await;
    assert_eq!(dues(&claims), vec![(m.id, m.created_at)]);
    assert_eq!(
        claims[0].monitor, m,
        "the claim carries the monitor as stored"
    );
}

pub async fn claims_follow_the_grid_without_drift(store: S) {
    let owner = user(&store, "s2@example.com").await;
    let m = monitor(&store, owner, "https://a.example", 60).await;
    let mut due = m.created_at;
    for n in 0..4 {
        // Claimed a little late (within the grace): the next due time must not move with it.
        // (The first is claimed on time: the second may be due within seconds of it.)
        let now = due + Duration::seconds(if n == 0 { 0 } else { 3 });
        assert_eq!(dues(&claim(&store, now, now, 10).await), vec![(m.id, due)]);
        assert_eq!(
            claim(&store, now, now, 10).await,
            vec![],
            "a due time is claimed once"
        );
        let next = after(&m, due);
        if n > 0 {
            assert_eq!(next, due + MINUTE, "one interval on, once on the grid");
        }
        let almost = next - Duration::milliseconds(1);
        assert_eq!(claim(&store, now, almost, 10).await, vec![], "not due yet");
        due = next;
    }
}

pub async fn paused_monitors_are_not_claimed_and_resuming_makes_them_due(store: S) {
    let owner = user(&store, "s3@example.com").await;
    let m = monitor(&store, owner, "https://a.example", 60).await;
    store
        .set_paused(owner, m.id, true)
        .await
        .expect("pause")
        .expect("found");
    let far = m.created_at + MINUTE * 10;
    assert_eq!(claim(&store, m.created_at, far, 10).await, vec![]);
    assert_eq!(claim(&store, far, far, 10).await, vec![]);
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let resumed = store
        .set_paused(owner, m.id, false)
        .await
        .expect("resume")
        .expect("found");
    let at = resumed.updated_at;
    assert!(at > m.created_at);
    assert_eq!(dues(&claim(&store, at, at, 10).await), vec![(m.id, at)]);
}

pub async fn updates_and_redundant_resumes_keep_the_grid(store: S) {
    let owner = user(&store, "s4@example.com").await;
    let m = monitor(&store, owner, "https://a.example", 60).await;
    let first = m.created_at;
    assert_eq!(
        dues(&claim(&store, first, first, 10).await),
        vec![(m.id, first)]
    );
    store
        .set_paused(owner, m.id, false)
        .await
        .expect("resume a running monitor")
        .expect("found");
    store
        .update_monitor(owner, m.id, &spec_every("https://b.example", 60))
        .await
        .expect("update")
        .expect("found");
    let now = Utc::now();
    assert_eq!(
        claim(&store, now, now, 10).await,
        vec![],
        "still on its grid"
    );
    let next = after(&m, first);
    assert_eq!(
        dues(&claim(&store, next, next, 10).await),
        vec![(m.id, next)]
    );
}

pub async fn deleted_monitors_are_never_claimed(store: S) {
    let owner = user(&store, "s5@example.com").await;
    let gone = monitor(&store, owner, "https://gone.example", 60).await;
    let kept = monitor(&store, owner, "https://kept.example", 60).await;
    assert!(store.delete_monitor(owner, gone.id).await.expect("delete"));
    let until = kept.created_at + MINUTE * 5;
    let claims = claim(&store, gone.created_at, until, 10).await;
    assert_eq!(dues(&claims), vec![(kept.id, kept.created_at)]);
    let later = claim(&store, until, until + MINUTE, 10).await;
    assert_eq!(dues(&later).len(), 1, "kept only");
    assert_eq!(later[0].monitor.id, kept.id, "kept only");
}

pub async fn claims_respect_the_limit_earliest_due_first(store: S) {
    let owner = user(&store, "s6@example.com").await;
    let mut created = Vec::new();
    for i in 0..3 {
        created.push(monitor(&store, owner, &format!("https://{i}.example"), 60).await);
        // Distinct creation times, so the order is by due time and not only by id.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let [a, b, c] = [&created[0], &created[1], &created[2]];
    let now = c.created_at;
    assert_eq!(
        dues(&claim(&store, a.created_at, a.created_at, 1).await),
        vec![(a.id, a.created_at)]
    );
    let until = a.created_at + MINUTE * 2;
    assert_eq!(
        dues(&claim(&store, now, until, 2).await),
        vec![(b.id, b.created_at), (c.id, c.created_at)]
    );
    // Each one's next due time is on its own grid within 1.5 intervals: earliest first.
    let mut next: Vec<_> = [a, b, c]
        .iter()
        .map(|m| (after(m, m.created_at), m.id))
        .filter(|&(due, _)| due <= until)
        .collect();
    next.sort();
    let next: Vec<_> = next.into_iter().map(|(due, id)| (id, due)).collect();
    assert_eq!(next.len(), 3, "every next due time is within 1.5 intervals");
    // Up to the latest of them: the due times after those are an interval further on.
    let until = next[2].1;
    assert_eq!(dues(&claim(&store, now, until, 2).await), next[..2]);
    assert_eq!(dues(&claim(&store, now, until, 2).await), next[2..]);
    assert_eq!(claim(&store, now, until, 2).await, vec![]);
}

pub async fn overdue_monitors_skip_to_the_grid_beyond_their_grace(store: S) {
    let owner = user(&store, "s7@example.com").await;
    let secs = Duration::seconds;
    // (interval, how late the claim runs, the due time expected, relative to creation)
    let cases = [
        (60, secs(9), secs(0)),     // within the 10 s cap: runs late
        (60, secs(11), secs(60)),   // beyond it (not half the interval): skipped
        (60, secs(210), secs(240)), // several points missed: the first at or after now
        (60, secs(120), secs(120)), // exactly on a grid point
        (10, secs(4), secs(0)),     // within half of a short interval
        (10, secs(6), secs(10)),    // beyond half of it
    ];
    for (i, (interval, late, expected)) in cases.into_iter().enumerate() {
        let m = monitor(&store, owner, &format!("https://{i}.example"), interval).await;
        let now = m.created_at + late;
        let batch = store
            .claim_due(now, now + MINUTE * 5, 1)
            .await
            .expect("claim");
        let due = m.created_at + expected;
        assert_eq!(dues(&batch.claims), vec![(m.id, due)], "case {i}");
        // Every grid point passed over is a skipped check, counted.
        let passed = (expected.num_seconds() / i64::from(interval)).unsigned_abs();
        assert_eq!(batch.skipped, passed, "case {i}: skipped due times");
        assert!(
            expected == secs(0) || due >= now,
            "case {i}: due at or after now"
        );
        assert!(store.delete_monitor(owner, m.id).await.expect("delete"));
    }
}

pub async fn released_claims_are_due_again_unless_claimed_since(store: S) {
    let owner = user(&store, "s8@example.com").await;
    let m = monitor(&store, owner, "https://a.example", 60).await;
    let first = m.created_at;
    let c1 = claim(&store, first, first, 10).await;
    assert_eq!(dues(&c1), vec![(m.id, first)]);
    store.release_claims(&c1).await.expect("release");
    let c2 = claim(&store, first, first, 10).await;
    assert_eq!(dues(&c2), vec![(m.id, first)], "given back");
    let second = after(&m, first);
    assert_eq!(
        dues(&claim(&store, second, second, 10).await),
        vec![(m.id, second)]
    );
    store.release_claims(&c2).await.expect("stale release");
    assert_eq!(
        claim(&store, second, second, 10).await,
        vec![],
        "a stale release does not move the monitor back"
    );
    let third = after(&m, second);
    assert_eq!(
        dues(&claim(&store, third, third, 10).await),
        vec![(m.id, third)]
    );
}

pub async fn two_pending_claims_of_one_monitor_are_both_given_back(store: S) {
    let owner = user(&store, "s10@example.com").await;
    let m = monitor(&store, owner, "https://b.example", 60).await;
    let first = m.created_at;
    let mut pending = claim(&store, first, first, 10).await;
    pending.extend(claim(&store, first, first + MINUTE * 2, 10).await);
    assert_eq!(
        dues(&pending),
        vec![(m.id, first), (m.id, after(&m, first))]
    );
    // Given back in the order a scheduler's heap holds them: earliest first.
    store.release_claims(&pending).await.expect("release");
    assert_eq!(
        dues(&claim(&store, first, first, 10).await),
        vec![(m.id, first)],
        "the earliest due time is due again"
    );
}

pub async fn concurrent_claimers_share_every_due_time_once(store: S) {
    const ROUNDS: i32 = 4;
    const TASKS: usize = 4;
    let owner = user(&store, "s9@example.com").await;
    let mut firsts = Vec::new();
    for i in 0..30 {
        let m = monitor(&store, owner, &format!("https://{i}.example"), 1).await;
        firsts.push((m.id, m.created_at, m));
    }
    let start = firsts.iter().map(|&(_, at, _)| at).min().expect("monitors");
    let second = Duration::seconds(1);
    let round = move |r: i32| {
        (
            start + second * r,
            start + second * (r + 1) - Duration::milliseconds(1),
        )
    };
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                let mut got = Vec::new();
                for r in 0..ROUNDS {
                    let (now, until) = round(r);
                    loop {
                        let claims = store.claim_due(now, until, 4).await.expect("claim").claims;
                        if claims.is_empty() {
                            break;
                        }
                        got.extend(dues(&claims));
                    }
                    // Nobody moves on while a due time of this round is unclaimed, so no
                    // monitor looks overdue to a claimer that is a round ahead.
                    barrier.wait().await;
                }
                got
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let unique: BTreeSet<_> = all.iter().copied().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "a (monitor, due) was claimed twice"
    );
    let (_, last) = round(ROUNDS - 1);
    let expected: BTreeSet<_> = firsts
        .iter()
        .flat_map(|(id, first, m)| {
            std::iter::successors(Some(*first), |&due| Some(after(m, due)))
                .take_while(|&due| due <= last)
                .map(|due| (*id, due))
        })
        .collect();
    assert_eq!(unique, expected);
}

pub async fn monitors_created_together_check_at_once_then_spread_over_the_interval(store: S) {
    let owner = user(&store, "s11@example.com").await;
    let mut made = Vec::new();
    for i in 0..60 {
        made.push(monitor(&store, owner, &format!("https://{i}.example"), 60).await);
    }
    let (start, end) = (made[0].created_at, made[59].created_at);
    let firsts = claim(&store, end, end, 100).await;
    assert_eq!(firsts.len(), 60, "every first check is due at once");
    let until = end + MINUTE + MINUTE / 2;
    let seconds = claim(&store, end, until, 100).await;
    assert_eq!(
        seconds.len(),
        60,
        "every second check is due within 1.5 intervals"
    );
    // Ten slices of six seconds from half an interval on: 6 each when evenly spread, never
    // the 60 of one instant.
    let mut slices = [0u32; 10];
    for second in &seconds {
        let m = made
            .iter()
            .find(|m| m.id == second.monitor.id)
            .expect("one of ours");
        assert_eq!(
            second.due,
            after(m, m.created_at),
            "the store's grid is the phase's"
        );
        assert!(second.due >= m.created_at + MINUTE / 2);
        assert!(second.due < m.created_at + MINUTE + MINUTE / 2);
        let slice = (second.due - start - MINUTE / 2).num_milliseconds() * 10 / 60_000;
        slices[usize::try_from(slice).expect("after creation").min(9)] += 1;
    }
    assert!(slices.iter().all(|&n| n <= 12), "bunched: {slices:?}");
    // And the grid holds from there: the third check is one interval after the second.
    let thirds = claim(&store, until, until + MINUTE, 100).await;
    let mut expected: Vec<_> = seconds
        .iter()
        .map(|c| (c.monitor.id, c.due + MINUTE))
        .collect();
    expected.sort_by_key(|&(id, due)| (due, id));
    assert_eq!(dues(&thirds), expected);
}

/// After a stop longer than their grace (no server ran), a claim moves the missed due times
/// to their next grid point, whether or not that lies within its horizon, and the moved due
/// time is then claimed once, however many claimers ask.
pub async fn monitors_overdue_past_their_grace_move_to_their_next_grid_point_once(store: S) {
    const TASKS: usize = 4;
    let owner = user(&store, "s11@example.com").await;
    let mut on_grid = Vec::new();
    for i in 0..3 {
        let m = monitor(&store, owner, &format!("https://{i}.example"), 60).await;
        // The first check, at creation; the next due time is on the monitor's phase grid.
        assert_eq!(
            dues(&claim(&store, m.created_at, m.created_at, 10).await),
            vec![(m.id, m.created_at)]
        );
        on_grid.push((after(&m, m.created_at), m));
    }
    // Ten minutes and a half without a server: every next due time is far past its grace.
    let latest = on_grid
        .iter()
        .map(|(next, _)| *next)
        .max()
        .expect("monitors");
    let now = latest + MINUTE * 10 + Duration::seconds(30);
    let expected: BTreeSet<(MonitorId, DateTime<Utc>)> = on_grid
        .iter()
        .map(|(next, m)| {
            let due = std::iter::successors(Some(*next), |&due| Some(after(m, due)))
                .find(|&due| due >= now)
                .expect("a grid point after now");
            (m.id, due)
        })
        .collect();
    assert!(
        expected.iter().all(|&(_, due)| due < now + MINUTE),
        "the first point at or after now is within an interval"
    );
    // Every point from each next due time up to now was passed over: a skipped check each.
    let passed: u64 = on_grid
        .iter()
        .map(|(next, m)| {
            let missed = std::iter::successors(Some(*next), |&due| Some(after(m, due)))
                .take_while(|&due| due < now)
                .count();
            u64::try_from(missed).expect("count")
        })
        .sum();
    let batch = store.claim_due(now, now, 10).await.expect("claim");
    assert_eq!(batch.claims, vec![], "nothing is due within a zero horizon");
    assert_eq!(
        batch.skipped, passed,
        "the due times passed over, counted once"
    );
    // Asked again, later but still before those points: nothing moved further on.
    let before =
        expected.iter().map(|&(_, due)| due).min().expect("due") - Duration::milliseconds(1);
    assert_eq!(
        store.claim_due(before, before, 10).await.expect("claim"),
        tocsin::store::ClaimBatch::default(),
        "nothing claimed, nothing skipped again"
    );
    let until = now + MINUTE;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let claims = store.claim_due(now, until, 1).await.expect("claim").claims;
                    if claims.is_empty() {
                        break got;
                    }
                    got.extend(dues(&claims));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let unique: BTreeSet<_> = all.iter().copied().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "a (monitor, due) was claimed twice"
    );
    assert_eq!(unique, expected, "each on its own grid, at or after now");
}
