//! SQL for the `status_pages` table and the public reads over a page's monitors.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, Row, Transaction};

use super::monitors::{COLUMNS, MonitorRow, read_row};
use super::{SqliteStore, backend, optional, query_row};
use crate::auth::UserId;
use crate::monitor::{Monitor, MonitorId};
use crate::public::{Slug, StatusPage, StatusPageId, StatusPageSpec};
use crate::store::rows::PageRecord;
use crate::store::{
    DayCounts, PUBLIC_INCIDENTS, PublicIncident, PublicSnapshot, StatusPageStore, StoreError,
    from_millis, to_millis,
};

/// A page's columns, in the order [`read_page`] reads them.
const PAGE_COLUMNS: &str =
    "id, user_id, slug, title, description, monitor_ids, created_at, updated_at";

/// The monitor status columns after [`COLUMNS`], from `monitor_status` joined.
const STATUS_JOINED: &str = "monitor_status.checked_at, monitor_status.ok, \
    monitor_status.status_code, monitor_status.latency_us, monitor_status.error_kind, \
    monitor_status.error_message, monitor_status.state";

/// A day in milliseconds, to bucket times by UTC day.
const DAY_MS: i64 = 86_400_000;

fn read_page(row: &Row<'_>) -> rusqlite::Result<(PageRecord, String, [i64; 2])> {
    Ok((
        PageRecord {
            id: row.get(0)?,
            owner: row.get(1)?,
            slug: row.get(2)?,
            title: row.get(3)?,
            description: row.get(4)?,
            monitor_ids: Vec::new(),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        },
        row.get(5)?,
        [row.get(6)?, row.get(7)?],
    ))
}

fn into_page(
    (mut record, ids, times): (PageRecord, String, [i64; 2]),
) -> Result<StatusPage, StoreError> {
    record.monitor_ids = serde_json::from_str(&ids)
        .map_err(|e| StoreError::Corrupt(format!("status page {}: {e}", record.id)))?;
    record.created_at = from_millis(times[0])?;
    record.updated_at = from_millis(times[1])?;
    record.into_page()
}

fn ids_json(ids: &[MonitorId]) -> String {
    let ids: Vec<i64> = ids.iter().map(|m| m.0).collect();
    // A list of integers always serializes.
    serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())
}

/// A unique-constraint failure is the slug (the only unique column a client sets).
fn slug_conflict(error: rusqlite::Error) -> StoreError {
    if error.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) {
        StoreError::Conflict("slug")
    } else {
        backend(error)
    }
}

/// Takes a deleted monitor off its owner's pages, in the transaction that deletes it.
pub(super) fn forget_monitor(
    tx: &Transaction<'_>,
    owner: UserId,
    id: MonitorId,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE status_pages SET monitor_ids = (SELECT json_group_array(value) FROM \
           (SELECT value FROM json_each(monitor_ids) WHERE value != ?2 ORDER BY key)) \
         WHERE user_id = ?1 AND EXISTS (SELECT 1 FROM json_each(monitor_ids) WHERE value = ?2)",
    )
    .and_then(|mut stmt| stmt.execute((owner.0, id.0)))
    .map_err(backend)?;
    Ok(())
}

fn insert(
    tx: &Transaction<'_>,
    owner: UserId,
    spec: &StatusPageSpec,
) -> Result<StatusPage, StoreError> {
    let now = to_millis(Utc::now());
    let sql = format!(
        "INSERT INTO status_pages (user_id, slug, title, description, monitor_ids, created_at, \
         updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING {PAGE_COLUMNS}"
    );
    let row = query_row(
        tx,
        &sql,
        (
            owner.0,
            spec.slug.as_str(),
            &spec.title,
            &spec.description,
            ids_json(&spec.monitor_ids),
            now,
        ),
        read_page,
    )
    .map_err(slug_conflict)?;
    into_page(row)
}

fn update(
    tx: &Transaction<'_>,
    owner: UserId,
    id: StatusPageId,
    spec: &StatusPageSpec,
) -> Result<Option<StatusPage>, StoreError> {
    let sql = format!(
        "UPDATE status_pages SET slug = ?3, title = ?4, description = ?5, monitor_ids = ?6, \
         updated_at = ?7 WHERE id = ?1 AND user_id = ?2 RETURNING {PAGE_COLUMNS}"
    );
    let row = query_row(
        tx,
        &sql,
        (
            id.0,
            owner.0,
            spec.slug.as_str(),
            &spec.title,
            &spec.description,
            ids_json(&spec.monitor_ids),
            to_millis(Utc::now()),
        ),
        read_page,
    );
    match row {
        Ok(row) => into_page(row).map(Some),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(slug_conflict(e)),
    }
}

fn list(conn: &Connection, owner: UserId) -> Result<Vec<StatusPage>, StoreError> {
    let sql = format!("SELECT {PAGE_COLUMNS} FROM status_pages WHERE user_id = ?1 ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt.query_map([owner.0], read_page).map_err(backend)?;
    rows.map(|row| into_page(row.map_err(backend)?)).collect()
}

fn get(
    conn: &Connection,
    owner: UserId,
    id: StatusPageId,
) -> Result<Option<StatusPage>, StoreError> {
    let sql = format!("SELECT {PAGE_COLUMNS} FROM status_pages WHERE id = ?1 AND user_id = ?2");
    optional(query_row(conn, &sql, (id.0, owner.0), read_page))?
        .map(into_page)
        .transpose()
}

fn by_slug(conn: &Connection, slug: &str) -> Result<Option<StatusPage>, StoreError> {
    let sql = format!("SELECT {PAGE_COLUMNS} FROM status_pages WHERE slug = ?1");
    optional(query_row(conn, &sql, [slug], read_page))?
        .map(into_page)
        .transpose()
}

/// The page's monitors its owner still has, in the page's order.
fn page_monitors(conn: &Connection, page: &StatusPage) -> Result<Vec<Monitor>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, {STATUS_JOINED} FROM monitors \
         LEFT JOIN monitor_status ON monitor_status.monitor_id = monitors.id \
         WHERE user_id = ?1 AND id IN (SELECT value FROM json_each(?2))"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt
        .query_map((page.owner.0, ids_json(&page.spec.monitor_ids)), read_row)
        .map_err(backend)?;
    let mut found = rows
        .map(|row| row.map_err(backend)?.into_monitor())
        .collect::<Result<Vec<_>, _>>()?;
    let order = |m: &Monitor| page.spec.monitor_ids.iter().position(|id| *id == m.id);
    found.sort_by_key(order);
    Ok(found)
}

/// Checks and failures packed in one integer, so one index range read sums both: a day
/// holds at most 86,400 checks of a monitor (one a second), far below 2^31.
const PACK: u32 = 32;

fn days(conn: &Connection, ids: &str, from: i64, until: i64) -> Result<Vec<DayCounts>, StoreError> {
    // One short range read per monitor and day, through each table's primary key: grouping
    // the quarter of a million rows of 50 monitors' 90 days by an expression sorted them
    // all and took three times as long. Raw results and rollups never overlap (retention
    // moves rows from one to the other in one transaction), so a day is the sum of both.
    let sql = "WITH RECURSIVE days(d) AS (SELECT ?2 UNION ALL SELECT d + ?3 FROM days \
                                          WHERE d + ?3 <= ?4) \
        SELECT m.value, d / ?3, \
          (SELECT sum((checks << ?5) + failures) FROM rollups \
           WHERE monitor_id = m.value AND hour_start >= d AND hour_start < d + ?3), \
          (SELECT sum((1 << ?5) + 1 - ok) FROM results \
           WHERE monitor_id = m.value AND checked_at >= d AND checked_at < d + ?3) \
        FROM json_each(?1) m, days";
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt
        .query_map((ids, from, DAY_MS, until, PACK), |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<i64>>(2)?,
                row.get::<_, Option<i64>>(3)?,
            ))
        })
        .map_err(backend)?;
    let mut found = Vec::new();
    for row in rows {
        let (monitor, day, rolled, raw) = row.map_err(backend)?;
        let packed = rolled.unwrap_or(0).max(0) as u64 + raw.unwrap_or(0).max(0) as u64;
        if packed == 0 {
            continue;
        }
        found.push(DayCounts {
            monitor: MonitorId(monitor),
            day,
            checks: packed >> PACK,
            failures: packed & ((1 << PACK) - 1),
        });
    }
    Ok(found)
}

fn incidents(conn: &Connection, ids: &str, from: i64) -> Result<Vec<PublicIncident>, StoreError> {
    let sql = "SELECT id, monitor_id, kind, started_at, resolved_at, cause_kind FROM incidents \
        WHERE monitor_id IN (SELECT value FROM json_each(?1)) \
          AND (resolved_at IS NULL OR resolved_at >= ?2) \
        ORDER BY started_at DESC, id DESC LIMIT ?3";
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt
        .query_map((ids, from, PUBLIC_INCIDENTS), |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, Option<i64>>(4)?,
                row.get::<_, String>(5)?,
            ))
        })
        .map_err(backend)?;
    let mut found = Vec::new();
    for row in rows {
        let (id, monitor, kind, started, resolved, cause_kind) = row.map_err(backend)?;
        found.push(PublicIncident {
            id,
            monitor: MonitorId(monitor),
            kind,
            started_at: from_millis(started)?,
            resolved_at: resolved.map(from_millis).transpose()?,
            cause_kind,
        });
    }
    Ok(found)
}

fn public_page(
    conn: &mut Connection,
    slug: &str,
    days_from: i64,
    incidents_from: i64,
) -> Result<Option<PublicSnapshot>, StoreError> {
    // One snapshot: retention moves rows between the tables read here.
    let tx = conn.transaction().map_err(backend)?;
    let Some(page) = by_slug(&tx, slug)? else {
        return Ok(None);
    };
    let monitors = page_monitors(&tx, &page)?;
    let ids: Vec<MonitorId> = monitors.iter().map(|m| m.id).collect();
    let ids = ids_json(&ids);
    let until = to_millis(Utc::now());
    let days = days(&tx, &ids, days_from - days_from.rem_euclid(DAY_MS), until)?;
    let incidents = incidents(&tx, &ids, incidents_from)?;
    Ok(Some(PublicSnapshot {
        page,
        monitors,
        days,
        incidents,
    }))
}

fn page_monitor(
    conn: &Connection,
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
        "SELECT {columns}, {STATUS_JOINED} FROM status_pages p \
         JOIN monitors ON monitors.user_id = p.user_id AND monitors.id = ?2 \
         LEFT JOIN monitor_status ON monitor_status.monitor_id = monitors.id \
         WHERE p.slug = ?1 AND ?2 IN (SELECT value FROM json_each(p.monitor_ids))"
    );
    optional(query_row(conn, &sql, (slug, id.0), read_row))?
        .map(MonitorRow::into_monitor)
        .transpose()
}

#[async_trait]
impl StatusPageStore for SqliteStore {
    async fn create_status_page(
        &self,
        owner: UserId,
        spec: &StatusPageSpec,
    ) -> Result<StatusPage, StoreError> {
        let spec = spec.clone();
        self.write(move |tx| insert(tx, owner, &spec)).await
    }

    async fn list_status_pages(&self, owner: UserId) -> Result<Vec<StatusPage>, StoreError> {
        self.run(move |conn| list(conn, owner)).await
    }

    async fn get_status_page(
        &self,
        owner: UserId,
        id: StatusPageId,
    ) -> Result<Option<StatusPage>, StoreError> {
        self.run(move |conn| get(conn, owner, id)).await
    }

    async fn update_status_page(
        &self,
        owner: UserId,
        id: StatusPageId,
        spec: &StatusPageSpec,
    ) -> Result<Option<StatusPage>, StoreError> {
        let spec = spec.clone();
        self.write(move |tx| update(tx, owner, id, &spec)).await
    }

    async fn delete_status_page(
        &self,
        owner: UserId,
        id: StatusPageId,
    ) -> Result<bool, StoreError> {
        self.write(move |tx| {
            tx.prepare_cached("DELETE FROM status_pages WHERE id = ?1 AND user_id = ?2")
                .and_then(|mut stmt| stmt.execute((id.0, owner.0)))
                .map(|deleted| deleted > 0)
                .map_err(backend)
        })
        .await
    }

    async fn public_page(
        &self,
        slug: &Slug,
        days_from: DateTime<Utc>,
        incidents_from: DateTime<Utc>,
    ) -> Result<Option<PublicSnapshot>, StoreError> {
        let slug = slug.as_str().to_owned();
        let (days_from, incidents_from) = (to_millis(days_from), to_millis(incidents_from));
        self.run(move |conn| public_page(conn, &slug, days_from, incidents_from))
            .await
    }

    async fn page_monitor(
        &self,
        slug: &Slug,
        id: MonitorId,
    ) -> Result<Option<Monitor>, StoreError> {
        let slug = slug.as_str().to_owned();
        self.run(move |conn| page_monitor(conn, &slug, id)).await
    }
}
