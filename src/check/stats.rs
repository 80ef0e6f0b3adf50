//! Uptime and latency over a window, from raw results and hourly rollups.
//!
//! Raw results and rollups never overlap: the retention job rolls a raw row up and removes it
//! in one transaction (PostgreSQL by moving its roll-up mark past it), so a window's figures
//! are the raw rows in it plus the rollups in it.
//! Latency figures count only checks that got a response (a refused connection has no
//! latency worth averaging, and a timeout's is just the timeout).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::monitor::MonitorId;

/// Upper bounds of the latency histogram's buckets, in milliseconds; one more bucket
/// holds everything slower. Fixed, so histograms of any two hours add up.
pub const BUCKET_BOUNDS_MS: [u32; 22] = [
    5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000,
    7_500, 10_000, 20_000, 30_000,
];

/// How many buckets a histogram has.
pub const BUCKETS: usize = BUCKET_BOUNDS_MS.len() + 1;

/// Counts of latencies per bucket of [`BUCKET_BOUNDS_MS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram(pub [u64; BUCKETS]);

impl Default for Histogram {
    fn default() -> Self {
        Self([0; BUCKETS])
    }
}

impl Histogram {
    /// The bucket a latency falls in.
    pub fn bucket(latency: Duration) -> usize {
        let micros = latency.as_micros();
        BUCKET_BOUNDS_MS
            .iter()
            .position(|&bound| micros <= u128::from(bound) * 1000)
            .unwrap_or(BUCKET_BOUNDS_MS.len())
    }

    /// Counts one latency.
    pub fn record(&mut self, latency: Duration) {
        self.0[Self::bucket(latency)] += 1;
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0.iter()) {
            *mine += theirs;
        }
    }

    /// The `q` quantile (0 < q ≤ 1) by linear interpolation inside its bucket, kept within
    /// the observed `min` and `max`; `None` when empty.
    pub fn quantile(&self, q: f64, min: Duration, max: Duration) -> Option<Duration> {
        let total: u64 = self.0.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = (q * total as f64).ceil().max(1.0);
        let mut before = 0u64;
        for (i, &count) in self.0.iter().enumerate() {
            if count == 0 || ((before + count) as f64) < rank {
                before += count;
                continue;
            }
            let lower = if i == 0 {
                min
            } else {
                Duration::from_millis(u64::from(BUCKET_BOUNDS_MS[i - 1])).max(min)
            };
            let upper = BUCKET_BOUNDS_MS
                .get(i)
                .map_or(max, |&b| Duration::from_millis(u64::from(b)).min(max));
            let fraction = (rank - before as f64) / count as f64;
            let upper = upper.max(lower);
            return Some(lower + (upper - lower).mul_f64(fraction));
        }
        Some(max)
    }
}

/// An additive summary of checks: what an hourly rollup holds, and what a window adds up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Checks counted.
    pub checks: u64,
    /// Of which failed.
    pub failures: u64,
    /// Checks with a response, whose latency is counted below.
    pub latency_count: u64,
    /// Sum of those latencies.
    pub latency_sum: Duration,
    /// The fastest (zero when `latency_count` is zero).
    pub latency_min: Duration,
    /// The slowest.
    pub latency_max: Duration,
    /// Their distribution.
    pub histogram: Histogram,
}

impl Summary {
    /// Counts one check; `latency` is `Some` when it got a response.
    pub fn add(&mut self, sample: &Sample) {
        self.checks += 1;
        if !sample.ok {
            self.failures += 1;
        }
        if let Some(latency) = sample.latency {
            self.latency_min = if self.latency_count == 0 {
                latency
            } else {
                self.latency_min.min(latency)
            };
            self.latency_max = self.latency_max.max(latency);
            self.latency_count += 1;
            self.latency_sum += latency;
            self.histogram.record(latency);
        }
    }

    /// Adds another summary (another hour, or the raw rows of a window).
    pub fn merge(&mut self, other: &Summary) {
        if other.latency_count > 0 {
            self.latency_min = if self.latency_count == 0 {
                other.latency_min
            } else {
                self.latency_min.min(other.latency_min)
            };
            self.latency_max = self.latency_max.max(other.latency_max);
        }
        self.checks += other.checks;
        self.failures += other.failures;
        self.latency_count += other.latency_count;
        self.latency_sum += other.latency_sum;
        self.histogram.merge(&other.histogram);
    }
}

/// One raw result as statistics see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Whether the check succeeded.
    pub ok: bool,
    /// Its latency, when a response came.
    pub latency: Option<Duration>,
}

/// One monitor's checks during one hour, kept after the raw rows are gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollup {
    /// The monitor.
    pub monitor: MonitorId,
    /// The start of the hour (UTC).
    pub hour: DateTime<Utc>,
    /// What happened in it.
    pub summary: Summary,
}

/// The windows `stats` answers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last hour.
    Hour,
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
    /// The last 90 days.
    Quarter,
    /// The last 365 days.
    Year,
}

impl Window {
    /// Every window, shortest first.
    pub const ALL: [Window; 6] = [
        Self::Hour,
        Self::Day,
        Self::Week,
        Self::Month,
        Self::Quarter,
        Self::Year,
    ];

    /// The name used in the API: `1h`, `24h`, `7d`, `30d`, `90d`, `365d`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "1h",
            Self::Day => "24h",
            Self::Week => "7d",
            Self::Month => "30d",
            Self::Quarter => "90d",
            Self::Year => "365d",
        }
    }

    /// How far back the window reaches.
    pub fn duration(self) -> Duration {
        let hours = match self {
            Self::Hour => 1,
            Self::Day => 24,
            Self::Week => 7 * 24,
            Self::Month => 30 * 24,
            Self::Quarter => 90 * 24,
            Self::Year => 365 * 24,
        };
        Duration::from_secs(hours * 3600)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Window {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|w| w.as_str() == raw)
            .ok_or_else(|| format!("window: `{raw}` is not one of 1h, 24h, 7d, 30d, 90d, 365d"))
    }
}

/// Latency figures in milliseconds; `None` when no check in the window got a response.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencyStats {
    /// Mean.
    pub avg: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Slowest.
    pub max: Option<f64>,
}

/// Uptime and latency of one monitor over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// The window.
    pub window: Window,
    /// Checks in the window.
    pub checks: u64,
    /// Of which failed.
    pub failures: u64,
    /// `(checks − failures) / checks`; `None` without checks.
    pub uptime_ratio: Option<f64>,
    /// Latency of the checks that got a response.
    pub latency: LatencyStats,
}

impl Stats {
    /// Computes a window's figures from its raw results and the sum of its rollups.
    ///
    /// When the window holds no rollup, percentiles are exact (nearest rank over the raw
    /// latencies); otherwise they are interpolated from the merged histogram.
    pub fn compute(window: Window, raw: &[Sample], rollups: &Summary) -> Self {
        let mut total = rollups.clone();
        for sample in raw {
            total.add(sample);
        }
        let ms = |d: Duration| crate::check::millis(d);
        let latency = if total.latency_count == 0 {
            LatencyStats::default()
        } else {
            let avg = total.latency_sum.as_secs_f64() * 1000.0 / total.latency_count as f64;
            let quantile = |q: f64| -> Option<f64> {
                if rollups.checks == 0 {
                    nearest_rank(raw, q).map(ms)
                } else {
                    total
                        .histogram
                        .quantile(q, total.latency_min, total.latency_max)
                        .map(ms)
                }
            };
            LatencyStats {
                avg: Some((avg * 1000.0).round() / 1000.0),
                p50: quantile(0.50),
                p95: quantile(0.95),
                p99: quantile(0.99),
                max: Some(ms(total.latency_max)),
            }
        };
        Self {
            window,
            checks: total.checks,
            failures: total.failures,
            uptime_ratio: (total.checks > 0)
                .then(|| (total.checks - total.failures) as f64 / total.checks as f64),
            latency,
        }
    }
}

/// The nearest-rank `q` quantile of the latencies among `raw`.
fn nearest_rank(raw: &[Sample], q: f64) -> Option<Duration> {
    let mut latencies: Vec<Duration> = raw.iter().filter_map(|s| s.latency).collect();
    if latencies.is_empty() {
        return None;
    }
    latencies.sort_unstable();
    let rank = (q * latencies.len() as f64).ceil().max(1.0) as usize;
    latencies.get(rank.min(latencies.len()) - 1).copied()
}

#[cfg(test)]
mod tests;
