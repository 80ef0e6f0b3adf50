//! Applying a document's changes in one transaction. The statements are those of
//! [`super::monitors`], run on the transaction; updates and deletions are announced to the
//! other instances as they are one by one, and only if the transaction commits.

use async_trait::async_trait;
use chrono::Utc;
use deadpool_postgres::{Object, Transaction};
use tokio_postgres::types::ToSql;

use super::changes;
use super::connect::pg;
use super::monitors::{Bound, COLUMNS, SPEC_COLUMNS, STATUS, create, read_row};
use super::{PostgresStore, millis, settle};
use crate::alerting::ChannelId;
use crate::alerting::channels::ChannelConfig;
use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId, MonitorSpec};
use crate::store::{Applied, ApplyStore, Changes, StoreError};

/// Deletes a channel and its id from the owner's monitors, as `delete_channel` does.
async fn delete_channel(
    tx: &Transaction<'_>,
    owner: UserId,
    id: ChannelId,
) -> Result<(), StoreError> {
    let gone = tx
        .execute(
            "DELETE FROM channels WHERE id = $1 AND user_id = $2",
            &[&id.0, &owner.0],
        )
        .await
        .map_err(pg)?;
    if gone == 0 {
        return Err(StoreError::Conflict("channel"));
    }
    tx.execute(
        "UPDATE monitors SET channel_ids = array_remove(channel_ids, $2) \
         WHERE user_id = $1 AND $2 = ANY (channel_ids)",
        &[&owner.0, &id.0],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

async fn update_channel(
    tx: &Transaction<'_>,
    owner: UserId,
    id: ChannelId,
    config: &ChannelConfig,
) -> Result<(), StoreError> {
    let now = millis(Utc::now());
    let changed = tx
        .execute(
            "UPDATE channels SET config = $3, updated_at = $4 WHERE id = $1 AND user_id = $2",
            &[&id.0, &owner.0, &config.to_stored(), &now],
        )
        .await
        .map_err(pg)?;
    if changed == 0 {
        return Err(StoreError::Conflict("channel"));
    }
    Ok(())
}

async fn create_channel(
    tx: &Transaction<'_>,
    owner: UserId,
    name: &str,
    config: &ChannelConfig,
) -> Result<ChannelId, StoreError> {
    let now = millis(Utc::now());
    let row = tx
        .query_one(
            "INSERT INTO channels (user_id, name, kind, config, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            &[
                &owner.0,
                &name,
                &config.kind().as_str(),
                &config.to_stored(),
                &now,
            ],
        )
        .await
        .map_err(|e| match pg(e) {
            StoreError::Conflict(_) => StoreError::Conflict("channel name"),
            other => other,
        })?;
    Ok(ChannelId(row.get(0)))
}

/// `UPDATE monitors … RETURNING *` given as `update`, read back with its status and
/// announced.
async fn updated(
    tx: &Transaction<'_>,
    origin: u64,
    update: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Monitor, StoreError> {
    let notify = changes::notify_sql("m", origin);
    let sql = format!(
        "WITH m AS ({update} RETURNING *) SELECT {COLUMNS}, {STATUS}, {notify} \
         FROM m LEFT JOIN monitor_status s ON s.monitor_id = m.id"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    let row = tx.query_opt(&stmt, params).await.map_err(pg)?;
    row.as_ref()
        .map(read_row)
        .transpose()?
        .ok_or(StoreError::Conflict("monitor"))
}

async fn update(
    tx: &Transaction<'_>,
    origin: u64,
    owner: UserId,
    id: MonitorId,
    spec: &MonitorSpec,
    paused: bool,
) -> Result<Monitor, StoreError> {
    let bound = Bound::new(spec)?;
    let now = millis(Utc::now());
    // Resuming makes the monitor due at once, as `set_paused` does.
    let update = format!(
        "UPDATE monitors SET ({SPEC_COLUMNS}, updated_at) = ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20), paused = $23, \
         next_check_at = CASE WHEN paused AND NOT $23 THEN $20 ELSE next_check_at END \
         WHERE id = $21 AND user_id = $22"
    );
    updated(
        tx,
        origin,
        &update,
        &bound.then(&[&now, &id.0, &owner.0, &paused]),
    )
    .await
}

async fn delete(
    tx: &Transaction<'_>,
    origin: u64,
    owner: UserId,
    id: MonitorId,
) -> Result<(), StoreError> {
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
        return Err(StoreError::Conflict("monitor"));
    }
    let count = tx
        .prepare_cached("UPDATE users SET monitor_count = monitor_count - 1 WHERE id = $1")
        .await
        .map_err(pg)?;
    tx.execute(&count, &[&owner.0]).await.map_err(pg)?;
    // Off its owner's status pages, as a deletion through `monitors` does.
    super::status_pages::forget_monitor(tx, owner, id).await?;
    // Results have no foreign key to cascade along (see the migration).
    let results = tx
        .prepare_cached("DELETE FROM results WHERE monitor_id = $1")
        .await
        .map_err(pg)?;
    tx.execute(&results, &[&id.0]).await.map_err(pg)?;
    Ok(())
}

async fn apply(
    client: &mut Object,
    origin: u64,
    owner: UserId,
    changes: &Changes,
    limit: u32,
) -> Result<Applied, StoreError> {
    // Dropped without a commit on any error: nothing is changed, and nothing announced.
    let tx = client.transaction().await.map_err(pg)?;
    let mut applied = Applied::default();
    for &id in &changes.delete_channels {
        delete_channel(&tx, owner, id).await?;
    }
    for (id, config) in &changes.update_channels {
        update_channel(&tx, owner, *id, config).await?;
    }
    let mut created = Vec::new();
    for (name, config) in &changes.create_channels {
        created.push(create_channel(&tx, owner, name, config).await?);
    }
    for &id in &changes.delete {
        delete(&tx, origin, owner, id).await?;
        applied.deleted.push(id);
    }
    for (id, spec, paused) in &changes.update {
        applied.updated.push(
            update(
                &tx,
                origin,
                owner,
                *id,
                &changes.linked(spec, &created)?,
                *paused,
            )
            .await?,
        );
    }
    for (spec, paused) in &changes.create {
        applied
            .created
            .push(create(&tx, owner, &changes.linked(spec, &created)?, *paused, limit).await?);
    }
    tx.commit().await.map_err(pg)?;
    Ok(applied)
}

#[async_trait]
impl ApplyStore for PostgresStore {
    async fn apply_changes(
        &self,
        owner: UserId,
        changes: &Changes,
        limit: u32,
    ) -> Result<Applied, StoreError> {
        let mut client = self.client().await?;
        let result = apply(&mut client, self.origin, owner, changes, limit).await;
        settle(client, result)
    }
}
