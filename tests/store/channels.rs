//! Channels and the outbox: a channel belongs to one account and leaves its monitors when
//! deleted; a notification queued by a transition is claimed by one claimer at a time,
//! retried when told, and settled once.

use std::collections::BTreeSet;

use chrono::Duration;
use serde_json::json;
use tocsin::alerting::channels::{ChannelConfig, ChannelKind};
use tocsin::alerting::{ChannelId, EventKind};
use tocsin::check::FailureKind;
use tocsin::monitor::{Monitor, MonitorDraft, MonitorSpec, Rules};
use tocsin::store::{Outcome, StoreError};

use crate::results::{at, failed, records};
use crate::suite::{S, user};

fn webhook(url: &str) -> ChannelConfig {
    ChannelConfig::stored(
        ChannelKind::Webhook,
        json!({"url": url, "secret": "s3cret"}),
    )
    .expect("config")
}

async fn monitor_with(
    store: &S,
    owner: tocsin::auth::UserId,
    tag: &str,
    channels: &[ChannelId],
) -> Monitor {
    let spec = MonitorSpec::parse(
        MonitorDraft {
            url: format!("https://{tag}.example"),
            failure_threshold: Some(1),
            channel_ids: Some(channels.iter().map(|c| c.0).collect()),
            ..MonitorDraft::default()
        },
        &Rules::STORED,
    )
    .expect("spec");
    store
        .create_monitor(owner, &spec, 100)
        .await
        .expect("monitor")
}

pub async fn channels_belong_to_their_account_and_leave_monitors_when_deleted(store: S) {
    let owner = user(&store, "ch@example.com").await;
    let other = user(&store, "other@example.com").await;
    let hook = store
        .create_channel(owner, "hook", &webhook("https://a.example/"))
        .await
        .expect("created");
    assert_eq!(hook.config, webhook("https://a.example/"));
    let second = store
        .create_channel(owner, "second", &webhook("https://b.example/"))
        .await
        .expect("created");
    assert!(matches!(
        store
            .create_channel(owner, "hook", &webhook("https://c.example/"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .create_channel(other, "hook", &webhook("https://c.example/"))
        .await
        .expect("names are per account");
    assert_eq!(store.list_channels(owner).await.expect("list").len(), 2);
    assert!(
        store
            .get_channel(other, hook.id)
            .await
            .expect("get")
            .is_none()
    );
    let renamed = store
        .update_channel(owner, hook.id, "renamed", &webhook("https://d.example/"))
        .await
        .expect("update")
        .expect("found");
    assert_eq!(renamed.name, "renamed");
    assert_eq!(renamed.created_at, hook.created_at);
    assert!(
        store
            .update_channel(other, hook.id, "x", &webhook("https://d.example/"))
            .await
            .expect("update")
            .is_none()
    );
    assert_eq!(
        store
            .foreign_channels(other, &[hook.id, ChannelId(9_999)])
            .await
            .expect("foreign"),
        vec![hook.id, ChannelId(9_999)]
    );
    assert_eq!(
        store
            .foreign_channels(owner, &[hook.id, second.id])
            .await
            .expect("own"),
        vec![]
    );

    let m = monitor_with(&store, owner, "m", &[hook.id, second.id]).await;
    assert!(!store.delete_channel(other, hook.id).await.expect("delete"));
    assert!(store.delete_channel(owner, hook.id).await.expect("delete"));
    let m = store
        .get_monitor(owner, m.id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(m.spec.alerts().channels(), &[second.id]);
}

pub async fn notifications_are_claimed_once_retried_and_settled(store: S) {
    let owner = user(&store, "ob@example.com").await;
    let hook = store
        .create_channel(owner, "hook", &webhook("https://a.example/"))
        .await
        .expect("created");
    let m = monitor_with(&store, owner, "ob", &[hook.id]).await;
    store
        .insert_results(&records(
            m.id,
            &[failed(at(0), FailureKind::Timeout, None, 1000)],
        ))
        .await
        .expect("written");
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 1);
    let now = chrono::Utc::now();
    let lease = now + Duration::seconds(30);
    let claimed = store
        .claim_notifications(now, lease, 10, &[])
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    let first = &claimed[0];
    assert_eq!(first.attempts, 0);
    assert_eq!(first.channel.id, hook.id);
    assert_eq!(first.notice.event, EventKind::Down);
    assert_eq!(first.notice.monitor.as_ref().expect("monitor").id, m.id.0);
    assert!(first.notice.cause.is_some());
    // Held by its claimer: nobody else gets it, nor does a claim skipping its channel.
    assert!(
        store
            .claim_notifications(now, lease, 10, &[])
            .await
            .expect("claim")
            .is_empty()
    );
    let later = now + Duration::seconds(60);
    assert!(
        store
            .claim_notifications(later, later + Duration::seconds(30), 10, &[hook.id])
            .await
            .expect("claim")
            .is_empty()
    );
    // A retry is due at its time, not before, with the same event.
    let next = now + Duration::seconds(5);
    store
        .settle_notifications(&[(
            first.id,
            Outcome::Retry {
                error: "boom".into(),
                next,
            },
        )])
        .await
        .expect("settle");
    assert!(
        store
            .claim_notifications(now, lease, 10, &[])
            .await
            .expect("claim")
            .is_empty()
    );
    let again = store
        .claim_notifications(next, next + Duration::seconds(30), 10, &[])
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].notice.event_id, first.notice.event_id);
    store
        .settle_notifications(&[(again[0].id, Outcome::Delivered { at: next })])
        .await
        .expect("settle");
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 0);
    // A notification given up is `failed`: no longer pending, never claimed again.
    let m2 = monitor_with(&store, owner, "ob2", &[hook.id]).await;
    store
        .insert_results(&records(
            m2.id,
            &[failed(at(0), FailureKind::Timeout, None, 1000)],
        ))
        .await
        .expect("written");
    let given_up = store
        .claim_notifications(next, next + Duration::seconds(30), 10, &[])
        .await
        .expect("claim");
    assert_eq!(given_up.len(), 1);
    store
        .settle_notifications(&[(
            given_up[0].id,
            Outcome::Failed {
                error: "gone".into(),
            },
        )])
        .await
        .expect("settle");
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 0);
    let much_later = now + Duration::hours(1);
    assert!(
        store
            .claim_notifications(much_later, much_later, 10, &[])
            .await
            .expect("claim")
            .is_empty()
    );
}

pub async fn concurrent_claimers_never_share_a_notification(store: S) {
    let owner = user(&store, "cc@example.com").await;
    let hook = store
        .create_channel(owner, "hook", &webhook("https://a.example/"))
        .await
        .expect("created");
    for i in 0..20 {
        let m = monitor_with(&store, owner, &format!("cc{i}"), &[hook.id]).await;
        store
            .insert_results(&records(
                m.id,
                &[failed(at(0), FailureKind::Timeout, None, 1000)],
            ))
            .await
            .expect("written");
    }
    let now = chrono::Utc::now();
    let lease = now + Duration::seconds(30);
    let claims = (0..4).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.claim_notifications(now, lease, 7, &[]).await })
    });
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for claim in claims {
        let got = claim.await.expect("task").expect("claim");
        total += got.len();
        seen.extend(got.into_iter().map(|c| c.id));
    }
    assert_eq!(total, seen.len(), "no notification claimed twice");
    assert_eq!(seen.len(), 20, "every one claimed by someone");
}
