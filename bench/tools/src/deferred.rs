//! Secondary indexes set aside while `seed-history` writes to SQLite, and built again after.
//!
//! Results are keyed by (monitor, time) and also indexed by time alone, and rollups likewise
//! by hour: whichever order the seeding writes in, one of each pair takes its rows at random
//! pages, and every batch's commit then rewrites thousands of pages in the WAL. That, not
//! the row count, is why 10,000 monitors did not seed in 20 minutes. Written monitor by
//! monitor, the keys append; the time indexes are dropped meanwhile and made again at the
//! end with their own `CREATE INDEX` text (a sort, not random inserts), so the database
//! ends as the store's schema has it.

use std::path::PathBuf;

use anyhow::Context;
use tocsin::config::DatabaseUrl;

/// Indexes dropped from one SQLite file, with the statements that make them again.
pub struct Deferred {
    path: PathBuf,
    made_by: Vec<String>,
}

impl Deferred {
    /// Drops `names` from the SQLite file `url` names; `None` for PostgreSQL (untouched).
    pub fn drop(url: &DatabaseUrl, names: &[&str]) -> anyhow::Result<Option<Self>> {
        let DatabaseUrl::Sqlite { path } = url else {
            return Ok(None);
        };
        let conn = rusqlite::Connection::open(path).context("opening the SQLite file")?;
        let mut made_by = Vec::new();
        for name in names {
            let sql: String = conn
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                    [name],
                    |row| row.get(0),
                )
                .with_context(|| format!("index {name}"))?;
            conn.execute_batch(&format!("DROP INDEX {name}"))?;
            made_by.push(sql);
        }
        Ok(Some(Self {
            path: path.clone(),
            made_by,
        }))
    }

    /// Makes the dropped indexes again.
    pub fn restore(self) -> anyhow::Result<()> {
        let conn = rusqlite::Connection::open(&self.path).context("opening the SQLite file")?;
        for sql in &self.made_by {
            conn.execute_batch(sql)
                .with_context(|| format!("remaking: {sql}"))?;
        }
        Ok(())
    }
}
