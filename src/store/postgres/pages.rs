//! Pages of an owner's monitors (see [`crate::store::MonitorPageStore`]).

use async_trait::async_trait;

use super::connect::{bigint, pg};
use super::monitors::{COLUMNS, STATUS, read_row};
use super::{PostgresStore, settle};
use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId};
use crate::store::{MonitorPageStore, StoreError};

async fn page(
    client: &deadpool_postgres::Object,
    owner: UserId,
    after: Option<MonitorId>,
    limit: u32,
) -> Result<Vec<Monitor>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, {STATUS} FROM monitors \
         LEFT JOIN monitor_status s ON s.monitor_id = monitors.id \
         WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let after = after.map_or(0, |id| id.0);
    let rows = client
        .query(&stmt, &[&owner.0, &after, &bigint(limit)])
        .await
        .map_err(pg)?;
    rows.iter().map(read_row).collect()
}

#[async_trait]
impl MonitorPageStore for PostgresStore {
    async fn monitors_page(
        &self,
        owner: UserId,
        after: Option<MonitorId>,
        limit: u32,
    ) -> Result<Vec<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = page(&client, owner, after, limit).await;
        settle(client, result)
    }
}
