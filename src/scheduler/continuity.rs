//! Checks go on while the store is away. The scheduler remembers the monitors it claimed and
//! their last due time; once claims have failed for [`OUTAGE_AFTER`], it keeps each of them
//! on its grid locally (their results wait in the buffer). When claims work again, a claimed
//! due time this instance already ran locally is dropped, so the outage adds no double check
//! on this instance.
//!
//! With several instances each continues the monitors it claimed last, except those whose
//! next due time fell inside its last complete claim round: that round claimed everything
//! due up to its horizon, so a due time it did not return was taken by another instance
//! (or the monitor was paused or deleted there). A monitor can still be checked twice per
//! period until the store is back when the outage begins in the fraction of a second
//! between two instances' claim rounds, as the next due time enters the horizon: a monitor
//! checked twice beats one not checked at all.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::grace;
use crate::monitor::phase::next_due;
use crate::monitor::{Monitor, MonitorId};
use crate::store::Claim;

/// How long claims must fail before checks continue locally: a single failed poll (a busy
/// database) is not an outage, and acting on it could double a check another instance holds.
pub const OUTAGE_AFTER: Duration = Duration::from_secs(1);

/// A monitor this instance claimed, with the latest due time it holds.
struct Known {
    monitor: Monitor,
    last_due: DateTime<Utc>,
}

/// What the scheduler knows to keep checks going through a store outage.
#[derive(Default)]
pub struct Continuity {
    known: HashMap<MonitorId, Known>,
    ran_locally: HashMap<MonitorId, DateTime<Utc>>,
    failing_since: Option<DateTime<Utc>>,
    /// The horizon of the last claim round that claimed everything due up to it.
    claimed_until: Option<DateTime<Utc>>,
    /// When monitors no longer held here were last forgotten ([`SWEEP_EVERY`]).
    swept_at: Option<DateTime<Utc>>,
}

/// How often the monitors that went to another instance are forgotten. The sweep visits
/// every monitor this instance knows: run on every claim round it took a quarter of the
/// CPU under a flood of creations (each one asks for a claim round) and grew with the
/// monitor count. It only bounds memory: [`Continuity::store_failed`] leaves out those
/// monitors itself, by the last complete round.
const SWEEP_EVERY: chrono::Duration = chrono::Duration::seconds(5);

impl Known {
    /// The due time after the latest one held, on the monitor's grid.
    fn next(&self) -> DateTime<Utc> {
        next_due(
            self.monitor.id.0,
            self.monitor.spec.interval_secs(),
            self.last_due,
        )
    }
}

impl Continuity {
    /// Records a claim from the store; false if this instance already ran that due time
    /// locally during an outage, in which case the claim is dropped.
    pub fn claimed(&mut self, claim: &Claim) -> bool {
        let id = claim.monitor.id;
        if let Some(&ran) = self.ran_locally.get(&id) {
            if claim.due <= ran {
                return false;
            }
            self.ran_locally.remove(&id);
        }
        self.known.insert(
            id,
            Known {
                monitor: claim.monitor.clone(),
                last_due: claim.due,
            },
        );
        true
    }

    /// A claim round claimed everything due up to `until`: the store is back, and monitors
    /// whose next due time passed without this instance claiming it belong to another
    /// instance now (or are paused); they are forgotten every [`SWEEP_EVERY`].
    pub fn store_answered(&mut self, now: DateTime<Utc>, until: DateTime<Utc>, slack: Duration) {
        self.failing_since = None;
        self.claimed_until = Some(until);
        if self.swept_at.is_some_and(|at| now - at < SWEEP_EVERY) {
            return;
        }
        self.swept_at = Some(now);
        let slack = crate::time::delta(slack);
        self.known.retain(|_, known| known.next() + slack >= now);
        // Past every grace, a stale claim could no longer run: nothing left to filter.
        let oldest = now - chrono::Duration::seconds(super::MAX_GRACE.as_secs() as i64) - slack;
        self.ran_locally.retain(|_, ran| *ran >= oldest);
    }

    /// Claims failed. Once they have failed for [`OUTAGE_AFTER`], returns the due times up
    /// to `until` of the monitors this instance holds, as local claims, skipping grid
    /// points already beyond their grace.
    pub fn store_failed(&mut self, now: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Claim> {
        let since = *self.failing_since.get_or_insert(now);
        if (now - since).to_std().unwrap_or_default() < OUTAGE_AFTER {
            return Vec::new();
        }
        if let Some(claimed_until) = self.claimed_until.take() {
            // Those due times were claimed by the last complete round, not by this instance.
            self.known.retain(|_, known| known.next() > claimed_until);
        }
        let mut claims = Vec::new();
        for (id, known) in &mut self.known {
            let seconds = known.monitor.spec.interval_secs();
            let late = crate::time::delta(grace(seconds));
            // The same grid the store keeps: the monitor's phase, see `monitor::phase`.
            let step = |due| next_due(id.0, seconds, due);
            let mut next = known.next();
            while next <= until {
                if next >= now - late {
                    claims.push(Claim {
                        monitor: known.monitor.clone(),
                        due: next,
                    });
                    self.ran_locally.insert(*id, next);
                }
                known.last_due = next;
                next = step(next);
            }
        }
        claims
    }

    /// A monitor's settings changed through the API; a paused one is forgotten.
    pub fn update(&mut self, monitor: &Monitor) {
        if monitor.paused {
            self.remove(monitor.id);
        } else if let Some(known) = self.known.get_mut(&monitor.id) {
            known.monitor = monitor.clone();
        }
    }

    /// A monitor was deleted.
    pub fn remove(&mut self, id: MonitorId) {
        self.known.remove(&id);
        self.ran_locally.remove(&id);
    }
}

#[cfg(test)]
mod tests;
