//! The `monitors` table's columns as PostgreSQL reads and binds them, shared by every
//! statement that returns or writes a monitor (single changes, claims, apply, pages).

use std::collections::BTreeMap;

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::connect::get;
use crate::monitor::{Monitor, MonitorDraft, MonitorSpec};
use crate::store::StoreError;
use crate::store::rows::{MonitorRecord, SpecValues, StatusRecord};

/// The monitor's own columns, in the order [`read_row`] reads them. No column of
/// `monitor_status` shares a name with these, so they need no table name.
pub(super) const COLUMNS: &str = "id, user_id, name, url, method, interval_seconds, timeout_ms, \
    expected_status, keyword, follow_redirects, headers, body, failure_threshold, \
    success_threshold, latency_threshold_ms, channel_ids, reminder_interval_seconds, \
    cert_expiry_days, paused, created_at, updated_at, conditions, tls_ca_pem, tls_skip_verify";

/// The status columns, after [`COLUMNS`], from `monitor_status` joined as `s`.
pub(super) const STATUS: &str =
    "s.checked_at, s.ok, s.status_code, s.latency_us, s.error_kind, s.error_message, s.state";

/// How many columns [`COLUMNS`] and [`STATUS`] make together: what a statement returns
/// after them starts at this index.
pub(super) const READ_WIDTH: usize = 31;

/// The spec's columns, as `$1`..`$19` bind them.
pub(super) const SPEC_COLUMNS: &str = "name, url, method, interval_seconds, timeout_ms, expected_status, \
    keyword, follow_redirects, headers, body, failure_threshold, success_threshold, \
    latency_threshold_ms, channel_ids, reminder_interval_seconds, cert_expiry_days, conditions, \
    tls_ca_pem, tls_skip_verify";

/// A parameter list as the driver takes it.
type Params<'a> = Vec<&'a (dyn ToSql + Sync)>;

/// Reads [`COLUMNS`] then [`STATUS`] into a validated monitor.
pub(super) fn read_row(row: &Row) -> Result<Monitor, StoreError> {
    let id: i64 = get(row, 0)?;
    let corrupt = |e: String| StoreError::Corrupt(format!("monitor {id}: {e}"));
    let unsigned = |value: Option<i32>| {
        value
            .map(u32::try_from)
            .transpose()
            .map_err(|e| corrupt(e.to_string()))
    };
    let conditions: serde_json::Value = get(row, 21)?;
    let conditions: Vec<String> =
        serde_json::from_value(conditions).map_err(|e| corrupt(e.to_string()))?;
    let headers: serde_json::Value = get(row, 10)?;
    let headers: BTreeMap<String, String> =
        serde_json::from_value(headers).map_err(|e| corrupt(e.to_string()))?;
    let draft = MonitorDraft {
        name: get(row, 2)?,
        url: get(row, 3)?,
        method: get(row, 4)?,
        interval_seconds: unsigned(get(row, 5)?)?,
        timeout_ms: unsigned(get(row, 6)?)?,
        expected_status: get(row, 7)?,
        keyword: get(row, 8)?,
        follow_redirects: get(row, 9)?,
        headers: Some(headers),
        body: get(row, 11)?,
        failure_threshold: unsigned(get(row, 12)?)?,
        success_threshold: unsigned(get(row, 13)?)?,
        latency_threshold_ms: unsigned(get(row, 14)?)?,
        channel_ids: Some(get(row, 15)?),
        reminder_interval_seconds: unsigned(get(row, 16)?)?,
        cert_expiry_days: unsigned(get(row, 17)?)?,
        conditions: Some(conditions),
        tls_ca_pem: get(row, 22)?,
        tls_skip_verify: get(row, 23)?,
    };
    MonitorRecord {
        id,
        owner: get(row, 1)?,
        draft,
        paused: get(row, 18)?,
        created_at: get(row, 19)?,
        updated_at: get(row, 20)?,
        status: StatusRecord {
            checked_at: get(row, 24)?,
            ok: get(row, 25)?,
            status_code: get::<Option<i32>>(row, 26)?.map(i64::from),
            latency_us: get(row, 27)?,
            error_kind: get(row, 28)?,
            error_message: get(row, 29)?,
            state: get(row, 30)?,
        },
    }
    .into_monitor()
}

/// A spec's values as PostgreSQL binds them (`$1`..`$19`), by both INSERT and UPDATE.
pub(super) struct Bound<'a> {
    values: SpecValues<'a>,
    ints: [Option<i32>; 7],
    headers: serde_json::Value,
    conditions: serde_json::Value,
}

impl<'a> Bound<'a> {
    pub(super) fn new(spec: &'a MonitorSpec) -> Result<Self, StoreError> {
        let values = SpecValues::new(spec);
        let int = |value: Option<u32>| {
            value
                .map(|v| {
                    i32::try_from(v).map_err(|_| StoreError::Backend(format!("{v} too large")))
                })
                .transpose()
        };
        Ok(Self {
            ints: [
                int(Some(values.interval_seconds))?,
                int(values.timeout_ms)?,
                int(Some(values.failure_threshold))?,
                int(Some(values.success_threshold))?,
                int(values.latency_threshold_ms)?,
                int(values.reminder_interval_seconds)?,
                int(Some(values.cert_expiry_days))?,
            ],
            headers: serde_json::to_value(values.headers)
                .map_err(|e| StoreError::Backend(e.to_string()))?,
            conditions: serde_json::Value::from(values.conditions.clone()),
            values,
        })
    }

    /// The nineteen values, then the statement's own parameters from `$20` on.
    pub(super) fn then<'b>(&'b self, extra: &[&'b (dyn ToSql + Sync)]) -> Params<'b> {
        let (v, i) = (&self.values, &self.ints);
        let mut values: Params<'b> = vec![
            &v.name,
            &v.url,
            &v.method,
            &i[0],
            &i[1],
            &v.expected_status,
            &v.keyword,
            &v.follow_redirects,
            &self.headers,
            &v.body,
            &i[2],
            &i[3],
            &i[4],
            &v.channel_ids,
            &i[5],
            &i[6],
            &self.conditions,
            &v.tls_ca_pem,
            &v.tls_skip_verify,
        ];
        values.extend_from_slice(extra);
        values
    }
}
