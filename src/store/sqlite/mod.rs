//! The embedded default: SQLite in WAL mode through a small connection pool.
//!
//! Every write runs in a `BEGIN IMMEDIATE` transaction: a deferred one that upgrades to a
//! write fails at once with SQLITE_BUSY when another writer got there first, while an
//! immediate one waits out `busy_timeout` like any other lock.

mod cluster;
mod monitors;
mod pool;
mod results;
mod retention;
mod scheduling;
mod users;

use std::path::Path;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior};

use chrono::{DateTime, Utc};

use super::{Claim, Heartbeat, Store, StoreError, StoredResult, User, UserCredentials, WindowData};
use crate::auth::{Email, UserId};
use crate::check::CheckRecord;
use crate::monitor::{Monitor, MonitorId, MonitorSpec};

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

/// Connections in the pool: readers run in parallel under WAL, writers take turns.
const POOL_SIZE: usize = 8;

/// A [`Store`] on one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: pool::Pool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path`, and its parent folder.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        owner_only(path)?;
        let pool = pool::Pool::open(path, POOL_SIZE).await?;
        let store = Self { pool };
        // Open one connection now so a bad path fails at start, not on the first request.
        store.ping().await?;
        Ok(store)
    }

    /// Runs the read-only `work` on a pooled connection (see [`pool::Pool::read`]: it may
    /// be started twice).
    async fn run<T: Send + 'static>(
        &self,
        work: impl Fn(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.pool.read(work).await
    }

    /// Runs `work` inside a `BEGIN IMMEDIATE` transaction, committing if it succeeds.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.pool
            .write(move |conn| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(backend)?;
                let value = work(&tx)?;
                tx.commit().map_err(backend)?;
                Ok(value)
            })
            .await
    }
}

/// Makes the database file readable and writable by its owner only (0600), creating it so
/// if missing, whatever the umask: it holds the generated JWT secret, with which anyone who
/// reads it could forge tokens. SQLite gives its `-wal` and `-shm` files the database
/// file's own mode; ones left by an older version are narrowed here too.
fn owner_only(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::fs::{OpenOptions, Permissions};
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

        let failed = |what: &Path, e: std::io::Error| {
            StoreError::Unavailable(format!("cannot secure {}: {e}", what.display()))
        };
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| failed(path, e))?;
        let mut files = vec![path.to_owned()];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            files.push(name.into());
        }
        for file in files {
            match std::fs::metadata(&file) {
                Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, Permissions::from_mode(0o600))
                        .map_err(|e| failed(&file, e))?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Maps a driver error, telling lock time-outs (retryable) from real failures.
fn backend(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Backend(error.to_string()),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        self.pool
            .write(|conn| {
                embedded::migrations::runner()
                    .run(conn)
                    .map(|_| ())
                    .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))
            })
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| query_row(conn, "SELECT 1", [], |_| Ok(())).map_err(backend))
            .await
    }

    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                (&key, &value),
            )
            .map_err(backend)?;
            tx.query_row("SELECT value FROM settings WHERE key = ?1", [&key], |row| {
                row.get(0)
            })
            .map_err(backend)
        })
        .await
    }

    async fn create_user(&self, email: &Email, password_hash: &str) -> Result<User, StoreError> {
        let (email, hash) = (email.clone(), password_hash.to_owned());
        self.write(move |tx| users::insert(tx, email, &hash)).await
    }

    async fn user_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError> {
        let email = email.clone();
        self.run(move |conn| users::credentials(conn, email.clone()))
            .await
    }

    async fn create_monitor(
        &self,
        owner: UserId,
        spec: &MonitorSpec,
        limit: u32,
    ) -> Result<Monitor, StoreError> {
        let spec = spec.clone();
        self.write(move |tx| monitors::insert(tx, owner, &spec, limit))
            .await
    }

    async fn list_monitors(&self, owner: UserId) -> Result<Vec<Monitor>, StoreError> {
        self.run(move |conn| monitors::list(conn, owner)).await
    }

    async fn get_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
    ) -> Result<Option<Monitor>, StoreError> {
        self.run(move |conn| monitors::get(conn, owner, id)).await
    }

    async fn update_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
        spec: &MonitorSpec,
    ) -> Result<Option<Monitor>, StoreError> {
        let spec = spec.clone();
        self.write(move |tx| monitors::update(tx, owner, id, &spec))
            .await
    }

    async fn set_paused(
        &self,
        owner: UserId,
        id: MonitorId,
        paused: bool,
    ) -> Result<Option<Monitor>, StoreError> {
        self.write(move |tx| monitors::set_paused(tx, owner, id, paused))
            .await
    }

    async fn delete_monitor(&self, owner: UserId, id: MonitorId) -> Result<bool, StoreError> {
        self.write(move |tx| monitors::delete(tx, owner, id)).await
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Claim>, StoreError> {
        self.write(move |tx| scheduling::claim_due(tx, now, until, limit))
            .await
    }

    async fn release_claims(&self, claims: &[Claim]) -> Result<(), StoreError> {
        let claims = claims.to_vec();
        self.write(move |tx| scheduling::release_claims(tx, &claims))
            .await
    }

    async fn insert_results(&self, batch: &[CheckRecord]) -> Result<usize, StoreError> {
        let batch = batch.to_vec();
        self.write(move |tx| results::insert(tx, &batch)).await
    }

    async fn list_results(
        &self,
        owner: UserId,
        id: MonitorId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Option<Vec<StoredResult>>, StoreError> {
        self.run(move |conn| results::list(conn, owner, id, before, limit))
            .await
    }

    async fn window(
        &self,
        owner: UserId,
        id: MonitorId,
        from: DateTime<Utc>,
    ) -> Result<Option<WindowData>, StoreError> {
        self.run(move |conn| results::window(conn, owner, id, from))
            .await
    }

    async fn roll_up_before(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError> {
        self.write(move |tx| retention::roll_up_before(tx, cutoff, limit))
            .await
    }

    async fn prune_rollups(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError> {
        self.write(move |tx| retention::prune_rollups(tx, cutoff, limit))
            .await
    }

    async fn heartbeat(
        &self,
        beat: &Heartbeat,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let beat = beat.clone();
        self.write(move |tx| cluster::heartbeat(tx, &beat, forget_before))
            .await
    }

    async fn instances(&self, since: DateTime<Utc>) -> Result<Vec<Heartbeat>, StoreError> {
        self.run(move |conn| cluster::instances(conn, since)).await
    }

    async fn lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (job, holder) = (job.to_owned(), holder.to_owned());
        self.write(move |tx| cluster::lease(tx, &job, &holder, now, until))
            .await
    }
}

/// `Connection::query_row` through the statement cache: it would otherwise parse and plan
/// the SQL on every call.
fn query_row<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, read)
}

/// `query_row` that maps "no row" to `None`.
fn optional<T>(result: rusqlite::Result<T>) -> Result<Option<T>, StoreError> {
    result.optional().map_err(backend)
}
