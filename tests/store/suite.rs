//! The behaviour every [`Store`] must have. Each function gets a fresh, migrated store.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use tocsin::auth::{Email, UserId};
use tocsin::monitor::{MonitorDraft, MonitorId, MonitorSpec, Rules};
use tocsin::store::{Store, StoreError};

/// The store under test, as every suite function takes it.
pub type S = Arc<dyn Store>;

const RULES: Rules = Rules {
    min_interval_secs: 10,
    allow_private_targets: false,
    private_networks: tocsin::monitor::Networks::NONE,
};
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// A valid spec checking `url` with the default interval (60 s).
pub fn spec(url: &str) -> MonitorSpec {
    MonitorSpec::parse(
        MonitorDraft {
            url: url.to_owned(),
            ..MonitorDraft::default()
        },
        &RULES,
    )
    .expect("valid spec")
}

/// A valid spec checking `url` every `seconds` (down to 1 s, below the API's minimum).
pub fn spec_every(url: &str, seconds: u32) -> MonitorSpec {
    MonitorSpec::parse(
        MonitorDraft {
            url: url.to_owned(),
            interval_seconds: Some(seconds),
            ..MonitorDraft::default()
        },
        &Rules::STORED,
    )
    .expect("valid spec")
}

fn email(raw: &str) -> Email {
    Email::parse(raw).expect("valid email")
}

/// Registers `raw` and returns the new account's id.
pub async fn user(store: &S, raw: &str) -> UserId {
    store
        .create_user(&email(raw), HASH)
        .await
        .expect("user created")
        .id
}

pub async fn migrate_is_idempotent(store: S) {
    store.migrate().await.expect("second migration is a no-op");
    let owner = user(&store, "a@example.com").await;
    store.migrate().await.expect("third");
    assert_eq!(store.list_monitors(owner).await.expect("list"), vec![]);
}

pub async fn ping_answers(store: S) {
    store.ping().await.expect("ping");
}

pub async fn a_setting_keeps_its_first_value(store: S) {
    assert_eq!(
        store.setting_or_insert("k", "first").await.expect("insert"),
        "first"
    );
    assert_eq!(
        store.setting_or_insert("k", "second").await.expect("read"),
        "first"
    );
    assert_eq!(
        store.setting_or_insert("other", "x").await.expect("insert"),
        "x"
    );
}

pub async fn concurrent_setting_writers_agree(store: S) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.setting_or_insert("jwt", &format!("value-{i}")).await })
        })
        .collect();
    let mut values = Vec::new();
    for task in tasks {
        values.push(task.await.expect("task").expect("setting"));
    }
    values.dedup();
    assert_eq!(
        values.len(),
        1,
        "every caller sees the one winner: {values:?}"
    );
}

pub async fn users_are_created_once_per_email(store: S) {
    let before = Utc::now() - chrono::Duration::seconds(1);
    let created = store
        .create_user(&email(" Ada@Example.com"), HASH)
        .await
        .expect("created");
    assert_eq!(created.email.as_str(), "ada@example.com");
    assert!(created.created_at >= before && created.created_at <= Utc::now());
    let again = store.create_user(&email("ADA@example.COM"), HASH).await;
    assert!(
        matches!(again, Err(StoreError::Conflict("email"))),
        "{again:?}"
    );
}

pub async fn credentials_are_found_by_email(store: S) {
    let id = user(&store, "b@example.com").await;
    let found = store
        .user_credentials(&email("b@example.com"))
        .await
        .expect("query")
        .expect("found");
    assert_eq!(found.user.id, id);
    assert_eq!(found.password_hash, HASH);
    assert!(
        store
            .user_credentials(&email("nobody@example.com"))
            .await
            .expect("query")
            .is_none()
    );
}

pub async fn monitors_round_trip_every_field(store: S) {
    let owner = user(&store, "c@example.com").await;
    let draft = MonitorDraft {
        name: Some("api".into()),
        url: "https://api.example.com/v1/ping?x=1".into(),
        method: Some("PUT".into()),
        interval_seconds: Some(45),
        timeout_ms: Some(1500),
        expected_status: Some("200,204".into()),
        keyword: Some("pong".into()),
        follow_redirects: Some(false),
        headers: Some(BTreeMap::from([
            ("X-Key".into(), "secret".into()),
            ("Accept".into(), "*/*".into()),
        ])),
        body: Some("{\"a\":1}".into()),
        tls_ca_pem: Some(
            rcgen::generate_simple_self_signed(vec!["ca.example".into()])
                .expect("certificate")
                .cert
                .pem(),
        ),
        tls_skip_verify: Some(true),
        conditions: Some(vec![
            "[STATUS] == 200".into(),
            "[BODY].data[0].id == any(1, 2)".into(),
            "[CERTIFICATE_EXPIRATION] > 48h".into(),
        ]),
        failure_threshold: Some(5),
        success_threshold: Some(2),
        latency_threshold_ms: Some(750),
        // Channels must be the owner's when the service saves them; the store keeps ids.
        channel_ids: Some(vec![9, 4, 9]),
        reminder_interval_seconds: Some(3600),
        cert_expiry_days: Some(30),
    };
    let full = MonitorSpec::parse(draft, &RULES).expect("valid");
    assert_eq!(
        full.alerts()
            .channels()
            .iter()
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        [4, 9],
        "ids are kept once each, ascending"
    );
    let created = store
        .create_monitor(owner, &full, 10)
        .await
        .expect("created");
    assert_eq!(created.spec, full);
    assert_eq!(created.owner, owner);
    assert!(!created.paused);
    let fetched = store
        .get_monitor(owner, created.id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(
        fetched, created,
        "timestamps and every field survive the round trip"
    );
}

pub async fn monitors_are_listed_per_owner_oldest_first(store: S) {
    let a = user(&store, "d@example.com").await;
    let b = user(&store, "e@example.com").await;
    let first = store
        .create_monitor(a, &spec("https://one.example"), 10)
        .await
        .expect("1");
    store
        .create_monitor(b, &spec("https://other.example"), 10)
        .await
        .expect("b's");
    let second = store
        .create_monitor(a, &spec("https://two.example"), 10)
        .await
        .expect("2");
    let listed = store.list_monitors(a).await.expect("list");
    assert_eq!(
        listed.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![first.id, second.id]
    );
    assert_eq!(store.list_monitors(b).await.expect("list").len(), 1);
}

pub async fn updates_replace_the_spec_and_keep_created_at(store: S) {
    let owner = user(&store, "f@example.com").await;
    let created = store
        .create_monitor(owner, &spec("https://old.example"), 10)
        .await
        .expect("created");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let new_spec = spec("https://new.example/path");
    let updated = store
        .update_monitor(owner, created.id, &new_spec)
        .await
        .expect("update")
        .expect("found");
    assert_eq!(updated.spec, new_spec);
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at > created.updated_at);
    assert_eq!(
        store.get_monitor(owner, created.id).await.expect("get"),
        Some(updated)
    );
}

pub async fn pause_and_resume(store: S) {
    let owner = user(&store, "g@example.com").await;
    let m = store
        .create_monitor(owner, &spec("https://p.example"), 10)
        .await
        .expect("created");
    let paused = store
        .set_paused(owner, m.id, true)
        .await
        .expect("pause")
        .expect("found");
    assert!(paused.paused);
    assert!(
        store
            .get_monitor(owner, m.id)
            .await
            .expect("get")
            .expect("found")
            .paused
    );
    let resumed = store
        .set_paused(owner, m.id, false)
        .await
        .expect("resume")
        .expect("found");
    assert!(!resumed.paused);
}

pub async fn delete_removes_only_the_owners_monitor(store: S) {
    let owner = user(&store, "h@example.com").await;
    let keep = store
        .create_monitor(owner, &spec("https://keep.example"), 10)
        .await
        .expect("keep");
    let gone = store
        .create_monitor(owner, &spec("https://gone.example"), 10)
        .await
        .expect("gone");
    assert!(store.delete_monitor(owner, gone.id).await.expect("delete"));
    assert!(
        !store
            .delete_monitor(owner, gone.id)
            .await
            .expect("second delete")
    );
    assert_eq!(store.get_monitor(owner, gone.id).await.expect("get"), None);
    assert_eq!(store.list_monitors(owner).await.expect("list"), vec![keep]);
}

pub async fn owners_cannot_reach_each_others_monitors(store: S) {
    let alice = user(&store, "alice@example.com").await;
    let bob = user(&store, "bob@example.com").await;
    let m = store
        .create_monitor(alice, &spec("https://alice.example"), 10)
        .await
        .expect("created");
    assert_eq!(store.get_monitor(bob, m.id).await.expect("get"), None);
    assert_eq!(
        store
            .update_monitor(bob, m.id, &spec("https://bob.example"))
            .await
            .expect("update"),
        None
    );
    assert_eq!(
        store.set_paused(bob, m.id, true).await.expect("pause"),
        None
    );
    assert!(!store.delete_monitor(bob, m.id).await.expect("delete"));
    assert_eq!(
        store.get_monitor(alice, m.id).await.expect("get"),
        Some(m),
        "untouched"
    );
    assert_eq!(
        store
            .get_monitor(alice, MonitorId(i64::MAX))
            .await
            .expect("get"),
        None
    );
}

pub async fn monitor_ids_are_never_reused(store: S) {
    let owner = user(&store, "i@example.com").await;
    let first = store
        .create_monitor(owner, &spec("https://a.example"), 10)
        .await
        .expect("a");
    assert!(store.delete_monitor(owner, first.id).await.expect("delete"));
    let second = store
        .create_monitor(owner, &spec("https://b.example"), 10)
        .await
        .expect("b");
    assert!(second.id > first.id, "{:?} after {:?}", second.id, first.id);
}

pub async fn the_monitor_limit_holds(store: S) {
    let owner = user(&store, "j@example.com").await;
    for i in 0..3 {
        store
            .create_monitor(owner, &spec(&format!("https://{i}.example")), 3)
            .await
            .expect("under the limit");
    }
    let over = store
        .create_monitor(owner, &spec("https://4.example"), 3)
        .await;
    assert!(
        matches!(over, Err(StoreError::LimitReached { limit: 3 })),
        "{over:?}"
    );
    assert_eq!(store.list_monitors(owner).await.expect("list").len(), 3);
    let other = user(&store, "k@example.com").await;
    store
        .create_monitor(other, &spec("https://x.example"), 3)
        .await
        .expect("limits are per owner");
}

pub async fn the_monitor_limit_holds_under_concurrent_creation(store: S) {
    let owner = user(&store, "l@example.com").await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_monitor(owner, &spec(&format!("https://{i}.example")), 5)
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => created += 1,
            Err(StoreError::LimitReached { limit: 5 }) => {}
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(created, 5);
    assert_eq!(store.list_monitors(owner).await.expect("list").len(), 5);
}

pub async fn deleting_a_monitor_frees_its_place_under_the_limit(store: S) {
    let owner = user(&store, "m@example.com").await;
    let other = user(&store, "n@example.com").await;
    let create = |url: &'static str| {
        let store = store.clone();
        async move { store.create_monitor(owner, &spec(url), 2).await }
    };
    let first = create("https://1.example").await.expect("first");
    create("https://2.example").await.expect("second");
    assert!(matches!(
        create("https://3.example").await,
        Err(StoreError::LimitReached { limit: 2 })
    ));
    // Another owner's delete of this monitor deletes nothing and frees nothing.
    assert!(!store.delete_monitor(other, first.id).await.expect("delete"));
    assert!(create("https://3.example").await.is_err());
    assert!(store.delete_monitor(owner, first.id).await.expect("delete"));
    assert!(!store.delete_monitor(owner, first.id).await.expect("again"));
    create("https://3.example").await.expect("the freed place");
    assert!(matches!(
        create("https://4.example").await,
        Err(StoreError::LimitReached { limit: 2 })
    ));
}
