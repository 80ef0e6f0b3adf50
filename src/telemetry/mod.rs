//! Logging (`tracing` to standard error, filtered by the `log` setting) and the Prometheus
//! metrics every part of tocsin records into.

mod alerts;
mod metrics;
mod monitors;
mod redis;
mod text_format;

pub use alerts::AlertMetrics;
pub use metrics::{CheckTimer, Metrics};
pub use monitors::MonitorGauges;
pub use redis::RedisMetrics;

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; later calls (tests start many apps) are no-ops.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
