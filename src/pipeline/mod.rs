//! From a finished check to the store: outcomes wait in a [`Buffer`] and a batch writer moves
//! them into the store, a transaction per batch, never a round trip per result.
//!
//! The buffer is a trait so the PostgreSQL-and-Redis setup can put a Redis stream behind it;
//! [`MemoryBuffer`] is the in-process one. A batch is acknowledged only after the store
//! committed it, so a failed write is retried rather than lost.

mod memory;
mod redis;
mod writer;

use std::time::Duration;

use async_trait::async_trait;

use crate::check::CheckRecord;

pub use self::redis::{RedisBuffer, RedisOptions};
pub use memory::MemoryBuffer;
pub use writer::{BatchWriter, WriterOptions};

/// Why the buffer could not take or give records.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The buffer was closed for shutdown; nothing more is accepted.
    #[error("the result buffer is closed")]
    Closed,
    /// The buffer's backend failed.
    #[error("result buffer failed: {0}")]
    Backend(String),
}

/// Records taken from a buffer together, to be written in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    /// The results, oldest first.
    pub records: Vec<CheckRecord>,
    /// What the buffer needs to acknowledge them (e.g. stream entry ids); opaque to others.
    pub receipt: Vec<String>,
}

/// How a buffer is doing, for `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BufferHealth {
    /// `memory` or `redis`.
    pub backend: &'static str,
    /// Whether the backend answered its last request (always true in memory).
    pub reachable: bool,
    /// Results held in this process, not yet handed on.
    pub held_locally: usize,
    /// What the Redis in use keeps on disk: `aof`, `rdb`, `aof+rdb`, `none` (a Redis restart
    /// loses the results it holds) or `unknown`; absent for the in-process buffer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistence: Option<&'static str>,
}

/// A queue of finished checks between the scheduler and the batch writer.
#[async_trait]
pub trait Buffer: Send + Sync + 'static {
    /// Appends one record; waits while the buffer is full, so a slow store slows checks
    /// down instead of losing results.
    async fn push(&self, record: CheckRecord) -> Result<(), PipelineError>;

    /// Up to `max` records: waits for the first, then gathers more for at most `linger`.
    /// `Ok(None)` once the buffer is closed and drained.
    async fn take(&self, max: usize, linger: Duration) -> Result<Option<Batch>, PipelineError>;

    /// Marks a batch as stored, so it is not delivered again.
    async fn ack(&self, batch: &Batch) -> Result<(), PipelineError>;

    /// Stops accepting records; `take` drains what is left, then answers `None`.
    fn close(&self);

    /// Whether `close` was called.
    fn is_closed(&self) -> bool;

    /// How many records wait (for the metric).
    fn len(&self) -> usize;

    /// The buffer's state, without waiting on its backend.
    fn health(&self) -> BufferHealth;

    /// Whether no record waits.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
