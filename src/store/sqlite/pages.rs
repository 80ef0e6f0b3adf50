//! Pages of an owner's monitors (see [`crate::store::MonitorPageStore`]).

use async_trait::async_trait;
use rusqlite::Connection;

use super::monitors::{COLUMNS, FROM_JOINED, STATUS_JOINED, read_row};
use super::{SqliteStore, backend};
use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId};
use crate::store::{MonitorPageStore, StoreError};

fn page(
    conn: &Connection,
    owner: UserId,
    after: Option<MonitorId>,
    limit: u32,
) -> Result<Vec<Monitor>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, {STATUS_JOINED} FROM {FROM_JOINED} \
         WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let after = after.map_or(0, |id| id.0);
    let rows = stmt
        .query_map((owner.0, after, limit), read_row)
        .map_err(backend)?;
    rows.map(|row| row.map_err(backend)?.into_monitor())
        .collect()
}

#[async_trait]
impl MonitorPageStore for SqliteStore {
    async fn monitors_page(
        &self,
        owner: UserId,
        after: Option<MonitorId>,
        limit: u32,
    ) -> Result<Vec<Monitor>, StoreError> {
        self.run(move |conn| page(conn, owner, after, limit)).await
    }
}
