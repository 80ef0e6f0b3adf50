//! Maintenance windows (monitor ids kept as a `bigint[]`, `NULL` for all of them).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use super::connect::{get, pg};
use super::{PostgresStore, millis, settle};
use crate::alerting::{Coverage, MaintenanceId, MaintenanceWindow, WindowSpec};
use crate::auth::UserId;
use crate::store::incident_rows::{WindowRecord, window_monitors};
use crate::store::{MaintenanceStore, StoreError};

/// The windows of `owners` that overlap `from..=to`, in one query (by the
/// `(user_id, ends_at)` index), for the results write to mute the decisions they cover.
pub(super) async fn coverage(
    tx: &Transaction<'_>,
    owners: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Coverage, StoreError> {
    let stmt = tx
        .prepare_cached(
            "SELECT user_id, starts_at, ends_at, monitor_ids FROM maintenance_windows \
             WHERE user_id = ANY ($1) AND ends_at > $2 AND starts_at <= $3",
        )
        .await
        .map_err(pg)?;
    let mut coverage = Coverage::default();
    for row in tx.query(&stmt, &[&owners, &from, &to]).await.map_err(pg)? {
        coverage.add(
            UserId(get(&row, 0)?),
            get(&row, 1)?,
            get(&row, 2)?,
            get(&row, 3)?,
        );
    }
    Ok(coverage)
}

const COLUMNS: &str = "id, name, monitor_ids, starts_at, ends_at, created_at";

fn window(row: &Row) -> Result<MaintenanceWindow, StoreError> {
    WindowRecord {
        id: get(row, 0)?,
        name: get(row, 1)?,
        monitor_ids: get(row, 2)?,
        starts_at: get(row, 3)?,
        ends_at: get(row, 4)?,
        created_at: get(row, 5)?,
    }
    .into_window()
}

#[async_trait]
impl MaintenanceStore for PostgresStore {
    async fn create_window(
        &self,
        owner: UserId,
        spec: &WindowSpec,
    ) -> Result<MaintenanceWindow, StoreError> {
        let client = self.client().await?;
        let result = async {
            let sql = format!(
                "INSERT INTO maintenance_windows \
                     (user_id, name, starts_at, ends_at, monitor_ids, created_at) \
                 VALUES ($1, $2, $3, $4, $5, date_trunc('milliseconds', now())) \
                 RETURNING {COLUMNS}"
            );
            let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
            let row = client
                .query_one(
                    &stmt,
                    &[
                        &owner.0,
                        &spec.name(),
                        &millis(spec.starts_at()),
                        &millis(spec.ends_at()),
                        &window_monitors(spec),
                    ],
                )
                .await
                .map_err(pg)?;
            window(&row)
        }
        .await;
        settle(client, result)
    }

    async fn list_windows(&self, owner: UserId) -> Result<Vec<MaintenanceWindow>, StoreError> {
        let client = self.client().await?;
        let result = async {
            let sql = format!(
                "SELECT {COLUMNS} FROM maintenance_windows WHERE user_id = $1 \
                 ORDER BY starts_at, id"
            );
            let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
            let rows = client.query(&stmt, &[&owner.0]).await.map_err(pg)?;
            rows.iter().map(window).collect()
        }
        .await;
        settle(client, result)
    }

    async fn delete_window(&self, owner: UserId, id: MaintenanceId) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let result = async {
            let stmt = client
                .prepare_cached("DELETE FROM maintenance_windows WHERE id = $1 AND user_id = $2")
                .await
                .map_err(pg)?;
            let n = client
                .execute(&stmt, &[&id.0, &owner.0])
                .await
                .map_err(pg)?;
            Ok(n == 1)
        }
        .await;
        settle(client, result)
    }
}
