//! SQL for the `status_pages` table and the public reads over a page's monitors.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::Object;
use tokio_postgres::{IsolationLevel, Row};

use super::connect::{get, pg};
use super::monitors::{COLUMNS, STATUS, read_row};
use super::{PostgresStore, millis, settle};
use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId};
use crate::public::{Slug, StatusPage, StatusPageId, StatusPageSpec};
use crate::store::rows::PageRecord;
use crate::store::{
    DayCounts, PUBLIC_INCIDENTS, PublicIncident, PublicSnapshot, StatusPageStore, StoreError,
};

/// A page's columns, in the order [`read_page`] reads them.
const PAGE_COLUMNS: &str =
    "id, user_id, slug, title, description, monitor_ids, created_at, updated_at";

fn read_page(row: &Row) -> Result<StatusPage, StoreError> {
    PageRecord {
        id: get(row, 0)?,
        owner: get(row, 1)?,
        slug: get(row, 2)?,
        title: get(row, 3)?,
        description: get(row, 4)?,
        monitor_ids: get(row, 5)?,
        created_at: get(row, 6)?,
        updated_at: get(row, 7)?,
    }
    .into_page()
}

fn ids(ids: &[MonitorId]) -> Vec<i64> {
    ids.iter().map(|m| m.0).collect()
}

/// Takes a deleted monitor off its owner's pages, in the transaction that deletes it.
pub(super) async fn forget_monitor(
    tx: &deadpool_postgres::Transaction<'_>,
    owner: UserId,
    id: MonitorId,
) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached(
            "UPDATE status_pages SET monitor_ids = array_remove(monitor_ids, $2) \
             WHERE user_id = $1 AND $2 = ANY(monitor_ids)",
        )
        .await
        .map_err(pg)?;
    tx.execute(&stmt, &[&owner.0, &id.0]).await.map_err(pg)?;
    Ok(())
}

async fn insert(
    client: &Object,
    owner: UserId,
    spec: &StatusPageSpec,
) -> Result<StatusPage, StoreError> {
    let sql = format!(
        "INSERT INTO status_pages (user_id, slug, title, description, monitor_ids, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {PAGE_COLUMNS}"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let row = client
        .query_one(
            &stmt,
            &[
                &owner.0,
                &spec.slug.as_str(),
                &spec.title,
                &spec.description,
                &ids(&spec.monitor_ids),
                &millis(Utc::now()),
            ],
        )
        .await
        .map_err(pg)?;
    read_page(&row)
}

async fn update(
    client: &Object,
    owner: UserId,
    id: StatusPageId,
    spec: &StatusPageSpec,
) -> Result<Option<StatusPage>, StoreError> {
    let sql = format!(
        "UPDATE status_pages SET slug = $3, title = $4, description = $5, monitor_ids = $6, \
         updated_at = $7 WHERE id = $1 AND user_id = $2 RETURNING {PAGE_COLUMNS}"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let row = client
        .query_opt(
            &stmt,
            &[
                &id.0,
                &owner.0,
                &spec.slug.as_str(),
                &spec.title,
                &spec.description,
                &ids(&spec.monitor_ids),
                &millis(Utc::now()),
            ],
        )
        .await
        .map_err(pg)?;
    row.as_ref().map(read_page).transpose()
}

async fn list(client: &Object, owner: UserId) -> Result<Vec<StatusPage>, StoreError> {
    let sql = format!("SELECT {PAGE_COLUMNS} FROM status_pages WHERE user_id = $1 ORDER BY id");
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let rows = client.query(&stmt, &[&owner.0]).await.map_err(pg)?;
    rows.iter().map(read_page).collect()
}

async fn get_one(
    client: &Object,
    owner: UserId,
    id: StatusPageId,
) -> Result<Option<StatusPage>, StoreError> {
    let sql = format!("SELECT {PAGE_COLUMNS} FROM status_pages WHERE id = $1 AND user_id = $2");
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let row = client
        .query_opt(&stmt, &[&id.0, &owner.0])
        .await
        .map_err(pg)?;
    row.as_ref().map(read_page).transpose()
}

async fn delete(client: &Object, owner: UserId, id: StatusPageId) -> Result<bool, StoreError> {
    let stmt = client
        .prepare_cached("DELETE FROM status_pages WHERE id = $1 AND user_id = $2")
        .await
        .map_err(pg)?;
    let deleted = client
        .execute(&stmt, &[&id.0, &owner.0])
        .await
        .map_err(pg)?;
    Ok(deleted > 0)
}

async fn public_page(
    client: &mut Object,
    slug: &str,
    days_from: DateTime<Utc>,
    incidents_from: DateTime<Utc>,
) -> Result<Option<PublicSnapshot>, StoreError> {
    // One snapshot: retention moves rows from results to rollups while this reads both.
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg)?;
    let sql = format!("SELECT {PAGE_COLUMNS} FROM status_pages WHERE slug = $1");
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    let Some(row) = tx.query_opt(&stmt, &[&slug]).await.map_err(pg)? else {
        return Ok(None);
    };
    let page = read_page(&row)?;
    let sql = format!(
        "SELECT {COLUMNS}, {STATUS} FROM monitors \
         LEFT JOIN monitor_status s ON s.monitor_id = monitors.id \
         WHERE user_id = $1 AND id = ANY($2)"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    let rows = tx
        .query(&stmt, &[&page.owner.0, &ids(&page.spec.monitor_ids)])
        .await
        .map_err(pg)?;
    let mut monitors = rows.iter().map(read_row).collect::<Result<Vec<_>, _>>()?;
    monitors.sort_by_key(|m| page.spec.monitor_ids.iter().position(|id| *id == m.id));
    let shown: Vec<i64> = monitors.iter().map(|m| m.id.0).collect();
    // Raw rows at or below the roll-up mark are already in the rollups.
    let stmt = tx
        .prepare_cached(
            "SELECT monitor_id, day, SUM(checks)::bigint, SUM(failures)::bigint FROM ( \
               SELECT monitor_id, floor(extract(epoch FROM hour_start) / 86400)::bigint AS day, \
                      checks, failures FROM rollups \
               WHERE monitor_id = ANY($1) AND hour_start >= $2 \
               UNION ALL \
               SELECT r.monitor_id, floor(extract(epoch FROM r.checked_at) / 86400)::bigint, \
                      count(*), count(*) FILTER (WHERE NOT r.ok) \
               FROM results r, rollup_mark m \
               WHERE r.monitor_id = ANY($1) AND r.checked_at >= $2 \
                 AND (r.checked_at, r.monitor_id) > (m.checked_at, m.monitor_id) \
               GROUP BY 1, 2 \
             ) t GROUP BY monitor_id, day",
        )
        .await
        .map_err(pg)?;
    let day_start = days_from
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(days_from, |d| d.and_utc());
    let rows = tx.query(&stmt, &[&shown, &day_start]).await.map_err(pg)?;
    let days = rows
        .iter()
        .map(|row| {
            Ok(DayCounts {
                monitor: MonitorId(get(row, 0)?),
                day: get(row, 1)?,
                checks: get::<i64>(row, 2)?.max(0) as u64,
                failures: get::<i64>(row, 3)?.max(0) as u64,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let stmt = tx
        .prepare_cached(
            "SELECT id, monitor_id, kind, started_at, resolved_at, cause_kind FROM incidents \
             WHERE monitor_id = ANY($1) AND (resolved_at IS NULL OR resolved_at >= $2) \
             ORDER BY started_at DESC, id DESC LIMIT $3",
        )
        .await
        .map_err(pg)?;
    let limit = i64::from(PUBLIC_INCIDENTS);
    let rows = tx
        .query(&stmt, &[&shown, &millis(incidents_from), &limit])
        .await
        .map_err(pg)?;
    let incidents = rows
        .iter()
        .map(|row| {
            Ok(PublicIncident {
                id: get(row, 0)?,
                monitor: MonitorId(get(row, 1)?),
                kind: get(row, 2)?,
                started_at: get(row, 3)?,
                resolved_at: get(row, 4)?,
                cause_kind: get(row, 5)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    tx.commit().await.map_err(pg)?;
    Ok(Some(PublicSnapshot {
        page,
        monitors,
        days,
        incidents,
    }))
}

async fn page_monitor(
    client: &Object,
    slug: &str,
    id: MonitorId,
) -> Result<Option<Monitor>, StoreError> {
    // `status_pages` shares column names with `monitors`, so the monitor's are qualified.
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("monitors.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns}, {STATUS} FROM status_pages p \
         JOIN monitors ON monitors.user_id = p.user_id AND monitors.id = $2 \
         LEFT JOIN monitor_status s ON s.monitor_id = monitors.id \
         WHERE p.slug = $1 AND $2 = ANY(p.monitor_ids)"
    );
    let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
    let row = client.query_opt(&stmt, &[&slug, &id.0]).await.map_err(pg)?;
    row.as_ref().map(read_row).transpose()
}

#[async_trait]
impl StatusPageStore for PostgresStore {
    async fn create_status_page(
        &self,
        owner: UserId,
        spec: &StatusPageSpec,
    ) -> Result<StatusPage, StoreError> {
        let client = self.client().await?;
        let result = insert(&client, owner, spec).await;
        settle(client, result)
    }

    async fn list_status_pages(&self, owner: UserId) -> Result<Vec<StatusPage>, StoreError> {
        let client = self.client().await?;
        let result = list(&client, owner).await;
        settle(client, result)
    }

    async fn get_status_page(
        &self,
        owner: UserId,
        id: StatusPageId,
    ) -> Result<Option<StatusPage>, StoreError> {
        let client = self.client().await?;
        let result = get_one(&client, owner, id).await;
        settle(client, result)
    }

    async fn update_status_page(
        &self,
        owner: UserId,
        id: StatusPageId,
        spec: &StatusPageSpec,
    ) -> Result<Option<StatusPage>, StoreError> {
        let client = self.client().await?;
        let result = update(&client, owner, id, spec).await;
        settle(client, result)
    }

    async fn delete_status_page(
        &self,
        owner: UserId,
        id: StatusPageId,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let result = delete(&client, owner, id).await;
        settle(client, result)
    }

    async fn public_page(
        &self,
        slug: &Slug,
        days_from: DateTime<Utc>,
        incidents_from: DateTime<Utc>,
    ) -> Result<Option<PublicSnapshot>, StoreError> {
        let mut client = self.client().await?;
        let result = public_page(&mut client, slug.as_str(), days_from, incidents_from).await;
        settle(client, result)
    }

    async fn page_monitor(
        &self,
        slug: &Slug,
        id: MonitorId,
    ) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = page_monitor(&client, slug.as_str(), id).await;
        settle(client, result)
    }
}
