//! PostgreSQL, for several instances sharing one database (and failing over between hosts).
//!
//! Raw results live in one partition per UTC day. Retention never deletes them row by row:
//! it rolls them up in `(checked_at, monitor_id)` order and moves a single watermark, the
//! roll-up mark, past them; raw rows at or below the mark are logically gone, and a day's
//! partition is dropped whole once the mark has passed its end.

mod changes;
mod cluster;
mod connect;
mod monitors;
mod partitions;
mod results;
mod retention;
mod rollups;
mod scheduling;
mod users;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Object, Pool};
use tokio::sync::mpsc;

use super::{
    Claim, Heartbeat, MonitorChange, Store, StoreError, StoredResult, User, UserCredentials,
    WindowData,
};
use crate::auth::{Email, UserId};
use crate::check::CheckRecord;
use crate::monitor::{Monitor, MonitorId, MonitorSpec};
use connect::pg;
use partitions::Partitions;

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// Serialises migrations of instances starting at once (an arbitrary, fixed key).
const MIGRATE_LOCK: i64 = 0x746f_6373_696e_0001;

/// How often an insert retries after finding a partition it counted on dropped.
const PARTITION_ATTEMPTS: usize = 3;

/// A [`Store`] on a PostgreSQL database, through a pool of connections.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: Pool,
    partitions: Arc<Partitions>,
    /// How the pool connects, for the change listener's own connection.
    config: Arc<tokio_postgres::Config>,
}

impl PostgresStore {
    /// Connects to the database at the libpq-style `url` (several hosts allowed); fails
    /// with [`StoreError::Unavailable`] within the connect timeout if none answers.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let config = connect::config(url)?;
        let store = Self {
            pool: connect::pool(url, config.clone())?,
            partitions: Arc::default(),
            config: Arc::new(config),
        };
        // One connection now, so a wrong URL fails at start rather than on the first request.
        store.ping().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(connect::pool_error)
    }
}

/// Hands the connection back to the pool, or drops it when the error says it is no use any
/// more (a closed socket, or a server that turned into a read-only standby after a
/// failover), so the next caller connects afresh and finds the new primary.
fn settle<T>(client: Object, result: Result<T, StoreError>) -> Result<T, StoreError> {
    if matches!(result, Err(StoreError::Unavailable(_))) {
        drop(Object::take(client));
    }
    result
}

/// `at` cut to the millisecond, the resolution every store keeps.
fn millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let result = async {
            // A session lock, not a transaction's: refinery runs each migration in a
            // transaction of its own.
            client
                .execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK])
                .await
                .map_err(pg)?;
            let ran = embedded::migrations::runner()
                .run_async(&mut **client)
                .await
                .map(|_| ())
                .map_err(|e| StoreError::Backend(format!("migration failed: {e}")));
            client
                .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK])
                .await
                .map_err(pg)?;
            ran?;
            self.partitions.ensure_ahead(&mut client, Utc::now()).await
        }
        .await;
        settle(client, result)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        let result = client
            .simple_query("SELECT 1")
            .await
            .map(|_| ())
            .map_err(pg);
        settle(client, result)
    }

    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let client = self.client().await?;
        let result = users::setting_or_insert(&client, key, value).await;
        settle(client, result)
    }

    async fn create_user(&self, email: &Email, password_hash: &str) -> Result<User, StoreError> {
        let client = self.client().await?;
        let result = users::insert(&client, email, password_hash).await;
        settle(client, result)
    }

    async fn user_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError> {
        let client = self.client().await?;
        let result = users::credentials(&client, email).await;
        settle(client, result)
    }

    async fn create_monitor(
        &self,
        owner: UserId,
        spec: &MonitorSpec,
        limit: u32,
    ) -> Result<Monitor, StoreError> {
        let mut client = self.client().await?;
        let result = monitors::insert(&mut client, owner, spec, limit).await;
        settle(client, result)
    }

    async fn list_monitors(&self, owner: UserId) -> Result<Vec<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = monitors::list(&client, owner).await;
        settle(client, result)
    }

    async fn get_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
    ) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = monitors::get_one(&client, owner, id).await;
        settle(client, result)
    }

    async fn update_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
        spec: &MonitorSpec,
    ) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = monitors::update(&client, owner, id, spec).await;
        settle(client, result)
    }

    async fn set_paused(
        &self,
        owner: UserId,
        id: MonitorId,
        paused: bool,
    ) -> Result<Option<Monitor>, StoreError> {
        let client = self.client().await?;
        let result = monitors::set_paused(&client, owner, id, paused).await;
        settle(client, result)
    }

    async fn delete_monitor(&self, owner: UserId, id: MonitorId) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let result = monitors::delete(&mut client, owner, id).await;
        settle(client, result)
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Claim>, StoreError> {
        let client = self.client().await?;
        let result = scheduling::claim_due(&client, millis(now), millis(until), limit).await;
        settle(client, result)
    }

    async fn release_claims(&self, claims: &[Claim]) -> Result<(), StoreError> {
        if claims.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let result = scheduling::release_claims(&mut client, claims).await;
        settle(client, result)
    }

    async fn insert_results(&self, batch: &[CheckRecord]) -> Result<usize, StoreError> {
        if batch.is_empty() {
            return Ok(0);
        }
        let columns = results::Columns::new(batch)?;
        let mut client = self.client().await?;
        let result = async {
            let days = columns.days();
            for _ in 0..PARTITION_ATTEMPTS {
                self.partitions.ensure(&mut client, &days).await?;
                if let Some(inserted) = results::insert(&mut client, &columns).await? {
                    return Ok(inserted);
                }
                // Another instance's upkeep dropped a partition this one thought was there.
                self.partitions.forget(&days);
            }
            Err(StoreError::Unavailable(
                "result partitions keep disappearing under the insert".into(),
            ))
        }
        .await;
        settle(client, result)
    }

    async fn list_results(
        &self,
        owner: UserId,
        id: MonitorId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Option<Vec<StoredResult>>, StoreError> {
        let mut client = self.client().await?;
        let result = results::list(&mut client, owner, id, before, limit).await;
        settle(client, result)
    }

    async fn window(
        &self,
        owner: UserId,
        id: MonitorId,
        from: DateTime<Utc>,
    ) -> Result<Option<WindowData>, StoreError> {
        let mut client = self.client().await?;
        let result = results::window(&mut client, owner, id, from).await;
        settle(client, result)
    }

    async fn roll_up_before(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let result = retention::roll_up_before(&mut client, cutoff, limit).await;
        settle(client, result)
    }

    async fn prune_rollups(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let result = retention::prune_rollups(&client, cutoff, limit).await;
        settle(client, result)
    }

    async fn heartbeat(
        &self,
        beat: &Heartbeat,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        let result = cluster::heartbeat(&client, beat, forget_before).await;
        settle(client, result)
    }

    async fn instances(&self, since: DateTime<Utc>) -> Result<Vec<Heartbeat>, StoreError> {
        let client = self.client().await?;
        let result = cluster::instances(&client, since).await;
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
        let result = cluster::lease(&client, job, holder, now, until).await;
        settle(client, result)
    }

    async fn upkeep(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let result = self.partitions.upkeep(&mut client, now).await;
        settle(client, result)
    }

    fn monitor_changes(&self) -> Option<mpsc::Receiver<MonitorChange>> {
        Some(changes::spawn(self.config.clone()))
    }
}
