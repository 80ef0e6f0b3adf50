//! A claim that waits on the database holds no check already claimed: the scheduler claims
//! beside its timers (issue 17). Awaited in the loop, a claim stuck behind a write held every
//! check due meanwhile, which then started past its grace and was skipped; at 10,000 checks/s
//! that is how the engine collapsed.

use std::sync::Arc;
use std::time::Duration;

use tocsin::monitor::MonitorDraft;
use tocsin::pipeline::{Buffer, MemoryBuffer};
use tocsin::probe::{Probe, ProbeOptions};
use tocsin::scheduler::{Scheduler, SchedulerOptions};
use tocsin::service::EventBus;
use tocsin::telemetry::Metrics;
use tokio::time::Instant;

use crate::checks::eventually;
use crate::sqlite_store::sqlite_account;
use crate::target::Target;

/// Monitors checked every second: in any stretch of the lock below, each is due.
const MONITORS: usize = 6;
/// How long another connection holds SQLite's write lock: within the store's busy timeout
/// (5 s), so the claim waits rather than fails.
const LOCKED: Duration = Duration::from_millis(2500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_already_claimed_run_on_time_while_a_claim_waits_on_the_database() {
    let target = Target::start().await;
    let account = sqlite_account("claims@example.com").await;
    let store = account.store.clone();
    let path = account.path.clone();
    let paths: Vec<String> = (0..MONITORS)
        .map(|n| format!("/status/{}", 200 + n))
        .collect();
    for path in &paths {
        account
            .monitor(MonitorDraft {
                name: Some(path.clone()),
                url: target.url(path),
                interval_seconds: Some(1),
                ..MonitorDraft::default()
            })
            .await;
    }
    let events = EventBus::new();
    let buffer: Arc<dyn Buffer> = Arc::new(MemoryBuffer::new(10_000));
    let scheduler = Scheduler::new(
        store.clone(),
        Probe::new(ProbeOptions {
            allow_private: true,
            ..ProbeOptions::default()
        }),
        buffer,
        Arc::new(Metrics::new()),
        SchedulerOptions {
            // Claimed three seconds ahead, every 100 ms: when the lock comes, every monitor's
            // checks for the next few seconds are already claimed, and the next claim waits.
            horizon: Duration::from_secs(3),
            poll: Duration::from_millis(100),
            ..SchedulerOptions::default()
        },
        events.subscribe(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(scheduler.run(async {
        let _ = stopped.await;
    }));
    eventually(
        Duration::from_secs(10),
        "every monitor checked twice",
        || async {
            paths
                .iter()
                .all(|path| target.hits(path).len() >= 2)
                .then_some(())
        },
    )
    .await;

    // Another connection takes the write lock, as a long write would; the claims wait.
    let locked_at = tokio::task::spawn_blocking(move || {
        let mut conn = rusqlite::Connection::open(&path).expect("second connection");
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .expect("write lock");
        let locked_at = Instant::now();
        std::thread::sleep(LOCKED);
        tx.rollback().expect("released");
        locked_at
    })
    .await
    .expect("lock held");

    // Past the claim in flight when the lock came, each monitor was still checked at least
    // once a second while the lock was held: from the timers, not waiting for the claim.
    let from = locked_at + Duration::from_millis(300);
    let to = locked_at + LOCKED;
    for path in &paths {
        let during = target
            .hits(path)
            .into_iter()
            .filter(|&hit| hit >= from && hit < to)
            .count();
        assert!(
            during >= 2,
            "{path}: {during} checks in the {:?} the database was locked",
            to - from
        );
    }
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the scheduler stops")
        .expect("the scheduler ran");
}
