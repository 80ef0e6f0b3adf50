//! Per-monitor gauges, opt-in (`TOCSIN_METRICS_PER_MONITOR`): a series per monitor is a
//! cardinality an operator chooses. Each instance shows the monitors it checked itself,
//! labelled by id and name; a series is dropped when its monitor is deleted or paused, and
//! when the monitor has not been checked here for three intervals (another instance claims
//! it now), so a dashboard never shows a stale state as current.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::check::CheckResult;
use crate::monitor::{Monitor, MonitorId};

/// How long a deleted monitor's id is remembered, so a check that was in flight when it was
/// deleted does not bring its series back: longer than any check may run.
const FORGET_FOR: Duration = Duration::from_secs(120);

/// How one gauge reads a monitor's latest check (`None`: no sample for it).
type Reading = fn(&Latest) -> Option<f64>;

/// The labels of every per-monitor series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MonitorLabels {
    id: String,
    name: String,
}

/// The latest check of one monitor, as the gauges show it.
#[derive(Debug, Clone)]
struct Latest {
    name: String,
    up: bool,
    latency: Duration,
    cert_expires_at: Option<i64>,
    stale_at: Instant,
}

#[derive(Debug, Default)]
struct State {
    latest: HashMap<i64, Latest>,
    deleted: HashMap<i64, Instant>,
}

/// The per-monitor gauges, encoded on each scrape from the latest check of each monitor.
#[derive(Debug, Default)]
pub struct MonitorGauges {
    state: Mutex<State>,
}

impl MonitorGauges {
    /// Records `monitor`'s latest check.
    pub fn checked(&self, monitor: &Monitor, result: &CheckResult) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if state.deleted.contains_key(&monitor.id.0) {
            return;
        }
        let interval = Duration::from_secs(u64::from(monitor.spec.interval_secs()));
        state.latest.insert(
            monitor.id.0,
            Latest {
                name: monitor.spec.name().to_owned(),
                up: result.ok(),
                latency: result.latency,
                cert_expires_at: result.cert_expires_at.map(|at| at.timestamp()),
                stale_at: Instant::now() + interval * 3 + Duration::from_secs(60),
            },
        );
    }

    /// Drops a paused monitor's series; a renamed one shows its new name at once.
    pub fn changed(&self, monitor: &Monitor) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if monitor.paused {
            state.latest.remove(&monitor.id.0);
        } else if let Some(latest) = state.latest.get_mut(&monitor.id.0) {
            monitor.spec.name().clone_into(&mut latest.name);
        }
    }

    /// Drops a deleted monitor's series for good.
    pub fn deleted(&self, id: MonitorId) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.latest.remove(&id.0);
        let now = Instant::now();
        state
            .deleted
            .retain(|_, at| now.duration_since(*at) < FORGET_FOR);
        state.deleted.insert(id.0, now);
    }
}

impl Collector for MonitorGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let series: Vec<(MonitorLabels, Latest)> = match self.state.lock() {
            Ok(mut state) => {
                let now = Instant::now();
                state.latest.retain(|_, latest| latest.stale_at > now);
                let mut series: Vec<_> = state
                    .latest
                    .iter()
                    .map(|(id, latest)| {
                        let labels = MonitorLabels {
                            id: id.to_string(),
                            name: latest.name.clone(),
                        };
                        (labels, latest.clone())
                    })
                    .collect();
                series.sort_by(|a, b| a.0.id.cmp(&b.0.id));
                series
            }
            Err(_) => Vec::new(),
        };
        let gauges: [(&str, &str, Reading); 3] = [
            (
                "monitor_up",
                "1 when the monitor's latest check here succeeded, else 0",
                |l| Some(if l.up { 1.0 } else { 0.0 }),
            ),
            (
                "monitor_latency_seconds",
                "Duration of the monitor's latest check here",
                |l| Some(l.latency.as_secs_f64()),
            ),
            (
                "monitor_cert_expiry_timestamp_seconds",
                "When the certificate seen by the monitor's latest check expires (Unix time)",
                |l| l.cert_expires_at.map(|at| at as f64),
            ),
        ];
        for (name, help, value) in gauges {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (labels, latest) in &series {
                if let Some(value) = value(latest) {
                    ConstGauge::new(value).encode(family.encode_family(labels)?)?;
                }
            }
        }
        Ok(())
    }
}
