//! The batch writer: takes batches from the buffer and writes each in one store transaction,
//! retrying a failed write (with backoff) before acknowledging, so nothing is dropped while
//! the store is briefly away.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Batch, Buffer};
use crate::alerting;
use crate::service::{Event, EventBus};
use crate::store::{Store, Written};
use crate::telemetry::Metrics;

/// How the writer batches.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// The most results in one transaction.
    pub max_batch: usize,
    /// The most results in one transaction while at least that many wait in the buffer:
    /// a backlog is written in fewer, larger transactions, each costing one commit and one
    /// state update per monitor instead of one per `max_batch`, so it drains faster. Never
    /// below `max_batch`.
    pub deep_batch: usize,
    /// How long a batch may wait for more results after its first.
    pub linger: Duration,
    /// After the buffer is closed, how long a failing write is retried before the batch is
    /// given up (so a stop with the database gone still ends).
    pub give_up_after_close: Duration,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            max_batch: 1000,
            deep_batch: 10_000,
            linger: Duration::from_secs(1),
            give_up_after_close: Duration::from_secs(30),
        }
    }
}

/// Moves results from a buffer into the store until the buffer is closed and drained.
pub struct BatchWriter {
    buffer: Arc<dyn Buffer>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    events: EventBus,
    options: WriterOptions,
}

const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

impl BatchWriter {
    /// A writer from `buffer` to `store`, announcing the transitions its writes decide on
    /// `events`.
    pub fn new(
        buffer: Arc<dyn Buffer>,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        events: EventBus,
        options: WriterOptions,
    ) -> Self {
        Self {
            buffer,
            store,
            metrics,
            events,
            options,
        }
    }

    /// Runs until the buffer is closed and everything in it is written.
    pub async fn run(self) {
        loop {
            self.metrics.set_buffered(self.buffer.len());
            let batch = match self
                .buffer
                .take(self.batch_size(), self.options.linger)
                .await
            {
                Ok(Some(batch)) => batch,
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, "cannot take results from the buffer; retrying");
                    tokio::time::sleep(LAST_RETRY).await;
                    continue;
                }
            };
            if self.write(&batch).await
                && let Err(error) = self.buffer.ack(&batch).await
            {
                // Not acknowledged means delivered again; the store skips what it has.
                tracing::warn!(%error, "cannot acknowledge a written batch");
            }
        }
        self.metrics.set_buffered(0);
        tracing::debug!("batch writer stopped: buffer drained");
    }

    /// How many results the next batch may hold: `deep_batch` when that many are waiting.
    fn batch_size(&self) -> usize {
        let deep = self.options.deep_batch.max(self.options.max_batch);
        if self.buffer.len() >= deep {
            deep
        } else {
            self.options.max_batch
        }
    }

    /// Tells the log, the metrics and the event stream what a committed batch decided.
    fn announce(&self, written: Written) {
        for transition in written.transitions {
            alerting::log::transition(&transition);
            if let Some(event) = transition.event {
                self.metrics.alerts.event_created(event);
            }
            self.events.publish(Event::Transition(Arc::new(transition)));
        }
    }

    /// Writes one batch, retrying until it is stored; false if it had to be given up.
    async fn write(&self, batch: &Batch) -> bool {
        let mut delay = FIRST_RETRY;
        let mut failing_since: Option<Instant> = None;
        loop {
            let started = Instant::now();
            match self.store.insert_results(&batch.records).await {
                Ok(written) => {
                    self.metrics
                        .batch_written(batch.records.len(), started.elapsed());
                    self.announce(written);
                    return true;
                }
                Err(error) => {
                    self.metrics.batch_failed();
                    tracing::warn!(%error, results = batch.records.len(), "batch write failed; retrying");
                }
            }
            // The buffer accepts nothing once closed, so "closed" is "shutting down".
            if self.buffer.is_closed() {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= self.options.give_up_after_close {
                    tracing::error!(
                        lost = batch.records.len(),
                        "giving up a batch of results at shutdown: the store is unreachable"
                    );
                    return false;
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(LAST_RETRY);
        }
    }
}
