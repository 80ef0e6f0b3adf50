//! The connection to Redis and the stream commands the buffer uses. Every call is bounded in
//! time and retried once on a transport error, because the connection manager reconnects
//! lazily: the first command on a dead socket fails even when Redis is back.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, RedisResult, Value};

use super::reply::{self, RawEntry};
use crate::config::RedisUrl;
use crate::pipeline::PipelineError;

/// Redis's keys for one prefix, and this process's consumer name.
pub(super) struct Link {
    client: redis::Client,
    config: ConnectionManagerConfig,
    conn: Mutex<ConnectionManager>,
    /// `{prefix}:results`.
    pub stream: String,
    /// `{prefix}:writers`.
    pub group: String,
    /// Unique per process and instance, so two processes never share a pending list.
    pub consumer: String,
    /// Whether the last call got an answer.
    reachable: AtomicBool,
    timeout: Duration,
}

/// An error that says nothing about the connection (the server answered).
fn answered(error: &RedisError) -> bool {
    !(error.is_io_error() || error.is_unrecoverable_error() || error.is_connection_dropped())
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
    pub fn new(url: &RedisUrl, prefix: &str, timeout: Duration) -> Result<Self, PipelineError> {
        let client = redis::Client::open(url.expose())
            .map_err(|e| PipelineError::Backend(format!("Redis URL {url}: {}", e.category())))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config.clone())
            .map_err(|e| PipelineError::Backend(format!("Redis at {url}: {e}")))?;
        Ok(Self {
            client,
            config,
            conn: Mutex::new(conn),
            stream: format!("{prefix}:results"),
            group: format!("{prefix}:writers"),
            consumer: consumer_name(),
            reachable: AtomicBool::new(false),
            timeout,
        })
    }

    /// Whether the last call got an answer.
    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    fn conn(&self) -> ConnectionManager {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A fresh manager after a call timed out: a half-open socket gives no error to reconnect on.
    fn renew(&self) {
        if let Ok(fresh) =
            ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone())
        {
            *self
                .conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        }
    }

    async fn call<T, F, Fut>(&self, run: F) -> RedisResult<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let mut last = timed_out();
        for _ in 0..2 {
            match tokio::time::timeout(self.timeout, run(self.conn())).await {
                Ok(Ok(value)) => {
                    self.reachable.store(true, Ordering::Relaxed);
                    return Ok(value);
                }
                Ok(Err(error)) if answered(&error) => {
                    self.reachable.store(true, Ordering::Relaxed);
                    return Err(error);
                }
                Ok(Err(error)) => last = error,
                Err(_) => {
                    self.renew();
                    last = timed_out();
                }
            }
        }
        self.reachable.store(false, Ordering::Relaxed);
        Err(last)
    }

    /// Creates the consumer group (and the stream) unless it exists; from id 0, so entries
    /// added before the group existed are read too.
    pub async fn ensure_group(&self) -> RedisResult<()> {
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
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    /// Appends one entry per record in one round trip, all or none (`MULTI`), so a failure
    /// half-way does not make the retry duplicate the first half.
    pub async fn add(&self, entries: &[[(&'static str, String); 3]]) -> RedisResult<()> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for fields in entries {
            pipe.cmd("XADD")
                .arg(&self.stream)
                .arg("*")
                .arg(fields)
                .ignore();
        }
        self.call(|mut c| {
            let pipe = &pipe;
            async move { pipe.query_async::<()>(&mut c).await }
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
                self.ensure_group().await?;
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
                self.ensure_group().await?;
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
