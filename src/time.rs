//! Time arithmetic between `std::time::Duration` (settings, timeouts) and chrono's
//! timestamps (what is stored and shown).

use std::time::Duration;

use chrono::TimeDelta;

/// `duration` as a chrono delta. Saturates rather than failing: chrono's range ends near
/// 292 billion years, far past any setting (every one is bounded when parsed), so a
/// saturated value can only come from a bug, and then "very long" is the safe reading
/// (nothing is deleted early, nothing expires early).
pub fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_are_exact_and_saturate_instead_of_vanishing() {
        assert_eq!(
            delta(Duration::from_millis(1500)),
            TimeDelta::milliseconds(1500)
        );
        assert_eq!(delta(Duration::MAX), TimeDelta::MAX);
    }
}
