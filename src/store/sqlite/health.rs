//! Monitors' state inside the results write: reading each monitor's health and thresholds,
//! writing them back with its last check, and carrying out the incident and notification
//! plan (see [`crate::alerting`]), all in the batch's transaction.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction};

use super::backend;
use crate::alerting::health::OpenIncident;
use crate::alerting::plan::plan;
use crate::alerting::{
    Coverage, Decision, EventKind, Health, IncidentId, IncidentRef, Op, Slot, Thresholds,
    Transition, apply_all,
};
use crate::auth::UserId;
use crate::check::{CheckRecord, CheckResult};
use crate::monitor::MonitorId;
use crate::store::rows::HealthRecord;
use crate::store::values::micros;
use crate::store::{StoreError, from_millis, to_millis};

const READ: &str = "\
    SELECT m.user_id, m.failure_threshold, m.success_threshold, m.latency_threshold_ms, \
           m.cert_expiry_days, m.channel_ids, s.state, s.checked_at, s.failures, s.slow, \
           s.good, s.passing, s.failing_since, s.slow_since, s.incident_id, s.incident_muted, \
           s.cert_incident_id \
    FROM monitor_status s JOIN monitors m ON m.id = s.monitor_id WHERE s.monitor_id = ?1";

const WRITE: &str = "\
    UPDATE monitor_status SET checked_at = ?2, ok = ?3, status_code = ?4, latency_us = ?5, \
        error_kind = ?6, error_message = ?7, state = ?8, failures = ?9, slow = ?10, \
        good = ?11, passing = ?12, failing_since = ?13, slow_since = ?14, incident_id = ?15, \
        incident_muted = ?16, cert_incident_id = ?17 \
    WHERE monitor_id = ?1";

/// One monitor as the results write needs it.
struct Tracked {
    monitor: MonitorId,
    owner: UserId,
    thresholds: Thresholds,
    channels: String,
    health: Health,
}

/// Applies the batch to every monitor it names; returns what changed.
pub(super) fn apply(
    tx: &Transaction<'_>,
    batch: &[CheckRecord],
) -> Result<Vec<Transition>, StoreError> {
    let mut by_monitor: BTreeMap<MonitorId, Vec<&CheckResult>> = BTreeMap::new();
    for record in batch {
        by_monitor
            .entry(record.monitor)
            .or_default()
            .push(&record.result);
    }
    // Every monitor's decisions first, so the maintenance windows that may mute them are
    // read once for the whole batch.
    let mut decided = Vec::new();
    for (monitor, results) in by_monitor {
        // A monitor deleted meanwhile has no status row any more: nothing to decide.
        let Some(mut tracked) = read(tx, monitor)? else {
            continue;
        };
        let (decisions, newest) = apply_all(&mut tracked.health, &tracked.thresholds, results);
        if let Some(newest) = newest {
            decided.push((tracked, decisions, newest));
        }
    }
    let coverage = coverage(tx, &decided)?;
    let mut transitions = Vec::new();
    for (mut tracked, decisions, newest) in decided {
        let monitor = tracked.monitor;
        for (at, decision) in decisions {
            let muted = coverage.covers(tracked.owner, monitor, at);
            let ops = plan(&mut tracked.health, &decision, at, muted);
            let (incident, event) = carry_out(tx, &mut tracked, &ops)?;
            transitions.push(Transition {
                monitor,
                owner: tracked.owner,
                at,
                decision,
                incident,
                event,
            });
        }
        write(tx, monitor, &tracked.health, newest)?;
    }
    Ok(transitions)
}

/// A monitor's decisions: when each check decided what, and the newest check.
type Decided<'a> = (Tracked, Vec<(DateTime<Utc>, Decision)>, &'a CheckResult);

/// The maintenance windows that may cover the decisions: those of the monitors' owners
/// that overlap the decisions' times.
fn coverage(tx: &Transaction<'_>, decided: &[Decided<'_>]) -> Result<Coverage, StoreError> {
    let mut spans: BTreeMap<UserId, (DateTime<Utc>, DateTime<Utc>)> = BTreeMap::new();
    for (tracked, decisions, _) in decided {
        for (at, _) in decisions {
            spans
                .entry(tracked.owner)
                .and_modify(|(from, to)| (*from, *to) = ((*from).min(*at), (*to).max(*at)))
                .or_insert((*at, *at));
        }
    }
    let mut coverage = Coverage::default();
    for (owner, (from, to)) in spans {
        super::maintenance::cover(tx, &mut coverage, owner, from, to)?;
    }
    Ok(coverage)
}

fn read(tx: &Transaction<'_>, monitor: MonitorId) -> Result<Option<Tracked>, StoreError> {
    let mut stmt = tx.prepare_cached(READ).map_err(backend)?;
    let row = stmt
        .query_row([monitor.0], |row| {
            let millis = |i: usize| row.get::<_, Option<i64>>(i);
            Ok((
                (
                    row.get::<_, i64>(0)?,
                    [row.get::<_, u32>(1)?, row.get(2)?],
                    row.get::<_, Option<u32>>(3)?,
                    row.get::<_, u32>(4)?,
                    row.get::<_, String>(5)?,
                ),
                (
                    row.get::<_, String>(6)?,
                    [millis(7)?, millis(12)?, millis(13)?],
                    [row.get(8)?, row.get(9)?, row.get(10)?, row.get(11)?],
                    row.get::<_, Option<i64>>(14)?,
                    row.get::<_, bool>(15)?,
                    row.get::<_, Option<i64>>(16)?,
                ),
            ))
        })
        .optional()
        .map_err(backend)?;
    let Some(((owner, [failure, success], latency_ms, cert_days, channels), status)) = row else {
        return Ok(None);
    };
    let (state, [checked_at, failing_since, slow_since], runs, incident, muted, cert) = status;
    let time = |ms: Option<i64>| ms.map(from_millis).transpose();
    let health = HealthRecord {
        state,
        checked_at: time(checked_at)?,
        runs,
        failing_since: time(failing_since)?,
        slow_since: time(slow_since)?,
        incident_id: incident,
        incident_muted: muted,
        cert_incident_id: cert,
    }
    .into_health(monitor.0)?;
    Ok(Some(Tracked {
        monitor,
        owner: UserId(owner),
        thresholds: Thresholds {
            failure,
            success,
            latency: latency_ms.map(|ms| Duration::from_millis(u64::from(ms))),
            cert_expiry_days: cert_days,
        },
        channels,
        health,
    }))
}

fn write(
    tx: &Transaction<'_>,
    monitor: MonitorId,
    health: &Health,
    last: &CheckResult,
) -> Result<(), StoreError> {
    let h = HealthRecord::from_health(health);
    let millis = |at: Option<DateTime<Utc>>| at.map(to_millis);
    let failure = last.failure.as_ref();
    let latency = micros(last.latency)?;
    tx.prepare_cached(WRITE)
        .and_then(|mut stmt| {
            stmt.execute(rusqlite::params![
                monitor.0,
                to_millis(last.checked_at),
                last.ok(),
                last.status_code,
                latency,
                failure.map(|f| f.kind.as_str()),
                failure.map(|f| f.message.as_str()),
                h.state,
                h.runs[0],
                h.runs[1],
                h.runs[2],
                h.runs[3],
                millis(h.failing_since),
                millis(h.slow_since),
                h.incident_id,
                h.incident_muted,
                h.cert_incident_id,
            ])
        })
        .map_err(backend)?;
    Ok(())
}

/// Writes the plan's operations; returns the incident the decision opened or resolved, and
/// the event it queued.
fn carry_out(
    tx: &Transaction<'_>,
    tracked: &mut Tracked,
    ops: &[Op],
) -> Result<(Option<IncidentId>, Option<EventKind>), StoreError> {
    let mut touched = None;
    let mut opened = None;
    let mut queued = None;
    for op in ops {
        match op {
            Op::Resolve { incident, at } => {
                tx.prepare_cached(
                    "UPDATE incidents SET resolved_at = ?2 WHERE id = ?1 AND resolved_at IS NULL",
                )
                .and_then(|mut stmt| stmt.execute((incident.0, to_millis(*at))))
                .map_err(backend)?;
                touched = Some(*incident);
            }
            Op::Open {
                slot,
                kind,
                started_at,
                cause,
                muted,
                cert_expires_at,
            } => {
                let id: i64 = tx
                    .prepare_cached(
                        "INSERT INTO incidents (monitor_id, kind, started_at, cause_kind, \
                         cause_message, cause_status_code, cert_expires_at, muted) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                    )
                    .and_then(|mut stmt| {
                        stmt.query_row(
                            rusqlite::params![
                                tracked.monitor.0,
                                kind.as_str(),
                                to_millis(*started_at),
                                cause.kind,
                                cause.message,
                                cause.status_code,
                                cert_expires_at.map(to_millis),
                                muted,
                            ],
                            |row| row.get(0),
                        )
                    })
                    .map_err(backend)?;
                let id = IncidentId(id);
                match slot {
                    Slot::Verdict => {
                        tracked.health.incident = Some(OpenIncident { id, muted: *muted });
                    }
                    Slot::Certificate => tracked.health.cert_incident = Some(id),
                }
                opened = Some(id);
                touched = Some(id);
            }
            Op::Notify {
                event,
                incident,
                at,
            } => {
                let incident = match incident {
                    IncidentRef::Existing(id) => *id,
                    IncidentRef::Opened => opened.ok_or_else(|| {
                        StoreError::Backend("a notification about an incident never opened".into())
                    })?,
                };
                notify(tx, tracked, incident, *event, *at)?;
                queued = Some(*event);
            }
        }
    }
    Ok((touched, queued))
}

/// Queues `event` about `incident` for each of the monitor's channels that still exists.
fn notify(
    tx: &Transaction<'_>,
    tracked: &Tracked,
    incident: IncidentId,
    event: EventKind,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    super::incidents::queue_event(tx, incident, event, at, tracked.owner, &tracked.channels)?;
    tx.prepare_cached("UPDATE incidents SET notified_at = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute((incident.0, to_millis(at))))
        .map_err(backend)?;
    Ok(())
}
