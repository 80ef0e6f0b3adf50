//! Sharing due checks evenly between the instances on one database. Every instance claims
//! the checks due within the horizon each time it polls, so with a claim batch as large as
//! the whole horizon the instance whose poll came first after a long gap took most of them:
//! at 500 checks/s over 3 instances the shares were 59 to 331 per second. Sized to the live
//! instances known from the heartbeats, a claim takes about its share of a poll period's
//! checks (with slack, so the instances together can take more than come due), and leaves
//! the rest of the horizon to the others' polls. A lone instance claims as before.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::Heartbeat;

/// The least a claim takes, added to the share of the rate; kept small, since at low rates
/// it would decide the shares.
pub const MIN_SHARE: u32 = 2;

/// How much more than its share of a poll period's checks one claim may take: the
/// instances together can claim a quarter more than comes due, so the claimed due times
/// stay ahead of the clock, and an instance whose poll came after a long gap takes little
/// more than its share. If the rate grows faster than the heartbeats tell, nothing waits:
/// a full claim goes on for the checks due before the next poll ([`claim_more`]).
const SLACK: f64 = 1.25;

/// The instances sharing the database, as the latest heartbeats show them.
#[derive(Debug)]
pub struct Peers {
    instances: AtomicUsize,
    checks_per_minute: AtomicU64,
}

impl Default for Peers {
    fn default() -> Self {
        Self {
            instances: AtomicUsize::new(1),
            checks_per_minute: AtomicU64::new(0),
        }
    }
}

impl Peers {
    /// Takes in the live instances' heartbeats (this one's included).
    pub fn observe(&self, live: &[Heartbeat]) {
        let total = live.iter().map(|beat| beat.checks_last_minute).sum();
        self.instances.store(live.len().max(1), Ordering::Relaxed);
        self.checks_per_minute.store(total, Ordering::Relaxed);
    }

    /// How many instances are live and how many checks they ran in their last minute.
    pub fn view(&self) -> (usize, u64) {
        (
            self.instances.load(Ordering::Relaxed),
            self.checks_per_minute.load(Ordering::Relaxed),
        )
    }
}

/// The most checks one claim statement takes, out of `claim_batch`, for an instance among
/// `instances` that ran `checks_per_minute` together and poll every `poll`.
pub fn batch(claim_batch: u32, instances: usize, checks_per_minute: u64, poll: Duration) -> u32 {
    if instances <= 1 {
        return claim_batch;
    }
    if checks_per_minute == 0 {
        // No rate yet (a young cluster, or instances that ran nothing: a restart after the
        // due times had passed). Sized to the rate, the claims shrank to MIN_SHARE, and at
        // 1,000,000 monitors the due checks outran those claims forever: the instance count
        // alone still shares the batch evenly.
        return claim_batch
            .div_ceil(instances_u32(instances))
            .max(MIN_SHARE)
            .min(claim_batch.max(1));
    }
    let per_poll = checks_per_minute as f64 / 60.0 * poll.as_secs_f64();
    let share = (per_poll / instances as f64 * SLACK).ceil();
    // Saturating: the cast of a huge float is u32::MAX, then capped by the batch.
    (share as u32)
        .saturating_add(MIN_SHARE)
        .min(claim_batch.max(1))
}

/// The instance count as a divisor; more than `u32::MAX` instances share as that many.
fn instances_u32(instances: usize) -> u32 {
    u32::try_from(instances).unwrap_or(u32::MAX)
}

/// Whether a full claim is followed by another at once. A lone instance claims everything
/// due within the horizon; among several, one claims on only while what it took is due
/// before its next poll, since the others may not poll before that comes due either.
pub fn claim_more(
    instances: usize,
    last_due: DateTime<Utc>,
    now: DateTime<Utc>,
    poll: Duration,
) -> bool {
    instances <= 1 || last_due < now + crate::time::delta(poll)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLL: Duration = Duration::from_millis(500);

    #[test]
    fn a_lone_instance_claims_the_whole_batch() {
        assert_eq!(batch(1000, 1, 30_000, POLL), 1000);
        let now = Utc::now();
        assert!(claim_more(1, now + chrono::Duration::seconds(1), now, POLL));
    }

    #[test]
    fn several_instances_claim_their_share_of_a_poll_with_slack() {
        // 500 checks/s over 3 instances: 250 per poll, 83.3 each, 104.2 with slack, + 2.
        assert_eq!(batch(1000, 3, 30_000, POLL), 107);
        // No rate yet (a young cluster, or one restarted after its due times passed): an
        // even share of the batch, not the minimum, so the claims can keep up.
        assert_eq!(batch(1000, 3, 0, POLL), 334);
        assert_eq!(batch(1000, 2, 0, POLL), 500);
        assert_eq!(
            batch(3, 8, 0, POLL),
            MIN_SHARE,
            "never less than the minimum"
        );
        assert_eq!(batch(1, 8, 0, POLL), 1, "nor past the batch");
        // A low rate is shared by the rate, with the minimum on top.
        assert_eq!(batch(1000, 3, 60, POLL), 3);
        assert_eq!(batch(100, 2, 6_000_000, POLL), 100);
    }

    #[test]
    fn among_several_a_full_claim_goes_on_only_for_checks_due_before_the_next_poll() {
        let now = Utc::now();
        let soon = now + chrono::Duration::milliseconds(200);
        let later = now + chrono::Duration::milliseconds(800);
        assert!(claim_more(3, soon, now, POLL));
        assert!(!claim_more(3, later, now, POLL));
    }

    #[test]
    fn the_heartbeats_give_the_instances_and_their_rate() {
        let peers = Peers::default();
        assert_eq!(peers.view(), (1, 0));
        let beat = |checks| Heartbeat {
            instance: format!("i{checks}"),
            address: String::new(),
            started_at: Utc::now(),
            seen_at: Utc::now(),
            checks_last_minute: checks,
        };
        peers.observe(&[beat(100), beat(300)]);
        assert_eq!(peers.view(), (2, 400));
        peers.observe(&[]);
        assert_eq!(peers.view(), (1, 0), "never fewer than this instance");
    }
}
