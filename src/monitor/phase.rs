//! Where on its interval a monitor's checks fall. A monitor's first check is due at once
//! (when it is created or resumed), the second on its own grid between half an interval and
//! one and a half after it, and every later one an interval on, on that grid: the instants, in
//! milliseconds since the Unix epoch, that leave the monitor's phase as remainder when divided
//! by its interval. The phase is a hash of the monitor's id spread over the interval, so
//! monitors created together (an `apply`, an import of thousands) check at once and then fall
//! apart across the interval instead of all waking on one instant every period; monitors
//! created over days are spread the same way.
//!
//! The rule lives here once for Rust; the stores' claim statements compute the same with
//! [`PHASE_SQL`], and a test holds the two together.

use chrono::{DateTime, Utc};

/// Knuth's multiplicative hash constant (2^32 divided by the golden ratio): consecutive ids
/// land far apart, so a burst of new monitors spreads evenly over the interval.
const GOLDEN: i64 = 2_654_435_761;

/// The id bits hashed: 31, so the product stays inside an `i64` in Rust and in both SQL
/// dialects (2^31 × [`GOLDEN`] < 2^63).
const ID_MASK: i64 = 0x7FFF_FFFF;

/// 2^32: the hash is taken modulo it, then scaled to the interval.
const HASH_RANGE: i64 = 1 << 32;

/// The phase in SQL over a monitor id given as `{id}` and an interval in milliseconds given
/// as `{ms}`: the same integer arithmetic as [`phase_ms`] (SQLite and PostgreSQL both have
/// 64-bit `&` and truncating integer division).
pub const PHASE_SQL: &str =
    "(((({id} & 2147483647) * 2654435761) & 4294967295) * ({ms}) / 4294967296)";

/// [`PHASE_SQL`] over these SQL expressions for the id and the interval in milliseconds.
pub fn phase_sql(id: &str, interval_ms: &str) -> String {
    PHASE_SQL.replace("{id}", id).replace("{ms}", interval_ms)
}

/// A monitor's phase within an interval of `interval_ms` milliseconds, in `[0, interval_ms)`.
pub fn phase_ms(id: i64, interval_ms: i64) -> i64 {
    let hash = ((id & ID_MASK) * GOLDEN) & (HASH_RANGE - 1);
    hash * interval_ms / HASH_RANGE
}

/// The monitor's next due time after `due_ms` (both in milliseconds since the epoch): one
/// interval on when `due_ms` is on the grid; when it is not (a first check, or the first
/// after an edit of the interval), the first grid point at least half an interval on, so a
/// second check never follows the first within moments.
pub fn next_after_ms(id: i64, interval_ms: i64, due_ms: i64) -> i64 {
    let interval_ms = interval_ms.max(1);
    let off = (due_ms - phase_ms(id, interval_ms)).rem_euclid(interval_ms);
    let next = due_ms + interval_ms - off;
    if off != 0 && 2 * (interval_ms - off) < interval_ms {
        next + interval_ms
    } else {
        next
    }
}

/// [`next_after_ms`] in SQL, over SQL expressions for the due time and the interval in
/// milliseconds, and the monitor's id (the same integer arithmetic in both dialects).
pub fn next_after_sql(id: &str, interval_ms: &str, due_ms: &str) -> String {
    let phase = phase_sql(id, interval_ms);
    let off = format!("((({due_ms} - {phase}) % {interval_ms} + {interval_ms}) % {interval_ms})");
    format!(
        "({due_ms} + {interval_ms} - {off} + CASE WHEN {off} <> 0 \
         AND 2 * ({interval_ms} - {off}) < {interval_ms} THEN {interval_ms} ELSE 0 END)"
    )
}

/// [`next_after_ms`] over times, for a monitor with an interval of `interval_secs`.
pub fn next_due(id: i64, interval_secs: u32, due: DateTime<Utc>) -> DateTime<Utc> {
    let next = next_after_ms(id, i64::from(interval_secs) * 1000, due.timestamp_millis());
    DateTime::from_timestamp_millis(next).unwrap_or(due)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_on_the_grid_moves_one_interval_and_one_off_it_moves_onto_it() {
        let (id, interval) = (42, 60_000);
        let on = 1_000 * interval + phase_ms(id, interval);
        assert_eq!(next_after_ms(id, interval, on), on + interval);
        // Off the grid: the first point at least half an interval on.
        assert_eq!(next_after_ms(id, interval, on - 1), on + interval);
        assert_eq!(next_after_ms(id, interval, on - interval / 2), on);
        assert_eq!(
            next_after_ms(id, interval, on - interval / 2 + 1),
            on + interval
        );
        assert_eq!(next_after_ms(id, interval, on - interval + 1), on);
    }

    #[test]
    fn monitors_made_together_spread_over_the_interval() {
        let interval = 60_000;
        let mut buckets = [0u32; 10];
        for id in 1..=100 {
            let phase = phase_ms(id, interval);
            assert!((0..interval).contains(&phase));
            buckets[(phase * 10 / interval) as usize] += 1;
        }
        // 100 consecutive ids over 10 equal parts of the interval: 10 each, give or take.
        assert!(
            buckets.iter().all(|&n| (7..=13).contains(&n)),
            "{buckets:?}"
        );
    }

    #[test]
    fn the_largest_ids_and_intervals_do_not_overflow() {
        let day = 86_400_000;
        let phase = phase_ms(i64::MAX, day);
        assert!((0..day).contains(&phase));
        assert!(next_after_ms(i64::MAX, day, 0) > 0);
    }
}
