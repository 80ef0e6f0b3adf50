//! Applying a document's channels: in the same transaction as its monitors, all or nothing,
//! and a monitor may name a channel made by the same application.

use std::collections::BTreeMap;

use serde_json::json;
use tocsin::alerting::channels::{ChannelConfig, ChannelKind};
use tocsin::monitor::{MonitorDraft, MonitorSpec, Rules};
use tocsin::store::{Changes, StoreError};

use crate::suite::{S, user};

fn webhook(url: &str) -> ChannelConfig {
    ChannelConfig::stored(ChannelKind::Webhook, json!({ "url": url, "secret": "s" }))
        .expect("valid webhook")
}

fn named(name: &str, channels: &[i64]) -> MonitorSpec {
    MonitorSpec::parse(
        MonitorDraft {
            name: Some(name.to_owned()),
            url: format!("https://{name}.example/"),
            channel_ids: Some(channels.to_vec()),
            ..MonitorDraft::default()
        },
        &Rules::STORED,
    )
    .expect("valid spec")
}

pub async fn applying_channels_goes_with_the_monitors_all_or_nothing(store: S) {
    let owner = user(&store, "apply@channels.test").await;
    let old = store
        .create_channel(owner, "old", &webhook("https://old.example/"))
        .await
        .expect("old");
    let kept = store
        .create_channel(owner, "kept", &webhook("https://kept.example/"))
        .await
        .expect("kept");
    let watched = store
        .create_monitor(owner, &named("m", &[old.id.0]), 10)
        .await
        .expect("monitor");
    let state = |store: S| async move {
        let channels: Vec<(String, serde_json::Value)> = store
            .list_channels(owner)
            .await
            .expect("channels")
            .into_iter()
            .map(|c| (c.name, c.config.to_stored()))
            .collect();
        let monitors: Vec<(String, Vec<i64>)> = store
            .list_monitors(owner)
            .await
            .expect("monitors")
            .into_iter()
            .map(|m| {
                let ids = m.spec.alerts().channels().iter().map(|c| c.0).collect();
                (m.spec.name().to_owned(), ids)
            })
            .collect();
        (channels, monitors)
    };
    let before = state(store.clone()).await;

    let links = BTreeMap::from([("m".to_owned(), vec![0]), ("n".to_owned(), vec![0])]);
    let mut changes = Changes {
        delete_channels: vec![old.id],
        update_channels: vec![(kept.id, webhook("https://kept2.example/"))],
        create_channels: vec![
            ("new".to_owned(), webhook("https://new.example/")),
            ("kept".to_owned(), webhook("https://taken.example/")),
        ],
        links,
        update: vec![(watched.id, named("m", &[]), false)],
        create: vec![(named("n", &[]), false)],
        ..Changes::default()
    };
    // A channel name taken: nothing at all happens, channels or monitors.
    let refused = store.apply_changes(owner, &changes, 10).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict("channel name"))),
        "{refused:?}"
    );
    assert_eq!(state(store.clone()).await, before);

    // A monitor past the limit: the channels stay as they were too.
    changes.create_channels.pop();
    let refused = store.apply_changes(owner, &changes, 1).await;
    assert!(
        matches!(refused, Err(StoreError::LimitReached { limit: 1 })),
        "{refused:?}"
    );
    assert_eq!(state(store.clone()).await, before);

    // All of it: the new channel's id reaches the monitors that name it, the deleted one
    // leaves them.
    let applied = store
        .apply_changes(owner, &changes, 10)
        .await
        .expect("applied");
    assert_eq!(applied.created.len(), 1);
    let (channels, monitors) = state(store.clone()).await;
    let names: Vec<&str> = channels.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["kept", "new"]);
    assert_eq!(channels[0].1["url"], "https://kept2.example/");
    let new = store.list_channels(owner).await.expect("channels")[1].id.0;
    assert_eq!(
        monitors,
        vec![("m".to_owned(), vec![new]), ("n".to_owned(), vec![new])]
    );
}
