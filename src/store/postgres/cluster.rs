//! SQL for the `instances` heartbeats and the job `leases`.

use super::{PostgresStore, settle};
use crate::store::ClusterStore;
use async_trait::async_trait;

use chrono::{DateTime, Utc};
use deadpool_postgres::Object;

use super::connect::{get, pg};
use super::millis;
use crate::store::{Heartbeat, StoreError};

pub(super) async fn heartbeat(
    client: &Object,
    beat: &Heartbeat,
    forget_before: DateTime<Utc>,
) -> Result<(), StoreError> {
    let upsert = client
        .prepare_cached(
            "INSERT INTO instances (id, address, started_at, seen_at, checks_last_minute) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET \
             address = excluded.address, seen_at = excluded.seen_at, \
             checks_last_minute = excluded.checks_last_minute",
        )
        .await
        .map_err(pg)?;
    let checks = i64::try_from(beat.checks_last_minute).unwrap_or(i64::MAX);
    client
        .execute(
            &upsert,
            &[
                &beat.instance,
                &beat.address,
                &millis(beat.started_at),
                &millis(beat.seen_at),
                &checks,
            ],
        )
        .await
        .map_err(pg)?;
    let forget = client
        .prepare_cached("DELETE FROM instances WHERE seen_at < $1")
        .await
        .map_err(pg)?;
    client
        .execute(&forget, &[&millis(forget_before)])
        .await
        .map_err(pg)?;
    Ok(())
}

pub(super) async fn forget_instance(client: &Object, instance: &str) -> Result<(), StoreError> {
    let stmt = client
        .prepare_cached("DELETE FROM instances WHERE id = $1")
        .await
        .map_err(pg)?;
    client.execute(&stmt, &[&instance]).await.map_err(pg)?;
    Ok(())
}

pub(super) async fn instances(
    client: &Object,
    since: DateTime<Utc>,
) -> Result<Vec<Heartbeat>, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT id, address, started_at, seen_at, checks_last_minute FROM instances \
             WHERE seen_at >= $1 ORDER BY id",
        )
        .await
        .map_err(pg)?;
    let rows = client.query(&stmt, &[&millis(since)]).await.map_err(pg)?;
    rows.iter()
        .map(|row| {
            Ok(Heartbeat {
                instance: get(row, 0)?,
                address: get(row, 1)?,
                started_at: get(row, 2)?,
                seen_at: get(row, 3)?,
                checks_last_minute: u64::try_from(get::<i64>(row, 4)?).unwrap_or_default(),
            })
        })
        .collect()
}

pub(super) async fn lease(
    client: &Object,
    job: &str,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    // The update applies only to the holder's own lease or one that ran out; otherwise no
    // row comes back and the lease stays with its holder. ON CONFLICT makes concurrent
    // takers of a new job wait for each other, so exactly one wins.
    let stmt = client
        .prepare_cached(
            "INSERT INTO leases (job, holder, expires_at) VALUES ($1, $2, $4) \
             ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= $3 \
             RETURNING holder",
        )
        .await
        .map_err(pg)?;
    let row = client
        .query_opt(&stmt, &[&job, &holder, &millis(now), &millis(until)])
        .await
        .map_err(pg)?;
    Ok(row.is_some())
}

#[async_trait]
impl ClusterStore for PostgresStore {
    async fn heartbeat(
        &self,
        beat: &Heartbeat,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        let result = heartbeat(&client, beat, forget_before).await;
        settle(client, result)
    }

    async fn forget_instance(&self, instance: &str) -> Result<(), StoreError> {
        let client = self.client().await?;
        let result = forget_instance(&client, instance).await;
        settle(client, result)
    }

    async fn instances(&self, since: DateTime<Utc>) -> Result<Vec<Heartbeat>, StoreError> {
        let client = self.client().await?;
        let result = instances(&client, since).await;
        settle(client, result)
    }

    async fn lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let result = lease(&client, job, holder, now, until).await;
        settle(client, result)
    }
}
