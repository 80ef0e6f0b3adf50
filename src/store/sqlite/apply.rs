//! Applying a document's changes in one write transaction.

use async_trait::async_trait;

use super::{SqliteStore, monitors};
use crate::auth::UserId;
use crate::store::{Applied, ApplyStore, Changes, StoreError};

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
            for &id in &changes.delete {
                if !monitors::delete(tx, owner, id)? {
                    return Err(gone());
                }
                applied.deleted.push(id);
            }
            for (id, spec, paused) in &changes.update {
                let mut monitor = monitors::update(tx, owner, *id, spec)?.ok_or_else(gone)?;
                if monitor.paused != *paused {
                    monitor = monitors::set_paused(tx, owner, *id, *paused)?.ok_or_else(gone)?;
                }
                applied.updated.push(monitor);
            }
            for (spec, paused) in &changes.create {
                let mut monitor = monitors::insert(tx, owner, spec, limit)?;
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
