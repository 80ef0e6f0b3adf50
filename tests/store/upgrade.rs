//! Upgrades: a database made by every earlier schema version, with data in it, migrates to
//! the current one on both stores, and the data reads back through the Store API.
//!
//! For each backend and each version `v`, a fresh database is walked up one migration at a
//! time; after migrating to version `k` (for every `k` ≤ `v`), the fixture
//! `tests/store/fixtures/<backend>/V<k>.sql` runs, as SQL tocsin at version `k` could have
//! written. Then the store migrates the rest of the way and the expectations are checked.
//!
//! **Adding a migration `V<n>`: add `fixtures/sqlite/V<n>.sql` and
//! `fixtures/postgres/V<n>.sql`** (the test fails while one is missing). A fixture inserts
//! what the new schema version can hold (an account `v<n>@upgrade.test` of its own, and
//! rows for the tables the migration adds or changes) and states what must be true once
//! migrated to the latest version, in comment lines:
//!
//! ```sql
//! -- expect: v<n>@upgrade.test monitors=1 results=0 rollup_checks=0
//! ```
//!
//! `monitors` counts the account's monitors, `results` their raw results, `rollup_checks`
//! the checks in their hourly rollups; each key may be left out. A later fixture may restate
//! an earlier account (for example when it adds results to a monitor made before): the last
//! statement of a key wins. Every account named must exist after the upgrade, its monitors
//! must read back as valid monitors, and its monitor count (V4) must hold: the account may
//! create exactly one more monitor under a limit of its count plus one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tocsin::auth::Email;
use tocsin::store::prelude::*;
use tocsin::store::{PostgresStore, SqliteStore, StoreError};

use crate::services::fresh_postgres;
use crate::suite::{S, spec};

/// What a fixture says must hold for one account after the upgrade.
type Expectations = BTreeMap<String, BTreeMap<String, u64>>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The versions of the backend's migrations, ascending.
fn versions(backend: &str) -> Vec<u32> {
    let mut versions: Vec<u32> = std::fs::read_dir(root().join("migrations").join(backend))
        .expect("migrations folder")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_prefix('V')?.split("__").next()?.parse().ok()
        })
        .collect();
    versions.sort_unstable();
    versions
}

fn fixture(backend: &str, version: u32) -> (PathBuf, String) {
    let path = root()
        .join("tests/store/fixtures")
        .join(backend)
        .join(format!("V{version}.sql"));
    let sql = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "migration V{version} has no upgrade fixture {} ({e}): add one (see tests/store/upgrade.rs)",
            path.display()
        )
    });
    (path, sql)
}

/// Folds the fixture's `-- expect:` lines into `into`.
fn expectations(path: &Path, sql: &str, into: &mut Expectations) {
    for line in sql.lines() {
        let Some(rest) = line.trim().strip_prefix("-- expect:") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let email = words.next().expect("an email after `-- expect:`");
        let account = into.entry(email.to_owned()).or_default();
        for pair in words {
            let (key, value) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("{}: `{pair}` is not key=value", path.display()));
            assert!(
                ["monitors", "results", "rollup_checks"].contains(&key),
                "{}: unknown expectation `{key}`",
                path.display()
            );
            let value = value.parse().expect("a count");
            account.insert(key.to_owned(), value);
        }
    }
}

/// The store's view must match what the fixtures said.
async fn check(store: &S, expected: &Expectations, label: &str) {
    assert!(!expected.is_empty(), "{label}: the fixtures expect nothing");
    for (email, keys) in expected {
        let account = store
            .user_credentials(&Email::parse(email).expect("email"))
            .await
            .expect("reads accounts")
            .unwrap_or_else(|| panic!("{label}: account {email} is gone"))
            .user;
        let monitors = store
            .list_monitors(account.id)
            .await
            .unwrap_or_else(|e| panic!("{label}: {email}'s monitors do not read back: {e}"));
        let mut results = 0;
        let mut rollup_checks = 0;
        for monitor in &monitors {
            results += store
                .list_results(account.id, monitor.id, None, 1000)
                .await
                .expect("results read back")
                .expect("the monitor is there")
                .len() as u64;
            let since = DateTime::<Utc>::from_timestamp(0, 0).expect("epoch");
            rollup_checks += store
                .window(account.id, monitor.id, since)
                .await
                .expect("windows read back")
                .expect("the monitor is there")
                .rollups
                .checks;
        }
        let found = [
            ("monitors", monitors.len() as u64),
            ("results", results),
            ("rollup_checks", rollup_checks),
        ];
        for (key, value) in found {
            if let Some(want) = keys.get(key) {
                assert_eq!(value, *want, "{label}: {email} {key}");
            }
        }
        // The per-account count the limit is checked against survived the upgrade.
        let limit = u32::try_from(monitors.len()).expect("few") + 1;
        let draft = spec(&format!("https://{}.example/new", account.id.0));
        store
            .create_monitor(account.id, &draft, limit)
            .await
            .unwrap_or_else(|e| panic!("{label}: {email} cannot add a monitor: {e}"));
        let over = store.create_monitor(account.id, &draft, limit).await;
        assert!(
            matches!(over, Err(StoreError::LimitReached { .. })),
            "{label}: {email}'s monitor count is off: {over:?}"
        );
    }
}

#[tokio::test]
async fn every_earlier_sqlite_schema_upgrades_with_its_data() {
    let versions = versions("sqlite");
    for &target in &versions {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let path = dir.path().join("tocsin.db");
        let sqlite = SqliteStore::open(&path).await.expect("opens");
        let mut expected = Expectations::new();
        for &version in versions.iter().filter(|v| **v <= target) {
            sqlite
                .migrate_to(version)
                .await
                .expect("migrates to the version");
            let (file, sql) = fixture("sqlite", version);
            let conn = rusqlite::Connection::open(&path).expect("a second connection");
            conn.execute_batch(&sql)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            expectations(&file, &sql, &mut expected);
        }
        sqlite
            .migrate()
            .await
            .expect("migrates to the latest version");
        let store: S = Arc::new(sqlite);
        check(&store, &expected, &format!("sqlite from V{target}")).await;
    }
}

#[tokio::test]
async fn every_earlier_postgres_schema_upgrades_with_its_data() {
    let versions = versions("postgres");
    for &target in &versions {
        let Some(db) = fresh_postgres().await else {
            return;
        };
        let postgres = PostgresStore::open(&db.url).await.expect("opens");
        let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .expect("a second connection");
        let driver = tokio::spawn(connection);
        let mut expected = Expectations::new();
        for &version in versions.iter().filter(|v| **v <= target) {
            postgres
                .migrate_to(version)
                .await
                .expect("migrates to the version");
            let (file, sql) = fixture("postgres", version);
            client
                .batch_execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
            expectations(&file, &sql, &mut expected);
        }
        drop(client);
        let _ = driver.await;
        postgres
            .migrate()
            .await
            .expect("migrates to the latest version");
        let store: S = Arc::new(postgres);
        check(&store, &expected, &format!("postgres from V{target}")).await;
        drop(store);
        drop(db);
    }
}

#[test]
fn both_backends_have_the_same_migration_versions() {
    assert_eq!(versions("sqlite"), versions("postgres"));
}
