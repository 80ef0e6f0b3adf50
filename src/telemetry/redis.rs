//! What the Redis buffer counts about Redis's own durability: a stream or consumer group
//! found gone (a Redis restarted without persistence) with an estimate of the results it
//! took along, and sends behind Sentinel that no replica acknowledged in time.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

/// The Redis durability metrics of one process.
#[derive(Debug, Default)]
pub struct RedisMetrics {
    stream_lost: Counter,
    results_lost: Counter,
    unreplicated: Counter,
}

impl RedisMetrics {
    /// The metrics, registered in `registry`.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "redis_stream_lost",
            "Times the Redis result stream or its consumer group was found gone (a Redis restart without persistence) and made again",
            metrics.stream_lost.clone(),
        );
        registry.register(
            "results_lost",
            "Results estimated lost with a vanished Redis stream (those it held at the last look)",
            metrics.results_lost.clone(),
        );
        registry.register(
            "results_unreplicated",
            "Results a Sentinel-managed Redis master stored but no replica acknowledged in time",
            metrics.unreplicated.clone(),
        );
        metrics
    }

    /// Counts a vanished stream or consumer group and the results estimated lost with it.
    pub fn stream_lost(&self, results: usize) {
        self.stream_lost.inc();
        self.results_lost.inc_by(results as u64);
    }

    /// Counts results stored on a Redis master that no replica acknowledged in time.
    pub fn unreplicated(&self, count: usize) {
        self.unreplicated.inc_by(count as u64);
    }
}
