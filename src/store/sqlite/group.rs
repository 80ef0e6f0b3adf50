//! Group commit: the writes queued while one transaction runs are carried out together in
//! the next, each in a savepoint of its own, and every caller is answered after COMMIT.
//!
//! The profile of `POST /url` showed a creation's time going mostly to what each write
//! transaction costs whatever it holds (BEGIN, the WAL frames of the same few pages written
//! again, COMMIT) and to the hop onto the blocking pool. Sharing those between the writes
//! that arrive meanwhile costs a caller nothing when it writes alone (the batch is just its
//! own), and under load each one waits only for the batch in flight.
//!
//! A write that fails rolls back to its savepoint: its changes go, the others' stay. An
//! error that ends the whole transaction (SQLite does so on a full disk or an I/O error)
//! fails the writes done in it so far, like a failed COMMIT would; the rest of the batch
//! goes on in a new transaction.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use super::backend;
use crate::store::StoreError;

/// Writes carried out in one transaction at most, so that a long queue still commits (and
/// answers) in steps.
const MAX_BATCH: usize = 256;

/// A queued write: run it inside the transaction, then answer its caller.
pub(super) trait Job: Send {
    /// Carries out the write inside `tx`; whether it succeeded (else it is rolled back).
    fn run(&mut self, tx: &Transaction<'_>) -> bool;
    /// Answers the caller: its own result if the write failed or the transaction
    /// committed, else why the transaction did not.
    fn answer(self: Box<Self>, committed: Result<(), &StoreError>);
}

/// One caller's write and the way back to it.
pub(super) struct Pending<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: Option<oneshot::Sender<Result<T, StoreError>>>,
}

impl<T, F> Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
{
    /// A job for `work` and the receiver its result will arrive on.
    pub(super) fn boxed(work: F) -> (Box<dyn Job>, oneshot::Receiver<Result<T, StoreError>>) {
        let (reply, answer) = oneshot::channel();
        let job = Self {
            work: Some(work),
            result: None,
            reply: Some(reply),
        };
        (Box::new(job), answer)
    }
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
{
    fn run(&mut self, tx: &Transaction<'_>) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        // A panicking write must not take the writer (and every queued caller) with it.
        let result = catch_unwind(AssertUnwindSafe(|| work(tx)))
            .unwrap_or_else(|_| Err(StoreError::Backend("database write panicked".into())));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(mut self: Box<Self>, committed: Result<(), &StoreError>) {
        let answer = match (self.result.take(), committed) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(e)) => Err(echo(e)),
            (None, Ok(())) => Err(StoreError::Backend("write was not carried out".into())),
        };
        if let Some(reply) = self.reply.take() {
            // The caller may have gone (a dropped request); its write stands all the same.
            let _ = reply.send(answer);
        }
    }
}

/// The same error again, for each caller a failed transaction answers.
fn echo(error: &StoreError) -> StoreError {
    match error {
        StoreError::Conflict(what) => StoreError::Conflict(what),
        StoreError::LimitReached { limit } => StoreError::LimitReached { limit: *limit },
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Backend(m) => StoreError::Backend(m.clone()),
        StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
    }
}

/// Work on the writer's connection outside any transaction (migrations, which make their
/// own): given the connection, or why there is none.
pub(super) type Alone = Box<dyn FnOnce(Result<&mut Connection, &StoreError>) + Send>;

/// A queued write.
pub(super) enum Queued {
    /// Carried out in a transaction with the writes queued beside it.
    Together(Box<dyn Job>),
    /// Carried out by itself, after the writes queued before it committed.
    Alone(Alone),
}

impl Queued {
    fn fail(self, error: &StoreError) {
        match self {
            Self::Together(job) => job.answer(Err(error)),
            Self::Alone(work) => work(Err(error)),
        }
    }
}

/// The writes waiting for the next transaction.
#[derive(Default)]
pub(super) struct Queue {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    jobs: Vec<Queued>,
    /// A writer is draining the queue; a new job needs no other.
    draining: bool,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").finish_non_exhaustive()
    }
}

impl Queue {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means a panic while pushing or taking; the Vec is sound.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`; true if nobody is draining, so the caller must start a writer.
    pub(super) fn push(&self, job: Queued) -> bool {
        let mut state = self.state();
        state.jobs.push(job);
        !std::mem::replace(&mut state.draining, true)
    }

    /// The next batch, or none (and the writer's turn ends) when the queue is empty.
    fn take(&self) -> Option<Vec<Queued>> {
        let mut state = self.state();
        if state.jobs.is_empty() {
            state.draining = false;
            return None;
        }
        let cut = state.jobs.len().min(MAX_BATCH);
        let rest = state.jobs.split_off(cut);
        Some(std::mem::replace(&mut state.jobs, rest))
    }

    /// Carries out queued writes on `conn` until the queue is empty; blocking.
    pub(super) fn drain(&self, conn: &mut Connection) {
        while let Some(batch) = self.take() {
            let mut together = Vec::with_capacity(batch.len());
            for queued in batch {
                match queued {
                    Queued::Together(job) => together.push(job),
                    Queued::Alone(work) => {
                        commit_batch(conn, std::mem::take(&mut together));
                        work(Ok(conn));
                    }
                }
            }
            commit_batch(conn, together);
        }
    }

    /// Answers every queued write with `error` (no connection to run them on).
    pub(super) fn fail(&self, error: &StoreError) {
        while let Some(batch) = self.take() {
            for queued in batch {
                queued.fail(error);
            }
        }
    }
}

/// Carries out `batch` in as few transactions as its errors allow, answering each job.
fn commit_batch(conn: &mut Connection, batch: Vec<Box<dyn Job>>) {
    let mut jobs = batch.into_iter();
    while jobs.len() > 0 {
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let error = backend(e);
                jobs.for_each(|job| job.answer(Err(&error)));
                return;
            }
        };
        let mut done: Vec<Box<dyn Job>> = Vec::with_capacity(jobs.len());
        let mut aborted = None;
        for mut job in jobs.by_ref() {
            match run_in_savepoint(&tx, job.as_mut()) {
                Ok(()) => done.push(job),
                Err(e) => {
                    // The transaction is gone: this job failed (with its own error if it
                    // has one), the ones before it lost their changes with the transaction.
                    job.answer(Err(&e));
                    aborted = Some(e);
                    break;
                }
            }
        }
        let committed = match aborted {
            Some(e) => Err(StoreError::Backend(format!(
                "a write in the same transaction ended it: {e}"
            ))),
            None => tx.commit().map_err(backend),
        };
        for job in done {
            job.answer(committed.as_ref().map(|_| ()));
        }
    }
}

/// Runs `job` inside a savepoint, rolled back if it fails. Err if the transaction itself
/// ended (SQLite rolls back the whole of it on some errors) or the savepoint could not be
/// kept.
fn run_in_savepoint(tx: &Transaction<'_>, job: &mut dyn Job) -> Result<(), StoreError> {
    exec(tx, "SAVEPOINT job")?;
    if job.run(tx) {
        return exec(tx, "RELEASE job");
    }
    if tx.is_autocommit() {
        return Err(StoreError::Backend("transaction rolled back".into()));
    }
    exec(tx, "ROLLBACK TO job")?;
    exec(tx, "RELEASE job")
}

fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))
        .map(|_| ())
        .map_err(backend)
}
