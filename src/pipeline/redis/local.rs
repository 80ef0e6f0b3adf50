//! The local queue in front of Redis: bounded, oldest dropped first when full. A record
//! stays here until Redis confirmed it, so a failed send is retried. A record dropped while
//! its send is in flight counts as dropped only if that send fails: it may be in Redis.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::check::CheckRecord;

/// How often dropping results is logged, at most.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Records not yet confirmed by Redis.
#[derive(Debug)]
pub(super) struct Local {
    /// Each record with its sequence number, oldest first.
    queue: VecDeque<(u64, CheckRecord)>,
    capacity: usize,
    next_seq: u64,
    /// The last sequence number of the send in flight.
    sending_upto: Option<u64>,
    /// Records of the send in flight dropped from the queue since it started.
    dropped_in_flight: usize,
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
            next_seq: 0,
            sending_upto: None,
            dropped_in_flight: 0,
            unreported: 0,
            warned_at: None,
        }
    }

    /// Records held here, waiting or being sent.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    fn in_flight(&self, seq: u64) -> bool {
        self.sending_upto.is_some_and(|upto| seq <= upto)
    }

    /// Queues `record`; returns how many older ones were lost to make room.
    pub fn push(&mut self, record: CheckRecord) -> usize {
        let mut dropped = 0;
        if self.queue.len() >= self.capacity
            && let Some((seq, _)) = self.queue.pop_front()
        {
            if self.in_flight(seq) {
                self.dropped_in_flight += 1;
            } else {
                dropped = 1;
            }
        }
        self.queue.push_back((self.next_seq, record));
        self.next_seq += 1;
        dropped
    }

    /// Up to `max` records to send, oldest first; empty when none wait or a send is on.
    pub fn start_send(&mut self, max: usize) -> Vec<CheckRecord> {
        if self.sending_upto.is_some() {
            return Vec::new();
        }
        let records: Vec<CheckRecord> = self
            .queue
            .iter()
            .take(max)
            .map(|(_, record)| record.clone())
            .collect();
        self.sending_upto = self
            .queue
            .get(records.len().saturating_sub(1))
            .filter(|_| !records.is_empty())
            .map(|(seq, _)| *seq);
        records
    }

    /// Redis has the records of the send in progress.
    pub fn confirm(&mut self) {
        if let Some(upto) = self.sending_upto.take() {
            while self.queue.front().is_some_and(|(seq, _)| *seq <= upto) {
                self.queue.pop_front();
            }
        }
        self.dropped_in_flight = 0;
    }

    /// The send failed: its records still here wait for the next; returns how many of it
    /// were dropped meanwhile, now known to be lost.
    pub fn fail(&mut self) -> usize {
        self.sending_upto = None;
        std::mem::take(&mut self.dropped_in_flight)
    }

    /// Everything held, when giving up at shutdown.
    pub fn abandon(&mut self) -> usize {
        self.sending_upto = None;
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
                kind: Default::default(),
                dns: None,
                status_code: None,
                latency: Duration::ZERO,
                phases: Phases::default(),
                cert_expires_at: None,
                failure: None,
            },
        }
    }

    fn ids(local: &Local) -> Vec<i64> {
        local.queue.iter().map(|(_, r)| r.monitor.0).collect()
    }

    #[test]
    fn full_drops_the_oldest() {
        let mut local = Local::new(3);
        for id in 1..=3 {
            assert_eq!(local.push(record(id)), 0);
        }
        assert_eq!(local.push(record(4)), 1);
        assert_eq!(ids(&local), [2, 3, 4]);
        assert_eq!(local.start_send(2).len(), 2);
        assert_eq!(
            local.push(record(5)),
            0,
            "2 is being sent: lost only if that fails"
        );
        assert_eq!(ids(&local), [3, 4, 5]);
        local.confirm();
        assert_eq!(ids(&local), [4, 5]);
    }

    #[test]
    fn a_failed_send_is_retried_and_counts_what_was_dropped_meanwhile() {
        let mut local = Local::new(2);
        local.push(record(1));
        local.push(record(2));
        assert_eq!(local.start_send(10).len(), 2);
        assert!(local.start_send(10).is_empty(), "one send at a time");
        assert_eq!(local.push(record(3)), 0);
        assert_eq!(local.fail(), 1);
        assert_eq!(ids(&local), [2, 3]);
        assert_eq!(local.start_send(10).len(), 2);
        local.confirm();
        assert_eq!(local.len(), 0);
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
