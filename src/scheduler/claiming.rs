//! A claim round in flight. The scheduler used to await each claim in its loop, so a claim
//! that waited (on SQLite behind a group-committed write, on PostgreSQL behind a busy
//! server) held every check due meanwhile: at 10,000 checks/s a claim of a few hundred
//! milliseconds started thousands of checks late, they missed their grace and were skipped,
//! and the next claim fell further behind. Now the claim runs beside the timers: checks
//! already claimed fire on time while the next batch is being claimed.
//!
//! Events that arrive while a claim is in flight are replayed once it answers, since the
//! claim may have read a monitor before it was edited, paused or deleted.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::continuity::Continuity;
use super::timers::Timers;
use crate::monitor::{Monitor, MonitorId};
use crate::store::{ClaimBatch, Store, StoreError};

/// What a claim round asked for: the store's answer is judged against it.
#[derive(Debug, Clone, Copy)]
pub struct Round {
    /// When the round started.
    pub now: DateTime<Utc>,
    /// The end of the horizon it claimed up to.
    pub until: DateTime<Utc>,
    /// The most claims it asked for.
    pub limit: u32,
    /// The live instances it was sized for.
    pub instances: usize,
}

/// A claim round and the store's answer.
pub type Answer = (Round, Result<ClaimBatch, StoreError>);

/// An edit or deletion seen while a claim was in flight, to apply again to what it returns.
pub enum Replay {
    /// The monitor's settings changed (or it was paused).
    Changed(Arc<Monitor>),
    /// The monitor was deleted.
    Removed(MonitorId),
}

impl Replay {
    /// Applies the edit or deletion to the claimed checks and to what continuity holds.
    pub fn apply(&self, continuity: &mut Continuity, timers: &mut Timers) {
        match self {
            Replay::Changed(monitor) => {
                continuity.update(monitor);
                timers.update(Monitor::clone(monitor));
            }
            Replay::Removed(id) => {
                continuity.remove(*id);
                timers.remove(*id);
            }
        }
    }
}

/// At most one claim round in flight, and the events seen meanwhile.
#[derive(Default)]
pub struct Claiming {
    pending: Option<Pin<Box<dyn Future<Output = Answer> + Send>>>,
    replays: Vec<Replay>,
}

impl Claiming {
    /// Whether a claim round is in flight.
    pub fn in_flight(&self) -> bool {
        self.pending.is_some()
    }

    /// Starts a claim round on `store`.
    pub fn start(&mut self, store: Arc<dyn Store>, round: Round) {
        self.replays.clear();
        self.pending = Some(Box::pin(async move {
            let answer = store.claim_due(round.now, round.until, round.limit).await;
            (round, answer)
        }));
    }

    /// Remembers an event to apply again to the claim in flight; nothing without one.
    pub fn seen(&mut self, replay: Replay) {
        if self.in_flight() {
            self.replays.push(replay);
        }
    }

    /// The answer of the round in flight, with the events seen meanwhile; never completes
    /// while no round is in flight, so it can sit in a `select!` at all times.
    pub async fn answer(&mut self) -> (Answer, Vec<Replay>) {
        match self.pending.as_mut() {
            Some(pending) => {
                let answer = pending.await;
                self.pending = None;
                (answer, std::mem::take(&mut self.replays))
            }
            None => std::future::pending().await,
        }
    }
}
