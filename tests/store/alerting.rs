//! The results write decides monitors' states: by thresholds, in `checked_at` order, once.
//! Whatever order, lateness or repetition batches arrive in, the same checks give the same
//! transitions, each exactly once.

use tocsin::alerting::{Decision, MonitorState, Transition};
use tocsin::check::{CheckResult, FailureKind};
use tocsin::monitor::{Monitor, MonitorDraft, MonitorSpec, Rules};

use crate::results::{at, failed, ok, records};
use crate::suite::{S, user};

/// A monitor of a new account with these thresholds (and a 600 ms latency threshold).
async fn watched(store: &S, tag: &str, failure: u32, success: u32) -> Monitor {
    let owner = user(store, &format!("{tag}@example.com")).await;
    let spec = MonitorSpec::parse(
        MonitorDraft {
            url: format!("https://{tag}.example"),
            failure_threshold: Some(failure),
            success_threshold: Some(success),
            latency_threshold_ms: Some(600),
            ..MonitorDraft::default()
        },
        &Rules::STORED,
    )
    .expect("valid spec");
    store
        .create_monitor(owner, &spec, 10)
        .await
        .expect("created")
}

fn down(second: i64) -> CheckResult {
    failed(at(second), FailureKind::Timeout, None, 1000)
}

fn up(second: i64) -> CheckResult {
    ok(at(second), 200, 20)
}

fn slow(second: i64) -> CheckResult {
    ok(at(second), 200, 900)
}

/// Writes `results` of `m` as one batch; returns the states it moved to.
async fn write(store: &S, m: &Monitor, results: &[CheckResult]) -> Vec<MonitorState> {
    let written = store
        .insert_results(&records(m.id, results))
        .await
        .expect("written");
    states(&written.transitions)
}

fn states(transitions: &[Transition]) -> Vec<MonitorState> {
    transitions
        .iter()
        .filter_map(|t| match t.decision {
            Decision::State { to, .. } => Some(to),
            _ => None,
        })
        .collect()
}

async fn state(store: &S, m: &Monitor) -> MonitorState {
    store
        .get_monitor(m.owner, m.id)
        .await
        .expect("get")
        .expect("found")
        .state
}

pub async fn a_new_monitor_is_pending_until_its_thresholds_decide(store: S) {
    let m = watched(&store, "a1", 3, 2).await;
    assert_eq!(m.state, MonitorState::Pending);
    assert_eq!(write(&store, &m, &[up(0)]).await, vec![]);
    assert_eq!(state(&store, &m).await, MonitorState::Pending);
    assert_eq!(write(&store, &m, &[up(1)]).await, vec![MonitorState::Up]);
    assert_eq!(state(&store, &m).await, MonitorState::Up);
    let listed = store.list_monitors(m.owner).await.expect("list");
    assert_eq!(listed[0].state, MonitorState::Up);
}

pub async fn failures_in_a_row_take_it_down_across_batches_and_passes_bring_it_back(store: S) {
    let m = watched(&store, "a2", 3, 2).await;
    assert_eq!(
        write(&store, &m, &[up(0), up(1)]).await,
        vec![MonitorState::Up]
    );
    assert_eq!(write(&store, &m, &[down(2), down(3)]).await, vec![]);
    assert_eq!(
        write(&store, &m, &[down(4)]).await,
        vec![MonitorState::Down]
    );
    let got = store
        .get_monitor(m.owner, m.id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(got.state, MonitorState::Down);
    let error = got
        .last_check
        .and_then(|c| c.failure)
        .expect("why it is down");
    assert_eq!(error.kind, FailureKind::Timeout);
    assert_eq!(
        write(&store, &m, &[up(5)]).await,
        vec![],
        "one pass is not two"
    );
    assert_eq!(write(&store, &m, &[up(6)]).await, vec![MonitorState::Up]);
    // Flapping under the threshold never alerts.
    let flapping = [down(7), down(8), up(9), down(10), down(11), up(12)];
    assert_eq!(write(&store, &m, &flapping).await, vec![]);
}

pub async fn batches_out_of_order_late_or_twice_decide_each_transition_once(store: S) {
    let m = watched(&store, "a3", 3, 1).await;
    write(&store, &m, &[up(0)]).await;
    // One batch, its checks shuffled: decided in checked_at order, one transition.
    let shuffled = [down(3), up(1), down(4), down(2)];
    let first = store
        .insert_results(&records(m.id, &shuffled))
        .await
        .expect("written");
    assert_eq!(states(&first.transitions), vec![MonitorState::Down]);
    let [t] = first.transitions.as_slice() else {
        panic!("one transition: {:?}", first.transitions);
    };
    assert_eq!(t.at, at(4), "decided by the third failure");
    assert!(t.incident.is_some(), "an incident was opened");
    assert!(
        matches!(&t.decision, Decision::State { since, .. } if *since == at(2)),
        "the incident starts at the first failure of the run: {t:?}"
    );
    // The same batch again, and an older batch that arrives late: nothing changes.
    assert_eq!(write(&store, &m, &shuffled).await, vec![]);
    assert_eq!(write(&store, &m, &[up(-10), up(-5)]).await, vec![]);
    assert_eq!(state(&store, &m).await, MonitorState::Down);
    // A result already newer than the last applied check, written before an older one.
    assert_eq!(write(&store, &m, &[up(6)]).await, vec![MonitorState::Up]);
    assert_eq!(
        write(&store, &m, &[down(5)]).await,
        vec![],
        "older than the last applied"
    );
    assert_eq!(state(&store, &m).await, MonitorState::Up);
}

pub async fn slow_checks_make_it_degraded(store: S) {
    let m = watched(&store, "a4", 2, 1).await;
    write(&store, &m, &[up(0)]).await;
    assert_eq!(
        write(&store, &m, &[slow(1), slow(2)]).await,
        vec![MonitorState::Degraded]
    );
    assert_eq!(write(&store, &m, &[up(3)]).await, vec![MonitorState::Up]);
}

pub async fn results_of_several_monitors_in_one_batch_each_decide_their_own(store: S) {
    let a = watched(&store, "a5", 1, 1).await;
    let b = watched(&store, "a6", 2, 1).await;
    let mut batch = records(a.id, &[up(0), down(1)]);
    batch.extend(records(b.id, &[up(0), down(1)]));
    let written = store.insert_results(&batch).await.expect("written");
    assert_eq!(written.inserted, 4);
    let a_moves: Vec<_> = written
        .transitions
        .iter()
        .filter(|t| t.monitor == a.id)
        .collect();
    let b_moves: Vec<_> = written
        .transitions
        .iter()
        .filter(|t| t.monitor == b.id)
        .collect();
    assert_eq!(
        states(&a_moves.into_iter().cloned().collect::<Vec<_>>()),
        vec![MonitorState::Up, MonitorState::Down]
    );
    assert_eq!(
        states(&b_moves.into_iter().cloned().collect::<Vec<_>>()),
        vec![MonitorState::Up]
    );
    assert_eq!(state(&store, &b).await, MonitorState::Up);
}
