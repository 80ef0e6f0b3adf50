//! The local timers of claimed checks: one min-heap of `(due, monitor, generation)` in the
//! scheduler's single task. A heap entry is cheap (no task, no timer per monitor), and a
//! monitor edited, paused or deleted after its claim is handled by replacing or dropping its
//! slot: entries whose generation no longer matches are skipped when they come up.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::monitor::{Monitor, MonitorId};
use crate::store::Claim;

/// One claimed monitor: its current settings and how many due times it has in the heap.
struct Slot {
    generation: u64,
    monitor: Arc<Monitor>,
    pending: usize,
}

/// A check whose time has come.
#[derive(Debug, Clone)]
pub struct DueCheck {
    /// The monitor, with the newest settings known here.
    pub monitor: Arc<Monitor>,
    /// Its due time on the grid.
    pub due: DateTime<Utc>,
}

/// A heap entry: when it fires, its grid time, the monitor and the slot generation it was
/// claimed under. `Reverse` turns the max-heap into a min-heap.
type Entry = Reverse<(Instant, DateTime<Utc>, MonitorId, u64)>;

/// The heap of claimed due times and the slots they refer to.
#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Entry>,
    slots: HashMap<MonitorId, Slot>,
    next_generation: u64,
}

impl Timers {
    /// Adds a claim, firing at its due time (now, if that has passed).
    pub fn insert(&mut self, claim: Claim) {
        let now_utc = Utc::now();
        let wait = (claim.due - now_utc).to_std().unwrap_or_default();
        let at = Instant::now() + wait;
        let id = claim.monitor.id;
        let generation = match self.slots.get_mut(&id) {
            Some(slot) => {
                slot.monitor = Arc::new(claim.monitor);
                slot.pending += 1;
                slot.generation
            }
            None => {
                self.next_generation += 1;
                self.slots.insert(
                    id,
                    Slot {
                        generation: self.next_generation,
                        monitor: Arc::new(claim.monitor),
                        pending: 1,
                    },
                );
                self.next_generation
            }
        };
        self.heap.push(Reverse((at, claim.due, id, generation)));
    }

    /// Uses `monitor`'s new settings for its claimed checks; drops them if it is paused.
    pub fn update(&mut self, monitor: Monitor) {
        if monitor.paused {
            self.remove(monitor.id);
        } else if let Some(slot) = self.slots.get_mut(&monitor.id) {
            slot.monitor = Arc::new(monitor);
        }
    }

    /// Forgets a monitor's claimed checks (deleted or paused).
    pub fn remove(&mut self, id: MonitorId) {
        self.slots.remove(&id);
    }

    /// When the earliest entry fires, if any.
    pub fn next_at(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, ..))| *at)
    }

    /// Removes and returns every live entry due by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Vec<DueCheck> {
        let mut due = Vec::new();
        while let Some(Reverse((at, _, _, _))) = self.heap.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, due_at, id, generation))) = self.heap.pop() else {
                break;
            };
            if let Some(check) = self.take(id, generation, due_at) {
                due.push(check);
            }
        }
        due
    }

    /// Empties the heap, returning the live entries as claims to give back.
    pub fn drain(&mut self) -> Vec<Claim> {
        let mut claims = Vec::new();
        while let Some(Reverse((_, due, id, generation))) = self.heap.pop() {
            if let Some(check) = self.take(id, generation, due) {
                claims.push(Claim {
                    monitor: Monitor::clone(&check.monitor),
                    due,
                });
            }
        }
        claims
    }

    /// Whether no claimed check waits.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.heap.is_empty()
    }

    fn take(&mut self, id: MonitorId, generation: u64, due: DateTime<Utc>) -> Option<DueCheck> {
        let slot = self.slots.get_mut(&id)?;
        if slot.generation != generation {
            return None;
        }
        let monitor = slot.monitor.clone();
        slot.pending -= 1;
        if slot.pending == 0 {
            self.slots.remove(&id);
        }
        Some(DueCheck { monitor, due })
    }
}

#[cfg(test)]
mod tests;
