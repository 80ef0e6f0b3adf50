//! Reads for the pages: the dashboard's uptime tallies (checks and failures of many monitors
//! in one read) and a monitor's hourly latency from its rollups.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{backend, retention};
use crate::auth::UserId;
use crate::monitor::MonitorId;
use crate::store::values::duration;
use crate::store::{HourLatency, StoreError, Tally, from_millis, to_millis};

/// See [`crate::store::ResultStore::tallies`].
pub(super) fn tallies(
    conn: &mut Connection,
    owner: UserId,
    ids: &[MonitorId],
    from: DateTime<Utc>,
) -> Result<Vec<Tally>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids as a JSON array: one statement (and one cached plan) for any page size.
    let list = serde_json::to_string(&ids.iter().map(|id| id.0).collect::<Vec<_>>())
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let from = to_millis(from);
    // One snapshot, as `window` reads: retention moves rows from results to rollups.
    let tx = conn.transaction().map_err(backend)?;
    let mut totals: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    let owned = "SELECT m.id FROM monitors m, json_each(?1) j \
                 WHERE m.id = j.value AND m.user_id = ?2";
    let raw = format!(
        "SELECT r.monitor_id, count(*), count(*) - sum(r.ok) FROM results r \
         WHERE r.monitor_id IN ({owned}) AND r.checked_at >= ?3 GROUP BY r.monitor_id"
    );
    let rolled = format!(
        "SELECT r.monitor_id, sum(r.checks), sum(r.failures) FROM rollups r \
         WHERE r.monitor_id IN ({owned}) AND r.hour_start >= ?3 GROUP BY r.monitor_id"
    );
    for (sql, since) in [(raw, from), (rolled, retention::hour_start(from))] {
        let mut stmt = tx.prepare_cached(&sql).map_err(backend)?;
        let rows = stmt
            .query_map((&list, owner.0, since), |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })
            .map_err(backend)?;
        for row in rows {
            let (id, checks, failures) = row.map_err(backend)?;
            let total = totals.entry(id).or_default();
            total.0 += checks.max(0) as u64;
            total.1 += failures.max(0) as u64;
        }
    }
    Ok(totals
        .into_iter()
        .map(|(id, (checks, failures))| Tally {
            monitor: MonitorId(id),
            checks,
            failures,
        })
        .collect())
}

/// See [`crate::store::ResultStore::hourly_latency`].
pub(super) fn hourly_latency(
    conn: &mut Connection,
    owner: UserId,
    id: MonitorId,
    from: DateTime<Utc>,
) -> Result<Option<Vec<HourLatency>>, StoreError> {
    if !super::results::owns(conn, owner, id)? {
        return Ok(None);
    }
    let mut stmt = conn
        .prepare_cached(
            "SELECT hour_start, latency_count, latency_sum_us FROM rollups \
             WHERE monitor_id = ?1 AND hour_start >= ?2 ORDER BY hour_start",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map((id.0, retention::hour_start(to_millis(from))), |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
        .map_err(backend)?;
    let mut hours = Vec::new();
    for row in rows {
        let (hour, responses, sum) = row.map_err(backend)?;
        hours.push(HourLatency {
            hour: from_millis(hour)?,
            responses: responses.max(0) as u64,
            total: duration(sum)?,
        });
    }
    Ok(Some(hours))
}
