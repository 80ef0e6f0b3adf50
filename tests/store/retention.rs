//! Retention: rolling raw results up into hours loses nothing, and pruning is bounded.

use chrono::DateTime;
use chrono::Utc;
use tocsin::check::stats::{Sample, Stats, Summary, Window};
use tocsin::check::{CheckKind, CheckResult, DnsAnswer, FailureKind};
use tocsin::monitor::Monitor;
use tocsin::store::WindowData;

use crate::results::{at, base, failed, ok, owned_monitor, records};
use crate::suite::S;

const HOUR: i64 = 3600;

/// Seven checks over three hours: 3 failures, 5 with a response (100, 50, 300, 150, 200 ms).
fn three_hours() -> Vec<CheckResult> {
    vec![
        ok(at(10), 200, 100),
        ok(at(20 * 60), 200, 50),
        failed(at(40 * 60), FailureKind::Timeout, None, 5000),
        failed(at(HOUR + 10 * 60), FailureKind::Status, Some(500), 300),
        ok(at(HOUR + 50 * 60), 200, 150),
        ok(at(2 * HOUR + 10 * 60), 200, 200),
        failed(at(2 * HOUR + 30 * 60), FailureKind::Connect, None, 20),
    ]
}

async fn seeded(store: &S, tag: &str) -> Monitor {
    let m = owned_monitor(store, tag).await;
    let inserted = store
        .insert_results(&records(m.id, &three_hours()))
        .await
        .expect("insert");
    assert_eq!(inserted.inserted, 7);
    m
}

/// The monitor's window from `from`, asserting it is the owner's.
pub async fn window(store: &S, m: &Monitor, from: DateTime<Utc>) -> WindowData {
    store
        .window(m.owner, m.id, from)
        .await
        .expect("window")
        .expect("own monitor")
}

/// Raw rows and rollups added up: what any statistic of the window is computed from.
pub fn total(data: &WindowData) -> Summary {
    let mut total = data.rollups.clone();
    for sample in &data.raw {
        total.add(sample);
    }
    total
}

/// A TCP check that connected, one whose connection was refused, one that connected but
/// failed a condition, a DNS answer (NXDOMAIN, a failure) and a DNS query that timed out.
fn tcp_and_dns() -> Vec<CheckResult> {
    let kind = |mut result: CheckResult, kind: CheckKind, rcode: Option<&str>| {
        result.kind = kind;
        result.status_code = None;
        result.dns = rcode.map(|rcode| DnsAnswer {
            rcode: rcode.into(),
            records: Vec::new(),
        });
        result
    };
    vec![
        kind(ok(at(10), 200, 10), CheckKind::Tcp, None),
        kind(
            failed(at(20), FailureKind::Connect, None, 1),
            CheckKind::Tcp,
            None,
        ),
        kind(
            failed(at(30), FailureKind::Condition, None, 30),
            CheckKind::Tcp,
            None,
        ),
        kind(
            failed(at(40), FailureKind::Dns, None, 40),
            CheckKind::Dns,
            Some("NXDOMAIN"),
        ),
        kind(
            failed(at(50), FailureKind::Timeout, None, 5000),
            CheckKind::Dns,
            None,
        ),
    ]
}

/// Latency counts for TCP and DNS checks whose target answered, like HTTP checks that got
/// a response, in raw windows and once rolled up.
pub async fn tcp_and_dns_latency_counts_when_the_target_answered(store: S) {
    let m = owned_monitor(&store, "kinds").await;
    store
        .insert_results(&records(m.id, &tcp_and_dns()))
        .await
        .expect("insert");
    let raw = window(&store, &m, base()).await;
    let latencies: Vec<Option<u128>> = raw
        .raw
        .iter()
        .map(|sample| sample.latency.map(|d| d.as_millis()))
        .collect();
    assert_eq!(latencies, vec![Some(10), None, Some(30), Some(40), None]);
    let before = total(&raw);
    assert_eq!(
        (before.checks, before.failures, before.latency_count),
        (5, 4, 3)
    );
    roll_all(&store, at(HOUR)).await;
    let rolled = window(&store, &m, base()).await;
    assert!(rolled.raw.is_empty(), "{rolled:?}");
    assert_eq!(total(&rolled), before);
}

/// Rolls up in batches of two until a batch comes back short; returns how many moved.
async fn roll_all(store: &S, cutoff: DateTime<Utc>) -> usize {
    let mut moved = 0;
    loop {
        let n = store.roll_up_before(cutoff, 2).await.expect("roll up");
        assert!(n <= 2, "at most the limit");
        moved += n;
        if n < 2 {
            return moved;
        }
    }
}

fn assert_hand_computed(data: &WindowData) {
    let stats = Stats::compute(Window::Day, &data.raw, &data.rollups);
    assert_eq!(stats.checks, 7);
    assert_eq!(stats.failures, 3);
    assert_eq!(stats.uptime_ratio, Some(4.0 / 7.0));
    assert_eq!(stats.latency.avg, Some(160.0), "800 ms over 5 responses");
    assert_eq!(stats.latency.max, Some(300.0));
}

pub async fn rolling_up_keeps_window_totals_exact(store: S) {
    let m = seeded(&store, "t1").await;
    let before = window(&store, &m, base()).await;
    assert_eq!(before.raw.len(), 7);
    assert_eq!(before.rollups, Summary::default());
    assert_hand_computed(&before);
    let expected = total(&before);

    // Halfway through the second hour: that hour is rolled up in two runs.
    let cutoff = at(HOUR + 30 * 60);
    assert_eq!(roll_all(&store, cutoff).await, 4);
    let results = store
        .list_results(m.owner, m.id, None, 100)
        .await
        .expect("list")
        .expect("own");
    let mut newest_first = three_hours()[4..].to_vec();
    newest_first.reverse();
    assert_eq!(results, newest_first, "raw rows before the cutoff are gone");
    let halfway = window(&store, &m, base()).await;
    assert_eq!((halfway.raw.len(), halfway.rollups.checks), (3, 4));
    assert_eq!(total(&halfway), expected, "raw ∪ rollups is exact");
    assert_hand_computed(&halfway);

    assert_eq!(roll_all(&store, at(3 * HOUR)).await, 3);
    let rolled = window(&store, &m, base()).await;
    assert_eq!(rolled.raw, vec![]);
    assert_eq!(rolled.rollups, expected);
    assert_hand_computed(&rolled);
    assert_eq!(
        store.roll_up_before(at(3 * HOUR), 2).await.expect("again"),
        0
    );

    // The second hour's two runs merged into one: both its checks, its min and its max.
    let late = window(&store, &m, at(HOUR)).await.rollups;
    assert_eq!((late.checks, late.failures, late.latency_count), (4, 2, 3));
    let ms = std::time::Duration::from_millis;
    assert_eq!((late.latency_min, late.latency_max), (ms(150), ms(300)));
    assert_eq!(late.latency_sum, ms(650));
}

pub async fn windows_reach_back_to_the_start_of_their_first_hour(store: S) {
    let m = seeded(&store, "t2").await;
    assert_eq!(roll_all(&store, at(HOUR + 30 * 60)).await, 4);
    // From 01:20: raw rows from 01:20 on, and the rollup of the hour starting at 01:00.
    let data = window(&store, &m, at(HOUR + 20 * 60)).await;
    let ms = |n| Some(std::time::Duration::from_millis(n));
    let mut raw = data.raw.clone();
    raw.sort_by_key(|s| (s.ok, s.latency));
    assert_eq!(
        raw,
        vec![
            Sample {
                ok: false,
                latency: None
            },
            Sample {
                ok: true,
                latency: ms(150)
            },
            Sample {
                ok: true,
                latency: ms(200)
            },
        ]
    );
    assert_eq!(
        (data.rollups.checks, data.rollups.failures),
        (1, 1),
        "only 01:10"
    );
    assert_eq!(
        data.rollups.latency_max,
        std::time::Duration::from_millis(300)
    );
}

pub async fn pruning_removes_only_old_hours_at_most_limit(store: S) {
    let m = seeded(&store, "t3").await;
    assert_eq!(roll_all(&store, at(3 * HOUR)).await, 7);
    let checks = async |store: &S| window(store, &m, base()).await.rollups.checks;
    assert_eq!(checks(&store).await, 7);
    let cutoff = at(2 * HOUR);
    assert_eq!(store.prune_rollups(cutoff, 1).await.expect("prune"), 1);
    assert_eq!(checks(&store).await, 4, "the oldest hour went first");
    assert_eq!(store.prune_rollups(cutoff, 1).await.expect("prune"), 1);
    assert_eq!(checks(&store).await, 2);
    assert_eq!(store.prune_rollups(cutoff, 10).await.expect("prune"), 0);
    assert_eq!(
        checks(&store).await,
        2,
        "the hour starting at the cutoff stays"
    );
    assert_eq!(
        store.prune_rollups(at(3 * HOUR), 10).await.expect("prune"),
        1
    );
    assert_eq!(checks(&store).await, 0);
}

pub async fn tallies_count_raw_rows_and_rollups_of_many_monitors_at_once(store: S) {
    let a = seeded(&store, "ta").await;
    let b = owned_monitor(&store, "tb").await;
    let tally = |store: S, ids: Vec<tocsin::monitor::MonitorId>| async move {
        store
            .tallies(a.owner, &ids, base())
            .await
            .expect("tallies")
            .into_iter()
            .map(|t| (t.monitor, t.checks, t.failures))
            .collect::<Vec<_>>()
    };
    let expected = vec![(a.id, 7, 3)];
    assert_eq!(
        tally(store.clone(), vec![a.id, b.id]).await,
        expected,
        "b is not the owner's"
    );
    assert_eq!(tally(store.clone(), vec![]).await, vec![]);
    // Half rolled up, then all: the same counts.
    roll_all(&store, at(HOUR + 30 * 60)).await;
    assert_eq!(tally(store.clone(), vec![a.id]).await, expected);
    roll_all(&store, at(3 * HOUR)).await;
    assert_eq!(tally(store.clone(), vec![a.id]).await, expected);
    // From the second hour on.
    let later = store
        .tallies(a.owner, &[a.id], at(HOUR))
        .await
        .expect("tallies");
    assert_eq!((later[0].checks, later[0].failures), (4, 2));
    // Another owner's monitor tells nothing.
    assert!(
        store
            .tallies(b.owner, &[a.id, b.id], base())
            .await
            .expect("tallies")
            .is_empty()
    );
}

pub async fn hourly_latency_comes_from_the_rollups(store: S) {
    let m = seeded(&store, "hl").await;
    let hours = |store: S| async move {
        store
            .hourly_latency(m.owner, m.id, base())
            .await
            .expect("read")
            .expect("own monitor")
            .into_iter()
            .map(|h| {
                (
                    (h.hour - base()).num_hours(),
                    h.responses,
                    h.total.as_millis(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(hours(store.clone()).await, vec![], "nothing rolled up yet");
    roll_all(&store, at(3 * HOUR)).await;
    assert_eq!(
        hours(store.clone()).await,
        vec![(0, 2, 150), (1, 2, 450), (2, 1, 200)],
        "responses only: no timeout, no refused connection"
    );
    let other = owned_monitor(&store, "hl-other").await;
    assert_eq!(
        store
            .hourly_latency(other.owner, m.id, base())
            .await
            .expect("read"),
        None
    );
}
