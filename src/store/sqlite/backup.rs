//! Online backups of the embedded database with SQLite's backup API. A file copy of a live
//! WAL database can catch the main file and the WAL at different moments; the backup API
//! copies every page inside one read transaction instead, so the copy is the database as
//! it was at one instant, while `serve` goes on writing (WAL readers never block writers).

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::StepResult;
use rusqlite::{Connection, OpenFlags};

use super::backend;
use crate::store::StoreError;

/// How long the backup waits for a lock a writer holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What a finished backup holds, for the operator to check at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The copy's size in bytes.
    pub bytes: u64,
    /// Accounts in the copy.
    pub accounts: i64,
    /// Monitors in the copy.
    pub monitors: i64,
}

/// Copies the live database at `source` to `destination`, a new file (an existing one is
/// never overwritten). The copy is written beside the destination under a temporary name,
/// checked (`PRAGMA quick_check`), turned into a single self-contained file (no WAL), made
/// readable by its owner only (it holds password hashes and the token secret), and only
/// then renamed into place, so a failed backup never leaves a half-written file behind.
pub fn backup(source: &Path, destination: &Path) -> Result<BackupSummary, StoreError> {
    if destination.exists() {
        return Err(StoreError::Backend(format!(
            "{} exists: back up to a new file",
            destination.display()
        )));
    }
    if !source.is_file() {
        return Err(StoreError::Unavailable(format!(
            "no database at {}",
            source.display()
        )));
    }
    let source_conn = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", source.display())))?;
    source_conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    let partial = partial_path(destination);
    let result = copy(&source_conn, &partial).and_then(|summary| {
        std::fs::rename(&partial, destination).map_err(|e| {
            StoreError::Backend(format!(
                "cannot move the copy to {}: {e}",
                destination.display()
            ))
        })?;
        Ok(summary)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn partial_path(destination: &Path) -> PathBuf {
    let mut name = destination.file_name().unwrap_or_default().to_owned();
    name.push(format!(".partial-{}", std::process::id()));
    destination.with_file_name(name)
}

fn copy(source: &Connection, partial: &Path) -> Result<BackupSummary, StoreError> {
    // Created private before SQLite writes a byte into it.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(partial)
        .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", partial.display())))?;
    let mut target = Connection::open(partial).map_err(backend)?;
    {
        let backup = rusqlite::backup::Backup::new(source, &mut target).map_err(backend)?;
        // Every page in one step: one read transaction, so one consistent snapshot, and no
        // restart when the live database changes in between (as it would between steps).
        // Under WAL a reader blocks no writer, so serve goes on meanwhile.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match backup.step(-1).map_err(backend)? {
                StepResult::Done => break,
                _ if std::time::Instant::now() >= deadline => {
                    return Err(StoreError::Unavailable(
                        "the database stayed locked; try again".into(),
                    ));
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
    let check: String = target
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(backend)?;
    if check != "ok" {
        return Err(StoreError::Corrupt(format!(
            "the copy fails its check: {check}"
        )));
    }
    // The pages say WAL, like the live database; a backup is better as one file.
    target
        .query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
        .map_err(backend)?;
    let count = |sql: &str| -> Result<i64, StoreError> {
        target.query_row(sql, [], |row| row.get(0)).map_err(backend)
    };
    let accounts = count("SELECT count(*) FROM users")?;
    let monitors = count("SELECT count(*) FROM monitors")?;
    drop(target);
    let file = std::fs::File::open(partial).map_err(|e| StoreError::Backend(e.to_string()))?;
    file.sync_all()
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok(BackupSummary {
        bytes,
        accounts,
        monitors,
    })
}
