//! Carrying out an alerting plan inside the results transaction: incidents opened and
//! resolved, and each event queued for the monitor's channels (the outbox).

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;

use super::Tracked;
use crate::alerting::health::OpenIncident;
use crate::alerting::{EventKind, IncidentId, IncidentRef, Op, Slot};
use crate::store::StoreError;
use crate::store::postgres::connect::{get, pg};

/// Writes the plan's operations; returns the incident the decision opened or resolved, and
/// the event it queued.
pub(super) async fn carry_out(
    tx: &Transaction<'_>,
    t: &mut Tracked,
    ops: &[Op],
) -> Result<(Option<IncidentId>, Option<EventKind>), StoreError> {
    let mut touched = None;
    let mut opened = None;
    let mut queued = None;
    for op in ops {
        match op {
            Op::Resolve { incident, at } => {
                let stmt = tx
                    .prepare_cached(
                        "UPDATE incidents SET resolved_at = $2 \
                         WHERE id = $1 AND resolved_at IS NULL",
                    )
                    .await
                    .map_err(pg)?;
                tx.execute(&stmt, &[&incident.0, at]).await.map_err(pg)?;
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
                let stmt = tx
                    .prepare_cached(
                        "INSERT INTO incidents (monitor_id, kind, started_at, cause_kind, \
                         cause_message, cause_status_code, cert_expires_at, muted) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    )
                    .await
                    .map_err(pg)?;
                let code = cause.status_code.map(i32::from);
                let row = tx
                    .query_one(
                        &stmt,
                        &[
                            &t.monitor.0,
                            &kind.as_str(),
                            started_at,
                            &cause.kind,
                            &cause.message,
                            &code,
                            cert_expires_at,
                            muted,
                        ],
                    )
                    .await
                    .map_err(pg)?;
                let id = IncidentId(get(&row, 0)?);
                match slot {
                    Slot::Verdict => t.health.incident = Some(OpenIncident { id, muted: *muted }),
                    Slot::Certificate => t.health.cert_incident = Some(id),
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
                notify(tx, t, incident, event.as_str(), *at).await?;
                queued = Some(*event);
            }
        }
    }
    Ok((touched, queued))
}

/// Queues `event` about `incident` for each of the monitor's channels that still exists.
async fn notify(
    tx: &Transaction<'_>,
    t: &Tracked,
    incident: IncidentId,
    event: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached(
            "WITH e AS (INSERT INTO events (incident_id, kind, at) VALUES ($1, $2, $3) \
                        RETURNING id), \
                  n AS (INSERT INTO notifications (event_id, channel_id, next_attempt_at, \
                                                   created_at) \
                        SELECT e.id, c.id, now(), now() FROM e, channels c \
                        WHERE c.user_id = $4 AND c.id = ANY ($5)) \
             UPDATE incidents SET notified_at = $3 WHERE id = $1",
        )
        .await
        .map_err(pg)?;
    tx.execute(&stmt, &[&incident.0, &event, &at, &t.owner.0, &t.channels])
        .await
        .map_err(pg)?;
    Ok(())
}
