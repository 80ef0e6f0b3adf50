//! When checks run. Due monitors are claimed from the store in batches (one statement per
//! batch, so several instances can share a database without checking anything twice), then
//! each claimed check fires from one local min-heap ([`timers`]) a few milliseconds after its
//! due time, together with the others due by then, and runs in a check lane ([`runner`]).
//! A claim runs beside the timers ([`claiming`]), so one that waits on the database holds
//! back no check already claimed.
//!
//! With several instances on one database, each claim takes about this instance's share of
//! the checks due before its next poll, from the live instances and their rate in the
//! heartbeats ([`share`]), so the work is shared evenly rather than by whose poll came first.
//!
//! The grid is fixed: a monitor's first check is due at once, and every later one on the
//! monitor's own grid, its interval apart at a phase that is a hash of its id
//! ([`crate::monitor::phase`]), whatever happened to earlier checks, because the store
//! advances the due time when it is claimed, not when a check ends. Monitors created in one
//! burst thus share only their first wake-up, then spread across the interval. A check that
//! cannot start within its grace (half its interval, at most 10 s) is skipped, never bunched
//! with the next one; so is, and counted alike, a due time the claims passed over because
//! it was missed beyond its grace.

mod claiming;
mod continuity;
mod pace;
mod runner;
mod share;
mod threads;
mod timers;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::pipeline::Buffer;
use crate::probe::Probe;
use crate::service::Event;
use crate::store::{ClaimBatch, Store, StoreError};
use crate::telemetry::Metrics;

use claiming::{Claiming, Replay, Round};
use continuity::Continuity;
use pace::Pace;
use runner::{Context, Runner};
use timers::Timers;

pub use crate::monitor::grace::{MAX_GRACE, grace};
pub use share::Peers;

/// The next claim time while a round is in flight and nothing has asked for another: far
/// enough never to come first.
const UNSET: Duration = Duration::from_secs(24 * 60 * 60);

/// How the scheduler claims and runs checks.
#[derive(Debug, Clone, Copy)]
pub struct SchedulerOptions {
    /// The most checks running at once.
    pub max_in_flight: usize,
    /// The most monitors claimed by one statement.
    pub claim_batch: u32,
    /// How far ahead of their due time checks are claimed.
    pub horizon: Duration,
    /// How often the store is asked for due monitors when nothing wakes the scheduler.
    pub poll: Duration,
    /// How long after the earliest due check the scheduler wakes, to start the checks due
    /// meanwhile together, at busy rates. Waking once per check cost more CPU than the
    /// check's own work at 1,000 checks/s; 5 ms of lateness is far inside any grace.
    pub coalesce: Duration,
    /// The widest that window grows at low rates, where it would otherwise gather less
    /// than one check per wake-up ([`pace`]).
    pub coalesce_max: Duration,
    /// Threads of their own that run checks, each with its own event loop ([`threads`]);
    /// 0 runs checks as tasks of the server's runtime.
    pub check_threads: usize,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self {
            max_in_flight: 512,
            claim_batch: 1000,
            horizon: Duration::from_secs(1),
            poll: Duration::from_millis(500),
            coalesce: Duration::from_millis(5),
            coalesce_max: Duration::from_millis(25),
            check_threads: default_check_threads(),
        }
    }
}

/// One check thread per core: a lane per core keeps every core busy at high rates, and a
/// lane with nothing to do sleeps in its event loop at no cost.
pub fn default_check_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Claims due monitors and runs their checks; see the module docs.
pub struct Scheduler {
    store: Arc<dyn Store>,
    context: Arc<Context>,
    options: SchedulerOptions,
    events: broadcast::Receiver<Event>,
    peers: Arc<Peers>,
}

impl Scheduler {
    /// A scheduler that follows `events` (subscribe before anything can be published):
    /// created and resumed monitors are claimed at once, edits apply to the checks already
    /// claimed, and paused or deleted monitors' claimed checks are dropped.
    pub fn new(
        store: Arc<dyn Store>,
        probe: Probe,
        buffer: Arc<dyn Buffer>,
        metrics: Arc<Metrics>,
        options: SchedulerOptions,
        events: broadcast::Receiver<Event>,
    ) -> Self {
        let context = Arc::new(Context {
            probe,
            buffer,
            metrics,
        });
        Self {
            store,
            context,
            options,
            events,
            peers: Arc::new(Peers::default()),
        }
    }

    /// The instances sharing the database as this scheduler sees them, for the heartbeat
    /// job to keep up to date: claims are sized to them ([`share`]).
    pub fn peers(&self) -> Arc<Peers> {
        self.peers.clone()
    }

    /// Runs until `shutdown` completes; then stops claiming, gives back the claims that
    /// have not fired, and waits for the checks in flight (bounded by their timeouts).
    /// Claims run beside the timers ([`claiming`]): a slow claim holds no due check.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let mut timers = Timers::default();
        let mut continuity = Continuity::default();
        let mut claiming = Claiming::default();
        let mut runner = Runner::start(
            self.context.clone(),
            self.options.max_in_flight,
            self.options.check_threads,
        );
        let mut next_claim = Instant::now();
        let mut events_open = true;
        let mut pace = Pace::new(self.options.coalesce, self.options.coalesce_max);
        tokio::pin!(shutdown);
        loop {
            // While a claim is in flight its answer wakes the loop, not the next claim time.
            let claim_at = if claiming.in_flight() {
                Instant::now() + self.options.poll
            } else {
                next_claim
            };
            let wake_at = timers
                .next_at()
                .map_or(claim_at, |at| (at + pace.window()).min(claim_at));
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                ((round, answer), replays) = claiming.answer() => {
                    let more = self.claimed(round, answer, &mut timers, &mut continuity);
                    for replay in replays {
                        replay.apply(&mut continuity, &mut timers);
                    }
                    // A full claim goes on at once; the due checks still fire meanwhile.
                    next_claim = if more {
                        Instant::now()
                    } else {
                        // Sooner if an event asked for a claim meanwhile.
                        next_claim.min(Instant::now() + self.options.poll)
                    };
                }
                event = self.events.recv(), if events_open => match event {
                    // Claim now rather than at the next poll: the first check is due at once.
                    Ok(Event::MonitorCreated(_)) => next_claim = Instant::now(),
                    Ok(Event::MonitorChanged(monitor)) => {
                        if let Some(gauges) = self.context.metrics.monitors() {
                            gauges.changed(&monitor);
                        }
                        // A resumed monitor is due at once; for an edit, the early claim
                        // round finds nothing new and costs one statement.
                        if !monitor.paused {
                            next_claim = Instant::now();
                        }
                        let replay = Replay::Changed(monitor);
                        replay.apply(&mut continuity, &mut timers);
                        claiming.seen(replay);
                    }
                    Ok(Event::MonitorRemoved { id, .. }) => {
                        if let Some(gauges) = self.context.metrics.monitors() {
                            gauges.deleted(id);
                        }
                        let replay = Replay::Removed(id);
                        replay.apply(&mut continuity, &mut timers);
                        claiming.seen(replay);
                    }
                    Ok(Event::Transition(_)) => {}
                    Err(RecvError::Lagged(missed)) => tracing::warn!(
                        missed,
                        "the scheduler fell behind the event stream; claimed checks of changed \
                         monitors may run once with their old settings"
                    ),
                    Err(RecvError::Closed) => events_open = false,
                },
                () = tokio::time::sleep_until(wake_at) => {}
            }
            if !claiming.in_flight() && Instant::now() >= next_claim {
                claiming.start(self.store.clone(), self.round());
                // Set when this round answers, unless an event asks for a claim meanwhile.
                next_claim = Instant::now() + UNSET;
            }
            let now = Instant::now();
            let due = timers.pop_due(now);
            if !due.is_empty() {
                pace.started(due.len(), now);
                runner.start_checks(due);
            }
        }
        // A claim in flight has moved its monitors' due times on: wait for it, so that what
        // it claimed is given back with the rest rather than lost until the next grid point.
        if claiming.in_flight() {
            let ((round, answer), _) = claiming.answer().await;
            self.claimed(round, answer, &mut timers, &mut continuity);
        }
        let unrun = timers.drain();
        if !unrun.is_empty()
            && let Err(error) = self.store.release_claims(&unrun).await
        {
            tracing::warn!(%error, claims = unrun.len(), "cannot give back unrun claims");
        }
        tracing::info!(
            in_flight = runner.held(),
            "scheduler stopping: waiting for checks in flight"
        );
        runner.finish().await;
    }

    /// The next claim round: what is due within the horizon, sized to this instance's share.
    fn round(&self) -> Round {
        let (instances, checks_per_minute) = self.peers.view();
        let poll = self.options.poll;
        let now = Utc::now();
        Round {
            now,
            until: now + crate::time::delta(self.options.horizon),
            limit: share::batch(self.options.claim_batch, instances, checks_per_minute, poll),
            instances,
        }
    }

    /// Takes in a claim round's answer; true if the batch was full and the next should
    /// follow at once. While the store is away, keeps the monitors this instance holds on
    /// their grid locally.
    fn claimed(
        &self,
        round: Round,
        answer: Result<ClaimBatch, StoreError>,
        timers: &mut Timers,
        continuity: &mut Continuity,
    ) -> bool {
        let Round {
            now,
            until,
            instances,
            ..
        } = round;
        let poll = self.options.poll;
        match answer {
            Ok(ClaimBatch {
                claims,
                skipped,
                full,
            }) => {
                if skipped > 0 {
                    self.context.metrics.checks_passed_over(skipped);
                }
                // Claims come earliest first: everything due before the last was taken.
                let last_due = claims.last().map_or(until, |claim| claim.due);
                for claim in claims {
                    if continuity.claimed(&claim) {
                        timers.insert(claim);
                    }
                }
                if full && share::claim_more(instances, last_due, now, poll) {
                    return true;
                }
                // A full claim left the rest of the horizon to the other instances.
                let covered = if full {
                    last_due - chrono::Duration::milliseconds(1)
                } else {
                    until
                };
                continuity.store_answered(now, covered, poll + self.options.horizon);
                false
            }
            Err(error) => {
                let local = continuity.store_failed(now, until);
                tracing::warn!(
                    %error,
                    continued_locally = local.len(),
                    "cannot claim due monitors; checks this instance holds go on locally"
                );
                local.into_iter().for_each(|claim| timers.insert(claim));
                false
            }
        }
    }
}
