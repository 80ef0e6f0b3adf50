//! SQL for the `instances` heartbeats and the job `leases`.

use super::SqliteStore;
use crate::store::ClusterStore;
use async_trait::async_trait;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Transaction};

use super::backend;
use crate::store::{Heartbeat, StoreError, from_millis, to_millis};

pub(super) fn heartbeat(
    tx: &Transaction<'_>,
    beat: &Heartbeat,
    forget_before: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO instances (id, address, started_at, seen_at, checks_last_minute) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET \
         address = excluded.address, seen_at = excluded.seen_at, \
         checks_last_minute = excluded.checks_last_minute",
    )
    .map_err(backend)?
    .execute((
        &beat.instance,
        &beat.address,
        to_millis(beat.started_at),
        to_millis(beat.seen_at),
        i64::try_from(beat.checks_last_minute).unwrap_or(i64::MAX),
    ))
    .map_err(backend)?;
    tx.prepare_cached("DELETE FROM instances WHERE seen_at < ?1")
        .map_err(backend)?
        .execute([to_millis(forget_before)])
        .map_err(backend)?;
    Ok(())
}

pub(super) fn forget_instance(tx: &Transaction<'_>, instance: &str) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM instances WHERE id = ?1")
        .map_err(backend)?
        .execute([instance])
        .map_err(backend)?;
    Ok(())
}

pub(super) fn instances(
    conn: &Connection,
    since: DateTime<Utc>,
) -> Result<Vec<Heartbeat>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, address, started_at, seen_at, checks_last_minute FROM instances \
             WHERE seen_at >= ?1 ORDER BY id",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map([to_millis(since)], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (instance, address, started, seen, checks) = row.map_err(backend)?;
        Ok(Heartbeat {
            instance,
            address,
            started_at: from_millis(started)?,
            seen_at: from_millis(seen)?,
            checks_last_minute: u64::try_from(checks).unwrap_or_default(),
        })
    })
    .collect()
}

pub(super) fn lease(
    tx: &Transaction<'_>,
    job: &str,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    // The update applies only to the holder's own lease or one that ran out; otherwise no
    // row comes back and the lease stays with its holder.
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO leases (job, holder, expires_at) VALUES (?1, ?2, ?4) \
             ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3 \
             RETURNING holder",
        )
        .map_err(backend)?;
    let mut rows = stmt
        .query((job, holder, to_millis(now), to_millis(until)))
        .map_err(backend)?;
    Ok(rows.next().map_err(backend)?.is_some())
}

#[async_trait]
impl ClusterStore for SqliteStore {
    async fn heartbeat(
        &self,
        beat: &Heartbeat,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let beat = beat.clone();
        self.write(move |tx| heartbeat(tx, &beat, forget_before))
            .await
    }

    async fn forget_instance(&self, instance: &str) -> Result<(), StoreError> {
        let instance = instance.to_owned();
        self.write(move |tx| forget_instance(tx, &instance)).await
    }

    async fn instances(&self, since: DateTime<Utc>) -> Result<Vec<Heartbeat>, StoreError> {
        self.run(move |conn| instances(conn, since)).await
    }

    async fn lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (job, holder) = (job.to_owned(), holder.to_owned());
        self.write(move |tx| lease(tx, &job, &holder, now, until))
            .await
    }
}
