//! The sender: on every instance, claims due notifications from the outbox, delivers them
//! and records how it went. A claim is a lease in the store, so two instances never hold
//! the same notification at once, and one that dies mid-delivery hands it over when its
//! lease lapses (the receiver may then see the event twice, with the same event id).
//!
//! Each channel's deliveries run in their own task, bounded by the delivery timeout, and a
//! channel being delivered to is not claimed again until that task ends: a slow or dead
//! receiver delays only its own channel. Several notices due at once for a human channel
//! go out as one message. Failures retry with exponential backoff and jitter, for at
//! least a day, then the notification is `failed`.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::sync::broadcast;
use tokio::task::JoinSet;

use crate::alerting::ChannelId;
use crate::alerting::channels::Outbound;
use crate::service::Event;
use crate::store::{Claimed, Outcome, Store};
use crate::telemetry::Metrics;

/// How the sender paces itself.
#[derive(Debug, Clone, Copy)]
pub struct SenderOptions {
    /// How often it looks for due notifications.
    pub poll: Duration,
    /// How long one delivery may take.
    pub timeout: Duration,
    /// The wait before the first retry; each next one doubles, up to `max_retry`.
    pub retry: Duration,
    /// The longest wait between retries.
    pub max_retry: Duration,
    /// How long after it was queued a notification is given up.
    pub give_up_after: Duration,
    /// The most notifications claimed per poll.
    pub batch: u32,
}

impl Default for SenderOptions {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
            batch: 500,
        }
    }
}

impl SenderOptions {
    /// How long a claim lasts: longer than any delivery task may run (see [`deliver`]).
    fn lease(&self) -> Duration {
        self.timeout * 3 + Duration::from_secs(10)
    }

    /// When to try again after `attempts` failed attempts (this one included).
    pub fn next_attempt(&self, now: DateTime<Utc>, attempts: u32) -> DateTime<Utc> {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        let wait = self.retry.saturating_mul(factor).min(self.max_retry);
        // ±20 %, so a receiver that was down is not hit by every retry at once.
        let jitter = rand::rng().random_range(0.8..1.2);
        now + crate::time::delta(wait.mul_f64(jitter))
    }
}

impl SenderOptions {
    /// What becomes of a notification queued at `queued` whose attempt failed with `error`
    /// after `attempts` earlier ones: retried later, or `failed` once it has been failing
    /// for [`SenderOptions::give_up_after`].
    pub fn after_failure(
        &self,
        error: &str,
        queued: DateTime<Utc>,
        attempts: u32,
        now: DateTime<Utc>,
    ) -> Outcome {
        let age = (now - queued).to_std().unwrap_or_default();
        if age >= self.give_up_after {
            Outcome::Failed {
                error: error.to_owned(),
            }
        } else {
            Outcome::Retry {
                error: error.to_owned(),
                next: self.next_attempt(now, attempts + 1),
            }
        }
    }
}

/// The outbox sender of one instance.
pub struct Sender {
    store: Arc<dyn Store>,
    outbound: Outbound,
    metrics: Arc<Metrics>,
    options: SenderOptions,
    /// This instance's transitions: one that queued an event starts a claim at once
    /// rather than at the next poll.
    wake: Option<broadcast::Receiver<Event>>,
}

impl Sender {
    /// A sender claiming from `store` and delivering through `outbound`.
    pub fn new(
        store: Arc<dyn Store>,
        outbound: Outbound,
        metrics: Arc<Metrics>,
        options: SenderOptions,
    ) -> Self {
        Self {
            store,
            outbound,
            metrics,
            options,
            wake: None,
        }
    }

    /// Also claims as soon as a transition decided here queues an event.
    pub fn wake_on(mut self, events: broadcast::Receiver<Event>) -> Self {
        self.wake = Some(events);
        self
    }

    /// Claims and delivers until `shutdown` completes, then waits for the deliveries under
    /// way (each bounded by the timeout) so their outcomes are recorded.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut ticks = tokio::time::interval(self.options.poll);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut running: JoinSet<ChannelId> = JoinSet::new();
        let mut busy: HashSet<ChannelId> = HashSet::new();
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                Some(done) = running.join_next() => {
                    if let Ok(channel) = done {
                        busy.remove(&channel);
                    }
                    continue;
                }
                _ = ticks.tick() => {}
                woken = queued(&mut self.wake) => {
                    if !woken {
                        continue;
                    }
                }
            }
            let now = Utc::now();
            let until = now + crate::time::delta(self.options.lease());
            let busy_now: Vec<ChannelId> = busy.iter().copied().collect();
            let claimed = match self
                .store
                .claim_notifications(now, until, self.options.batch, &busy_now)
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "cannot claim notifications; trying again at the next poll");
                    continue;
                }
            };
            let mut by_channel: BTreeMap<ChannelId, Vec<Claimed>> = BTreeMap::new();
            for claim in claimed {
                by_channel.entry(claim.channel.id).or_default().push(claim);
            }
            for (channel, claims) in by_channel {
                busy.insert(channel);
                let (store, outbound) = (self.store.clone(), self.outbound.clone());
                let (metrics, options) = (self.metrics.clone(), self.options);
                running.spawn(async move {
                    let outcomes = deliver(&outbound, &metrics, &options, claims).await;
                    if let Err(error) = store.settle_notifications(&outcomes).await {
                        // The claims lapse and the notifications are delivered again, with
                        // the same event ids.
                        tracing::warn!(%error, channel = channel.0, "cannot record deliveries");
                    }
                    channel
                });
            }
        }
        // Deliveries under way get one timeout to finish and record; any still running
        // then is dropped, and its notifications are delivered again (same event ids) once
        // their leases lapse, by whichever instance is left.
        let drained = tokio::time::timeout(self.options.timeout, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            running.abort_all();
        }
    }
}

/// Waits for a transition that queued an event, taking every other one already waiting
/// with it so a burst makes one claim; `false` for one that queued nothing. Never completes
/// without a bus.
async fn queued(wake: &mut Option<broadcast::Receiver<Event>>) -> bool {
    let Some(events) = wake else {
        return std::future::pending().await;
    };
    let mut any = match events.recv().await {
        Ok(Event::Transition(t)) => t.event.is_some(),
        Ok(_) => false,
        // Missed some: claim to be sure.
        Err(broadcast::error::RecvError::Lagged(_)) => true,
        Err(broadcast::error::RecvError::Closed) => {
            *wake = None;
            return false;
        }
    };
    while let Ok(event) = events.try_recv() {
        any |= matches!(event, Event::Transition(t) if t.event.is_some());
    }
    any
}

/// Delivers one channel's claims: all in one message when the kind groups, else one by one
/// (in the order they happened) until the time would run past the lease, leaving the rest
/// claimed until it lapses. Returns each delivered or failed claim's outcome.
async fn deliver(
    out: &Outbound,
    metrics: &Metrics,
    options: &SenderOptions,
    claims: Vec<Claimed>,
) -> Vec<(i64, Outcome)> {
    let (channel, config) = match claims.first() {
        Some(first) => (first.channel.id, first.channel.config.clone()),
        None => return Vec::new(),
    };
    let deliverer = config.deliverer();
    let batches: Vec<Vec<Claimed>> = if deliverer.groups() {
        vec![claims]
    } else {
        claims.into_iter().map(|c| vec![c]).collect()
    };
    let started = Instant::now();
    let mut outcomes = Vec::new();
    for batch in batches {
        if started.elapsed() > options.timeout * 2 {
            break;
        }
        let notices: Vec<_> = batch.iter().map(|c| c.notice.clone()).collect();
        let attempt = Instant::now();
        let result =
            match tokio::time::timeout(options.timeout, deliverer.deliver(out, &notices)).await {
                Ok(result) => result,
                Err(_) => Err(format!(
                    "the receiver did not answer within {}",
                    humantime::format_duration(options.timeout)
                )),
            };
        let took = attempt.elapsed();
        let now = Utc::now();
        let count = batch.len() as u64;
        for claim in &batch {
            let outcome = match &result {
                Ok(()) => Outcome::Delivered { at: now },
                Err(error) => options.after_failure(error, claim.created_at, claim.attempts, now),
            };
            outcomes.push((claim.id, outcome));
        }
        let label = match (&result, outcomes.last()) {
            (Ok(()), _) => "delivered",
            (Err(_), Some((_, Outcome::Failed { .. }))) => "failed",
            (Err(_), _) => "retry",
        };
        metrics.alerts.delivery(config.kind(), label, count, took);
        if let Err(error) = &result {
            tracing::info!(
                channel = channel.0,
                kind = config.kind().as_str(),
                notifications = count,
                error = error.as_str(),
                "delivery failed"
            );
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_jitter_up_to_the_cap() {
        let options = SenderOptions {
            retry: Duration::from_secs(10),
            max_retry: Duration::from_secs(60),
            ..SenderOptions::default()
        };
        let now = Utc::now();
        let wait = |attempts| (options.next_attempt(now, attempts) - now).num_milliseconds();
        assert!((8_000..=12_000).contains(&wait(1)), "{}", wait(1));
        assert!((16_000..=24_000).contains(&wait(2)), "{}", wait(2));
        assert!((48_000..=72_000).contains(&wait(10)), "{}", wait(10));
    }

    #[test]
    fn failures_are_retried_for_a_day_then_given_up() {
        let options = SenderOptions::default();
        let now = Utc::now();
        let hour = chrono::Duration::hours(1);
        assert!(matches!(
            options.after_failure("boom", now - hour * 23, 30, now),
            Outcome::Retry { next, .. } if next > now && next <= now + hour + hour / 5
        ));
        assert_eq!(
            options.after_failure("boom", now - hour * 24, 31, now),
            Outcome::Failed {
                error: "boom".into()
            }
        );
    }
}
