//! The flusher behind `take`: reads new entries once per flush interval, back to back while
//! the last read was full, and on each flush reclaims entries left pending too long (by a
//! consumer that died, or by this one when an acknowledgement was lost).

use std::time::Duration;

use tokio::time::Instant;

use super::reply::RawEntry;
use super::{Shared, codec};
use crate::pipeline::{Batch, PipelineError};

/// How soon a stopping flusher tries Redis again.
const DRAIN_RETRY: Duration = Duration::from_millis(200);

/// Where the flusher is between calls to `take`.
pub(super) struct Flusher {
    /// When the next flush is due; the first is due at once, for what a previous run left.
    next: Instant,
    /// The last read was full: more is waiting, read again without sleeping.
    backlog: bool,
    /// `XAUTOCLAIM`'s cursor; a scan not back at `0-0` goes on at the next read.
    cursor: String,
    claiming: bool,
}

impl Flusher {
    /// A flusher whose first flush is due now.
    pub fn new() -> Self {
        Self {
            next: Instant::now(),
            backlog: false,
            cursor: "0-0".into(),
            claiming: false,
        }
    }

    /// The next batch: see [`crate::pipeline::Buffer::take`].
    pub async fn take(
        &mut self,
        shared: &Shared,
        max: usize,
    ) -> Result<Option<Batch>, PipelineError> {
        let mut closed = shared.closed.subscribe();
        loop {
            let closing = shared.is_closed();
            if closing {
                // What the forwarder still holds goes to Redis first, so it is read below.
                let mut forwarded = shared.forwarded.subscribe();
                let bound = shared.options.shutdown_grace + shared.options.call_timeout * 2;
                let _ = tokio::time::timeout(bound, forwarded.wait_for(|done| *done)).await;
            } else if !self.backlog {
                tokio::select! {
                    () = tokio::time::sleep_until(self.next) => {}
                    _ = closed.wait_for(|closed| *closed) => continue,
                }
                self.next = Instant::now() + shared.options.flush_interval;
                self.claiming = true;
                shared.link.refresh_durability().await;
            }
            let entries = match self.read(shared, max, closing).await {
                Ok(entries) => entries,
                Err(error) if closing => {
                    if shared
                        .give_up_at()
                        .is_none_or(|at| std::time::Instant::now() >= at)
                    {
                        tracing::warn!(%error, "stopping with Redis unreachable: results in Redis stay there for another instance");
                        return Ok(None);
                    }
                    tokio::time::sleep(DRAIN_RETRY).await;
                    continue;
                }
                Err(error) => {
                    // Retry as soon as the writer asks again, not a whole interval later.
                    self.next = Instant::now();
                    self.backlog = false;
                    return Err(PipelineError::Backend(format!(
                        "reading the result stream: {error}"
                    )));
                }
            };
            if entries.is_empty() && closing {
                if let Err(error) = shared.link.leave_group().await {
                    tracing::debug!(%error, "cannot leave the Redis consumer group");
                }
                return Ok(None);
            }
            let batch = decode(shared, entries).await;
            if !batch.records.is_empty() {
                return Ok(Some(batch));
            }
        }
    }

    async fn read(
        &mut self,
        shared: &Shared,
        max: usize,
        closing: bool,
    ) -> redis::RedisResult<Vec<RawEntry>> {
        let mut entries = Vec::new();
        // A stopping instance leaves others' stale entries to the instances that stay.
        if self.claiming && !closing {
            let (cursor, claimed) = shared
                .link
                .claim(&self.cursor, shared.options.claim_idle, max)
                .await?;
            self.claiming = cursor != "0-0";
            self.cursor = cursor;
            if !claimed.is_empty() {
                tracing::info!(
                    results = claimed.len(),
                    "reclaimed results left pending by a stopped writer"
                );
            }
            entries = claimed;
        }
        if entries.len() < max {
            let (new, in_stream) = shared.link.read_new(max - entries.len()).await?;
            let before = shared
                .in_stream
                .swap(in_stream, std::sync::atomic::Ordering::Relaxed);
            if shared.link.take_group_lost() {
                // What the stream held at the last look is gone, except what was added
                // since it was made again (counted in `in_stream` now).
                let lost = before.saturating_sub(in_stream);
                shared.metrics.redis.stream_lost(lost);
                tracing::error!(
                    lost,
                    stream = %shared.link.stream,
                    "the Redis result stream vanished (a Redis restart without persistence?): \
                     made it again; results it held are lost"
                );
            }
            entries.extend(new);
        }
        self.backlog = entries.len() >= max || self.claiming;
        Ok(entries)
    }
}

/// The records among `entries`; corrupt entries are acknowledged and deleted so they cannot
/// block the stream, entries of another format version are left for an instance that reads it.
async fn decode(shared: &Shared, entries: Vec<RawEntry>) -> Batch {
    let mut batch = Batch::default();
    let mut corrupt = Vec::new();
    for entry in entries {
        match codec::decode(&entry.fields) {
            codec::Decoded::Record(record) => {
                batch.records.push(record);
                batch.receipt.push(entry.id);
            }
            codec::Decoded::OtherVersion(version) => {
                tracing::warn!(id = %entry.id, %version, "leaving a buffered result of another format version for an instance that reads it");
            }
            codec::Decoded::Corrupt(why) => {
                tracing::error!(id = %entry.id, %why, "discarding a corrupt entry of the result stream");
                corrupt.push(entry.id);
            }
        }
    }
    if !corrupt.is_empty() {
        shared.metrics.results_corrupt(corrupt.len());
        if let Err(error) = shared.link.ack_delete(&corrupt).await {
            // Left pending, they come back after the claim delay and are discarded then.
            tracing::warn!(%error, "cannot discard corrupt entries of the result stream");
        }
    }
    batch
}
