//! Heartbeats: every few seconds each instance writes who it is and how many checks it
//! finished in the last minute, so `GET /api/v1/cluster` can list the live instances from
//! the database whichever instance answers.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::scheduler::Peers;
use crate::store::{Heartbeat, Store};
use crate::telemetry::Metrics;

/// How often an instance reports.
pub const PERIOD: Duration = Duration::from_secs(5);
/// An instance not heard from for this long is not listed as live: three missed beats.
pub const LIVE_FOR: Duration = Duration::from_secs(15);
/// An instance silent this long is forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

/// Who this process is among the instances sharing a database.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Unique per process: host name, process id and a random part.
    pub id: String,
    /// Where its API listens.
    pub address: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
}

impl Instance {
    /// This process, listening on `address`.
    pub fn new(address: String) -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_owned());
        Self {
            id: format!(
                "{host}-{}-{:04x}",
                std::process::id(),
                rand::random::<u16>()
            ),
            address,
            started_at: Utc::now(),
        }
    }
}

/// Counts of finished checks over the last minute, sampled at each beat.
#[derive(Default)]
struct Window {
    samples: VecDeque<(Instant, u64)>,
}

impl Window {
    /// Adds the running total at `now` and returns how much it grew over the last minute
    /// (or since the start, when the process is younger than that).
    fn observe(&mut self, now: Instant, total: u64) -> u64 {
        self.samples.push_back((now, total));
        // Keep the newest sample at least a minute old as the baseline.
        while self
            .samples
            .get(1)
            .is_some_and(|&(at, _)| now.duration_since(at) >= MINUTE)
        {
            self.samples.pop_front();
        }
        let baseline = self.samples.front().map_or(total, |&(_, n)| n);
        total.saturating_sub(baseline)
    }
}

/// Writes a heartbeat every [`PERIOD`] until `shutdown` completes, and after each one tells
/// `peers` which instances are live, so the scheduler sizes its claims to its share. At the
/// stop it removes this instance's heartbeat, so the others stop counting it at once.
pub async fn run(
    instance: Arc<Instance>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    peers: Arc<Peers>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut window = Window::default();
    let mut ticks = tokio::time::interval(PERIOD);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            _ = ticks.tick() => {}
        }
        let now = Utc::now();
        let beat = Heartbeat {
            instance: instance.id.clone(),
            address: instance.address.clone(),
            started_at: instance.started_at,
            seen_at: now,
            checks_last_minute: window.observe(Instant::now(), metrics.checks_finished()),
        };
        let forget = now - crate::time::delta(FORGET_AFTER);
        if let Err(error) = store.heartbeat(&beat, forget).await {
            tracing::warn!(%error, "cannot write this instance's heartbeat");
        }
        match store.instances(now - crate::time::delta(LIVE_FOR)).await {
            Ok(live) => peers.observe(&live),
            Err(error) => tracing::warn!(%error, "cannot read the live instances"),
        }
    }
    // Stopping: this instance claims nothing more. Its heartbeat left in place would count
    // it live for LIVE_FOR, and the others would claim only their share of a cluster that
    // no longer has it (a restart would share with its own ghost).
    if let Err(error) = store.forget_instance(&instance.id).await {
        tracing::warn!(%error, "cannot remove this instance's heartbeat");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_counts_the_last_minute() {
        let start = Instant::now();
        let at = |s| start + Duration::from_secs(s);
        let mut w = Window::default();
        assert_eq!(w.observe(at(0), 100), 0);
        assert_eq!(
            w.observe(at(30), 130),
            30,
            "younger than a minute: since start"
        );
        assert_eq!(w.observe(at(60), 160), 60);
        assert_eq!(w.observe(at(90), 250), 120, "since the sample at 30");
        assert_eq!(w.observe(at(300), 250), 0, "idle for minutes");
    }

    #[test]
    fn instance_ids_differ_per_process_start() {
        let a = Instance::new("127.0.0.1:1".into());
        let b = Instance::new("127.0.0.1:1".into());
        assert!(a.id.contains(&std::process::id().to_string()));
        assert_ne!(a.id, b.id);
    }
}
