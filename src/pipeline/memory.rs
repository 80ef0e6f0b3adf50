//! The in-process buffer: a bounded channel. Nothing survives a crash of the process (that is
//! what the Redis buffer is for), but a graceful stop drains it completely.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

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
}

impl MemoryBuffer {
    /// A buffer holding at most `capacity` records.
    pub fn new(capacity: usize) -> Self {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        Self {
            sender: Mutex::new(Some(sender)),
            receiver: tokio::sync::Mutex::new(receiver),
            waiting: AtomicUsize::new(0),
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
        })
    }

    async fn take(&self, max: usize, linger: Duration) -> Result<Option<Batch>, PipelineError> {
        let mut receiver = self.receiver.lock().await;
        let Some(first) = receiver.recv().await else {
            return Ok(None);
        };
        let mut records = Vec::with_capacity(max.min(1024));
        records.push(first);
        let deadline = tokio::time::Instant::now() + linger;
        while records.len() < max {
            let room = max - records.len();
            match tokio::time::timeout_at(deadline, receiver.recv_many(&mut records, room)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
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
}
