//! The Redis buffer with Redis up: when results move, who acknowledges them, and what a
//! crashed writer or a corrupt entry leaves behind.

use std::time::{Duration, Instant};

use tocsin::pipeline::{Buffer, PipelineError};

use crate::helpers::{env, eventually, times};

const LONG: Duration = Duration::from_secs(15);

#[tokio::test]
async fn results_reach_redis_at_once_and_the_store_at_the_flush() {
    let Some(env) = env().await else { return };
    let flush = Duration::from_millis(1500);
    let buffer = env.buffer(flush).await;
    let writer = env.writer(buffer.clone());
    // The first flush is due at start; let it pass so the next is a whole interval away.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let pushed = Instant::now();
    for n in 0..3 {
        buffer.push(env.record(n)).await.expect("push");
    }
    eventually("the results are in the stream", LONG, || async {
        env.xlen().await == 3
    })
    .await;
    let in_redis = pushed.elapsed();
    assert!(env.stored().await.is_empty(), "stored before the flush");
    eventually("the results are stored", LONG, || async {
        env.stored().await == times(0..3)
    })
    .await;
    let in_store = pushed.elapsed();
    assert!(in_store >= in_redis);
    eventually("stored entries leave the stream", LONG, || async {
        env.xlen().await == 0 && env.pending().await == 0
    })
    .await;

    buffer.close();
    tokio::time::timeout(LONG, writer)
        .await
        .expect("the writer stops")
        .expect("the writer ran");
}

#[tokio::test]
async fn the_seeds_hundred_minute_flush_interval_is_accepted() {
    let Some(env) = env().await else { return };
    let options = env.options(&env.space.url, Duration::from_secs(100 * 60));
    assert!(options.claim_idle >= Duration::from_secs(100 * 60));
    let buffer = env.buffer_with(options).await;
    assert!(buffer.health().reachable);
    buffer.close();
}

#[tokio::test]
async fn entries_taken_by_a_crashed_writer_are_reclaimed_and_stored() {
    let Some(env) = env().await else { return };
    let crashed = env.buffer(Duration::from_millis(100)).await;
    for n in 0..5 {
        crashed.push(env.record(n)).await.expect("push");
    }
    let batch = tokio::time::timeout(LONG, crashed.take(100, Duration::ZERO))
        .await
        .expect("a batch in time")
        .expect("take")
        .expect("a batch");
    assert_eq!(batch.records.len(), 5);
    // Taken and never acknowledged: the process "crashes".
    drop(crashed);
    assert_eq!(env.pending().await, 5);
    assert_eq!(env.xlen().await, 5);

    let mut options = env.options(&env.space.url, Duration::from_millis(100));
    options.claim_idle = Duration::from_millis(300);
    let survivor = env.buffer_with(options).await;
    let writer = env.writer(survivor.clone());
    eventually("the reclaimed results are stored", LONG, || async {
        env.stored().await == times(0..5)
    })
    .await;
    eventually("the stream ends empty", LONG, || async {
        env.xlen().await == 0 && env.pending().await == 0
    })
    .await;
    survivor.close();
    tokio::time::timeout(LONG, writer)
        .await
        .expect("stops")
        .expect("ran");
}

#[tokio::test]
async fn entries_stored_twice_are_one_row_each() {
    let Some(env) = env().await else { return };
    let first = env.buffer(Duration::from_millis(100)).await;
    for n in 0..4 {
        first.push(env.record(n)).await.expect("push");
    }
    let batch = tokio::time::timeout(LONG, first.take(100, Duration::ZERO))
        .await
        .expect("in time")
        .expect("take")
        .expect("a batch");
    // Committed, then the process dies before acknowledging.
    env.store
        .insert_results(&batch.records)
        .await
        .expect("stored");
    drop(first);
    assert_eq!(env.stored().await, times(0..4));

    let mut options = env.options(&env.space.url, Duration::from_millis(100));
    options.claim_idle = Duration::from_millis(200);
    let second = env.buffer_with(options).await;
    let writer = env.writer(second.clone());
    eventually("the redelivered entries are acknowledged", LONG, || async {
        env.xlen().await == 0 && env.pending().await == 0
    })
    .await;
    assert_eq!(env.stored().await, times(0..4), "one row each");
    second.close();
    tokio::time::timeout(LONG, writer)
        .await
        .expect("stops")
        .expect("ran");
}

#[tokio::test]
async fn a_corrupt_entry_is_discarded_and_does_not_block_the_rest() {
    let Some(env) = env().await else { return };
    let buffer = env.buffer(Duration::from_millis(100)).await;
    let writer = env.writer(buffer.clone());
    buffer.push(env.record(0)).await.expect("push");
    let mut redis = env.redis().await;
    let _: String = redis::cmd("XADD")
        .arg(env.stream())
        .arg("*")
        .arg("garbage")
        .arg(&b"\xff\x00not a record"[..])
        .query_async(&mut redis)
        .await
        .expect("XADD");
    let _: String = redis::cmd("XADD")
        .arg(env.stream())
        .arg("*")
        .arg("v")
        .arg("1")
        .arg("m")
        .arg(env.monitor.0)
        .arg("r")
        .arg("{not json")
        .query_async(&mut redis)
        .await
        .expect("XADD");
    for n in 1..3 {
        buffer.push(env.record(n)).await.expect("push");
    }
    eventually("the good results are stored", LONG, || async {
        env.stored().await == times(0..3)
    })
    .await;
    eventually("the corrupt entries are gone too", LONG, || async {
        env.xlen().await == 0 && env.pending().await == 0
    })
    .await;
    assert!(
        env.metrics
            .encode()
            .contains("tocsin_results_corrupt_total 2"),
        "{}",
        env.metrics.encode()
    );
    buffer.close();
    tokio::time::timeout(LONG, writer)
        .await
        .expect("stops")
        .expect("ran");
}

#[tokio::test]
async fn close_drains_everything_into_the_store() {
    let Some(env) = env().await else { return };
    // A long interval: after close the flusher must not wait for it.
    let buffer = env.buffer(Duration::from_secs(3600)).await;
    let writer = env.writer(buffer.clone());
    for n in 0..50 {
        buffer.push(env.record(n)).await.expect("push");
    }
    buffer.close();
    assert!(matches!(
        buffer.push(env.record(99)).await,
        Err(PipelineError::Closed)
    ));
    tokio::time::timeout(LONG, writer)
        .await
        .expect("the writer stops")
        .expect("ran");
    assert_eq!(env.stored().await, times(0..50));
    assert_eq!(env.xlen().await, 0);
    let end = tokio::time::timeout(LONG, buffer.take(100, Duration::ZERO))
        .await
        .expect("in time")
        .expect("take");
    assert!(end.is_none());
    assert_eq!(buffer.len(), 0);
    let consumers: Vec<redis::Value> = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg(env.stream())
        .arg(format!("{}:writers", env.space.prefix))
        .query_async(&mut env.redis().await)
        .await
        .expect("XINFO");
    assert!(
        consumers.is_empty(),
        "a drained instance leaves the group: {consumers:?}"
    );
}
