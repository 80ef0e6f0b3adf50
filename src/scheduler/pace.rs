//! How long the scheduler lets due checks gather before it wakes to start them.
//!
//! A wake-up costs the same whether it starts one check or fifty: the thread leaves its
//! event loop, the CPU comes out of idle, caches are cold. At 1,000 checks/s a 5 ms window
//! gathers about five checks per wake-up; at 100 checks/s with due times spread over the
//! interval (as real accounts have them) it gathers less than one, and the wake-ups cost
//! more CPU than the checks. So the window widens as the rate falls, aiming at a few checks
//! per wake-up, up to a ceiling that keeps every check well inside any grace.

use std::time::Duration;

use tokio::time::Instant;

/// Checks a wake-up should gather when the rate allows it within the ceiling.
const CHECKS_PER_WAKE: f64 = 4.0;

/// Counts the checks started per second and sizes the window from the last full second.
#[derive(Debug)]
pub struct Pace {
    floor: Duration,
    ceiling: Duration,
    second_started: Instant,
    started_this_second: u32,
    window: Duration,
}

impl Pace {
    /// A pace whose window stays within `floor..=ceiling`; it starts at the ceiling, as no
    /// rate is known yet.
    pub fn new(floor: Duration, ceiling: Duration) -> Self {
        let ceiling = ceiling.max(floor);
        Self {
            floor,
            ceiling,
            second_started: Instant::now(),
            started_this_second: 0,
            window: ceiling,
        }
    }

    /// Counts `checks` started at `now`.
    pub fn started(&mut self, checks: usize, now: Instant) {
        let elapsed = now.saturating_duration_since(self.second_started);
        if elapsed >= Duration::from_secs(1) {
            let rate = f64::from(self.started_this_second) / elapsed.as_secs_f64();
            self.window = window(rate, self.floor, self.ceiling);
            self.second_started = now;
            self.started_this_second = 0;
        }
        let checks = u32::try_from(checks).unwrap_or(u32::MAX);
        self.started_this_second = self.started_this_second.saturating_add(checks);
    }

    /// How long after the earliest due check the scheduler should wake.
    pub fn window(&self) -> Duration {
        self.window
    }
}

/// The window that gathers [`CHECKS_PER_WAKE`] checks at `rate` per second, within bounds.
fn window(rate: f64, floor: Duration, ceiling: Duration) -> Duration {
    if rate <= 0.0 {
        return ceiling;
    }
    Duration::from_secs_f64(CHECKS_PER_WAKE / rate).clamp(floor, ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOOR: Duration = Duration::from_millis(5);
    const CEILING: Duration = Duration::from_millis(25);

    #[test]
    fn the_window_narrows_as_the_rate_rises() {
        assert_eq!(window(0.0, FLOOR, CEILING), CEILING);
        assert_eq!(window(100.0, FLOOR, CEILING), CEILING);
        assert_eq!(window(400.0, FLOOR, CEILING), Duration::from_millis(10));
        assert_eq!(window(1000.0, FLOOR, CEILING), FLOOR);
        assert_eq!(window(50_000.0, FLOOR, CEILING), FLOOR);
    }

    #[test]
    fn the_pace_follows_the_last_full_second() {
        let start = Instant::now();
        let mut pace = Pace::new(FLOOR, CEILING);
        pace.second_started = start;
        assert_eq!(pace.window(), CEILING);
        for ms in 0..1000 {
            pace.started(2, start + Duration::from_millis(ms));
        }
        // 2,000 checks in the first second: the floor from then on.
        pace.started(1, start + Duration::from_millis(1000));
        assert_eq!(pace.window(), FLOOR);
        // Then only one check in the next second: back to the ceiling.
        pace.started(1, start + Duration::from_millis(2000));
        assert_eq!(pace.window(), CEILING);
    }
}
