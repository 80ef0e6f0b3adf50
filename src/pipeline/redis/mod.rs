//! The Redis buffer: finished checks go into a Redis stream that outlives this process, and
//! the batch writer reads them back through a consumer group, acknowledging (and deleting)
//! each entry only after the store committed it. A crash loses at most what was still queued
//! locally; an entry taken but not stored is reclaimed by whichever instance is alive.
//!
//! `push` never waits on Redis: records go into a bounded local queue that a forwarder task
//! sends on at once, in one pipelined round trip for everything queued. The flusher (`take`)
//! reads the stream once per flush interval, and back to back while a backlog remains.

mod codec;
mod durability;
mod endpoint;
mod flusher;
mod forwarder;
mod link;
mod local;
mod reply;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::{Batch, Buffer, BufferHealth, PipelineError};
use crate::check::CheckRecord;
use crate::config::RedisUrl;
use crate::telemetry::Metrics;
use flusher::Flusher;
use link::Link;
use local::Local;

/// How the Redis buffer is set up.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// The Redis server, or the Sentinels that name it.
    pub url: RedisUrl,
    /// A PEM file of CAs to trust for TLS instead of the public roots.
    pub ca_file: Option<PathBuf>,
    /// Prefix of every key: the stream is `{prefix}:results`, the group `{prefix}:writers`.
    pub prefix: String,
    /// How often the flusher reads the stream when there is no backlog.
    pub flush_interval: Duration,
    /// The most results held locally while Redis is away; beyond it the oldest are dropped.
    pub capacity: usize,
    /// How long an entry stays pending (taken, not acknowledged) before another consumer
    /// may reclaim it; longer than a read plus a write, or live writers' batches are redone.
    pub claim_idle: Duration,
    /// The longest one Redis call may take, reconnecting included.
    pub call_timeout: Duration,
    /// After `close`, how long an unreachable Redis is waited for before giving up.
    pub shutdown_grace: Duration,
}

impl RedisOptions {
    /// Options with the defaults for everything but the settings.
    pub fn new(
        url: RedisUrl,
        prefix: impl Into<String>,
        flush_interval: Duration,
        capacity: usize,
    ) -> Self {
        Self {
            url,
            ca_file: None,
            prefix: prefix.into(),
            flush_interval,
            capacity,
            claim_idle: (flush_interval * 3).max(Duration::from_secs(60)),
            call_timeout: Duration::from_secs(3),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// What the buffer, its forwarder and its flusher share.
struct Shared {
    link: Link,
    local: Mutex<Local>,
    /// A push happened: the forwarder has something to send.
    wake: Notify,
    /// Set (under the `local` lock, so no push slips in after the forwarder's last look) by `close`.
    closed: watch::Sender<bool>,
    closed_at: OnceLock<Instant>,
    /// The forwarder has sent (or given up) everything queued after `close`.
    forwarded: watch::Sender<bool>,
    /// The stream's length at the last read, plus what this process added and less what it
    /// acknowledged since: what a vanished stream took with it, as far as this process knows.
    in_stream: AtomicUsize,
    /// Whether the last send found no replica to acknowledge it (behind Sentinel).
    unreplicated: std::sync::atomic::AtomicBool,
    metrics: Arc<Metrics>,
    options: RedisOptions,
}

impl Shared {
    fn local(&self) -> MutexGuard<'_, Local> {
        self.local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// When a stopping instance gives up on an unreachable Redis.
    fn give_up_at(&self) -> Option<Instant> {
        self.closed_at
            .get()
            .map(|at| *at + self.options.shutdown_grace)
    }

    /// Counts results dropped from the full local queue, and warns when a warning is due.
    fn dropped(&self, dropped: usize, report: Option<usize>) {
        if dropped > 0 {
            self.metrics.results_dropped(dropped);
        }
        if let Some(count) = report {
            tracing::warn!(
                dropped = count,
                capacity = self.options.capacity,
                "local result queue full while Redis is away: dropped the oldest results"
            );
        }
    }
}

/// A [`Buffer`] backed by a Redis stream and consumer group.
pub struct RedisBuffer {
    shared: Arc<Shared>,
    flusher: tokio::sync::Mutex<Flusher>,
    forwarder: JoinHandle<()>,
}

impl RedisBuffer {
    /// Sets up the buffer and its forwarder task. Redis being unreachable is no error: checks
    /// go on, results wait locally and go to Redis once it answers.
    pub async fn connect(
        options: RedisOptions,
        metrics: Arc<Metrics>,
    ) -> Result<Self, PipelineError> {
        let ca = match &options.ca_file {
            Some(path) => Some(read_ca(path)?),
            None => None,
        };
        let link = Link::new(&options.url, ca, &options.prefix, options.call_timeout)?;
        if let Err(error) = link.ensure_group().await {
            tracing::warn!(
                redis = %options.url,
                %error,
                "Redis is unreachable; results wait locally until it answers"
            );
        }
        link.refresh_durability().await;
        tracing::info!(
            redis = %options.url,
            stream = %link.stream,
            consumer = %link.consumer,
            flush_interval = ?options.flush_interval,
            persistence = link.durability.get().as_str(),
            "buffering results in Redis"
        );
        let shared = Arc::new(Shared {
            link,
            local: Mutex::new(Local::new(options.capacity)),
            wake: Notify::new(),
            closed: watch::channel(false).0,
            closed_at: OnceLock::new(),
            forwarded: watch::channel(false).0,
            in_stream: AtomicUsize::new(0),
            unreplicated: std::sync::atomic::AtomicBool::new(false),
            metrics,
            options,
        });
        let forwarder = tokio::spawn(forwarder::run(shared.clone()));
        Ok(Self {
            flusher: tokio::sync::Mutex::new(Flusher::new()),
            shared,
            forwarder,
        })
    }

    /// This instance's consumer name in the group.
    pub fn consumer(&self) -> &str {
        &self.shared.link.consumer
    }
}

/// The PEM file of CA certificates `TOCSIN_REDIS_CA` names, checked to hold at least one.
fn read_ca(path: &std::path::Path) -> Result<Vec<u8>, PipelineError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let invalid =
        |why: String| PipelineError::Backend(format!("TOCSIN_REDIS_CA {}: {why}", path.display()));
    let pem = std::fs::read(path).map_err(|e| invalid(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("holds no PEM certificate".into()));
    }
    Ok(pem)
}

impl Drop for RedisBuffer {
    fn drop(&mut self) {
        // As a crash would: what is local is gone, what is in Redis waits for another instance.
        self.forwarder.abort();
    }
}

#[async_trait]
impl Buffer for RedisBuffer {
    async fn push(&self, record: CheckRecord) -> Result<(), PipelineError> {
        let (dropped, report) = {
            let mut local = self.shared.local();
            if self.shared.is_closed() {
                return Err(PipelineError::Closed);
            }
            let dropped = local.push(record);
            let report = (dropped > 0).then(|| local.note_dropped(dropped)).flatten();
            (dropped, report)
        };
        self.shared.dropped(dropped, report);
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Reads once per flush interval (`linger` plays no part: the interval is the wait).
    async fn take(&self, max: usize, _linger: Duration) -> Result<Option<Batch>, PipelineError> {
        let mut flusher = self.flusher.lock().await;
        flusher.take(&self.shared, max.max(1)).await
    }

    async fn ack(&self, batch: &Batch) -> Result<(), PipelineError> {
        self.shared
            .link
            .ack_delete(&batch.receipt)
            .await
            .map_err(|e| PipelineError::Backend(format!("acknowledging results in Redis: {e}")))?;
        let acked = batch.receipt.len();
        let _ = self
            .shared
            .in_stream
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(acked))
            });
        Ok(())
    }

    fn close(&self) {
        let _local = self.shared.local();
        self.shared.closed_at.get_or_init(Instant::now);
        self.shared.closed.send_replace(true);
    }

    fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Held locally plus the stream's length at the last read: an estimate for the gauge.
    fn len(&self) -> usize {
        self.shared.local().len() + self.shared.in_stream.load(Ordering::Relaxed)
    }

    fn health(&self) -> BufferHealth {
        BufferHealth {
            backend: "redis",
            reachable: self.shared.link.reachable(),
            held_locally: self.shared.local().len(),
            persistence: Some(self.shared.link.durability.get().as_str()),
        }
    }
}
