//! Changes made on other instances, relayed onto this instance's event stream. Use cases
//! announce the changes they make here themselves; a change made through another instance
//! sharing the database (PostgreSQL: LISTEN/NOTIFY; SQLite has no other instance) would
//! otherwise never reach the checks this one already claimed (up to the claim horizon
//! ahead), nor its live pages. The store reports only other processes' changes, so nothing
//! arrives twice; the monitor is read afresh, so several quick changes all end in the last
//! state.

use std::future::Future;
use std::sync::Arc;

use crate::service::{Event, EventBus};
use crate::store::{MonitorChange, Store};

/// Relays the store's reports of other instances' changes until `shutdown` completes (at
/// once if the store has no other instances).
pub async fn run(store: Arc<dyn Store>, events: EventBus, shutdown: impl Future<Output = ()>) {
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
        relay(store.as_ref(), &events, change).await;
    }
}

async fn relay(store: &dyn Store, events: &EventBus, change: MonitorChange) {
    match store.get_monitor(change.owner, change.id).await {
        Ok(Some(monitor)) => events.publish(Event::MonitorChanged(Arc::new(monitor))),
        Ok(None) => events.publish(Event::MonitorRemoved {
            owner: change.owner,
            id: change.id,
        }),
        Err(error) => tracing::warn!(
            %error,
            monitor = change.id.0,
            "cannot read a monitor changed on another instance; its claimed checks keep the old settings"
        ),
    }
}
