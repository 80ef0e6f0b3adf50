//! Conversions between domain values and the integers every store keeps (durations in
//! microseconds, counts as signed 64-bit).

use std::time::Duration;

use crate::store::StoreError;

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
