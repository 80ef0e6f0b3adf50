//! A check's timeout measures the target, not this process. The clock starts when the check
//! first runs, and when its timer fires, the check is judged timed out only if the timer
//! fired on time: a timer that fires far late means this process (its lane, its worker, the
//! whole machine) did not serve the check for a while, so the target did not get its full
//! timeout of attention. Such a check gets the time it was owed (its answer may already wait
//! on the socket); if it then answers, it answered, but its timing is ours, not the
//! target's; if it does not answer, or this process keeps serving it late, it cannot be
//! judged at all: once a check has been served late, a later timer on time says nothing of
//! the stalls in between. The scheduler skips both kinds and counts them, rather than store
//! them: overload must never turn into failures of healthy targets (under sustained overload
//! a dead target is then seen by the checks that are served on time).

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How a timed run ended.
#[derive(Debug)]
pub enum Timed<T> {
    /// It finished within its timeout, served on time.
    Finished(T),
    /// It finished only within the time this process owed it after serving it late: the
    /// value is real, its timing is not the target's.
    FinishedLate(T),
    /// Its timer fired on time, it had never been served late, and it had not finished: the
    /// target was too slow.
    Slow,
    /// This process served it far late and it did not finish within the time owed, so
    /// whether the target was slow is unknown.
    Starved,
}

/// How late a timer may fire before the check counts as served late: a loaded but healthy
/// process fires timers a few milliseconds late; a tenth of the timeout is a wide margin.
pub fn margin(limit: Duration) -> Duration {
    (limit / 10).max(Duration::from_millis(20))
}

/// Runs `future` under `limit`, as the module docs say.
pub async fn run<F: Future>(limit: Duration, future: F) -> Timed<F::Output> {
    tokio::pin!(future);
    let mut deadline = Instant::now() + limit;
    let mut owed = Duration::ZERO;
    loop {
        // `timeout_at` polls the check before its timer, so an answer already read counts.
        match tokio::time::timeout_at(deadline, &mut future).await {
            Ok(value) if owed.is_zero() => return Timed::Finished(value),
            Ok(value) => return Timed::FinishedLate(value),
            Err(_) => {
                let late = Instant::now().saturating_duration_since(deadline);
                if late <= margin(limit) {
                    // A timer on time says nothing of the stalls before it: once this check
                    // has been served late, its target is not blamed for it.
                    return if owed.is_zero() {
                        Timed::Slow
                    } else {
                        Timed::Starved
                    };
                }
                // More time than the timeout itself: this process is too busy to judge.
                if owed >= limit {
                    return Timed::Starved;
                }
                owed += late;
                deadline = Instant::now() + late;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_slow_future_times_out_and_a_fast_one_finishes() {
        let slow = run(
            Duration::from_millis(100),
            tokio::time::sleep(Duration::from_secs(1)),
        );
        assert!(matches!(slow.await, Timed::Slow));
        let fast = run(Duration::from_millis(100), async { 7 });
        assert!(matches!(fast.await, Timed::Finished(7)));
    }

    // The worker is blocked past the deadline before the check could even send its request
    // (it connects first, for 1 ms); the target answers 5 ms after the request. The timer
    // fires late, the check gets the time it was owed, and finishes: not the target's fault.
    #[tokio::test(flavor = "current_thread")]
    async fn a_check_this_process_served_late_is_not_a_timeout() {
        let check = tokio::spawn(run(Duration::from_millis(100), async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let (answer, answered) = tokio::sync::oneshot::channel();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                let _ = answer.send(1);
            });
            answered.await
        }));
        tokio::task::yield_now().await;
        std::thread::sleep(Duration::from_millis(300));
        match check.await.expect("check task") {
            Timed::FinishedLate(Ok(1)) => {}
            other => panic!("a target that answered in 5 ms was judged {other:?}"),
        }
    }

    #[test]
    fn the_margin_is_a_tenth_of_the_timeout_and_at_least_20_ms() {
        assert_eq!(margin(Duration::from_secs(10)), Duration::from_secs(1));
        assert_eq!(
            margin(Duration::from_millis(100)),
            Duration::from_millis(20)
        );
    }
}
