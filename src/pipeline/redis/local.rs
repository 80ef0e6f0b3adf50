//! The local queue in front of Redis: bounded, oldest dropped first when full. A record
//! stays here until Redis confirmed it, so a failed send is retried; the records being sent
//! are the front `sending` ones, which a new push never drops (they may already be in Redis).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::check::CheckRecord;

/// How often dropping results is logged, at most.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Records not yet confirmed by Redis.
#[derive(Debug)]
pub(super) struct Local {
    queue: VecDeque<CheckRecord>,
    capacity: usize,
    /// How many at the front are in the send in progress.
    sending: usize,
    /// Dropped since the last warning, and when that was.
    unreported: usize,
    warned_at: Option<Instant>,
}

impl Local {
    /// An empty queue holding at most `capacity` records.
    pub fn new(capacity: usize) -> Self {
        Self {
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            sending: 0,
            unreported: 0,
            warned_at: None,
        }
    }

    /// Records held here, sending or not.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Queues `record`; returns how many older ones were dropped to make room.
    pub fn push(&mut self, record: CheckRecord) -> usize {
        let mut dropped = 0;
        // The oldest not being sent goes: what is in flight may already be in Redis. Only
        // a capacity smaller than one send leaves nothing else to drop; it is over by at
        // most that send until its outcome is known.
        if self.queue.len() >= self.capacity && self.queue.len() > self.sending {
            self.queue.remove(self.sending);
            dropped = 1;
        }
        self.queue.push_back(record);
        dropped
    }

    /// Up to `max` records to send, oldest first; empty when none wait or a send is on.
    pub fn start_send(&mut self, max: usize) -> Vec<CheckRecord> {
        if self.sending > 0 {
            return Vec::new();
        }
        self.sending = self.queue.len().min(max);
        self.queue.iter().take(self.sending).cloned().collect()
    }

    /// Redis has the records of the send in progress.
    pub fn confirm(&mut self) {
        self.queue.drain(..self.sending);
        self.sending = 0;
    }

    /// The send failed: its records wait again, and any over the capacity (those the send
    /// kept from being dropped) go now; returns how many.
    pub fn fail(&mut self) -> usize {
        self.sending = 0;
        let over = self.queue.len().saturating_sub(self.capacity);
        self.queue.drain(..over);
        over
    }

    /// Everything held, when giving up at shutdown.
    pub fn abandon(&mut self) -> usize {
        self.sending = 0;
        let left = self.queue.len();
        self.queue.clear();
        left
    }

    /// Notes `dropped` results; the count to log now if a warning is due.
    pub fn note_dropped(&mut self, dropped: usize) -> Option<usize> {
        self.unreported += dropped;
        if self.unreported == 0 {
            return None;
        }
        let due = self.warned_at.is_none_or(|at| at.elapsed() >= WARN_EVERY);
        due.then(|| {
            self.warned_at = Some(Instant::now());
            std::mem::take(&mut self.unreported)
        })
    }

    /// Dropped results not yet logged (to report when Redis is back or at shutdown).
    pub fn take_unreported(&mut self) -> usize {
        std::mem::take(&mut self.unreported)
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
                status_code: None,
                latency: Duration::ZERO,
                phases: Phases::default(),
                cert_expires_at: None,
                failure: None,
            },
        }
    }

    fn ids(local: &Local) -> Vec<i64> {
        local.queue.iter().map(|r| r.monitor.0).collect()
    }

    #[test]
    fn full_drops_the_oldest_not_in_flight() {
        let mut local = Local::new(3);
        for id in 1..=3 {
            assert_eq!(local.push(record(id)), 0);
        }
        assert_eq!(local.push(record(4)), 1);
        assert_eq!(ids(&local), [2, 3, 4]);
        assert_eq!(local.start_send(1).len(), 1);
        assert_eq!(local.push(record(5)), 1);
        assert_eq!(ids(&local), [2, 4, 5], "2 is being sent, so 3 goes");
        local.confirm();
        assert_eq!(ids(&local), [4, 5]);
    }

    #[test]
    fn a_failed_send_is_retried_and_trimmed_to_capacity() {
        let mut local = Local::new(2);
        local.push(record(1));
        local.push(record(2));
        assert_eq!(local.start_send(10).len(), 2);
        assert!(local.start_send(10).is_empty(), "one send at a time");
        assert_eq!(local.push(record(3)), 0, "both held ones are in flight");
        assert_eq!(local.fail(), 1);
        assert_eq!(ids(&local), [2, 3]);
        assert_eq!(local.start_send(10).len(), 2);
    }

    #[test]
    fn warnings_are_rate_limited_but_nothing_is_forgotten() {
        let mut local = Local::new(1);
        assert_eq!(local.note_dropped(2), Some(2));
        assert_eq!(local.note_dropped(3), None);
        assert_eq!(local.note_dropped(0), None);
        assert_eq!(local.take_unreported(), 3);
    }
}
