//! Reads for the pages: the dashboard's uptime tallies (checks and failures of many monitors
//! in one read) and a monitor's hourly latency from its rollups.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::Object;

use super::connect::{get, pg};
use super::results::snapshot;
use super::{millis, rollups};
use crate::auth::UserId;
use crate::monitor::MonitorId;
use crate::store::values::duration;
use crate::store::{HourLatency, StoreError, Tally};

/// See [`crate::store::ResultStore::tallies`].
pub(super) async fn tallies(
    client: &mut Object,
    owner: UserId,
    ids: &[MonitorId],
    from: DateTime<Utc>,
) -> Result<Vec<Tally>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let from = millis(from);
    let hour = rollups::hour_start(from)?;
    // One snapshot, as `window` reads: raw rows up to the roll-up mark are already counted
    // in the rollups.
    let tx = snapshot(client).await?;
    let owned = "SELECT id FROM monitors WHERE id = ANY($1) AND user_id = $2";
    let raw = format!(
        "SELECT r.monitor_id, count(*), count(*) FILTER (WHERE NOT r.ok) \
         FROM results r, rollup_mark m \
         WHERE r.monitor_id IN ({owned}) AND r.checked_at >= $3 \
           AND (r.checked_at, r.monitor_id) > (m.checked_at, m.monitor_id) \
         GROUP BY r.monitor_id"
    );
    let rolled = format!(
        "SELECT monitor_id, sum(checks)::bigint, sum(failures)::bigint FROM rollups \
         WHERE monitor_id IN ({owned}) AND hour_start >= $3 GROUP BY monitor_id"
    );
    let mut totals: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for (sql, since) in [(raw, from), (rolled, hour)] {
        let stmt = tx.prepare_cached(&sql).await.map_err(pg)?;
        for row in tx
            .query(&stmt, &[&ids, &owner.0, &since])
            .await
            .map_err(pg)?
        {
            let id: i64 = get(&row, 0)?;
            let checks: i64 = get(&row, 1)?;
            let failures: i64 = get(&row, 2)?;
            let total = totals.entry(id).or_default();
            total.0 += checks.max(0) as u64;
            total.1 += failures.max(0) as u64;
        }
    }
    tx.commit().await.map_err(pg)?;
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
pub(super) async fn hourly_latency(
    client: &Object,
    owner: UserId,
    id: MonitorId,
    from: DateTime<Utc>,
) -> Result<Option<Vec<HourLatency>>, StoreError> {
    let owned = client
        .prepare_cached("SELECT 1 FROM monitors WHERE id = $1 AND user_id = $2")
        .await
        .map_err(pg)?;
    if client
        .query_opt(&owned, &[&id.0, &owner.0])
        .await
        .map_err(pg)?
        .is_none()
    {
        return Ok(None);
    }
    let stmt = client
        .prepare_cached(
            "SELECT hour_start, latency_count, latency_sum_us FROM rollups \
             WHERE monitor_id = $1 AND hour_start >= $2 ORDER BY hour_start",
        )
        .await
        .map_err(pg)?;
    let from = rollups::hour_start(millis(from))?;
    let mut hours = Vec::new();
    for row in client.query(&stmt, &[&id.0, &from]).await.map_err(pg)? {
        let responses: i64 = get(&row, 1)?;
        hours.push(HourLatency {
            hour: get(&row, 0)?,
            responses: responses.max(0) as u64,
            total: duration(get(&row, 2)?)?,
        });
    }
    Ok(Some(hours))
}
