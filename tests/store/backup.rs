//! `backup_sqlite` while another connection keeps committing batches: every copy opens,
//! passes SQLite's check and holds whole batches only (one instant of the database, never
//! half a transaction), and the live database is not held up meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tocsin::store::prelude::*;
use tocsin::store::{SqliteStore, backup_sqlite};

use crate::results::{at, ok, owned_monitor, records};
use crate::suite::S;

const BATCH: i64 = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_are_consistent_snapshots_taken_while_writes_go_on() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let live = dir.path().join("tocsin.db");
    let store: S = Arc::new(SqliteStore::open(&live).await.expect("opens"));
    store.migrate().await.expect("migrates");
    let monitor = owned_monitor(&store, "backup").await;

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut batches = 0i64;
            while !stop.load(Ordering::Relaxed) {
                let batch: Vec<_> = (0..BATCH)
                    .map(|n| ok(at(batches * BATCH + n), 200, 5))
                    .collect();
                store
                    .insert_results(&records(monitor.id, &batch))
                    .await
                    .expect("writes go on during the backup");
                batches += 1;
            }
            batches
        })
    };
    let mut sizes = Vec::new();
    for n in 0..5 {
        let copy = dir.path().join(format!("copy-{n}.db"));
        let summary = tokio::task::spawn_blocking({
            let (live, copy) = (live.clone(), copy.clone());
            move || backup_sqlite(&live, &copy)
        })
        .await
        .expect("joins")
        .expect("backs up");
        assert_eq!((summary.accounts, summary.monitors), (1, 1));
        let opened = SqliteStore::open(&copy).await.expect("the copy opens");
        let stored = opened
            .list_results(monitor.owner, monitor.id, None, 100_000)
            .await
            .expect("reads")
            .expect("the monitor is in the copy");
        let count = i64::try_from(stored.len()).expect("count");
        assert_eq!(count % BATCH, 0, "whole batches only: {count}");
        sizes.push(count);
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let batches = writer.await.expect("writer");
    assert!(batches > 5, "the writer kept writing: {batches} batches");
    assert!(
        sizes.windows(2).all(|w| w[0] <= w[1]) && sizes.last() > sizes.first(),
        "later copies hold more: {sizes:?}"
    );
}
