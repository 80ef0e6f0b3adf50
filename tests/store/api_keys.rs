//! API keys and unique monitor names, on both stores.

use chrono::{Duration, Utc};
use tocsin::auth::api_key::Scope;
use tocsin::monitor::{MonitorDraft, MonitorSpec, Rules};
use tocsin::store::{NewApiKey, StoreError};

use crate::suite::{S, user};

fn key<'a>(name: &'a str, hash: &'a str, scope: Scope) -> NewApiKey<'a> {
    NewApiKey {
        name,
        scope,
        hash,
        expires_at: None,
    }
}

pub async fn api_keys_are_found_by_hash_listed_per_owner_and_revoked(store: S) {
    let alice = user(&store, "alice@keys.test").await;
    let bob = user(&store, "bob@keys.test").await;
    let expires = Utc::now() + Duration::days(3);
    let made = store
        .create_api_key(
            alice,
            &NewApiKey {
                expires_at: Some(expires),
                ..key("ci", "aa11", Scope::Read)
            },
            10,
        )
        .await
        .expect("made");
    assert_eq!(
        (made.name.as_str(), made.scope, made.owner),
        ("ci", Scope::Read, alice)
    );
    assert_eq!(
        made.expires_at.map(|at| at.timestamp_millis()),
        Some(expires.timestamp_millis())
    );
    assert_eq!(made.last_used_at, None);
    store
        .create_api_key(bob, &key("deploy", "bb22", Scope::Write), 10)
        .await
        .expect("made");

    let (found, account) = store
        .api_key_by_hash("aa11")
        .await
        .expect("query")
        .expect("found");
    assert_eq!(found, made);
    assert_eq!(account.user.id, alice);
    assert!(
        store
            .api_key_by_hash("cc33")
            .await
            .expect("query")
            .is_none()
    );

    let listed = store.list_api_keys(alice).await.expect("list");
    assert_eq!(listed, vec![made.clone()]);

    let used = Utc::now();
    store.touch_api_key(made.id, used).await.expect("touched");
    let (found, _) = store.api_key_by_hash("aa11").await.expect("q").expect("f");
    assert_eq!(
        found.last_used_at.map(|at| at.timestamp_millis()),
        Some(used.timestamp_millis())
    );

    assert!(
        !store.delete_api_key(bob, made.id).await.expect("query"),
        "not bob's"
    );
    assert!(store.delete_api_key(alice, made.id).await.expect("deleted"));
    assert!(
        store
            .api_key_by_hash("aa11")
            .await
            .expect("query")
            .is_none()
    );
    assert!(store.list_api_keys(alice).await.expect("list").is_empty());
    assert_eq!(store.list_api_keys(bob).await.expect("list").len(), 1);

    // A hash is unique, and the per-account limit holds.
    for i in 0..2 {
        store
            .create_api_key(alice, &key("k", &format!("dd{i}"), Scope::Write), 2)
            .await
            .expect("under the limit");
    }
    let full = store
        .create_api_key(alice, &key("k", "ee", Scope::Write), 2)
        .await;
    assert!(
        matches!(full, Err(StoreError::LimitReached { limit: 2 })),
        "{full:?}"
    );

    // Keys go with their account.
    store.delete_user(bob).await.expect("deleted");
    assert!(
        store
            .api_key_by_hash("bb22")
            .await
            .expect("query")
            .is_none()
    );
}

fn named(name: &str, url: &str) -> MonitorSpec {
    MonitorSpec::parse(
        MonitorDraft {
            name: Some(name.to_owned()),
            url: url.to_owned(),
            ..MonitorDraft::default()
        },
        &Rules::STORED,
    )
    .expect("valid spec")
}

pub async fn monitor_names_are_unique_per_account(store: S) {
    let alice = user(&store, "alice@names.test").await;
    let bob = user(&store, "bob@names.test").await;
    let first = store
        .create_monitor(alice, &named("api", "https://a.example/"), 10)
        .await
        .expect("made");
    let again = store
        .create_monitor(alice, &named("api", "https://b.example/"), 10)
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict("name"))),
        "{again:?}"
    );
    // Another account may use the name.
    store
        .create_monitor(bob, &named("api", "https://a.example/"), 10)
        .await
        .expect("bob's own");
    // A refused creation took no place under the limit.
    let other = store
        .create_monitor(alice, &named("web", "https://c.example/"), 2)
        .await
        .expect("second of two");
    let renamed = store
        .update_monitor(alice, other.id, &named("api", "https://c.example/"))
        .await;
    assert!(
        matches!(renamed, Err(StoreError::Conflict("name"))),
        "{renamed:?}"
    );
    // Keeping its own name is no conflict.
    store
        .update_monitor(alice, first.id, &named("api", "https://d.example/"))
        .await
        .expect("updated")
        .expect("found");
}

pub async fn applying_changes_is_all_or_nothing(store: S) {
    use tocsin::store::Changes;
    let owner = user(&store, "apply@names.test").await;
    let old = store
        .create_monitor(owner, &named("old", "https://old.example/"), 10)
        .await
        .expect("made");
    let kept = store
        .create_monitor(owner, &named("kept", "https://kept.example/"), 10)
        .await
        .expect("made");

    // The second creation takes a name the first took: nothing at all happens.
    let clash = Changes {
        delete: vec![old.id],
        update: vec![(kept.id, named("kept", "https://kept2.example/"), true)],
        create: vec![
            (named("new", "https://new.example/"), false),
            (named("new", "https://other.example/"), false),
        ],
        ..Changes::default()
    };
    let refused = store.apply_changes(owner, &clash, 10).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict("name"))),
        "{refused:?}"
    );
    let names = |monitors: Vec<tocsin::monitor::Monitor>| {
        monitors
            .into_iter()
            .map(|m| {
                (
                    m.spec.name().to_owned(),
                    m.spec.target().as_str().to_owned(),
                    m.paused,
                )
            })
            .collect::<Vec<_>>()
    };
    let before = vec![
        ("old".to_owned(), "https://old.example/".to_owned(), false),
        ("kept".to_owned(), "https://kept.example/".to_owned(), false),
    ];
    assert_eq!(
        names(store.list_monitors(owner).await.expect("list")),
        before
    );

    // Past the limit: nothing either.
    let full = Changes {
        create: vec![(named("new", "https://new.example/"), false)],
        ..Changes::default()
    };
    let refused = store.apply_changes(owner, &full, 2).await;
    assert!(
        matches!(refused, Err(StoreError::LimitReached { limit: 2 })),
        "{refused:?}"
    );
    assert_eq!(
        names(store.list_monitors(owner).await.expect("list")),
        before
    );

    // A monitor gone meanwhile: nothing either.
    let gone = Changes {
        delete: vec![old.id, tocsin::monitor::MonitorId(old.id.0 + 1000)],
        ..Changes::default()
    };
    let refused = store.apply_changes(owner, &gone, 10).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict("monitor"))),
        "{refused:?}"
    );
    assert_eq!(
        names(store.list_monitors(owner).await.expect("list")),
        before
    );

    // A page listing both, to see the deleted one leave it with the rest.
    let page = tocsin::public::StatusPageSpec::parse(tocsin::public::StatusPageDraft {
        slug: "apply-page".into(),
        title: "Apply".into(),
        description: None,
        monitor_ids: Some(vec![old.id.0, kept.id.0]),
    })
    .expect("valid page");
    store.create_status_page(owner, &page).await.expect("page");

    // All of it: the deleted monitor's name is free for a new one, and the limit counts
    // the deletion first.
    let good = Changes {
        delete: vec![old.id],
        update: vec![(kept.id, named("kept", "https://kept2.example/"), true)],
        create: vec![(named("old", "https://new.example/"), true)],
        ..Changes::default()
    };
    let applied = store.apply_changes(owner, &good, 2).await.expect("applied");
    assert_eq!(applied.deleted, vec![old.id]);
    assert_eq!(applied.updated.len(), 1);
    assert!(applied.updated[0].paused);
    assert_eq!(applied.created.len(), 1);
    assert!(applied.created[0].paused);
    assert_eq!(
        names(store.list_monitors(owner).await.expect("list")),
        vec![
            ("kept".to_owned(), "https://kept2.example/".to_owned(), true),
            ("old".to_owned(), "https://new.example/".to_owned(), true),
        ]
    );
    let pages = store.list_status_pages(owner).await.expect("pages");
    assert_eq!(
        pages[0].spec.monitor_ids,
        vec![kept.id],
        "the deleted monitor left its page"
    );
}
