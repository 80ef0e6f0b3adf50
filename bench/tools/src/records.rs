//! Synthetic check results shaped like loopback checks: mostly up in about a millisecond,
//! one in a hundred down with a connect error, so rollups and statistics have some spread.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tocsin::check::{CheckRecord, CheckResult, Failure, FailureKind, Phases};
use tocsin::monitor::MonitorId;

/// One result of `monitor` checked at `at`, with plausible random timings.
pub fn record(rng: &mut impl Rng, monitor: MonitorId, at: DateTime<Utc>) -> CheckRecord {
    let down = rng.random_ratio(1, 100);
    let connect = Duration::from_micros(rng.random_range(80..400));
    let result = if down {
        CheckResult {
            checked_at: at,
            kind: Default::default(),
            dns: None,
            status_code: None,
            latency: connect,
            phases: Phases {
                connect: Some(connect),
                ..Phases::default()
            },
            cert_expires_at: None,
            failure: Some(Failure::new(
                FailureKind::Connect,
                "connection refused by 127.0.0.1:9",
            )),
        }
    } else {
        let ttfb = Duration::from_micros(rng.random_range(200..3000));
        CheckResult {
            checked_at: at,
            kind: Default::default(),
            dns: None,
            status_code: Some(200),
            latency: connect + ttfb + Duration::from_micros(rng.random_range(10..200)),
            phases: Phases {
                connect: Some(connect),
                ttfb: Some(ttfb),
                ..Phases::default()
            },
            cert_expires_at: None,
            failure: None,
        }
    };
    CheckRecord { monitor, result }
}
