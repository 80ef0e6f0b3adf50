//! Persistence behind one narrow [`Store`] trait, so the SQLite and PostgreSQL
//! implementations are interchangeable and pass one shared test suite. Driver types never
//! leave this module: callers see domain types and [`StoreError`].

mod postgres;
mod sqlite;
mod values;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::auth::{Email, UserId};
use crate::check::CheckRecord;
use crate::check::stats::{Sample, Summary};
use crate::config::DatabaseUrl;
use crate::monitor::{Monitor, MonitorId, MonitorSpec};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// An account, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The normalised email.
    pub email: Email,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

/// An account with its password hash, for login only.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    /// The account.
    pub user: User,
    /// The argon2id PHC string.
    pub password_hash: String,
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is taken; the payload names it (`"email"`).
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

/// A due check handed to one scheduler: the monitor as it is now and the grid point it is
/// due at. The store has already moved the monitor's next due time one interval on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The monitor to check, with its current settings.
    pub monitor: Monitor,
    /// When the check is due.
    pub due: DateTime<Utc>,
}

/// One instance's heartbeat: who it is and how busy it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// The instance's id, unique per process (host, pid and a random part).
    pub instance: String,
    /// Where its API listens.
    pub address: String,
    /// When the process started.
    pub started_at: DateTime<Utc>,
    /// When it last reported.
    pub seen_at: DateTime<Utc>,
    /// Checks it finished in the minute before `seen_at`.
    pub checks_last_minute: u64,
}

/// A monitor that was edited, paused, resumed or deleted, as [`Store::monitor_changes`]
/// reports it: only who and which, since the monitor is read afresh to learn what changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorChange {
    /// The monitor's owner.
    pub owner: UserId,
    /// The monitor.
    pub id: MonitorId,
}

/// A stored result, as the results endpoint lists it.
pub type StoredResult = crate::check::CheckResult;

/// What [`Store::window`] finds: the raw results in a window and the sum of its rollups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowData {
    /// Raw results whose `checked_at` is in the window.
    pub raw: Vec<Sample>,
    /// The rollups of the hours in the window, added up.
    pub rollups: Summary,
}

/// Everything tocsin keeps. Every method that takes an owner only sees that owner's rows.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies the migrations that have not run yet.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Answers when the database does: the readiness probe.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The value of setting `key`, storing `value` first if the key is new. Concurrent
    /// callers all get the one value that won, so instances agree (e.g. on the JWT secret).
    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError>;

    /// Creates an account; [`StoreError::Conflict`]`("email")` if the email is taken.
    async fn create_user(&self, email: &Email, password_hash: &str) -> Result<User, StoreError>;

    /// The account with `email` and its hash, if there is one.
    async fn user_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError>;

    /// Creates a monitor unless `owner` already has `limit` of them, atomically.
    async fn create_monitor(
        &self,
        owner: UserId,
        spec: &MonitorSpec,
        limit: u32,
    ) -> Result<Monitor, StoreError>;

    /// The owner's monitors, oldest first.
    async fn list_monitors(&self, owner: UserId) -> Result<Vec<Monitor>, StoreError>;

    /// One of the owner's monitors.
    async fn get_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
    ) -> Result<Option<Monitor>, StoreError>;

    /// Replaces a monitor's spec; `None` if the owner has no such monitor.
    async fn update_monitor(
        &self,
        owner: UserId,
        id: MonitorId,
        spec: &MonitorSpec,
    ) -> Result<Option<Monitor>, StoreError>;

    /// Pauses or resumes a monitor; `None` if the owner has no such monitor.
    async fn set_paused(
        &self,
        owner: UserId,
        id: MonitorId,
        paused: bool,
    ) -> Result<Option<Monitor>, StoreError>;

    /// Deletes a monitor with its results; false if the owner had no such monitor.
    async fn delete_monitor(&self, owner: UserId, id: MonitorId) -> Result<bool, StoreError>;

    // --- scheduling ---

    /// Claims up to `limit` unpaused monitors due by `until`, in one statement, moving each
    /// one's next due time one interval on so no other caller claims the same due time.
    /// A monitor whose due time is more than its grace (half its interval, at most 10 s)
    /// before `now` is first moved to its first grid point at or after `now`: a missed
    /// check is skipped, not run late. Earliest due first.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Claim>, StoreError>;

    /// Gives back claims that will not run (on shutdown): each monitor's next due time goes
    /// back to the claim's due time, unless it has changed since the claim.
    async fn release_claims(&self, claims: &[Claim]) -> Result<(), StoreError>;

    // --- results ---

    /// Writes a batch of results in one transaction and updates each monitor's last check.
    /// A result already stored (same monitor and `checked_at`) or whose monitor is gone is
    /// skipped, so a batch may be written twice. Returns how many rows were new.
    async fn insert_results(&self, batch: &[CheckRecord]) -> Result<usize, StoreError>;

    /// Up to `limit` of a monitor's raw results checked before `before`, newest first;
    /// `None` if the owner has no such monitor.
    async fn list_results(
        &self,
        owner: UserId,
        id: MonitorId,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Option<Vec<StoredResult>>, StoreError>;

    /// The raw results checked at or after `from`, and the rollups of the hours starting at
    /// or after `from` truncated to the hour; `None` if the owner has no such monitor.
    async fn window(
        &self,
        owner: UserId,
        id: MonitorId,
        from: DateTime<Utc>,
    ) -> Result<Option<WindowData>, StoreError>;

    // --- retention ---

    /// Rolls up at most `limit` raw results checked before `cutoff` into their monitors'
    /// hourly rollups and removes them from the raw results, in one transaction (SQLite
    /// deletes them; PostgreSQL moves its roll-up mark past them and drops whole days later). Returns how many were moved;
    /// call again until it returns less than `limit`.
    async fn roll_up_before(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError>;

    /// Deletes at most `limit` rollups of hours that started before `cutoff`; returns how many.
    async fn prune_rollups(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<usize, StoreError>;

    // --- cluster ---

    /// Records an instance's heartbeat (replacing its last one), and forgets instances
    /// silent since `forget_before`.
    async fn heartbeat(
        &self,
        beat: &Heartbeat,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The instances heard from at or after `since`, by id.
    async fn instances(&self, since: DateTime<Utc>) -> Result<Vec<Heartbeat>, StoreError>;

    /// Takes or renews the lease on `job` for `holder` until `until`, unless another
    /// holder's lease still runs at `now`; true if `holder` holds it now. Jobs that must not
    /// overlap run only while they hold their lease.
    async fn lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Storage upkeep the retention job runs on each pass, after rolling up: PostgreSQL
    /// creates the coming days' result partitions ahead of time and drops the partitions
    /// whose rows are all rolled up. Nothing to do for stores without partitions.
    async fn upkeep(&self, _now: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(())
    }

    /// The monitors other processes sharing this database edit, pause, resume or delete,
    /// each reported once the change commits (this process's own changes too), until the
    /// receiver is dropped. `None` where no other process can write (SQLite: the API tells
    /// its own scheduler directly). Best effort: a change committed while the store cannot
    /// listen (reconnecting after a failover) is not reported. Call within a Tokio runtime.
    fn monitor_changes(&self) -> Option<mpsc::Receiver<MonitorChange>> {
        None
    }
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
