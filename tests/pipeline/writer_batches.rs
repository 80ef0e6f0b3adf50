//! The batch writer's batch sizes over the in-process buffer and a real SQLite store: a
//! backlog is written in larger transactions, a trickle in `max_batch`es.

use std::sync::Arc;
use std::time::Duration;

use tocsin::check::{CheckRecord, CheckResult, Phases};
use tocsin::monitor::MonitorDraft;
use tocsin::pipeline::{BatchWriter, Buffer, MemoryBuffer, WriterOptions};
use tocsin::service::EventBus;
use tocsin::telemetry::Metrics;

use crate::helpers::at;
use crate::sqlite_store::sqlite_account;

/// How many transactions the writer committed, from its metrics.
fn batches_written(metrics: &Metrics) -> u64 {
    let text = metrics.encode();
    let line = text
        .lines()
        .find(|l| l.contains("batch_write_seconds_count"))
        .expect("the batch write histogram is exported");
    line.rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count")
}

/// Writes `n` results queued before the writer starts, with `deep_batch`; returns how many
/// transactions that took and how many results were stored.
async fn drain(n: u32, deep_batch: usize) -> (u64, usize) {
    let account = sqlite_account("w@example.com").await;
    let store = account.store.clone();
    let monitor = account
        .monitor(MonitorDraft {
            url: "https://example.com/".into(),
            ..MonitorDraft::default()
        })
        .await;
    let buffer = Arc::new(MemoryBuffer::new(1000));
    for i in 0..n {
        let result = CheckResult {
            checked_at: at(i),
            kind: Default::default(),
            dns: None,
            status_code: Some(200),
            latency: Duration::from_millis(1),
            phases: Phases::default(),
            cert_expires_at: None,
            failure: None,
        };
        buffer
            .push(CheckRecord { monitor, result })
            .await
            .expect("pushed");
    }
    buffer.close();
    let metrics = Arc::new(Metrics::new());
    let options = WriterOptions {
        max_batch: 10,
        deep_batch,
        linger: Duration::from_millis(10),
        ..WriterOptions::default()
    };
    let shared: Arc<dyn Buffer> = buffer;
    BatchWriter::new(
        shared,
        store.clone(),
        metrics.clone(),
        EventBus::new(),
        options,
    )
    .run()
    .await;
    let stored = store
        .list_results(account.owner, monitor, None, 1000)
        .await
        .expect("list")
        .expect("the monitor exists")
        .len();
    (batches_written(&metrics), stored)
}

#[tokio::test]
async fn a_backlog_is_written_in_deep_batches() {
    // 45 waiting: 40 in one transaction while at least 40 wait, then the 5 left.
    assert_eq!(drain(45, 40).await, (2, 45));
}

#[tokio::test]
async fn without_a_deep_batch_every_batch_is_at_most_max_batch() {
    // A deep batch no larger than max_batch changes nothing: 45 in batches of 10.
    assert_eq!(drain(45, 0).await, (5, 45));
}
