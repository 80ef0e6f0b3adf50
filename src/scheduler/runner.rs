//! Runs the checks whose time has come, concurrently and at most `max_in_flight` at once,
//! as futures inside one task. A task per check cost a spawn, a semaphore and a cross-thread
//! wake per check, and woke an idle worker for each one; here the scheduler hands over each
//! wake-up's checks in one message, and the I/O events of many checks are handled in one
//! poll of this task. Checks beyond the limit wait in order, and are skipped if their grace
//! has passed by the time a slot frees up, as before.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::Utc;
use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::grace;
use super::timers::DueCheck;
use crate::check::CheckRecord;
use crate::pipeline::Buffer;
use crate::probe::Probe;
use crate::telemetry::Metrics;

/// What every check needs.
pub struct Context {
    /// Runs the HTTP check.
    pub probe: Probe,
    /// Where results go.
    pub buffer: Arc<dyn Buffer>,
    /// Counts checks, their lateness and outcome.
    pub metrics: Arc<Metrics>,
}

/// The running runner; dropping it stops its checks (as dropping the scheduler does).
pub struct Runner {
    batches: Option<mpsc::UnboundedSender<Vec<DueCheck>>>,
    task: JoinHandle<()>,
}

impl Runner {
    /// Starts the runner's task on the current runtime.
    pub fn start(context: Arc<Context>, max_in_flight: usize) -> Self {
        let (batches, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(context, max_in_flight.max(1), receiver));
        Self {
            batches: Some(batches),
            task,
        }
    }

    /// Hands over checks that are due now, in due order.
    pub fn start_checks(&self, due: Vec<DueCheck>) {
        if let Some(batches) = &self.batches {
            // Fails only if the task ended, which it does only after `finish`.
            let _ = batches.send(due);
        }
    }

    /// Takes no more checks and waits until every check handed over has finished.
    pub async fn finish(&mut self) {
        self.batches = None;
        if let Err(error) = (&mut self.task).await {
            tracing::error!(%error, "the check runner failed");
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    context: Arc<Context>,
    max_in_flight: usize,
    mut batches: mpsc::UnboundedReceiver<Vec<DueCheck>>,
) {
    let mut running = FuturesUnordered::new();
    let mut waiting = VecDeque::new();
    let mut open = true;
    loop {
        while running.len() < max_in_flight {
            let Some(check) = waiting.pop_front() else {
                break;
            };
            if let Some(started) = start(&context, check) {
                // A panicking check must not take every other check down with it.
                running.push(AssertUnwindSafe(started).catch_unwind());
            }
        }
        if !open && running.is_empty() && waiting.is_empty() {
            return;
        }
        tokio::select! {
            biased;
            Some(finished) = running.next(), if !running.is_empty() => {
                if finished.is_err() {
                    tracing::error!("a check panicked");
                }
            }
            batch = batches.recv(), if open => match batch {
                Some(due) => waiting.extend(due),
                None => {
                    open = false;
                    tracing::info!(
                        in_flight = running.len(),
                        waiting = waiting.len(),
                        "scheduler stopping: waiting for checks in flight"
                    );
                }
            },
        }
    }
}

/// The check, unless it is by then too late to start it.
fn start(context: &Arc<Context>, check: DueCheck) -> Option<impl Future<Output = ()> + use<>> {
    let lateness = (Utc::now() - check.due).to_std().unwrap_or_default();
    if lateness > grace(check.monitor.spec.interval_secs()) {
        context.metrics.check_skipped();
        tracing::debug!(
            monitor = check.monitor.id.0,
            ?lateness,
            "check skipped: too late"
        );
        return None;
    }
    let context = context.clone();
    Some(async move {
        let timer = context.metrics.check_started(lateness);
        let result = context.probe.check(&check.monitor.spec).await;
        timer.finished(&result);
        // The slot is held until the result is buffered: a full buffer slows checks down.
        let record = CheckRecord {
            monitor: check.monitor.id,
            result,
        };
        if let Err(error) = context.buffer.push(record).await {
            tracing::error!(%error, monitor = check.monitor.id.0, "a check result could not be buffered");
        }
    })
}
