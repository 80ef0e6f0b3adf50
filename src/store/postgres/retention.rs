//! Retention by watermark: raw results are rolled up in `(checked_at, monitor_id)` order and
//! the roll-up mark moves past them; nothing is deleted row by row. Their partitions go
//! whole in [`super::partitions`].

use super::{PostgresStore, settle};
use crate::store::RetentionStore;
use async_trait::async_trait;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Object, Transaction};

use super::connect::{bigint, get, pg};
use super::results::sample_at;
use super::rollups;
use crate::check::stats::Summary;
use crate::store::StoreError;
use crate::store::values::SAMPLE_COLUMNS;

/// Writers of results take it shared, a roll-up exclusive (an arbitrary, fixed key).
const MARK_LOCK: i64 = 0x746f_6373_696e_0002;

/// Keeps roll-ups out until this transaction ends. An advisory lock, not a row lock on the
/// mark: every batch would otherwise write a lock into that one row.
pub(super) async fn lock_mark_shared(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached("SELECT pg_advisory_xact_lock_shared($1)")
        .await
        .map_err(pg)?;
    tx.execute(&stmt, &[&MARK_LOCK]).await.map_err(pg)?;
    Ok(())
}

pub(super) async fn roll_up_before(
    client: &mut Object,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<usize, StoreError> {
    if limit == 0 {
        // Nothing may move, and an empty batch must not read as "all rolled up".
        return Ok(0);
    }
    let tx = client.transaction().await.map_err(pg)?;
    // Waits for batches being written, so none can land above the mark once it has moved.
    let exclusive = tx
        .prepare_cached("SELECT pg_advisory_xact_lock($1)")
        .await
        .map_err(pg)?;
    tx.execute(&exclusive, &[&MARK_LOCK]).await.map_err(pg)?;
    // Concurrent roll-ups of several instances take turns on the one mark row. Read here
    // and passed on as parameters, the mark bounds the index scan below; joined in, it would
    // only filter, and each batch would wade through every row rolled before it.
    let mark = tx
        .prepare_cached(
            "SELECT CASE WHEN isfinite(checked_at) THEN checked_at END, monitor_id \
             FROM rollup_mark FOR UPDATE",
        )
        .await
        .map_err(pg)?;
    let mark = tx.query_one(&mark, &[]).await.map_err(pg)?;
    let (mark_at, mark_id): (Option<DateTime<Utc>>, i64) = (get(&mark, 0)?, get(&mark, 1)?);
    let sql = format!(
        "SELECT monitor_id, checked_at, {SAMPLE_COLUMNS} FROM results \
         WHERE (checked_at, monitor_id) > (coalesce($1::timestamptz, '-infinity'), $2) \
           AND checked_at < $3 \
         ORDER BY checked_at, monitor_id LIMIT $4"
    );
    let select = tx.prepare_cached(&sql).await.map_err(pg)?;
    let rows = tx
        .query(&select, &[&mark_at, &mark_id, &cutoff, &bigint(limit)])
        .await
        .map_err(pg)?;
    let mut hours: BTreeMap<(i64, DateTime<Utc>), Summary> = BTreeMap::new();
    let mut last = None;
    for row in &rows {
        let (monitor, at): (i64, DateTime<Utc>) = (get(row, 0)?, get(row, 1)?);
        hours
            .entry((monitor, rollups::hour_start(at)?))
            .or_default()
            .add(&sample_at(row, 2)?);
        last = Some((at, monitor));
    }
    rollups::upsert(&tx, &hours).await?;
    let advance = match last {
        Some(last) if rows.len() >= limit as usize => last,
        // Nothing is left before the cutoff: the mark may go up to it (monitor ids start at
        // 1, so a row at the cutoff itself stays raw). Late results before it then go
        // straight to their rollups, and days without any result still get dropped.
        _ => (cutoff, 0),
    };
    let stmt = tx
        .prepare_cached(
            "UPDATE rollup_mark SET checked_at = $1, monitor_id = $2 \
             WHERE (checked_at, monitor_id) < ($1, $2)",
        )
        .await
        .map_err(pg)?;
    tx.execute(&stmt, &[&advance.0, &advance.1])
        .await
        .map_err(pg)?;
    tx.commit().await.map_err(pg)?;
    Ok(rows.len())
}

pub(super) async fn prune_rollups(
    client: &Object,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<usize, StoreError> {
    rollups::prune(client, cutoff, limit).await
}

#[async_trait]
impl RetentionStore for PostgresStore {
    async fn roll_up_before(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let result = roll_up_before(&mut client, cutoff, limit).await;
        settle(client, result)
    }

    async fn prune_rollups(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let result = prune_rollups(&client, cutoff, limit).await;
        settle(client, result)
    }
}
