//! The embedded default: SQLite in WAL mode through a small connection pool.
//!
//! Every write runs in a `BEGIN IMMEDIATE` transaction: a deferred one that upgrades to a
//! write fails at once with SQLITE_BUSY when another writer got there first, while an
//! immediate one waits out `busy_timeout` like any other lock.

mod api_keys;
mod apply;
pub(super) mod backup;
mod channels;
mod cluster;
mod group;
mod health;
mod incidents;
mod maintenance;
mod monitors;
mod pages;
mod pool;
mod results;
mod retention;
mod scheduling;
mod sessions;
mod status_pages;
mod tallies;
mod users;

use std::path::Path;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension};

use super::{LifecycleStore, StoreError};

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

    /// Runs `work` inside a `BEGIN IMMEDIATE` transaction, committing if it succeeds; the
    /// writes queued meanwhile share the transaction (see [`pool::Pool::write`]).
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.pool.write(work).await
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

/// Maps a driver error, telling lock time-outs (retryable) and taken names from real
/// failures.
fn backend(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        // Monitors' names are unique per account (`monitors_user_id_name_key`).
        Some(ErrorCode::ConstraintViolation)
            if error
                .to_string()
                .contains("monitors.user_id, monitors.name") =>
        {
            StoreError::Conflict("name")
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Backend(error.to_string()),
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

impl SqliteStore {
    /// Applies the migrations up to `version` and no further: upgrade tests build a
    /// database as an older tocsin left it, then migrate it the rest of the way.
    pub async fn migrate_to(&self, version: u32) -> Result<(), StoreError> {
        let version = version
            .try_into()
            .map_err(|_| StoreError::Backend(format!("no migration version {version}")))?;
        self.run_migrations(refinery::Target::Version(version))
            .await
    }

    async fn run_migrations(&self, target: refinery::Target) -> Result<(), StoreError> {
        self.pool
            .write_alone(move |conn| {
                embedded::migrations::runner()
                    .set_target(target)
                    .run(conn)
                    .map(|_| ())
                    .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))
            })
            .await
    }
}

#[async_trait]
impl LifecycleStore for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        self.run_migrations(refinery::Target::Latest).await
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
}
