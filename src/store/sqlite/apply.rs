//! Applying a document's changes in one write transaction.

use async_trait::async_trait;
use chrono::Utc;
use rusqlite::{ErrorCode, Transaction};

use super::{SqliteStore, backend, monitors};
use crate::alerting::ChannelId;
use crate::alerting::channels::ChannelConfig;
use crate::auth::UserId;
use crate::store::{Applied, ApplyStore, Changes, StoreError, to_millis};

/// Deletes a channel and its id from the owner's monitors, as `delete_channel` does.
fn delete_channel(tx: &Transaction<'_>, owner: UserId, id: ChannelId) -> Result<(), StoreError> {
    let gone = tx
        .execute(
            "DELETE FROM channels WHERE id = ?1 AND user_id = ?2",
            (id.0, owner.0),
        )
        .map_err(backend)?;
    if gone == 0 {
        return Err(StoreError::Conflict("channel"));
    }
    tx.execute(
        "UPDATE monitors SET channel_ids = \
             (SELECT json_group_array(value) FROM \
                 (SELECT value FROM json_each(monitors.channel_ids) \
                  WHERE value <> ?2 ORDER BY value)) \
         WHERE user_id = ?1 \
           AND EXISTS (SELECT 1 FROM json_each(monitors.channel_ids) WHERE value = ?2)",
        (owner.0, id.0),
    )
    .map_err(backend)?;
    Ok(())
}

fn update_channel(
    tx: &Transaction<'_>,
    owner: UserId,
    id: ChannelId,
    config: &ChannelConfig,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE channels SET config = ?3, updated_at = ?4 WHERE id = ?1 AND user_id = ?2",
            (
                id.0,
                owner.0,
                config.to_stored().to_string(),
                to_millis(Utc::now()),
            ),
        )
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::Conflict("channel"));
    }
    Ok(())
}

fn create_channel(
    tx: &Transaction<'_>,
    owner: UserId,
    name: &str,
    config: &ChannelConfig,
) -> Result<ChannelId, StoreError> {
    tx.query_row(
        "INSERT INTO channels (user_id, name, kind, config, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id",
        (
            owner.0,
            name,
            config.kind().as_str(),
            config.to_stored().to_string(),
            to_millis(Utc::now()),
        ),
        |row| row.get(0),
    )
    .map(ChannelId)
    .map_err(|e| {
        if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) {
            StoreError::Conflict("channel name")
        } else {
            backend(e)
        }
    })
}

#[async_trait]
impl ApplyStore for SqliteStore {
    async fn apply_changes(
        &self,
        owner: UserId,
        changes: &Changes,
        limit: u32,
    ) -> Result<Applied, StoreError> {
        let changes = changes.clone();
        // An error anywhere drops the transaction uncommitted: nothing is changed.
        self.write(move |tx| {
            let gone = || StoreError::Conflict("monitor");
            let mut applied = Applied::default();
            for &id in &changes.delete_channels {
                delete_channel(tx, owner, id)?;
            }
            for (id, config) in &changes.update_channels {
                update_channel(tx, owner, *id, config)?;
            }
            let mut created = Vec::new();
            for (name, config) in &changes.create_channels {
                created.push(create_channel(tx, owner, name, config)?);
            }
            for &id in &changes.delete {
                if !monitors::delete(tx, owner, id)? {
                    return Err(gone());
                }
                applied.deleted.push(id);
            }
            for (id, spec, paused) in &changes.update {
                let spec = changes.linked(spec, &created)?;
                let mut monitor = monitors::update(tx, owner, *id, &spec)?.ok_or_else(gone)?;
                if monitor.paused != *paused {
                    monitor = monitors::set_paused(tx, owner, *id, *paused)?.ok_or_else(gone)?;
                }
                applied.updated.push(monitor);
            }
            for (spec, paused) in &changes.create {
                let spec = changes.linked(spec, &created)?;
                let mut monitor = monitors::insert(tx, owner, &spec, limit)?;
                if *paused {
                    monitor =
                        monitors::set_paused(tx, owner, monitor.id, true)?.ok_or_else(gone)?;
                }
                applied.created.push(monitor);
            }
            Ok(applied)
        })
        .await
    }
}
