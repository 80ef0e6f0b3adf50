//! Reminders: while an incident stays open, its monitor's channels hear about it again every
//! `reminder_interval_seconds`. Every instance runs this job; the store queues each reminder
//! exactly once however many run at once (a conditional update of the incident's
//! `notified_at` in the transaction that queues the event), so no lease is needed. Each pass
//! also counts the outbox backlog for the metrics.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::alerting::EventKind;
use crate::store::{Reminder, Store, StoreError};
use crate::telemetry::Metrics;

/// How often due reminders are looked for: the shortest reminder interval is 300 s, so a
/// reminder comes at most this late.
pub const PERIOD: Duration = Duration::from_secs(15);
/// Reminders queued per transaction; a pass goes on until none is due.
pub const BATCH: u32 = 500;

/// One pass: queues every reminder due now; returns them.
pub async fn run_once(store: &dyn Store, metrics: &Metrics) -> Result<Vec<Reminder>, StoreError> {
    let mut queued = Vec::new();
    loop {
        let batch = store.queue_reminders(Utc::now(), BATCH).await?;
        let done = batch.len() < BATCH as usize;
        for reminder in &batch {
            tracing::info!(
                monitor = reminder.monitor.0,
                incident = reminder.incident.0,
                notifications = reminder.notifications,
                "incident still open: reminder queued"
            );
            metrics.alerts.event_created(EventKind::Reminder);
        }
        queued.extend(batch);
        if done {
            break;
        }
    }
    metrics
        .alerts
        .set_outbox_backlog(store.outbox_backlog().await?);
    Ok(queued)
}

/// Runs a pass every `period` until `shutdown` completes.
pub async fn run(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    period: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = ticks.tick() => {}
        }
        if let Err(error) = run_once(store.as_ref(), &metrics).await {
            tracing::warn!(%error, "reminder pass failed; retrying at the next");
        }
    }
}
