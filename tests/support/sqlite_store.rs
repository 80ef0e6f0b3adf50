//! A migrated SQLite store in a folder of its own with one account and, when asked, its
//! monitors: where the tests that drive the engine below the API (the scheduler, the batch
//! writer, the buffers) start.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use tempfile::TempDir;
use tocsin::auth::{Email, UserId};
use tocsin::monitor::{MonitorDraft, MonitorId, MonitorSpec, Rules};
use tocsin::store::prelude::*;
use tocsin::store::{SqliteStore, Store};

/// A well-formed argon2id hash that no test password matches.
pub const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// The store, the account, and the folder the database lives in (gone when dropped).
pub struct SqliteAccount {
    /// The store, as the engine takes it.
    pub store: Arc<dyn Store>,
    /// The account's id.
    pub owner: UserId,
    /// The database file, for a second connection.
    pub path: PathBuf,
    _dir: TempDir,
}

/// A fresh migrated store with one account for `email`.
pub async fn sqlite_account(email: &str) -> SqliteAccount {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("tocsin.db");
    let sqlite = SqliteStore::open(&path).await.expect("opens");
    sqlite.migrate().await.expect("migrates");
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let owner = store
        .create_user(&Email::parse(email).expect("email"), HASH)
        .await
        .expect("user")
        .id;
    SqliteAccount {
        store,
        owner,
        path,
        _dir: dir,
    }
}

impl SqliteAccount {
    /// Adds a monitor of the account from `draft`, within a limit of 100.
    pub async fn monitor(&self, draft: MonitorDraft) -> MonitorId {
        let spec = MonitorSpec::parse(draft, &Rules::STORED).expect("spec");
        self.store
            .create_monitor(self.owner, &spec, 100)
            .await
            .expect("monitor")
            .id
    }
}
