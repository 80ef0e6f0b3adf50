//! The connection to Redis and the stream commands the buffer uses. Every call is bounded in
//! time and retried once on a transport error, because the connection manager reconnects
//! lazily: the first command on a dead socket fails even when Redis is back. Behind Redis
//! Sentinel, a broken connection or a server that answers as a replica (`READONLY`) sends
//! the link back to the Sentinels for the new master.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, RedisResult, Value};

use super::durability::{Durability, Persistence};
use super::endpoint::Endpoint;
use super::reply::{self, RawEntry};
use crate::config::RedisUrl;
use crate::pipeline::PipelineError;

/// How long a Sentinel-managed master waits for a replica to acknowledge a send.
const REPLICA_WAIT_MS: u64 = 250;

/// Redis's keys for one prefix, and this process's consumer name.
pub(super) struct Link {
    endpoint: Endpoint,
    config: ConnectionManagerConfig,
    /// The connection in use and where it leads; `None` until the next call finds a server.
    conn: Mutex<Option<(ConnectionManager, String)>>,
    /// `{prefix}:results`.
    pub stream: String,
    /// `{prefix}:writers`.
    pub group: String,
    /// Unique per process and instance, so two processes never share a pending list.
    pub consumer: String,
    /// Whether the last call got an answer.
    reachable: AtomicBool,
    /// The group had to be made again after it vanished, since the flusher last asked.
    group_lost: AtomicBool,
    /// What the server in use keeps on disk.
    pub durability: Durability,
    timeout: Duration,
}

/// An error that says nothing about the connection (the server answered).
fn answered(error: &RedisError) -> bool {
    !(error.is_io_error() || error.is_unrecoverable_error() || error.is_connection_dropped())
}

/// The server answered, but as a replica: writes go to the master only.
fn not_master(error: &RedisError) -> bool {
    matches!(error.code(), Some("READONLY" | "MASTERDOWN"))
        || error.to_string().contains("READONLY")
}

fn timed_out() -> RedisError {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "Redis did not answer in time").into()
}

fn consumer_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

impl Link {
    /// A link that connects on first use, so a Redis that is away does not stop the start.
    /// `ca` (PEM) replaces the public roots for TLS.
    pub fn new(
        url: &RedisUrl,
        ca: Option<Vec<u8>>,
        prefix: &str,
        timeout: Duration,
    ) -> Result<Self, PipelineError> {
        let endpoint = Endpoint::new(url, ca, timeout)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        Ok(Self {
            endpoint,
            config,
            conn: Mutex::new(None),
            stream: format!("{prefix}:results"),
            group: format!("{prefix}:writers"),
            consumer: consumer_name(),
            reachable: AtomicBool::new(false),
            group_lost: AtomicBool::new(false),
            durability: Durability::default(),
            timeout,
        })
    }

    /// Whether the last call got an answer.
    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    /// Whether the group vanished and was made again since the last time this was asked.
    pub fn take_group_lost(&self) -> bool {
        self.group_lost.swap(false, Ordering::Relaxed)
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<(ConnectionManager, String)>> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The connection in use, or one to the server the endpoint names now.
    async fn conn(&self) -> RedisResult<ConnectionManager> {
        if let Some((conn, _)) = &*self.slot() {
            return Ok(conn.clone());
        }
        let (client, place) = self.endpoint.current().await?;
        let fresh = ConnectionManager::new_lazy_with_config(client, self.config.clone())?;
        let mut slot = self.slot();
        if let Some((conn, _)) = &*slot {
            return Ok(conn.clone());
        }
        if self.endpoint.follows_failover() {
            tracing::info!(master = %place, "Redis Sentinel names the master: results go there");
        }
        *slot = Some((fresh.clone(), place));
        self.durability.stale();
        Ok(fresh)
    }

    /// Drops the connection in use: the next call connects afresh (and, behind Sentinel,
    /// asks which server is the master now). Needed after a timeout too, since a half-open
    /// socket gives the manager no error to reconnect on.
    fn forget(&self) {
        *self.slot() = None;
    }

    async fn call<T, F, Fut>(&self, run: F) -> RedisResult<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let failover = self.endpoint.follows_failover();
        let mut last = timed_out();
        for _ in 0..2 {
            let conn = match tokio::time::timeout(self.timeout, self.conn()).await {
                Ok(Ok(conn)) => conn,
                Ok(Err(error)) => {
                    last = error;
                    continue;
                }
                Err(_) => {
                    last = timed_out();
                    continue;
                }
            };
            match tokio::time::timeout(self.timeout, run(conn)).await {
                Ok(Ok(value)) => {
                    self.reachable.store(true, Ordering::Relaxed);
                    return Ok(value);
                }
                Ok(Err(error)) if failover && not_master(&error) => {
                    tracing::info!(%error, "the Redis server is no master any more: asking the Sentinels again");
                    self.forget();
                    last = error;
                }
                Ok(Err(error)) if answered(&error) => {
                    self.reachable.store(true, Ordering::Relaxed);
                    return Err(error);
                }
                Ok(Err(error)) => {
                    if failover {
                        self.forget();
                    }
                    last = error;
                }
                Err(_) => {
                    self.forget();
                    last = timed_out();
                }
            }
        }
        self.reachable.store(false, Ordering::Relaxed);
        Err(last)
    }

    /// Asks the server in use whether it keeps its data on disk (AOF, RDB snapshots) when the
    /// last answer is old or the server changed; logs a warning when it keeps nothing.
    pub async fn refresh_durability(&self) {
        if !self.durability.due() {
            return;
        }
        let found = self
            .call(|mut c| async move {
                let mut pipe = redis::pipe();
                pipe.cmd("CONFIG").arg("GET").arg("appendonly");
                pipe.cmd("CONFIG").arg("GET").arg("save");
                pipe.query_async::<(Value, Value)>(&mut c).await
            })
            .await;
        let persistence = match found {
            Ok((aof, save)) => Persistence::from_config(&aof, &save),
            // Managed services often rename or forbid CONFIG: say so, do not guess.
            Err(error) if answered(&error) => Persistence::Unknown,
            Err(_) => return,
        };
        self.durability.record(persistence);
    }

    /// Creates the consumer group (and the stream) unless it exists; from id 0, so entries
    /// added before the group existed are read too.
    /// True when this call made it (it was missing), false when it was there.
    pub async fn ensure_group(&self) -> RedisResult<bool> {
        let mut cmd = redis::cmd("XGROUP");
        cmd.arg("CREATE")
            .arg(&self.stream)
            .arg(&self.group)
            .arg("0")
            .arg("MKSTREAM");
        match self
            .call(|mut c| {
                let cmd = &cmd;
                async move { cmd.query_async::<()>(&mut c).await }
            })
            .await
        {
            Ok(()) => Ok(true),
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Appends one entry per record in one round trip, all or none (`MULTI`), so a failure
    /// half-way does not make the retry duplicate the first half. Behind Sentinel the
    /// master then waits (briefly) for a replica to have them too, since a failover
    /// promotes a replica and what only the old master held is lost; the answer is how
    /// many replicas acknowledged (`None` when not asked).
    pub async fn add(&self, entries: &[[(&'static str, String); 3]]) -> RedisResult<Option<usize>> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for fields in entries {
            pipe.cmd("XADD")
                .arg(&self.stream)
                .arg("*")
                .arg(fields)
                .ignore();
        }
        let wait = self.endpoint.follows_failover();
        self.call(|mut c| {
            let pipe = &pipe;
            async move {
                pipe.query_async::<()>(&mut c).await?;
                if !wait {
                    return Ok(None);
                }
                let replicas: usize = redis::cmd("WAIT")
                    .arg(1)
                    .arg(REPLICA_WAIT_MS)
                    .query_async(&mut c)
                    .await?;
                Ok(Some(replicas))
            }
        })
        .await
    }

    /// Up to `count` entries never delivered to the group, and the stream's length (entries
    /// not yet acknowledged, since acknowledged ones are deleted).
    pub async fn read_new(&self, count: usize) -> RedisResult<(Vec<RawEntry>, usize)> {
        let mut pipe = redis::pipe();
        pipe.cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(count.max(1))
            .arg("STREAMS")
            .arg(&self.stream)
            .arg(">");
        pipe.cmd("XLEN").arg(&self.stream);
        let read = || {
            self.call(|mut c| {
                let pipe = &pipe;
                async move { pipe.query_async::<(Value, usize)>(&mut c).await }
            })
        };
        let (found, len) = match read().await {
            // The group is gone (Redis restarted empty, or the key was deleted): make it again.
            Err(error) if error.code() == Some("NOGROUP") => {
                if self.ensure_group().await? {
                    self.group_lost.store(true, Ordering::Relaxed);
                }
                read().await?
            }
            other => other?,
        };
        Ok((reply::read(found), len))
    }

    /// Takes over up to `count` entries pending longer than `min_idle` (another consumer's
    /// that died, or this one's whose write was never acknowledged), scanning from `cursor`.
    pub async fn claim(
        &self,
        cursor: &str,
        min_idle: Duration,
        count: usize,
    ) -> RedisResult<(String, Vec<RawEntry>)> {
        let mut cmd = redis::cmd("XAUTOCLAIM");
        cmd.arg(&self.stream)
            .arg(&self.group)
            .arg(&self.consumer)
            .arg(u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX))
            .arg(cursor)
            .arg("COUNT")
            .arg(count.max(1));
        let value = match self
            .call(|mut c| {
                let cmd = &cmd;
                async move { cmd.query_async::<Value>(&mut c).await }
            })
            .await
        {
            Err(error) if error.code() == Some("NOGROUP") => {
                if self.ensure_group().await? {
                    self.group_lost.store(true, Ordering::Relaxed);
                }
                return Ok(("0-0".into(), Vec::new()));
            }
            other => other?,
        };
        Ok(reply::claimed(value))
    }

    /// Acknowledges and deletes entries, so the stream holds only what is not yet stored.
    pub async fn ack_delete(&self, ids: &[String]) -> RedisResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("XACK")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(ids)
            .ignore();
        pipe.cmd("XDEL").arg(&self.stream).arg(ids).ignore();
        self.call(|mut c| {
            let pipe = &pipe;
            async move { pipe.query_async::<()>(&mut c).await }
        })
        .await
    }

    /// Removes this consumer from the group when nothing is pending for it, so stopped
    /// instances do not pile up in the group; one with pending entries stays for a reclaim.
    pub async fn leave_group(&self) -> RedisResult<bool> {
        let mut pending = redis::cmd("XPENDING");
        pending
            .arg(&self.stream)
            .arg(&self.group)
            .arg("-")
            .arg("+")
            .arg(1)
            .arg(&self.consumer);
        let held: Vec<Value> = self
            .call(|mut c| {
                let cmd = &pending;
                async move { cmd.query_async(&mut c).await }
            })
            .await?;
        if !held.is_empty() {
            return Ok(false);
        }
        let mut leave = redis::cmd("XGROUP");
        leave
            .arg("DELCONSUMER")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(&self.consumer);
        self.call(|mut c| {
            let cmd = &leave;
            async move { cmd.query_async::<()>(&mut c).await }
        })
        .await?;
        Ok(true)
    }
}
