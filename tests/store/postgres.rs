//! The PostgreSQL store's own machinery: daily partitions made ahead and on demand and
//! dropped once rolled up, late results folded into rollups, multi-host URLs, a dead
//! database failing fast, a pool that reconnects by itself, and concurrent migrations.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tocsin::store::prelude::*;

use chrono::{DateTime, Days, Utc};
use tocsin::check::FailureKind;
use tocsin::store::{PostgresStore, StoreError};

use crate::proxy::Proxy;
use crate::results::{at, base, failed, ok, owned_monitor, records};
use crate::retention::{total, window};
use crate::services::{PgDatabase, fresh_postgres};
use crate::suite::S;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// A migrated store on a fresh database (the guard second, so the store closes first).
async fn fresh() -> Option<(S, PgDatabase)> {
    let db = fresh_postgres().await?;
    let store = PostgresStore::open(&db.url).await.expect("opens");
    store.migrate().await.expect("migrates");
    Some((Arc::new(store), db))
}

/// The partitions of `results` in the database, by name.
async fn partitions(db: &PgDatabase) -> BTreeSet<String> {
    let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .expect("connects");
    tokio::spawn(connection);
    client
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'results'::regclass",
            &[],
        )
        .await
        .expect("catalog")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

fn partition(day: DateTime<Utc>) -> String {
    format!("results_{}", day.format("%Y%m%d"))
}

#[tokio::test]
async fn partitions_are_made_ahead_and_dropped_once_rolled_up() {
    let Some((store, db)) = fresh().await else {
        return;
    };
    let now = Utc::now();
    let ahead: BTreeSet<String> = (0..=3).map(|n| partition(now + Days::new(n))).collect();
    assert!(
        partitions(&db).await.is_superset(&ahead),
        "migrate makes them"
    );
    let later = now + Days::new(10);
    store.upkeep(later).await.expect("upkeep");
    let made = partitions(&db).await;
    for n in 0..=3 {
        assert!(
            made.contains(&partition(later + Days::new(n))),
            "{n} days ahead"
        );
    }

    // Two old days, whose partitions are made on demand.
    let m = owned_monitor(&store, "p1").await;
    let batch = [
        ok(at(10), 200, 10),
        ok(at(HOUR), 200, 20),
        ok(at(DAY + 60), 200, 30),
    ];
    let inserted = store.insert_results(&records(m.id, &batch)).await;
    assert_eq!(inserted.expect("insert").inserted, 3);
    let (first, second) = (partition(base()), partition(at(DAY)));
    let made = partitions(&db).await;
    assert!(made.contains(&first) && made.contains(&second), "{made:?}");
    let before = total(&window(&store, &m, base()).await);

    // The first day is rolled up whole: its partition goes, the second day's stays.
    assert_eq!(
        store.roll_up_before(at(DAY + 30), 100).await.expect("roll"),
        2
    );
    store.upkeep(now).await.expect("upkeep");
    let left = partitions(&db).await;
    assert!(!left.contains(&first), "{left:?}");
    assert!(
        left.contains(&second) && left.is_superset(&ahead),
        "{left:?}"
    );
    let after = window(&store, &m, base()).await;
    assert_eq!((after.raw.len(), after.rollups.checks), (1, 2));
    assert_eq!(total(&after), before, "nothing lost with the partition");
    let listed = store.list_results(m.owner, m.id, None, 10).await;
    assert_eq!(listed.expect("list").expect("own"), vec![batch[2].clone()]);
}

#[tokio::test]
async fn a_batch_for_an_old_day_makes_its_partition() {
    let Some((store, db)) = fresh().await else {
        return;
    };
    let m = owned_monitor(&store, "p2").await;
    let old = base() - chrono::Duration::days(200);
    assert!(!partitions(&db).await.contains(&partition(old)));
    let batch = records(m.id, &[ok(old, 200, 10)]);
    assert_eq!(
        store.insert_results(&batch).await.expect("insert").inserted,
        1
    );
    assert!(partitions(&db).await.contains(&partition(old)));
    assert_eq!(
        store.insert_results(&batch).await.expect("again").inserted,
        0
    );
}

#[tokio::test]
async fn late_results_below_the_mark_land_in_the_rollups() {
    let Some((store, db)) = fresh().await else {
        return;
    };
    let m = owned_monitor(&store, "p3").await;
    let early = [ok(at(10), 200, 100), ok(at(20 * 60), 200, 50)];
    store
        .insert_results(&records(m.id, &early))
        .await
        .expect("insert");
    assert_eq!(
        store.roll_up_before(at(2 * HOUR), 10).await.expect("roll"),
        2
    );

    // Waited out an outage somewhere: checked before the mark, written after it moved.
    let late = records(
        m.id,
        &[
            ok(at(30 * 60), 200, 300),
            failed(at(HOUR + 5), FailureKind::Status, Some(500), 7),
        ],
    );
    assert_eq!(store.insert_results(&late).await.expect("late").inserted, 2);
    assert_eq!(
        store.insert_results(&late).await.expect("again").inserted,
        0,
        "once"
    );
    let data = window(&store, &m, base()).await;
    assert_eq!(data.raw, vec![], "rolled-up time has no raw rows");
    let ms = Duration::from_millis;
    let r = &data.rollups;
    assert_eq!((r.checks, r.failures, r.latency_count), (4, 1, 4));
    assert_eq!(
        (r.latency_min, r.latency_max, r.latency_sum),
        (ms(7), ms(300), ms(457))
    );
    let listed = store.list_results(m.owner, m.id, None, 10).await;
    assert_eq!(listed.expect("list").expect("own"), vec![]);

    // Once the day's partition is gone, a late result still counts.
    store.roll_up_before(at(2 * DAY), 10).await.expect("roll");
    store.upkeep(Utc::now()).await.expect("upkeep");
    assert!(!partitions(&db).await.contains(&partition(base())));
    let later = records(m.id, &[ok(at(HOUR + 10), 200, 1)]);
    assert_eq!(
        store.insert_results(&later).await.expect("later").inserted,
        1
    );
    assert_eq!(window(&store, &m, base()).await.rollups.checks, 5);
    assert_eq!(
        store
            .get_monitor(m.owner, m.id)
            .await
            .expect("get")
            .expect("own")
            .last_check
            .map(|c| c.at),
        Some(at(HOUR + 10)),
        "the last check is the newest result, late or not"
    );
}

/// `db`'s URL with an extra, dead host in front and `query` appended.
fn via_hosts(db: &PgDatabase, first: &str, query: &str) -> String {
    let url = url::Url::parse(&db.url).expect("a URL");
    let host = url.host_str().expect("a host");
    let port = url.port().unwrap_or(5432);
    format!(
        "postgres://{}@{first},{host}:{port}{}?{query}",
        url.username(),
        url.path()
    )
}

#[tokio::test]
async fn a_multi_host_url_opens_on_the_live_writable_host() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let url = via_hosts(&db, "127.0.0.1:1", "target_session_attrs=read-write");
    let store: S = Arc::new(PostgresStore::open(&url).await.expect("opens"));
    store.migrate().await.expect("migrates");
    owned_monitor(&store, "p4").await;
}

#[tokio::test]
async fn a_dead_database_is_unavailable_within_seconds() {
    for url in [
        "postgres://postgres@127.0.0.1:1/tocsin",
        "postgres://postgres@10.255.255.1:5432/tocsin?connect_timeout=1",
    ] {
        let started = Instant::now();
        let opened = PostgresStore::open(url).await;
        assert!(matches!(opened, Err(StoreError::Unavailable(_))), "{url}");
        assert!(started.elapsed() < Duration::from_secs(4), "{url}");
    }
}

#[tokio::test]
async fn the_pool_reconnects_by_itself_after_the_database_comes_back() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let (proxy, through) = Proxy::in_front_of(&db.url).await;
    let store: S = Arc::new(PostgresStore::open(&through).await.expect("opens"));
    store.migrate().await.expect("migrates");
    store.ping().await.expect("ping");

    proxy.cut();
    let started = Instant::now();
    let down = store.ping().await;
    assert!(matches!(down, Err(StoreError::Unavailable(_))), "{down:?}");
    assert!(started.elapsed() < Duration::from_secs(4));

    proxy.restore().await;
    store.ping().await.expect("back without a restart");
    owned_monitor(&store, "p5").await;
}

#[tokio::test]
async fn two_instances_migrating_one_database_at_once_both_succeed() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let a = PostgresStore::open(&db.url).await.expect("opens");
    let b = PostgresStore::open(&db.url).await.expect("opens");
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.expect("first");
    rb.expect("second");
    let (a, b): (S, S) = (Arc::new(a), Arc::new(b));
    let m = owned_monitor(&a, "p6").await;
    assert_eq!(b.list_monitors(m.owner).await.expect("list"), vec![m]);
}
