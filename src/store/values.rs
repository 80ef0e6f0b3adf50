//! Conversions between domain values and the integers every store keeps (durations in
//! microseconds, counts as signed 64-bit).

use std::time::Duration;

use crate::check::stats::Sample;
use crate::check::{CheckKind, DnsAnswer, FailureKind, responded};
use crate::store::StoreError;

/// The columns of a raw result that statistics read, in [`sample`]'s order.
pub(super) const SAMPLE_COLUMNS: &str =
    "ok, status_code, latency_us, check_kind, error_kind, dns_rcode";

/// A raw result as statistics see it: its latency counts only when the target answered.
pub(super) fn sample(
    ok: bool,
    code: Option<i64>,
    latency_us: i64,
    kind: &str,
    error_kind: Option<&str>,
    dns_rcode: Option<&str>,
) -> Result<Sample, StoreError> {
    let corrupt = |e: crate::check::UnknownKind| StoreError::Corrupt(e.to_string());
    let kind: CheckKind = kind.parse().map_err(corrupt)?;
    let failure = error_kind
        .map(str::parse::<FailureKind>)
        .transpose()
        .map_err(corrupt)?;
    let code = code.map(status_code).transpose()?;
    Ok(Sample {
        ok,
        latency: responded(kind, code, dns_rcode, failure)
            .then(|| duration(latency_us))
            .transpose()?,
    })
}

/// A duration as stored: whole microseconds.
pub(super) fn micros(duration: Duration) -> Result<i64, StoreError> {
    i64::try_from(duration.as_micros())
        .map_err(|_| StoreError::Backend(format!("duration {duration:?} too long to store")))
}

/// The inverse of [`micros`].
pub(super) fn duration(micros: i64) -> Result<Duration, StoreError> {
    u64::try_from(micros)
        .map(Duration::from_micros)
        .map_err(|_| StoreError::Corrupt(format!("negative duration {micros} µs")))
}

/// A stored status code, which must fit an HTTP status.
pub(super) fn status_code(code: i64) -> Result<u16, StoreError> {
    u16::try_from(code).map_err(|_| StoreError::Corrupt(format!("status code {code}")))
}

/// A count as stored; counts beyond `i64::MAX` cannot happen in practice but must not wrap.
pub(super) fn count(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Backend(format!("count {value} too large")))
}

/// The inverse of [`count`].
pub(super) fn uncount(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative count {value}")))
}

/// A DNS answer as stored: its rcode, and its records one per line (`None` for other checks).
pub(super) fn dns_answer(rcode: Option<String>, records: Option<String>) -> Option<DnsAnswer> {
    rcode.map(|rcode| DnsAnswer {
        rcode,
        records: records
            .as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect(),
    })
}
