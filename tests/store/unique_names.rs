//! V15 makes monitor names unique per account: older duplicates are renamed by age, on both
//! stores, and every renamed monitor still reads back.

use std::sync::Arc;

use tocsin::auth::Email;
use tocsin::store::prelude::*;
use tocsin::store::{PostgresStore, SqliteStore};

use crate::services::fresh_postgres;
use crate::suite::S;

/// Names as made before V15, oldest first: three `api`, one already `api (2)`, and one
/// in another account.
const BEFORE: [&str; 4] = ["api", "api", "api (2)", "api"];

/// What they become.
const AFTER: [&str; 4] = ["api", "api (2)", "api (2) #", "api (3)"];

async fn check(store: S) {
    for (email, expected) in [
        ("dupes@names.test", &AFTER[..]),
        ("other@names.test", &["api"][..]),
    ] {
        let owner = store
            .user_credentials(&Email::parse(email).expect("email"))
            .await
            .expect("query")
            .expect("account")
            .user
            .id;
        let names: Vec<String> = store
            .list_monitors(owner)
            .await
            .expect("monitors read back")
            .into_iter()
            .map(|m| m.spec.name().to_owned())
            .collect();
        assert_eq!(names.len(), expected.len(), "{names:?}");
        for (name, expected) in names.iter().zip(expected) {
            if let Some(prefix) = expected.strip_suffix('#') {
                // The clash with an older `api (2)` takes the monitor's id.
                let id = name
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix('#'));
                assert!(id.is_some_and(|id| id.parse::<i64>().is_ok()), "{names:?}");
            } else {
                assert_eq!(name, expected, "{names:?}");
            }
        }
    }
}

fn inserts(millis: bool) -> String {
    let (now, yes, no) = if millis {
        ("1767225600000", "1", "0")
    } else {
        ("'2026-01-01T00:00:00Z'", "true", "false")
    };
    let mut sql = String::new();
    for (email, names) in [
        ("dupes@names.test", &BEFORE[..]),
        ("other@names.test", &["api"][..]),
    ] {
        sql.push_str(&format!(
            "INSERT INTO users (email, password_hash, created_at, monitor_count) \
             VALUES ('{email}', 'x', {now}, {});",
            names.len()
        ));
        for name in names {
            sql.push_str(&format!(
                "INSERT INTO monitors (user_id, name, url, method, interval_seconds, \
                 expected_status, follow_redirects, headers, paused, created_at, updated_at, \
                 next_check_at) VALUES ((SELECT id FROM users WHERE email = '{email}'), \
                 '{name}', 'https://dupes.example/', 'GET', 60, '200-399', {yes}, '{{}}', {no}, \
                 {now}, {now}, {now}); \
                 INSERT INTO monitor_status (monitor_id) VALUES ((SELECT max(id) FROM monitors));"
            ));
        }
    }
    sql
}

#[tokio::test]
async fn sqlite_duplicate_names_are_renamed_by_age() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = dir.path().join("tocsin.db");
    let store = SqliteStore::open(&path).await.expect("opens");
    store.migrate_to(10).await.expect("V10");
    rusqlite::Connection::open(&path)
        .expect("connection")
        .execute_batch(&inserts(true))
        .expect("inserts");
    store.migrate().await.expect("migrates");
    check(Arc::new(store)).await;
}

#[tokio::test]
async fn postgres_duplicate_names_are_renamed_by_age() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let store = PostgresStore::open(&db.url).await.expect("opens");
    store.migrate_to(10).await.expect("V10");
    let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .expect("connection");
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&inserts(false))
        .await
        .expect("inserts");
    drop(client);
    let _ = driver.await;
    store.migrate().await.expect("migrates");
    check(Arc::new(store)).await;
    drop(db);
}
