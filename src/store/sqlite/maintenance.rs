//! Maintenance windows (monitor ids kept as a JSON array, `NULL` for all of them).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Row, Transaction};

use super::{SqliteStore, backend};
use crate::alerting::{Coverage, MaintenanceId, MaintenanceWindow, WindowSpec};
use crate::auth::UserId;
use crate::store::incident_rows::{WindowRecord, window_monitors};
use crate::store::{MaintenanceStore, StoreError, from_millis, to_millis};

const COLUMNS: &str = "id, name, monitor_ids, starts_at, ends_at, created_at";

/// Adds to `coverage` the windows of `owner` that overlap `from..=to` (by the
/// `(user_id, ends_at)` index), for the results write to mute the decisions they cover.
pub(super) fn cover(
    tx: &Transaction<'_>,
    coverage: &mut Coverage,
    owner: UserId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT starts_at, ends_at, monitor_ids FROM maintenance_windows \
             WHERE user_id = ?1 AND ends_at > ?2 AND starts_at <= ?3",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map((owner.0, to_millis(from), to_millis(to)), |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })
        .map_err(backend)?;
    for row in rows {
        let (starts, ends, ids) = row.map_err(backend)?;
        let ids = ids
            .map(|raw| serde_json::from_str::<Vec<i64>>(&raw))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("maintenance monitor_ids: {e}")))?;
        coverage.add(owner, from_millis(starts)?, from_millis(ends)?, ids);
    }
    Ok(())
}

type RawWindow = (i64, String, Option<String>, [i64; 3]);

fn read(row: &Row<'_>) -> rusqlite::Result<RawWindow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        [row.get(3)?, row.get(4)?, row.get(5)?],
    ))
}

fn window(
    (id, name, ids, [starts, ends, created]): RawWindow,
) -> Result<MaintenanceWindow, StoreError> {
    let monitor_ids = ids
        .map(|raw| serde_json::from_str::<Vec<i64>>(&raw))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("maintenance window {id}: monitor_ids: {e}")))?;
    WindowRecord {
        id,
        name,
        monitor_ids,
        starts_at: from_millis(starts)?,
        ends_at: from_millis(ends)?,
        created_at: from_millis(created)?,
    }
    .into_window()
}

#[async_trait]
impl MaintenanceStore for SqliteStore {
    async fn create_window(
        &self,
        owner: UserId,
        spec: &WindowSpec,
    ) -> Result<MaintenanceWindow, StoreError> {
        let ids = window_monitors(spec)
            .map(|ids| serde_json::to_string(&ids))
            .transpose()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let (name, starts, ends) = (
            spec.name().to_owned(),
            to_millis(spec.starts_at()),
            to_millis(spec.ends_at()),
        );
        let raw = self
            .write(move |tx| {
                let sql = format!(
                    "INSERT INTO maintenance_windows \
                         (user_id, name, starts_at, ends_at, monitor_ids, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {COLUMNS}"
                );
                tx.prepare_cached(&sql)
                    .and_then(|mut stmt| {
                        stmt.query_row(
                            rusqlite::params![
                                owner.0,
                                name,
                                starts,
                                ends,
                                ids,
                                to_millis(Utc::now())
                            ],
                            read,
                        )
                    })
                    .map_err(backend)
            })
            .await?;
        window(raw)
    }

    async fn list_windows(&self, owner: UserId) -> Result<Vec<MaintenanceWindow>, StoreError> {
        let raws = self
            .run(move |conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM maintenance_windows WHERE user_id = ?1 \
                     ORDER BY starts_at, id"
                );
                conn.prepare_cached(&sql)
                    .and_then(|mut stmt| {
                        stmt.query_map([owner.0], read)?
                            .collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .map_err(backend)
            })
            .await?;
        raws.into_iter().map(window).collect()
    }

    async fn delete_window(&self, owner: UserId, id: MaintenanceId) -> Result<bool, StoreError> {
        self.write(move |tx| {
            tx.prepare_cached("DELETE FROM maintenance_windows WHERE id = ?1 AND user_id = ?2")
                .and_then(|mut stmt| stmt.execute((id.0, owner.0)))
                .map(|n| n == 1)
                .map_err(backend)
        })
        .await
    }
}
