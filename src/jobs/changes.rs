//! Changes made on other instances, applied to the checks this one already claimed. The API
//! tells its own scheduler about an edit, pause or delete directly; a check of the same
//! monitor claimed by another instance (up to the claim horizon ahead) would otherwise still
//! run once with the old settings. The store reports every committed change (PostgreSQL
//! through LISTEN/NOTIFY; SQLite has no other instance and reports none), and this job reads
//! the monitor afresh and passes it on. Changes made on this instance come back too: applying
//! them twice is harmless.

use std::future::Future;
use std::sync::Arc;

use crate::scheduler::SchedulerHandle;
use crate::store::{MonitorChange, Store};

/// Follows the store's monitor changes until `shutdown` completes (at once if it has none).
pub async fn run(
    store: Arc<dyn Store>,
    scheduler: SchedulerHandle,
    shutdown: impl Future<Output = ()>,
) {
    let Some(mut changes) = store.monitor_changes() else {
        return;
    };
    tokio::pin!(shutdown);
    loop {
        let change = tokio::select! {
            () = &mut shutdown => return,
            change = changes.recv() => match change {
                Some(change) => change,
                None => return,
            },
        };
        apply(store.as_ref(), &scheduler, change).await;
    }
}

/// Reads the monitor as it is now rather than trusting the notification's order: several
/// quick changes then all end in the last state.
async fn apply(store: &dyn Store, scheduler: &SchedulerHandle, change: MonitorChange) {
    match store.get_monitor(change.owner, change.id).await {
        // A paused monitor's claimed checks are dropped; an edited one's use the new spec.
        Ok(Some(monitor)) => scheduler.changed(monitor),
        Ok(None) => scheduler.removed(change.id),
        Err(error) => tracing::warn!(
            %error,
            monitor = change.id.0,
            "cannot read a monitor changed on another instance; its claimed checks keep the old settings"
        ),
    }
}
