//! Statistics checked against figures worked out by hand.

use super::*;

fn sample(ok: bool, latency_ms: Option<u64>) -> Sample {
    Sample {
        ok,
        latency: latency_ms.map(Duration::from_millis),
    }
}

#[test]
fn raw_only_windows_use_exact_nearest_rank_percentiles() {
    // Latencies 1..=100 ms, every tenth check failed with no response.
    let raw: Vec<Sample> = (1..=100)
        .map(|i| {
            if i % 10 == 0 {
                sample(false, None)
            } else {
                sample(true, Some(i))
            }
        })
        .collect();
    let stats = Stats::compute(Window::Day, &raw, &Summary::default());
    assert_eq!(stats.checks, 100);
    assert_eq!(stats.failures, 10);
    assert_eq!(stats.uptime_ratio, Some(0.9));
    // 90 latencies: 1..=99 without the multiples of ten; sum 5050 − 550 = 4500, mean 50.
    assert_eq!(stats.latency.avg, Some(50.0));
    // Nearest rank over 1..9, 11..19, …: p50 is the 45th of 90 (49), p95 the 86th (95),
    // p99 the 90th (99).
    assert_eq!(stats.latency.p50, Some(49.0));
    assert_eq!(stats.latency.p95, Some(95.0));
    assert_eq!(stats.latency.p99, Some(99.0));
    assert_eq!(stats.latency.max, Some(99.0));
}

#[test]
fn an_empty_window_has_no_ratio_and_no_latency() {
    let stats = Stats::compute(Window::Hour, &[], &Summary::default());
    assert_eq!((stats.checks, stats.failures), (0, 0));
    assert_eq!(stats.uptime_ratio, None);
    assert_eq!(stats.latency, LatencyStats::default());
    let failed = Stats::compute(Window::Hour, &[sample(false, None)], &Summary::default());
    assert_eq!(failed.uptime_ratio, Some(0.0));
    assert_eq!(failed.latency.avg, None);
}

#[test]
fn rollups_and_raw_rows_add_up() {
    // One rolled-up hour: 4 checks, 1 failure with a response, latencies 40, 60, 80, 120 ms.
    let mut hour = Summary::default();
    for (ok, ms) in [(true, 40), (true, 60), (false, 80), (true, 120)] {
        hour.add(&sample(ok, Some(ms)));
    }
    assert_eq!(hour.latency_min, Duration::from_millis(40));
    assert_eq!(hour.latency_max, Duration::from_millis(120));
    // Buckets (upper bounds): 40 → ≤50 (index 4), 60 → ≤75 (5), 80 → ≤100 (6), 120 → ≤150 (7).
    assert_eq!(&hour.histogram.0[4..8], &[1, 1, 1, 1]);
    // And raw: one success at 10 ms, one timeout without a response.
    let raw = [sample(true, Some(10)), sample(false, None)];
    let stats = Stats::compute(Window::Month, &raw, &hour);
    assert_eq!(stats.checks, 6);
    assert_eq!(stats.failures, 2);
    assert_eq!(stats.uptime_ratio, Some(4.0 / 6.0));
    // (40 + 60 + 80 + 120 + 10) / 5 = 62 ms.
    assert_eq!(stats.latency.avg, Some(62.0));
    assert_eq!(stats.latency.max, Some(120.0));
    // Histogram over 5 latencies: 10 (idx 1), 40 (4), 60 (5), 80 (6), 120 (7).
    // p50: rank 3 is the only one in (50, 75]: 50 + 25 × 1/1 = 75 ms.
    assert_eq!(stats.latency.p50, Some(75.0));
    // p95 and p99: rank 5, the only one in (100, 150], capped by the max of 120 ms.
    assert_eq!(stats.latency.p95, Some(120.0));
    assert_eq!(stats.latency.p99, Some(120.0));
}

#[test]
fn merging_summaries_equals_adding_their_samples() {
    let samples: Vec<Sample> = (0..50)
        .map(|i| sample(i % 7 != 0, (i % 5 != 0).then_some(i * 37 % 900)))
        .collect();
    let mut whole = Summary::default();
    samples.iter().for_each(|s| whole.add(s));
    let (mut left, mut right) = (Summary::default(), Summary::default());
    samples[..20].iter().for_each(|s| left.add(s));
    samples[20..].iter().for_each(|s| right.add(s));
    left.merge(&right);
    assert_eq!(left, whole);
    let mut empty = Summary::default();
    empty.merge(&whole);
    assert_eq!(empty, whole);
}

#[test]
fn slow_latencies_land_in_the_last_bucket() {
    assert_eq!(Histogram::bucket(Duration::from_millis(5)), 0);
    assert_eq!(Histogram::bucket(Duration::from_micros(5_001)), 1);
    assert_eq!(Histogram::bucket(Duration::from_secs(31)), BUCKETS - 1);
    let mut h = Histogram::default();
    h.record(Duration::from_secs(45));
    let q = h.quantile(0.5, Duration::from_secs(45), Duration::from_secs(45));
    assert_eq!(q, Some(Duration::from_secs(45)));
}

#[test]
fn windows_parse_and_name_the_choices() {
    for window in Window::ALL {
        assert_eq!(window.as_str().parse::<Window>(), Ok(window));
    }
    assert_eq!(Window::Year.duration(), Duration::from_secs(365 * 86_400));
    let err = "2d".parse::<Window>().expect_err("unknown window");
    assert!(err.contains("`2d`") && err.contains("365d"), "{err}");
}
