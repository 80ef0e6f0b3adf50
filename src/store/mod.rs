//! Persistence behind narrow role traits ([`roles`]: accounts, monitors, claims, results,
//! retention, cluster, status pages), each implemented by SQLite and PostgreSQL in the backend's file of
//! the same name, so the two are interchangeable and pass one shared test suite. Driver
//! types never leave this module: callers see domain types and [`StoreError`].

mod channel_rows;
mod incident_rows;
mod postgres;
mod roles;
mod rows;
mod sqlite;
mod values;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::DatabaseUrl;

pub use postgres::PostgresStore;
pub use roles::*;
pub use sqlite::SqliteStore;
pub use sqlite::backup::{BackupSummary, backup as backup_sqlite};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is taken; the payload names it (`"email"`, a monitor's `"name"`).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The owner already has the most monitors allowed.
    #[error("monitor limit of {limit} reached")]
    LimitReached {
        /// The limit in force.
        limit: u32,
    },
    /// The database cannot be reached or is busy beyond the timeout.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The database answered with an error.
    #[error("store failure: {0}")]
    Backend(String),
    /// A row could not be turned back into a domain value.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Everything tocsin keeps: every role at once. Every method that takes an owner only sees
/// that owner's rows. Callers import the role traits whose methods they call.
pub trait Store:
    LifecycleStore
    + AccountStore
    + MonitorStore
    + MonitorPageStore
    + ScheduleStore
    + ResultStore
    + RetentionStore
    + ClusterStore
    + ApiKeyStore
    + ApplyStore
    + ChannelStore
    + OutboxStore
    + StatusPageStore
    + IncidentStore
    + MaintenanceStore
    + SessionStore
{
}

impl<T> Store for T where
    T: LifecycleStore
        + AccountStore
        + MonitorStore
        + MonitorPageStore
        + ScheduleStore
        + ResultStore
        + RetentionStore
        + ClusterStore
        + ApiKeyStore
        + ApplyStore
        + ChannelStore
        + OutboxStore
        + StatusPageStore
        + IncidentStore
        + MaintenanceStore
        + SessionStore
{
}

/// Every role trait, for callers (tests, tools) that use the whole store.
pub mod prelude {
    pub use super::Store;
    pub use super::roles::{
        AccountStore, ApiKeyStore, ApplyStore, ChannelStore, ClusterStore, IncidentStore,
        LifecycleStore, MaintenanceStore, MonitorStore, OutboxStore, ResultStore, RetentionStore,
        ScheduleStore, SessionStore, StatusPageStore,
    };
}

/// Opens the store the URL names (creating a SQLite file if missing); does not migrate.
pub async fn open(url: &DatabaseUrl) -> Result<Arc<dyn Store>, StoreError> {
    match url {
        DatabaseUrl::Sqlite { path } => Ok(Arc::new(SqliteStore::open(path).await?)),
        DatabaseUrl::Postgres { url } => Ok(Arc::new(PostgresStore::open(url).await?)),
    }
}

/// Milliseconds since the epoch, the resolution every store keeps.
fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// The inverse of [`to_millis`].
fn from_millis(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} out of range")))
}
