//! Monitor changes reported across instances: PostgreSQL announces every committed edit,
//! pause, resume and delete to each store listening on the database, keeps listening after
//! its connection is lost, and stops when nobody reads; SQLite has nothing to report.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tocsin::store::prelude::*;

use tempfile::TempDir;
use tocsin::monitor::Monitor;
use tocsin::store::{MonitorChange, PostgresStore, SqliteStore};
use tokio::sync::mpsc::Receiver;

use crate::proxy::Proxy;
use crate::results::owned_monitor;
use crate::services::{PgDatabase, fresh_postgres};
use crate::suite::{S, spec, user};

/// Longer than a notification takes on a loopback, even on a busy machine.
const QUIET: Duration = Duration::from_millis(500);

async fn open(url: &str) -> S {
    let store = PostgresStore::open(url).await.expect("opens");
    store.migrate().await.expect("migrates");
    Arc::new(store)
}

fn change(m: &Monitor) -> MonitorChange {
    MonitorChange {
        owner: m.owner,
        id: m.id,
    }
}

/// The next change, failing the test if none comes within a few seconds.
async fn next(changes: &mut Receiver<MonitorChange>) -> MonitorChange {
    tokio::time::timeout(Duration::from_secs(5), changes.recv())
        .await
        .expect("a change in time")
        .expect("still listening")
}

/// Asserts nothing more is reported for a while.
async fn quiet(changes: &mut Receiver<MonitorChange>) {
    let extra = tokio::time::timeout(QUIET, changes.recv()).await;
    assert!(extra.is_err(), "unexpected {extra:?}");
}

/// Edits `m` through `writer` until `changes` reports it, since the listener connects in the
/// background; then swallows the reports of the earlier edits.
async fn until_listening(writer: &S, m: &Monitor, changes: &mut Receiver<MonitorChange>) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        writer
            .update_monitor(m.owner, m.id, &m.spec)
            .await
            .expect("updates")
            .expect("exists");
        if let Ok(Some(reported)) = tokio::time::timeout(QUIET, changes.recv()).await {
            assert_eq!(reported, change(m));
            break;
        }
        assert!(Instant::now() < deadline, "never started listening");
    }
    while let Ok(Some(reported)) = tokio::time::timeout(QUIET, changes.recv()).await {
        assert_eq!(reported, change(m));
    }
}

/// How many sessions on `db` are listening.
async fn listeners(db: &PgDatabase) -> i64 {
    let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .expect("connects");
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
            &[],
        )
        .await
        .expect("activity");
    row.get(0)
}

#[tokio::test]
async fn committed_changes_reach_every_store_on_the_database() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let (writer, reader) = (open(&db.url).await, open(&db.url).await);
    let mut changes = reader
        .monitor_changes()
        .expect("PostgreSQL reports changes");
    let m = owned_monitor(&writer, "n1").await;
    until_listening(&writer, &m, &mut changes).await;

    let other = owned_monitor(&writer, "n2").await;
    quiet(&mut changes).await;
    assert!(other.id != m.id, "creating is not reported");

    for paused in [true, false] {
        writer
            .set_paused(m.owner, m.id, paused)
            .await
            .expect("sets")
            .expect("exists");
        assert_eq!(next(&mut changes).await, change(&m), "paused: {paused}");
    }
    let stranger = user(&writer, "n3@example.com").await;
    let missed = writer
        .update_monitor(stranger, m.id, &spec("https://n3.example"))
        .await
        .expect("answers");
    assert!(missed.is_none());
    assert!(
        !writer
            .delete_monitor(stranger, m.id)
            .await
            .expect("answers")
    );
    quiet(&mut changes).await;

    assert!(writer.delete_monitor(m.owner, m.id).await.expect("deletes"));
    assert_eq!(next(&mut changes).await, change(&m));
    quiet(&mut changes).await;

    // Dropping the receiver ends the listening session.
    assert_eq!(listeners(&db).await, 1);
    drop(changes);
    let deadline = Instant::now() + Duration::from_secs(10);
    while listeners(&db).await > 0 {
        assert!(Instant::now() < deadline, "still listening");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn listening_resumes_after_the_connection_is_lost() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let (proxy, through) = Proxy::in_front_of(&db.url).await;
    let writer = open(&db.url).await;
    let reader = open(&through).await;
    let mut changes = reader
        .monitor_changes()
        .expect("PostgreSQL reports changes");
    let m = owned_monitor(&writer, "n4").await;
    until_listening(&writer, &m, &mut changes).await;

    proxy.cut();
    proxy.restore().await;
    until_listening(&writer, &m, &mut changes).await;
}

#[tokio::test]
async fn sqlite_has_no_changes_to_report() {
    let dir = TempDir::new().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("tocsin.db"))
        .await
        .expect("opens");
    assert!(store.monitor_changes().is_none());
}

#[tokio::test]
async fn a_store_does_not_hear_its_own_changes() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let (writer, other) = (open(&db.url).await, open(&db.url).await);
    let mut own = writer
        .monitor_changes()
        .expect("PostgreSQL reports changes");
    let mine = owned_monitor(&writer, "o1").await;
    let theirs = owned_monitor(&other, "o2").await;
    // Each round the writer changes its monitor, then the other store changes another one;
    // notifications arrive in commit order, so once the listener hears anything, it would
    // have heard the writer's own change first.
    let deadline = Instant::now() + Duration::from_secs(15);
    let heard = loop {
        for (store, m) in [(&writer, &mine), (&other, &theirs)] {
            store
                .update_monitor(m.owner, m.id, &m.spec)
                .await
                .expect("updates")
                .expect("exists");
        }
        if let Ok(Some(reported)) = tokio::time::timeout(QUIET, own.recv()).await {
            break reported;
        }
        assert!(Instant::now() < deadline, "never started listening");
    };
    assert_eq!(heard, change(&theirs));
    while let Ok(Some(reported)) = tokio::time::timeout(QUIET, own.recv()).await {
        assert_eq!(reported, change(&theirs), "only the other store's changes");
    }
}

#[tokio::test]
async fn a_state_change_written_by_one_store_reaches_the_others() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let (writer, reader) = (open(&db.url).await, open(&db.url).await);
    let mut changes = reader
        .monitor_changes()
        .expect("PostgreSQL reports changes");
    let m = owned_monitor(&writer, "n5").await;
    until_listening(&writer, &m, &mut changes).await;
    // Checks that change nothing are not announced; the first verdict is.
    let first = crate::results::ok(crate::results::at(0), 200, 5);
    writer
        .insert_results(&crate::results::records(m.id, &[first]))
        .await
        .expect("written");
    assert_eq!(next(&mut changes).await, change(&m), "pending → up");
    let again = crate::results::ok(crate::results::at(1), 200, 5);
    writer
        .insert_results(&crate::results::records(m.id, &[again]))
        .await
        .expect("written");
    quiet(&mut changes).await;
}
