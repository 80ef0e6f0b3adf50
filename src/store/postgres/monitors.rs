//! SQL for the `monitors` table.

use super::{PostgresStore, settle};
use crate::store::MonitorStore;
use async_trait::async_trait;

use chrono::Utc;
use deadpool_postgres::{Object, Transaction};
use tokio_postgres::types::ToSql;

use super::changes;
use super::connect::pg;
use super::millis;
use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId, MonitorSpec};
use crate::store::StoreError;

pub(super) use super::monitor_columns::{
    Bound, COLUMNS, READ_WIDTH, SPEC_COLUMNS, STATUS, read_row,
};

pub(super) async fn insert(
    client: &mut Object,
    owner: UserId,
    spec: &MonitorSpec,
    limit: u32,
) -> Result<Monitor, StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    let monitor = create(&tx, owner, spec, false, limit).await?;
    tx.commit().await.map_err(pg)?;
    Ok(monitor)
}

/// Creates a monitor inside `tx` (a single create, or one of an apply's), due at once and
/// `pending` until its thresholds decide, unless `owner` already has `limit` of them.
pub(super) async fn create(
    tx: &Transaction<'_>,
    owner: UserId,
    spec: &MonitorSpec,
    paused: bool,
    limit: u32,
) -> Result<Monitor, StoreError> {
    let bound = Bound::new(spec)?;
    // Taking a place under the limit locks the owner's row until commit, so concurrent
    // creations for one owner take turns and each sees the count the last one left; the
    // counter makes the check O(1) instead of counting the owner's monitors.
    let reserve = tx
        .prepare_cached(
            "UPDATE users SET monitor_count = monitor_count + 1 \
             WHERE id = $1 AND monitor_count < $2",
        )
        .await
        .map_err(pg)?;
    let limit_param = i32::try_from(limit).unwrap_or(i32::MAX);
    if tx
        .execute(&reserve, &[&owner.0, &limit_param])
        .await
        .map_err(pg)?
        == 0
    {
        let exists = tx
            .prepare_cached("SELECT 1 FROM users WHERE id = $1")
            .await
            .map_err(pg)?;
        // A missing account fails on the INSERT's foreign key below, as it always did.
        if tx
            .query_opt(&exists, &[&owner.0])
            .await
            .map_err(pg)?
            .is_some()
        {
            return Err(StoreError::LimitReached { limit });
        }
    }
    let now = millis(Utc::now());
    let sql = format!(
        "WITH m AS (INSERT INTO monitors ({SPEC_COLUMNS}, user_id, created_at, updated_at, \
             paused, next_check_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, $22, $21) RETURNING *), \
         s AS (INSERT INTO monitor_status (monitor_id) SELECT id FROM m RETURNING *) \
         SELECT {COLUMNS}, {STATUS} FROM m, s"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    let row = tx
        .query_one(&stmt, &bound.then(&[&owner.0, &now, &paused]))
        .await
        .map_err(pg)?;
    read_row(&row)
}

pub(super) async fn list(client: &Object, owner: UserId) -> Result<Vec<Monitor>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, {STATUS} FROM monitors \
         LEFT JOIN monitor_status s ON s.monitor_id = monitors.id \
         WHERE user_id = $1 ORDER BY id"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let rows = client.query(&stmt, &[&owner.0]).await.map_err(pg)?;
    rows.iter().map(read_row).collect()
}

pub(super) async fn get_one(
    client: &Object,
    owner: UserId,
    id: MonitorId,
) -> Result<Option<Monitor>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, {STATUS} FROM monitors \
         LEFT JOIN monitor_status s ON s.monitor_id = monitors.id \
         WHERE id = $1 AND user_id = $2"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let row = client
        .query_opt(&stmt, &[&id.0, &owner.0])
        .await
        .map_err(pg)?;
    row.as_ref().map(read_row).transpose()
}

/// Runs an `UPDATE monitors … RETURNING *` given as `update`, returning the row with its
/// last check: RETURNING cannot join, a query over it can. The change is announced to every
/// instance in the same statement (see [`changes`]); the extra column is not read.
async fn updated(
    client: &Object,
    origin: u64,
    update: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Monitor>, StoreError> {
    let notify = changes::notify_sql("m", origin);
    let sql = format!(
        "WITH m AS ({update} RETURNING *) \
         SELECT {COLUMNS}, {STATUS}, {notify} \
         FROM m LEFT JOIN monitor_status s ON s.monitor_id = m.id"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let row = client.query_opt(&stmt, params).await.map_err(pg)?;
    row.as_ref().map(read_row).transpose()
}

pub(super) async fn update(
    client: &Object,
    origin: u64,
    owner: UserId,
    id: MonitorId,
    spec: &MonitorSpec,
) -> Result<Option<Monitor>, StoreError> {
    let bound = Bound::new(spec)?;
    let now = millis(Utc::now());
    let update = format!(
        "UPDATE monitors SET ({SPEC_COLUMNS}, updated_at) = ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) WHERE id = $21 AND user_id = $22"
    );
    updated(
        client,
        origin,
        &update,
        &bound.then(&[&now, &id.0, &owner.0]),
    )
    .await
}

pub(super) async fn set_paused(
    client: &Object,
    origin: u64,
    owner: UserId,
    id: MonitorId,
    paused: bool,
) -> Result<Option<Monitor>, StoreError> {
    // Resuming makes the monitor due at once; pausing (or resuming a running monitor)
    // keeps its grid. SET expressions read the row as it was.
    let update = "UPDATE monitors SET paused = $3, updated_at = $4, \
         next_check_at = CASE WHEN paused AND NOT $3 THEN $4 ELSE next_check_at END \
         WHERE id = $1 AND user_id = $2";
    let now = millis(Utc::now());
    updated(client, origin, update, &[&id.0, &owner.0, &paused, &now]).await
}

pub(super) async fn delete(
    client: &mut Object,
    origin: u64,
    owner: UserId,
    id: MonitorId,
) -> Result<bool, StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    // The monitor first: deleting it waits for batches being written for it (they hold it
    // FOR KEY SHARE), so the DELETE of results after it sees their rows too.
    // Announced to every instance when the transaction commits (see [`changes`]).
    let sql = format!(
        "DELETE FROM monitors WHERE id = $1 AND user_id = $2 RETURNING {}",
        changes::notify_sql("monitors", origin)
    );
    let monitor = tx.prepare_cached(&sql).await.map_err(pg)?;
    if tx
        .query(&monitor, &[&id.0, &owner.0])
        .await
        .map_err(pg)?
        .is_empty()
    {
        return Ok(false);
    }
    let count = tx
        .prepare_cached("UPDATE users SET monitor_count = monitor_count - 1 WHERE id = $1")
        .await
        .map_err(pg)?;
    tx.execute(&count, &[&owner.0]).await.map_err(pg)?;
    super::status_pages::forget_monitor(&tx, owner, id).await?;
    // Results have no foreign key to cascade along (see the migration).
    let results = tx
        .prepare_cached("DELETE FROM results WHERE monitor_id = $1")
        .await
        .map_err(pg)?;
    tx.execute(&results, &[&id.0]).await.map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    Ok(true)
}

#[async_trait]
impl MonitorStore for PostgresStore {
    async fn create_monitor(
        &self,
        owner: UserId,
        spec: &MonitorSpec,
        limit: u32,
    ) -> Result<Monitor, StoreError> {
        let mut client = self.client().await?;
        let result = insert(&mut client, owner, spec, limit).await;
        settle(client, result)
    }

    async fn list_monitors(&self, owner: UserId) -> Result<Vec<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = list(&client, owner).await;
        settle(client, result)
    }

    async fn get_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
    ) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = get_one(&client, owner, id).await;
        settle(client, result)
    }

    async fn update_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
        spec: &MonitorSpec,
    ) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = update(&client, self.origin, owner, id, spec).await;
        settle(client, result)
    }

    async fn set_paused(
        &self,
        owner: UserId,
        id: MonitorId,
        paused: bool,
    ) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = set_paused(&client, self.origin, owner, id, paused).await;
        settle(client, result)
    }

    async fn delete_monitor(&self, owner: UserId, id: MonitorId) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let result = delete(&mut client, self.origin, owner, id).await;
        settle(client, result)
    }
}
