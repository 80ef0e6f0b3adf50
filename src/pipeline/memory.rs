//! The in-process buffer: a bounded channel. Nothing survives a crash of the process (that is
//! what the Redis buffer is for), but a graceful stop drains it completely.
//!
//! The writer is woken when a batch is full or its linger is over, not by every result:
//! at 100 checks/s a wake-up per result cost the writer's thread as much as the check's
//! own hand-offs.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{Notify, mpsc};

use super::{Batch, Buffer, BufferHealth, PipelineError};
use crate::check::CheckRecord;

/// A bounded in-memory [`Buffer`].
#[derive(Debug)]
pub struct MemoryBuffer {
    /// `None` once closed; each push clones the sender, so closing waits for pushes in progress.
    sender: Mutex<Option<mpsc::Sender<CheckRecord>>>,
    receiver: tokio::sync::Mutex<mpsc::Receiver<CheckRecord>>,
    /// Records pushed and not yet taken; counted apart from the sender, which is gone once
    /// closed while the writer still drains.
    waiting: AtomicUsize,
    /// The channel's capacity: a batch is "full" at most at this many records, or pushes
    /// would wait on a writer that waits for them.
    capacity: usize,
    /// How many waiting records wake the writer before its linger is over (`usize::MAX`
    /// while it is not waiting for a batch).
    full_at: AtomicUsize,
    /// Wakes the writer: a batch is full, or the buffer closed.
    full: Notify,
}

impl MemoryBuffer {
    /// A buffer holding at most `capacity` records.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let (sender, receiver) = mpsc::channel(capacity);
        Self {
            sender: Mutex::new(Some(sender)),
            receiver: tokio::sync::Mutex::new(receiver),
            waiting: AtomicUsize::new(0),
            capacity,
            full_at: AtomicUsize::new(usize::MAX),
            full: Notify::new(),
        }
    }

    fn sender(&self) -> Option<mpsc::Sender<CheckRecord>> {
        self.sender
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl Buffer for MemoryBuffer {
    async fn push(&self, record: CheckRecord) -> Result<(), PipelineError> {
        let sender = self.sender().ok_or(PipelineError::Closed)?;
        // Counted before it can be taken, so `take` never subtracts what was not added.
        self.waiting.fetch_add(1, Ordering::Relaxed);
        sender.send(record).await.map_err(|_| {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            PipelineError::Closed
        })?;
        if self.waiting.load(Ordering::Relaxed) >= self.full_at.load(Ordering::Acquire) {
            self.full.notify_one();
        }
        Ok(())
    }

    async fn take(&self, max: usize, linger: Duration) -> Result<Option<Batch>, PipelineError> {
        let mut receiver = self.receiver.lock().await;
        let Some(first) = receiver.recv().await else {
            return Ok(None);
        };
        let mut records = Vec::with_capacity(max.min(1024));
        records.push(first);
        let deadline = tokio::time::Instant::now() + linger;
        self.full_at
            .store(max.min(self.capacity).max(1), Ordering::Release);
        loop {
            let closed = drain(&mut receiver, &mut records, max);
            if closed || records.len() >= max {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {
                    drain(&mut receiver, &mut records, max);
                    break;
                }
                // Possibly a stale permit: then the loop finds the batch not full and waits on.
                () = self.full.notified() => {}
            }
        }
        self.full_at.store(usize::MAX, Ordering::Release);
        self.waiting.fetch_sub(records.len(), Ordering::Relaxed);
        Ok(Some(Batch {
            records,
            receipt: Vec::new(),
        }))
    }

    async fn ack(&self, _batch: &Batch) -> Result<(), PipelineError> {
        // A batch taken from memory exists only in the writer's hands until it is stored.
        Ok(())
    }

    fn close(&self) {
        self.sender
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        // A writer lingering over a partial batch drains the rest now.
        self.full.notify_one();
    }

    fn is_closed(&self) -> bool {
        self.sender().is_none()
    }

    fn len(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    fn health(&self) -> BufferHealth {
        BufferHealth {
            backend: "memory",
            reachable: true,
            held_locally: self.len(),
            persistence: None,
        }
    }
}

/// Moves what the channel holds into `records`, up to `max`; true once the channel is
/// closed and empty.
fn drain(
    receiver: &mut mpsc::Receiver<CheckRecord>,
    records: &mut Vec<CheckRecord>,
    max: usize,
) -> bool {
    while records.len() < max {
        match receiver.try_recv() {
            Ok(record) => records.push(record),
            Err(TryRecvError::Empty) => return false,
            Err(TryRecvError::Disconnected) => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{CheckResult, Phases};
    use crate::monitor::MonitorId;

    fn record(id: i64) -> CheckRecord {
        CheckRecord {
            monitor: MonitorId(id),
            result: CheckResult {
                checked_at: chrono::Utc::now(),
                kind: Default::default(),
                dns: None,
                status_code: Some(200),
                latency: Duration::from_millis(1),
                phases: Phases::default(),
                cert_expires_at: None,
                failure: None,
            },
        }
    }

    #[tokio::test]
    async fn batches_are_cut_at_max_and_drained_after_close() {
        let buffer = MemoryBuffer::new(10);
        for id in 1..=5 {
            buffer.push(record(id)).await.expect("room");
        }
        assert_eq!(buffer.len(), 5);
        let first = buffer
            .take(3, Duration::from_millis(10))
            .await
            .expect("take");
        let ids: Vec<i64> = first
            .expect("batch")
            .records
            .iter()
            .map(|r| r.monitor.0)
            .collect();
        assert_eq!(ids, vec![1, 2, 3]);
        buffer.close();
        assert!(matches!(
            buffer.push(record(6)).await,
            Err(PipelineError::Closed)
        ));
        let rest = buffer
            .take(10, Duration::from_millis(10))
            .await
            .expect("take");
        assert_eq!(rest.expect("the rest").records.len(), 2);
        assert!(
            buffer
                .take(10, Duration::from_millis(10))
                .await
                .expect("take")
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_partial_batch_leaves_after_the_linger() {
        let buffer = MemoryBuffer::new(10);
        buffer.push(record(1)).await.expect("room");
        // Without the linger, take would wait for 100 records that never come.
        let batch = tokio::time::timeout(
            Duration::from_secs(30),
            buffer.take(100, Duration::from_millis(50)),
        )
        .await
        .expect("take returns after the linger")
        .expect("take");
        assert_eq!(batch.expect("batch").records.len(), 1);
    }

    #[tokio::test]
    async fn a_full_batch_and_a_close_end_the_linger() {
        let buffer = std::sync::Arc::new(MemoryBuffer::new(10));
        buffer.push(record(1)).await.expect("room");
        let pusher = buffer.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            for id in 2..=3 {
                pusher.push(record(id)).await.expect("room");
            }
        });
        // A linger of an hour: only the third record, filling the batch, ends it.
        let batch = tokio::time::timeout(
            Duration::from_secs(30),
            buffer.take(3, Duration::from_secs(3600)),
        )
        .await
        .expect("a full batch leaves at once")
        .expect("take");
        assert_eq!(batch.expect("batch").records.len(), 3);

        buffer.push(record(4)).await.expect("room");
        let closer = buffer.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            closer.close();
        });
        let rest = tokio::time::timeout(
            Duration::from_secs(30),
            buffer.take(100, Duration::from_secs(3600)),
        )
        .await
        .expect("closing ends the linger")
        .expect("take");
        assert_eq!(rest.expect("the rest").records.len(), 1);
    }
}
