//! Runs the checks whose time has come, concurrently and at most `max_in_flight` at once,
//! as futures inside a few long-lived lane tasks. A task per check cost a spawn, a semaphore
//! and a cross-thread wake per check, and woke an idle worker for each one; here the
//! scheduler hands over each wake-up's checks in one message, and the I/O events of many
//! checks are handled in one poll of a lane. There is a lane per runtime worker so checks
//! still use every core when they are many. Checks beyond a lane's share of the limit wait
//! in one queue shared by the lanes, in due order, so a lane whose checks finish early takes
//! the waiting checks of a lane held up by slow targets; a check whose grace has passed by
//! the time it first runs is skipped, and so is one this process served too late to judge
//! its target (see [`crate::probe::Attempt`]): both are counted, neither is a failure.
//!
//! Each lane runs on a thread of its own ([`threads`]), and due checks go to the first
//! lane with the fewest checks, so at low rates one thread does all the work while the
//! others sleep, and at high rates every core has a lane.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{Notify, mpsc};

use super::grace;
use super::threads::{self, LaneHandle};
use super::timers::DueCheck;
use crate::check::CheckRecord;
use crate::pipeline::Buffer;
use crate::probe::Probe;
use crate::telemetry::Metrics;

/// How many events (a check finished, a batch arrived) a lane handles before it lets the
/// other tasks of its worker run: without tokio's budget it would otherwise go on as long as
/// its checks keep it busy.
const EVENTS_PER_SLICE: u32 = 128;

/// The most checks of one wake-up given to one lane: a burst (a restart, the store back
/// after an outage) is spread over the lanes instead of landing on one.
const CHUNK: usize = 64;

/// What every check needs.
pub struct Context {
    /// Runs the HTTP check.
    pub probe: Probe,
    /// Where results go.
    pub buffer: Arc<dyn Buffer>,
    /// Counts checks, their lateness and outcome.
    pub metrics: Arc<Metrics>,
}

/// Checks waiting for a slot, shared by every lane. Touched only when a lane is full (the
/// count is read first), so a machine with headroom pays nothing for it.
#[derive(Default)]
struct Waiting {
    queue: Mutex<VecDeque<DueCheck>>,
    count: AtomicUsize,
    /// Wakes a lane with a free slot when checks start waiting.
    added: Notify,
}

impl Waiting {
    fn push(&self, checks: impl IntoIterator<Item = DueCheck>) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.extend(checks);
        self.count.store(queue.len(), Ordering::Release);
        drop(queue);
        self.added.notify_one();
    }

    fn pop(&self) -> Option<DueCheck> {
        if self.count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let check = queue.pop_front();
        self.count.store(queue.len(), Ordering::Release);
        check
    }

    fn len(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }
}

/// One lane: where it runs, the channel to it, and how many checks it holds (running or
/// waiting).
struct Lane {
    batches: mpsc::UnboundedSender<Vec<DueCheck>>,
    load: Arc<AtomicUsize>,
    handle: LaneHandle,
}

/// The running lanes; dropping them stops their checks (as dropping the scheduler does).
pub struct Runner {
    lanes: Vec<Lane>,
    waiting: Arc<Waiting>,
}

impl Runner {
    /// Starts `threads` lanes, each on a thread of its own, sharing `max_in_flight` between
    /// them; with `threads` 0, a lane per worker of the current runtime, as its tasks.
    pub fn start(context: Arc<Context>, max_in_flight: usize, threads: usize) -> Self {
        let max_in_flight = max_in_flight.max(1);
        let own_threads = threads > 0;
        let count = if own_threads {
            threads
        } else {
            tokio::runtime::Handle::current().metrics().num_workers()
        };
        let count = count.clamp(1, max_in_flight);
        let waiting = Arc::new(Waiting::default());
        let lanes = (0..count)
            .map(|i| {
                // The shares add up to `max_in_flight` exactly.
                let share = max_in_flight / count + usize::from(i < max_in_flight % count);
                let (batches, receiver) = mpsc::unbounded_channel();
                let load = Arc::new(AtomicUsize::new(0));
                let lane = run(
                    context.clone(),
                    share,
                    receiver,
                    load.clone(),
                    waiting.clone(),
                );
                Lane {
                    batches,
                    load,
                    handle: threads::spawn(i, own_threads, lane),
                }
            })
            .collect();
        Self { lanes, waiting }
    }

    /// Hands over checks that are due now, in due order, to the least busy lanes; a lane
    /// that is idle is reused rather than woken on another thread.
    pub fn start_checks(&self, mut due: Vec<DueCheck>) {
        while !due.is_empty() {
            let rest = due.split_off(due.len().min(CHUNK));
            let Some(lane) = self
                .lanes
                .iter()
                .min_by_key(|lane| lane.load.load(Ordering::Relaxed))
            else {
                return;
            };
            lane.load.fetch_add(due.len(), Ordering::Relaxed);
            // Fails only if the lane ended, which it does only after `finish`.
            let _ = lane.batches.send(due);
            due = rest;
        }
    }

    /// Checks handed over and not finished yet, running or waiting for a slot.
    pub fn held(&self) -> usize {
        let running: usize = self
            .lanes
            .iter()
            .map(|lane| lane.load.load(Ordering::Relaxed))
            .sum();
        running + self.waiting.len()
    }

    /// Takes no more checks and waits until every check handed over has finished.
    pub async fn finish(&mut self) {
        let handles: Vec<_> = self.lanes.drain(..).map(|lane| lane.handle).collect();
        for mut handle in handles {
            if !handle.ended().await {
                tracing::error!("a check lane failed");
            }
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        for lane in &self.lanes {
            lane.handle.abort();
        }
    }
}

async fn run(
    context: Arc<Context>,
    max_in_flight: usize,
    mut batches: mpsc::UnboundedReceiver<Vec<DueCheck>>,
    load: Arc<AtomicUsize>,
    waiting: Arc<Waiting>,
) {
    let mut running = FuturesUnordered::new();
    let mut open = true;
    let mut events = 0u32;
    let start = |running: &mut FuturesUnordered<_>, check| {
        load.fetch_add(1, Ordering::Relaxed);
        // A panicking check must not take every other check down with it.
        running.push(AssertUnwindSafe(self::check(context.clone(), check)).catch_unwind());
    };
    loop {
        events += 1;
        if events == EVENTS_PER_SLICE {
            events = 0;
            tokio::task::yield_now().await;
        }
        while running.len() < max_in_flight {
            let Some(check) = waiting.pop() else {
                break;
            };
            start(&mut running, check);
        }
        if running.len() >= max_in_flight && waiting.len() > 0 {
            // Full, with checks still waiting: pass them on to a lane with a free slot.
            waiting.added.notify_one();
        }
        if !open && running.is_empty() && waiting.len() == 0 {
            return;
        }
        let free = running.len() < max_in_flight;
        tokio::select! {
            biased;
            Some(finished) = running.next(), if !running.is_empty() => {
                load.fetch_sub(1, Ordering::Relaxed);
                if finished.is_err() {
                    tracing::error!("a check panicked");
                }
            }
            batch = batches.recv(), if open => match batch {
                Some(due) => {
                    // Handed over as held by this lane; from here each is counted where it is.
                    load.fetch_sub(due.len(), Ordering::Relaxed);
                    let mut due = due.into_iter();
                    while running.len() < max_in_flight {
                        let Some(check) = due.next() else { break };
                        start(&mut running, check);
                    }
                    if due.len() > 0 {
                        waiting.push(due);
                    }
                }
                None => open = false,
            },
            () = waiting.added.notified(), if free => {}
        }
    }
}

/// The check, unless it is too late by the time it is first polled: a lane that cannot keep
/// up polls its new checks late, and skipping them then sheds the load, as the grace rule
/// says, instead of starting checks it would time out on.
async fn check(context: Arc<Context>, check: DueCheck) {
    let lateness = (Utc::now() - check.due).to_std().unwrap_or_default();
    if lateness > grace(check.monitor.spec.interval_secs()) {
        context.metrics.check_skipped();
        tracing::debug!(
            monitor = check.monitor.id.0,
            ?lateness,
            "check skipped: too late"
        );
        return;
    }
    let timer = context.metrics.check_started(lateness);
    let attempt = context.probe.attempt(&check.monitor.spec).await;
    if attempt.starved {
        // Dropping the timer counts the check out of flight without an outcome.
        drop(timer);
        context.metrics.check_starved();
        tracing::debug!(
            monitor = check.monitor.id.0,
            "check skipped: this process served it too late to judge the target"
        );
        return;
    }
    let result = attempt.result;
    timer.finished(&result);
    if let Some(gauges) = context.metrics.monitors() {
        gauges.checked(&check.monitor, &result);
    }
    // The slot is held until the result is buffered: a full buffer slows checks down.
    let record = CheckRecord {
        monitor: check.monitor.id,
        result,
    };
    if let Err(error) = context.buffer.push(record).await {
        tracing::error!(%error, monitor = check.monitor.id.0, "a check result could not be buffered");
    }
}
