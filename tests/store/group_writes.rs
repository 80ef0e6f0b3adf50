//! Writes made at once: SQLite commits the ones queued together in one transaction, so a
//! write that fails must fail alone, and none may be answered before it is committed.

use tocsin::monitor::{MonitorDraft, MonitorSpec, Rules};
use tocsin::store::StoreError;

use crate::suite::{S, user};

fn named(name: &str) -> MonitorSpec {
    MonitorSpec::parse(
        MonitorDraft {
            name: Some(name.to_owned()),
            url: "https://group.example".to_owned(),
            ..MonitorDraft::default()
        },
        &Rules::STORED,
    )
    .expect("valid spec")
}

pub async fn a_write_that_fails_among_concurrent_ones_fails_alone(store: S) {
    let owner = user(&store, "group@example.com").await;
    store
        .create_monitor(owner, &named("taken"), 100)
        .await
        .expect("first");
    // Every other creation takes the taken name; each fails after its limit reservation,
    // which must go back with it.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let name = if i % 2 == 0 {
                    "taken".to_owned()
                } else {
                    format!("free {i}")
                };
                let created = store.create_monitor(owner, &named(&name), 100).await;
                // Answered only once committed: another connection reads it back.
                if let Ok(monitor) = &created {
                    let read = store.get_monitor(owner, monitor.id).await.expect("read");
                    assert_eq!(read.as_ref().map(|m| m.id), Some(monitor.id));
                }
                (i, created)
            })
        })
        .collect();
    for task in tasks {
        let (i, created) = task.await.expect("task");
        if i % 2 == 0 {
            assert!(
                matches!(created, Err(StoreError::Conflict("name"))),
                "{i}: {created:?}"
            );
        } else {
            assert!(created.is_ok(), "{i}: {created:?}");
        }
    }
    assert_eq!(store.list_monitors(owner).await.expect("list").len(), 11);
    // The failed ones' places under the limit were given back: exactly one more fits.
    store
        .create_monitor(owner, &named("twelfth"), 12)
        .await
        .expect("twelfth");
    let over = store.create_monitor(owner, &named("thirteenth"), 12).await;
    assert!(
        matches!(over, Err(StoreError::LimitReached { limit: 12 })),
        "{over:?}"
    );
}
