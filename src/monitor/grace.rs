//! How late a check may start before it is skipped: half its interval, at most
//! [`MAX_GRACE`]. The rule lives here once; the scheduler applies it to each check it runs,
//! and the stores' claim statements, which skip overdue due times in SQL, take its two
//! numbers as parameters instead of repeating them.

use std::time::Duration;

/// The longest a check may start after its due time before it is skipped.
pub const MAX_GRACE: Duration = Duration::from_secs(10);

/// A check may start up to its interval divided by this late.
pub const GRACE_DIVISOR: u32 = 2;

/// How late a check of a monitor with this interval may start.
pub fn grace(interval_secs: u32) -> Duration {
    (Duration::from_secs(u64::from(interval_secs)) / GRACE_DIVISOR).min(MAX_GRACE)
}
