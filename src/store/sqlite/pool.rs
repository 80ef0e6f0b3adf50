//! A small pool of SQLite connections, shaped by what the API profile showed: handing each
//! query to the blocking thread pool (and a second time for deadpool's recycle probe) cost
//! more than the query itself, in context switches.
//!
//! - Reads first run on the async worker, under a budget of SQLite VM steps and with no
//!   busy wait; a read that passes the budget (or meets a lock) is interrupted and run
//!   again on the blocking pool. Short lookups never leave the worker; long scans never
//!   hold it for more than the budget.
//! - Writes run on the blocking pool, one transaction at a time: in-process writers queue
//!   instead of sleeping in SQLite's busy handler, whose back-off (up to 100 ms a try) made
//!   the tail of `POST /url` hundreds of milliseconds, and the writes queued meanwhile are
//!   committed together (see [`super::group`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, Transaction};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::backend;
use super::group::{Pending, Queue, Queued};
use crate::store::StoreError;

/// How long a statement on the blocking pool waits for another process's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// VM steps between two calls of the progress handler.
const STEPS_PER_CHECK: i32 = 1_000;
/// Progress checks an inline read may pass before it moves to the blocking pool. Listing
/// ten monitors takes ~200 steps and a page of 100 results ~2,000; 8,000 steps keep an
/// inline read to well under a millisecond.
const INLINE_CHECKS: u32 = 8;

const PRAGMAS: &str = "PRAGMA journal_mode = WAL;
                       PRAGMA synchronous = NORMAL;
                       PRAGMA foreign_keys = ON;";

/// Connections to one database file.
#[derive(Debug, Clone)]
pub(super) struct Pool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// One permit per connection that may exist.
    permits: Arc<Semaphore>,
    /// Writes waiting for the next transaction.
    queue: Queue,
}

/// A connection taken from the pool, given back when dropped.
struct Lease {
    conn: Option<Connection>,
    inner: Arc<Inner>,
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    /// A pool of at most `size` connections to `path`, the first opened now so that a bad
    /// path fails at start.
    pub(super) async fn open(path: &Path, size: usize) -> Result<Self, StoreError> {
        let inner = Arc::new(Inner {
            path: path.to_owned(),
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Arc::new(Semaphore::new(size)),
            queue: Queue::default(),
        });
        let first = {
            let path = inner.path.clone();
            tokio::task::spawn_blocking(move || connect(&path))
                .await
                .map_err(|e| StoreError::Backend(e.to_string()))??
        };
        inner.give_back(first);
        Ok(Self { inner })
    }

    async fn lease(&self) -> Result<Lease, StoreError> {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("connection pool closed".into()))?;
        let conn = self.inner.idle_connection();
        Ok(Lease {
            conn,
            inner: Arc::clone(&self.inner),
            _permit: permit,
        })
    }

    /// Runs a read-only `work`: on this thread if it is short, else on the blocking pool.
    /// `work` may be started twice, so it must not change anything.
    pub(super) async fn read<T: Send + 'static>(
        &self,
        work: impl Fn(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let mut lease = self.lease().await?;
        if let Some(conn) = lease.conn.as_mut()
            && let Some(done) = inline(conn, &work)
        {
            return done;
        }
        blocking(lease, work).await
    }

    /// Runs `work` inside a `BEGIN IMMEDIATE` transaction on the blocking pool, with the
    /// other writes queued meanwhile; answers once that transaction committed (or `work`
    /// failed, its changes rolled back and the others' kept).
    pub(super) async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (job, answer) = Pending::boxed(work);
        self.enqueue(Queued::Together(job));
        answer
            .await
            .map_err(|_| StoreError::Backend("database writer stopped".into()))?
    }

    /// Runs `work` on the writer's connection outside any transaction, between two group
    /// commits: for migrations, which make their own transactions.
    pub(super) async fn write_alone<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.enqueue(Queued::Alone(Box::new(move |conn| {
            let result = match conn {
                Ok(conn) => work(conn),
                Err(e) => Err(StoreError::Unavailable(e.to_string())),
            };
            // The caller may have gone; the work is done all the same.
            let _ = reply.send(result);
        })));
        answer
            .await
            .map_err(|_| StoreError::Backend("database writer stopped".into()))?
    }

    fn enqueue(&self, queued: Queued) {
        if self.inner.queue.push(queued) {
            // Off the caller's task: the writer outlives a caller that stops waiting.
            tokio::spawn(self.clone().drain());
        }
    }

    /// Carries out queued writes on one connection until none is left.
    async fn drain(self) {
        let mut lease = match self.lease().await {
            Ok(lease) => lease,
            Err(e) => return self.inner.queue.fail(&e),
        };
        let inner = Arc::clone(&self.inner);
        let drained = tokio::task::spawn_blocking(move || match lease.connection() {
            Ok(conn) => inner.queue.drain(conn),
            Err(e) => inner.queue.fail(&e),
        })
        .await;
        if let Err(e) = drained {
            // Only a panic outside the jobs (which catch their own) gets here; answer the
            // rest rather than leave them waiting on a writer that is gone.
            let error = StoreError::Backend(format!("database writer failed: {e}"));
            self.inner.queue.fail(&error);
        }
    }
}

impl Inner {
    fn idle_connection(&self) -> Option<Connection> {
        // A poisoned lock only means a panic while pushing or popping; the Vec is sound.
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    fn give_back(&self, conn: Connection) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
    }
}

impl Lease {
    /// The leased connection, opening one if the pool had none idle.
    fn connection(&mut self) -> Result<&mut Connection, StoreError> {
        if self.conn.is_none() {
            self.conn = Some(connect(&self.inner.path)?);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| StoreError::Backend("no connection".into()))
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        // A transaction left open (a panic mid-work) would hold its snapshot or lock for
        // every later user; such a connection is closed instead of reused.
        if conn.is_autocommit() {
            self.inner.give_back(conn);
        }
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    conn.execute_batch(PRAGMAS).map_err(backend)?;
    Ok(conn)
}

async fn blocking<T: Send + 'static>(
    mut lease: Lease,
    work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(move || work(lease.connection()?))
        .await
        .map_err(|e| StoreError::Backend(format!("database task failed: {e}")))?
}

/// Runs `work` under the step budget and without waiting on locks; `None` when it was cut
/// short and should run again where it may take its time.
fn inline<T>(
    conn: &mut Connection,
    work: &impl Fn(&mut Connection) -> Result<T, StoreError>,
) -> Option<Result<T, StoreError>> {
    let tripped = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&tripped);
    let mut checks = 0_u32;
    let limited = conn
        .busy_timeout(Duration::ZERO)
        .and_then(|()| {
            conn.progress_handler(
                STEPS_PER_CHECK,
                Some(move || {
                    checks += 1;
                    let stop = checks > INLINE_CHECKS;
                    if stop {
                        flag.store(true, Ordering::Relaxed);
                    }
                    stop
                }),
            )
        })
        .is_ok();
    let result = limited.then(|| work(conn));
    let restored = conn.progress_handler(0, None::<fn() -> bool>).is_ok()
        && conn.busy_timeout(BUSY_TIMEOUT).is_ok();
    let result = result?;
    if !restored {
        // The connection's limits are unknown now; let the blocking pool redo the work.
        return None;
    }
    match result {
        // Cut short by the budget, or a lock held elsewhere (`backend` maps busy and
        // locked to `Unavailable`, and inline there is no busy wait): try again off-thread.
        Err(_) if tripped.load(Ordering::Relaxed) => None,
        Err(StoreError::Unavailable(_)) => None,
        done => Some(done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &mut Connection, sql: &str) -> Result<i64, StoreError> {
        conn.query_row(sql, [], |row| row.get(0)).map_err(backend)
    }

    #[test]
    fn short_reads_finish_inline_and_long_ones_are_handed_back() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "CREATE TABLE t (n INTEGER);
             WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100000)
             INSERT INTO t SELECT n FROM s;",
        )
        .expect("fill");
        let short = inline(&mut conn, &|c: &mut Connection| count(c, "SELECT 42"));
        assert!(matches!(short, Some(Ok(42))), "{short:?}");
        let long = inline(&mut conn, &|c: &mut Connection| {
            count(c, "SELECT sum(n) FROM t")
        });
        assert!(long.is_none(), "{long:?}");
        // The budget is gone afterwards: the same scan runs to the end.
        assert_eq!(
            count(&mut conn, "SELECT count(*) FROM t").expect("count"),
            100_000
        );
    }

    #[test]
    fn errors_that_are_not_the_budget_are_answered() {
        let mut conn = Connection::open_in_memory().expect("open");
        let failed = inline(&mut conn, &|c: &mut Connection| {
            count(c, "SELECT * FROM nowhere")
        });
        assert!(
            matches!(failed, Some(Err(StoreError::Backend(_)))),
            "{failed:?}"
        );
    }
}
