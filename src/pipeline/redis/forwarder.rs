//! The forwarder task: sends what `push` queued locally to the stream as soon as it is
//! queued (no linger), everything waiting in one pipelined round trip, and keeps it locally
//! until Redis confirmed it. While Redis is away it retries with backoff; after `close` it
//! sends what is left, giving up at the shutdown deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Shared, codec};

/// The most records in one round trip; more wait for the next, right after.
const MAX_SEND: usize = 2000;
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// Runs until the buffer is closed and its local queue is empty (or given up).
pub(super) async fn run(shared: Arc<Shared>) {
    let mut closed = shared.closed.subscribe();
    let mut delay = FIRST_RETRY;
    let mut failing = false;
    loop {
        let (records, closing) = {
            let mut local = shared.local();
            (local.start_send(MAX_SEND), shared.is_closed())
        };
        if records.is_empty() {
            if closing {
                break;
            }
            tokio::select! {
                () = shared.wake.notified() => {}
                _ = closed.wait_for(|closed| *closed) => {}
            }
            continue;
        }
        let entries: Vec<_> = records.iter().map(codec::encode).collect();
        match shared.link.add(&entries).await {
            Ok(replicas) => {
                shared
                    .in_stream
                    .fetch_add(entries.len(), std::sync::atomic::Ordering::Relaxed);
                replicated(&shared, replicas, entries.len());
                let unreported = {
                    let mut local = shared.local();
                    local.confirm();
                    local.take_unreported()
                };
                if failing {
                    tracing::info!("Redis answers again: forwarding buffered results");
                }
                shared.dropped(0, (unreported > 0).then_some(unreported));
                failing = false;
                delay = FIRST_RETRY;
            }
            Err(error) => {
                let (dropped, report, held) = {
                    let mut local = shared.local();
                    let dropped = local.fail();
                    let report = local.note_dropped(dropped);
                    (dropped, report, local.len())
                };
                shared.dropped(dropped, report);
                if !failing {
                    tracing::warn!(%error, held, "cannot add results to Redis; holding them locally and retrying");
                }
                failing = true;
                let pause = match shared.give_up_at() {
                    Some(at) if Instant::now() >= at => break,
                    Some(at) => delay.min(at.saturating_duration_since(Instant::now())),
                    None => delay,
                };
                tokio::time::sleep(pause).await;
                delay = (delay * 2).min(LAST_RETRY);
            }
        }
    }
    let (left, unreported) = {
        let mut local = shared.local();
        (local.abandon(), local.take_unreported())
    };
    shared.dropped(0, (unreported > 0).then_some(unreported));
    if left > 0 {
        tracing::error!(
            lost = left,
            "stopping with Redis unreachable: results held locally are lost (those already in Redis are kept)"
        );
    }
    shared.forwarded.send_replace(true);
}

/// Behind Sentinel: counts a send no replica acknowledged in time, and says so when that
/// starts and when it stops (a failover now would lose such results).
fn replicated(shared: &Shared, replicas: Option<usize>, sent: usize) {
    use std::sync::atomic::Ordering;
    let Some(replicas) = replicas else { return };
    let missing = replicas == 0;
    if missing {
        shared.metrics.redis.unreplicated(sent);
    }
    if shared.unreplicated.swap(missing, Ordering::Relaxed) != missing {
        if missing {
            tracing::warn!(
                "no Redis replica acknowledged the latest results in time: a failover now would lose them"
            );
        } else {
            tracing::info!("a Redis replica acknowledges results again");
        }
    }
}
