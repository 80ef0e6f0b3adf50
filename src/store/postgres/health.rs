//! Monitors' state inside the results write: their health and thresholds are read locked
//! (`FOR UPDATE`, in monitor order, so two instances writing batches of the same monitors
//! take turns and never decide a transition twice), written back in one statement, and the
//! incident and notification plan (see [`crate::alerting`]) is carried out, all in the
//! batch's transaction.

mod writes;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;

use super::connect::{get, pg};
use crate::alerting::plan::plan;
use crate::alerting::{Coverage, Decision, Health, Thresholds, Transition, apply_all};
use crate::auth::UserId;
use crate::check::{CheckRecord, CheckResult};
use crate::monitor::MonitorId;
use crate::store::StoreError;
use crate::store::rows::HealthRecord;
use crate::store::values::micros;

const LOCK: &str = "\
    SELECT s.monitor_id, m.user_id, m.failure_threshold, m.success_threshold, \
           m.latency_threshold_ms, m.cert_expiry_days, m.channel_ids, s.state, s.checked_at, \
           s.failures, s.slow, s.good, s.passing, s.failing_since, s.slow_since, s.incident_id, \
           s.incident_muted, s.cert_incident_id \
    FROM monitor_status s JOIN monitors m ON m.id = s.monitor_id \
    WHERE s.monitor_id = ANY($1) ORDER BY s.monitor_id FOR UPDATE OF s";

const WRITE: &str = "\
    UPDATE monitor_status s SET checked_at = u.checked_at, ok = u.ok, \
        status_code = u.status_code, latency_us = u.latency_us, error_kind = u.error_kind, \
        error_message = u.error_message, state = u.state, failures = u.failures, \
        slow = u.slow, good = u.good, passing = u.passing, failing_since = u.failing_since, \
        slow_since = u.slow_since, incident_id = u.incident_id, \
        incident_muted = u.incident_muted, cert_incident_id = u.cert_incident_id \
    FROM unnest($1::bigint[], $2::timestamptz[], $3::boolean[], $4::integer[], $5::bigint[], \
                $6::text[], $7::text[], $8::text[], $9::integer[], $10::integer[], \
                $11::integer[], $12::integer[], $13::timestamptz[], $14::timestamptz[], \
                $15::bigint[], $16::boolean[], $17::bigint[]) \
        AS u (monitor_id, checked_at, ok, status_code, latency_us, error_kind, error_message, \
              state, failures, slow, good, passing, failing_since, slow_since, incident_id, \
              incident_muted, cert_incident_id) \
    WHERE s.monitor_id = u.monitor_id";

/// One monitor as the results write needs it.
pub(super) struct Tracked {
    monitor: MonitorId,
    owner: UserId,
    thresholds: Thresholds,
    channels: Vec<i64>,
    health: Health,
}

/// Locks the state of the monitors in `ids` (ascending) for the rest of the transaction.
/// A monitor deleted meanwhile has no row, and so nothing to decide.
pub(super) async fn lock(
    tx: &Transaction<'_>,
    ids: &[i64],
) -> Result<BTreeMap<MonitorId, Tracked>, StoreError> {
    let stmt = tx.prepare_cached(LOCK).await.map_err(pg)?;
    let rows = tx.query(&stmt, &[&ids]).await.map_err(pg)?;
    let mut tracked = BTreeMap::new();
    for row in &rows {
        let monitor = MonitorId(get(row, 0)?);
        let unsigned = |i: usize| {
            get::<Option<i32>>(row, i)?
                .map(|v| {
                    u32::try_from(v)
                        .map_err(|e| StoreError::Corrupt(format!("monitor {}: {e}", monitor.0)))
                })
                .transpose()
        };
        let run = |i: usize| get::<i32>(row, i).map(i64::from);
        let required = |i: usize| {
            unsigned(i)?.ok_or_else(|| {
                StoreError::Corrupt(format!("monitor {}: a threshold is null", monitor.0))
            })
        };
        let health = HealthRecord {
            state: get(row, 7)?,
            checked_at: get(row, 8)?,
            runs: [run(9)?, run(10)?, run(11)?, run(12)?],
            failing_since: get(row, 13)?,
            slow_since: get(row, 14)?,
            incident_id: get(row, 15)?,
            incident_muted: get(row, 16)?,
            cert_incident_id: get(row, 17)?,
        }
        .into_health(monitor.0)?;
        let thresholds = Thresholds {
            failure: required(2)?,
            success: required(3)?,
            latency: unsigned(4)?.map(|ms| Duration::from_millis(u64::from(ms))),
            cert_expiry_days: required(5)?,
        };
        tracked.insert(
            monitor,
            Tracked {
                monitor,
                owner: UserId(get(row, 1)?),
                thresholds,
                channels: get(row, 6)?,
                health,
            },
        );
    }
    Ok(tracked)
}

/// Applies the batch to the locked monitors and writes their new state; returns what
/// changed. Monitors whose state changed are announced to the other instances (as changes
/// by `origin`) when the transaction commits, so their live views follow.
pub(super) async fn apply(
    tx: &Transaction<'_>,
    origin: u64,
    mut tracked: BTreeMap<MonitorId, Tracked>,
    batch: &[CheckRecord],
) -> Result<Vec<Transition>, StoreError> {
    let mut by_monitor: BTreeMap<MonitorId, Vec<&CheckResult>> = BTreeMap::new();
    for record in batch {
        by_monitor
            .entry(record.monitor)
            .or_default()
            .push(&record.result);
    }
    let mut transitions = Vec::new();
    let mut updates = Updates::default();
    // Every monitor's decisions first, so the maintenance windows that may mute them are
    // read in one query for the whole batch.
    let mut decided = Vec::new();
    for (monitor, results) in by_monitor {
        let Some(t) = tracked.get_mut(&monitor) else {
            continue;
        };
        let (decisions, newest) = apply_all(&mut t.health, &t.thresholds, results);
        if let Some(newest) = newest {
            decided.push((monitor, decisions, newest));
        }
    }
    let coverage = coverage(tx, &tracked, &decided).await?;
    for (monitor, decisions, newest) in decided {
        let Some(t) = tracked.get_mut(&monitor) else {
            continue;
        };
        for (at, decision) in decisions {
            let muted = coverage.covers(t.owner, monitor, at);
            let ops = plan(&mut t.health, &decision, at, muted);
            let (incident, event) = writes::carry_out(tx, t, &ops).await?;
            transitions.push(Transition {
                monitor,
                owner: t.owner,
                at,
                decision,
                incident,
                event,
            });
        }
        updates.push(monitor, &t.health, newest)?;
    }
    if !updates.monitor.is_empty() {
        updates.write(tx).await?;
    }
    announce(tx, origin, &transitions).await?;
    Ok(transitions)
}

/// Notifies the change feed of every monitor whose state changed.
async fn announce(
    tx: &Transaction<'_>,
    origin: u64,
    transitions: &[Transition],
) -> Result<(), StoreError> {
    let moved: std::collections::BTreeSet<(i64, i64)> = transitions
        .iter()
        .filter(|t| matches!(t.decision, Decision::State { .. }))
        .map(|t| (t.owner.0, t.monitor.0))
        .collect();
    if moved.is_empty() {
        return Ok(());
    }
    let (owners, monitors): (Vec<i64>, Vec<i64>) = moved.into_iter().unzip();
    let sql = format!(
        "SELECT {} FROM unnest($1::bigint[], $2::bigint[]) AS moved (user_id, id)",
        super::changes::notify_sql("moved", origin)
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
    tx.execute(&stmt, &[&owners, &monitors]).await.map_err(pg)?;
    Ok(())
}

/// The new state of every monitor the batch moved, as column arrays for [`WRITE`].
#[derive(Default)]
struct Updates {
    monitor: Vec<i64>,
    checked_at: Vec<DateTime<Utc>>,
    ok: Vec<bool>,
    status_code: Vec<Option<i32>>,
    latency_us: Vec<i64>,
    error_kind: Vec<Option<&'static str>>,
    error_message: Vec<Option<String>>,
    state: Vec<String>,
    runs: [Vec<i32>; 4],
    failing_since: Vec<Option<DateTime<Utc>>>,
    slow_since: Vec<Option<DateTime<Utc>>>,
    incident_id: Vec<Option<i64>>,
    incident_muted: Vec<bool>,
    cert_incident_id: Vec<Option<i64>>,
}

impl Updates {
    fn push(
        &mut self,
        monitor: MonitorId,
        health: &Health,
        last: &CheckResult,
    ) -> Result<(), StoreError> {
        let h = HealthRecord::from_health(health);
        self.monitor.push(monitor.0);
        self.checked_at.push(super::millis(last.checked_at));
        self.ok.push(last.ok());
        self.status_code.push(last.status_code.map(i32::from));
        self.latency_us.push(micros(last.latency)?);
        self.error_kind
            .push(last.failure.as_ref().map(|f| f.kind.as_str()));
        self.error_message
            .push(last.failure.as_ref().map(|f| f.message.clone()));
        self.state.push(h.state);
        // A run past i32::MAX checks (68 years at one a second) stays at the maximum: only
        // comparisons with thresholds of at most 20 read it.
        for (column, run) in self.runs.iter_mut().zip(h.runs) {
            column.push(i32::try_from(run).unwrap_or(i32::MAX));
        }
        self.failing_since.push(h.failing_since);
        self.slow_since.push(h.slow_since);
        self.incident_id.push(h.incident_id);
        self.incident_muted.push(h.incident_muted);
        self.cert_incident_id.push(h.cert_incident_id);
        Ok(())
    }

    async fn write(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let stmt = tx.prepare_cached(WRITE).await.map_err(pg)?;
        tx.execute(
            &stmt,
            &[
                &self.monitor,
                &self.checked_at,
                &self.ok,
                &self.status_code,
                &self.latency_us,
                &self.error_kind,
                &self.error_message,
                &self.state,
                &self.runs[0],
                &self.runs[1],
                &self.runs[2],
                &self.runs[3],
                &self.failing_since,
                &self.slow_since,
                &self.incident_id,
                &self.incident_muted,
                &self.cert_incident_id,
            ],
        )
        .await
        .map_err(pg)?;
        Ok(())
    }
}

/// The decisions of one monitor: when each check decided what, and the newest check.
type Decided<'a> = (MonitorId, Vec<(DateTime<Utc>, Decision)>, &'a CheckResult);

/// The maintenance windows that may cover the decisions: those of the monitors' owners
/// that overlap the decisions' times.
async fn coverage(
    tx: &Transaction<'_>,
    tracked: &BTreeMap<MonitorId, Tracked>,
    decided: &[Decided<'_>],
) -> Result<Coverage, StoreError> {
    let mut owners = std::collections::BTreeSet::new();
    let mut span: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (monitor, decisions, _) in decided {
        for (at, _) in decisions {
            if let Some(t) = tracked.get(monitor) {
                owners.insert(t.owner.0);
            }
            span = Some(span.map_or((*at, *at), |(from, to)| (from.min(*at), to.max(*at))));
        }
    }
    match span {
        None => Ok(Coverage::default()),
        Some((from, to)) => {
            let owners: Vec<i64> = owners.into_iter().collect();
            super::maintenance::coverage(tx, &owners, from, to).await
        }
    }
}
