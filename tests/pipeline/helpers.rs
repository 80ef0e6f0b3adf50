//! A fresh Redis prefix with a migrated SQLite store holding one monitor, records to push,
//! and the Redis-side views (stream length, pending count) the tests assert on.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tocsin::service::EventBus;

use chrono::{DateTime, Utc};
use redis::aio::MultiplexedConnection;
use tocsin::auth::UserId;
use tocsin::check::{CheckRecord, CheckResult, Phases};
use tocsin::config::RedisUrl;
use tocsin::monitor::{MonitorDraft, MonitorId};
use tocsin::pipeline::{BatchWriter, Buffer, RedisBuffer, RedisOptions, WriterOptions};
use tocsin::store::Store;
use tocsin::telemetry::Metrics;
use tokio::task::JoinHandle;

use crate::services::{RedisSpace, fresh_redis};
use crate::sqlite_store::{SqliteAccount, sqlite_account};

/// Everything one test needs; the Redis keys and the database go when it is dropped.
pub struct Env {
    pub space: RedisSpace,
    pub store: Arc<dyn Store>,
    pub owner: UserId,
    pub monitor: MonitorId,
    pub metrics: Arc<Metrics>,
    _account: SqliteAccount,
}

/// A fresh environment, or `None` when there is no Redis (the skip is already said).
pub async fn env() -> Option<Env> {
    let space = fresh_redis().await?;
    let account = sqlite_account("p@example.com").await;
    let monitor = account
        .monitor(MonitorDraft {
            url: "https://example.com/".into(),
            ..MonitorDraft::default()
        })
        .await;
    Some(Env {
        space,
        store: account.store.clone(),
        owner: account.owner,
        monitor,
        metrics: Arc::new(Metrics::new()),
        _account: account,
    })
}

impl Env {
    /// Options for a buffer on `url` (the test Redis or a proxy in front of it).
    pub fn options(&self, url: &str, flush: Duration) -> RedisOptions {
        let mut options = RedisOptions::new(
            RedisUrl::try_from(url.to_owned()).expect("a Redis URL"),
            self.space.prefix.clone(),
            flush,
            1000,
        );
        options.call_timeout = Duration::from_secs(1);
        options.shutdown_grace = Duration::from_secs(3);
        options
    }

    /// A buffer on the test Redis with `flush` as its interval.
    pub async fn buffer(&self, flush: Duration) -> Arc<RedisBuffer> {
        self.buffer_with(self.options(&self.space.url, flush)).await
    }

    /// A buffer with these options.
    pub async fn buffer_with(&self, options: RedisOptions) -> Arc<RedisBuffer> {
        Arc::new(
            RedisBuffer::connect(options, self.metrics.clone())
                .await
                .expect("the buffer starts"),
        )
    }

    /// The real batch writer from `buffer` to the store, running.
    pub fn writer(&self, buffer: Arc<RedisBuffer>) -> JoinHandle<()> {
        let writer = BatchWriter::new(
            buffer as Arc<dyn Buffer>,
            self.store.clone(),
            self.metrics.clone(),
            EventBus::new(),
            WriterOptions {
                max_batch: 5000,
                ..WriterOptions::default()
            },
        );
        tokio::spawn(writer.run())
    }

    /// The `n`th result of the monitor: distinct `checked_at`s, a millisecond apart.
    pub fn record(&self, n: u32) -> CheckRecord {
        CheckRecord {
            monitor: self.monitor,
            result: CheckResult {
                checked_at: at(n),
                kind: Default::default(),
                dns: None,
                status_code: Some(200),
                latency: Duration::from_micros(1500 + u64::from(n)),
                phases: Phases::default(),
                cert_expires_at: None,
                failure: None,
            },
        }
    }

    /// The `checked_at`s in the store, oldest first.
    pub async fn stored(&self) -> Vec<DateTime<Utc>> {
        let mut times: Vec<_> = self
            .store
            .list_results(self.owner, self.monitor, None, 10_000)
            .await
            .expect("list")
            .expect("the monitor exists")
            .into_iter()
            .map(|r| r.checked_at)
            .collect();
        times.sort();
        times
    }

    /// A plain connection to the test Redis, to look behind the buffer's back.
    pub async fn redis(&self) -> MultiplexedConnection {
        redis::Client::open(self.space.url.as_str())
            .expect("url")
            .get_multiplexed_async_connection()
            .await
            .expect("connects")
    }

    /// The stream's key.
    pub fn stream(&self) -> String {
        format!("{}:results", self.space.prefix)
    }

    /// How many entries the stream holds.
    pub async fn xlen(&self) -> usize {
        redis::cmd("XLEN")
            .arg(self.stream())
            .query_async(&mut self.redis().await)
            .await
            .expect("XLEN")
    }

    /// How many entries the group has delivered and not had acknowledged.
    pub async fn pending(&self) -> usize {
        let summary: redis::Value = redis::cmd("XPENDING")
            .arg(self.stream())
            .arg(format!("{}:writers", self.space.prefix))
            .query_async(&mut self.redis().await)
            .await
            .expect("XPENDING");
        match summary {
            redis::Value::Array(items) => match items.first() {
                Some(redis::Value::Int(n)) => usize::try_from(*n).expect("count"),
                other => panic!("XPENDING count: {other:?}"),
            },
            other => panic!("XPENDING: {other:?}"),
        }
    }
}

/// 2026-01-01T00:00:00Z plus `n` milliseconds.
pub fn at(n: u32) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_767_225_600_000 + i64::from(n)).expect("in range")
}

/// The times of records `from..to`.
pub fn times(range: std::ops::Range<u32>) -> Vec<DateTime<Utc>> {
    range.map(at).collect()
}

/// Polls `check` until it holds, failing after a generous `within`.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
