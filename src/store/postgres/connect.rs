//! The connection pool and the mapping of driver errors onto [`StoreError`].

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime, tokio_postgres,
};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::FromSql;

use super::tls::Connector;
use crate::config::{PostgresUrl, redact};
use crate::store::StoreError;

/// Per host tried, when the URL sets no `connect_timeout`: a dead host must not hang a start
/// or a request, and the next host of a multi-host URL gets its turn.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a free connection before the store reports itself busy.
const WAIT_TIMEOUT: Duration = Duration::from_secs(5);
/// Unacknowledged data this long means the server is gone (a failover without a reset).
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);
/// Probes an idle connection this often, instead of the system's two hours.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
/// Connections per instance.
const POOL_SIZE: usize = 16;

/// How `url` is connected to, with the timeouts above where the URL sets none, and the TLS
/// its libpq parameters ask for. The pool and the change listener use the same ones, so
/// both find the primary of a multi-host URL.
pub(super) fn config(url: &str) -> Result<(tokio_postgres::Config, Connector), StoreError> {
    let shown = redact(url);
    let split = PostgresUrl::parse(url)
        .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL {shown}: {e}")))?;
    let tls = Connector::new(&split.tls)?;
    let mut config = tokio_postgres::Config::from_str(&split.driver)
        .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL {shown}: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(TCP_USER_TIMEOUT);
    }
    if config.get_keepalives_idle() == Duration::from_secs(2 * 3600) {
        config.keepalives_idle(KEEPALIVE_IDLE);
    }
    if config.get_application_name().is_none() {
        config.application_name("tocsin");
    }
    Ok((config, tls))
}

/// A pool for `config` through `tls` (`url` only names it in errors); connects lazily.
pub(super) fn pool(
    url: &str,
    config: tokio_postgres::Config,
    tls: Connector,
) -> Result<Pool, StoreError> {
    let shown = redact(url);
    // Every host may take the whole connect timeout before the last one answers.
    let hosts = u32::try_from(config.get_hosts().len().max(1)).unwrap_or(u32::MAX);
    let create_timeout = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(CONNECT_TIMEOUT)
        .saturating_mul(hosts);
    // Fast: a pooled connection is reused unless its socket closed. A failover closes the
    // old primary's connections, so the pool reconnects by itself (and with a multi-host URL
    // and target_session_attrs=read-write, to the new primary); connections that fail in
    // other ways are dropped by `settle`.
    let manager = Manager::from_config(
        config,
        tls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(WAIT_TIMEOUT))
        .create_timeout(Some(create_timeout))
        .recycle_timeout(Some(WAIT_TIMEOUT))
        .build()
        .map_err(|e| StoreError::Unavailable(format!("PostgreSQL at {shown}: {e}")))
}

/// A pool that could not hand out a connection: the database is down or saturated.
pub(super) fn pool_error(error: PoolError) -> StoreError {
    match error {
        PoolError::Timeout(_) => {
            StoreError::Unavailable("timed out waiting for a PostgreSQL connection".into())
        }
        PoolError::Backend(error) => StoreError::Unavailable(format!(
            "cannot connect to PostgreSQL: {}",
            describe(&error)
        )),
        other => StoreError::Unavailable(format!("cannot connect to PostgreSQL: {other}")),
    }
}

/// The driver's error with its causes: its own text is only the kind ("error performing
/// TLS handshake", "db error"), and the reason (a refused certificate, the server's
/// message) is in the source chain.
fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return db.to_string();
    }
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Maps a driver error: lost connections and a server that cannot serve writes now are
/// [`StoreError::Unavailable`] (retryable), unique violations are conflicts.
pub(super) fn pg(error: tokio_postgres::Error) -> StoreError {
    let message = describe(&error);
    let Some(code) = error.code() else {
        let io = std::error::Error::source(&error).is_some_and(|s| s.is::<std::io::Error>());
        return if error.is_closed() || io {
            StoreError::Unavailable(message)
        } else {
            StoreError::Backend(message)
        };
    };
    if *code == SqlState::UNIQUE_VIOLATION {
        let constraint = error.as_db_error().and_then(|db| db.constraint());
        return StoreError::Conflict(match constraint {
            Some("users_email_key") => "email",
            Some("monitors_user_id_name_key") => "name",
            Some("status_pages_slug_key") => "slug",
            _ => "row",
        });
    }
    let class = &code.code()[..2];
    let unavailable = class == "08" // connection exception
        || class == "53" // insufficient resources, e.g. too many connections
        || class == "57" // operator intervention: shutdown, cancelled by a timeout
        || *code == SqlState::READ_ONLY_SQL_TRANSACTION // a standby since the failover
        || *code == SqlState::LOCK_NOT_AVAILABLE; // lock_timeout
    if unavailable {
        StoreError::Unavailable(message)
    } else {
        StoreError::Backend(message)
    }
}

/// Column `index` of `row`; a value of the wrong type or range means corrupt data.
pub(super) fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, StoreError> {
    row.try_get(index)
        .map_err(|e| StoreError::Corrupt(format!("column {index}: {e}")))
}

/// A count or limit as PostgreSQL's bigint.
pub(super) fn bigint(value: u32) -> i64 {
    i64::from(value)
}

/// A row count as returned by the driver.
pub(super) fn rows(count: u64) -> usize {
    usize::try_from(count).unwrap_or(usize::MAX)
}
