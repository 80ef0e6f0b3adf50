//! Where a check lane runs: on a thread of its own with a single-threaded runtime, or as a
//! task of the server's runtime.
//!
//! On the server's multi-threaded runtime every check handed from one thread to another
//! (the scheduler's timer, a lane, the I/O driver's wake-ups) went through a futex, and an
//! idle worker was woken to look for work it never found: at 100 checks/s with spread due
//! times `strace` counted 3.6 `futex` and 4.8 `epoll_wait` calls per check, and those
//! hand-offs, not the HTTP exchange, were most of a check's cost. A lane on its own
//! single-threaded runtime owns the sockets of its checks, their timers and its I/O driver:
//! a check starts, waits and ends on one thread, and work reaches it by one wake of its
//! event loop per batch of due checks.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Notify, oneshot};

/// A running lane: tells when it has ended, and can be told to stop at once.
pub struct LaneHandle {
    ended: Option<oneshot::Receiver<()>>,
    abort: Arc<Notify>,
}

impl LaneHandle {
    /// Waits until the lane has ended (finished or stopped).
    pub async fn ended(&mut self) -> bool {
        match self.ended.take() {
            Some(ended) => ended.await.is_ok(),
            None => true,
        }
    }

    /// Stops the lane at its next poll, dropping its checks in flight.
    pub fn abort(&self) {
        self.abort.notify_one();
    }
}

/// Runs `lane` on a thread of its own (`own_thread`) or as a task of the current runtime.
/// The lane ends early when [`LaneHandle::abort`] is called.
pub fn spawn<F>(index: usize, own_thread: bool, lane: F) -> LaneHandle
where
    F: Future<Output = ()> + Send + 'static,
{
    let abort = Arc::new(Notify::new());
    let (done, ended) = oneshot::channel();
    let stop = abort.clone();
    let guarded = async move {
        tokio::select! {
            biased;
            () = stop.notified() => {}
            () = lane => {}
        }
        let _ = done.send(());
    };
    // Tokio's budget is per task, about 128 I/O operations a poll, and meant for one
    // future: a lane multiplexing hundreds of checks ran out of it at once, then polled its
    // checks late enough to time them out. A lane yields by itself instead.
    let guarded = tokio::task::coop::unconstrained(guarded);
    if own_thread {
        match on_own_thread(index, guarded) {
            Ok(()) => {
                return LaneHandle {
                    ended: Some(ended),
                    abort,
                };
            }
            Err(guarded) => {
                tokio::spawn(guarded);
            }
        }
    } else {
        tokio::spawn(guarded);
    }
    LaneHandle {
        ended: Some(ended),
        abort,
    }
}

/// Starts `lane` on a new thread with its own runtime; gives it back if either cannot be
/// made, so that it runs on the server's runtime instead of being lost.
fn on_own_thread<F>(index: usize, lane: F) -> Result<(), F>
where
    F: Future<Output = ()> + Send + 'static,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name(format!("tocsin-checks-{index}"))
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::warn!(%error, "cannot build a check runtime; checks run on the server's");
            return Err(lane);
        }
    };
    // The lane is sent once the thread exists, so a failed spawn still has it.
    let (give, take) = std::sync::mpsc::sync_channel::<F>(1);
    let started = std::thread::Builder::new()
        .name(format!("tocsin-checks-{index}"))
        .spawn(move || {
            if let Ok(lane) = take.recv() {
                runtime.block_on(lane);
            }
        });
    if let Err(error) = started {
        tracing::warn!(%error, "cannot start a check thread; checks run on the server's runtime");
        return Err(lane);
    }
    give.send(lane).map_err(|returned| returned.0)
}
