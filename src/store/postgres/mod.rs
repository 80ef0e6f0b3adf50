//! PostgreSQL, for several instances sharing one database (and failing over between hosts).
//!
//! Raw results live in one partition per UTC day. Retention never deletes them row by row:
//! it rolls them up in `(checked_at, monitor_id)` order and moves a single watermark, the
//! roll-up mark, past them; raw rows at or below the mark are logically gone, and a day's
//! partition is dropped whole once the mark has passed its end.

mod api_keys;
mod apply;
mod changes;
mod channels;
mod cluster;
mod connect;
mod health;
mod incidents;
mod maintenance;
mod monitor_columns;
mod monitors;
mod pages;
mod partitions;
mod results;
mod retention;
mod rollups;
mod scheduling;
mod sessions;
mod status_pages;
mod tallies;
mod tls;
mod users;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Object, Pool};
use tokio::sync::mpsc;

use super::{LifecycleStore, MonitorChange, StoreError};
use connect::pg;
use partitions::Partitions;

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// Serialises migrations of instances starting at once (an arbitrary, fixed key).
const MIGRATE_LOCK: i64 = 0x746f_6373_696e_0001;

/// How often an insert retries after finding a partition it counted on dropped.
pub(super) const PARTITION_ATTEMPTS: usize = 3;

/// A [`Store`] on a PostgreSQL database, through a pool of connections.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: Pool,
    partitions: Arc<Partitions>,
    /// How the pool connects, for the change listener's own connection.
    config: Arc<tokio_postgres::Config>,
    tls: tls::Connector,
    /// This store's mark on the changes it announces, so its listener skips them.
    origin: u64,
}

impl PostgresStore {
    /// Connects to the database at the libpq-style `url` (several hosts allowed); fails
    /// with [`StoreError::Unavailable`] within the connect timeout if none answers.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let (config, tls) = connect::config(url)?;
        let store = Self {
            pool: connect::pool(url, config.clone(), tls.clone())?,
            partitions: Arc::default(),
            config: Arc::new(config),
            tls,
            origin: rand::random(),
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
pub(super) fn settle<T>(client: Object, result: Result<T, StoreError>) -> Result<T, StoreError> {
    if matches!(result, Err(StoreError::Unavailable(_))) {
        drop(Object::take(client));
    }
    result
}

/// `at` cut to the millisecond, the resolution every store keeps.
pub(super) fn millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

impl PostgresStore {
    /// Applies the migrations up to `version` and no further: upgrade tests build a
    /// database as an older tocsin left it, then migrate it the rest of the way.
    pub async fn migrate_to(&self, version: u32) -> Result<(), StoreError> {
        let version = version
            .try_into()
            .map_err(|_| StoreError::Backend(format!("no migration version {version}")))?;
        self.run_migrations(refinery::Target::Version(version))
            .await
    }

    async fn run_migrations(&self, target: refinery::Target) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let result = async {
            // A session lock, not a transaction's: refinery runs each migration in a
            // transaction of its own.
            client
                .execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK])
                .await
                .map_err(pg)?;
            let ran = embedded::migrations::runner()
                .set_target(target)
                .run_async(&mut **client)
                .await
                .map(|_| ())
                .map_err(|e| StoreError::Backend(format!("migration failed: {e}")));
            client
                .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK])
                .await
                .map_err(pg)?;
            ran?;
            if matches!(target, refinery::Target::Latest) {
                self.partitions
                    .ensure_ahead(&mut client, Utc::now())
                    .await?;
            }
            Ok(())
        }
        .await;
        settle(client, result)
    }
}

#[async_trait]
impl LifecycleStore for PostgresStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        self.run_migrations(refinery::Target::Latest).await
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

    async fn upkeep(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let result = self.partitions.upkeep(&mut client, now).await;
        settle(client, result)
    }

    fn monitor_changes(&self) -> Option<mpsc::Receiver<MonitorChange>> {
        Some(changes::spawn(
            self.config.clone(),
            self.tls.clone(),
            self.origin,
        ))
    }
}
