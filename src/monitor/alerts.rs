//! A monitor's alerting policy: when it counts as down, degraded or up again, who hears of
//! it, how often they are reminded, and how early an expiring certificate is announced.

use std::time::Duration;

use super::MonitorError;
use crate::alerting::{ChannelId, Thresholds};

const MAX_THRESHOLD: u32 = 20;
const DEFAULT_FAILURE_THRESHOLD: u32 = 3;
const DEFAULT_SUCCESS_THRESHOLD: u32 = 1;
const MAX_LATENCY_THRESHOLD_MS: u32 = 60_000;
const MAX_CHANNELS: usize = 50;
const MIN_REMINDER_SECS: u32 = 300;
const MAX_REMINDER_SECS: u32 = 30 * 24 * 3600;
const DEFAULT_CERT_EXPIRY_DAYS: u32 = 14;
const MAX_CERT_EXPIRY_DAYS: u32 = 365;

/// The validated alerting fields of a monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertPolicy {
    failure_threshold: u32,
    success_threshold: u32,
    latency_threshold_ms: Option<u32>,
    channels: Vec<ChannelId>,
    reminder_interval_secs: Option<u32>,
    cert_expiry_days: u32,
}

/// The raw alerting fields of a draft, as [`AlertPolicy::parse`] takes them.
#[derive(Debug, Clone, Default)]
pub struct AlertFields {
    /// `failure_threshold`.
    pub failure_threshold: Option<u32>,
    /// `success_threshold`.
    pub success_threshold: Option<u32>,
    /// `latency_threshold_ms`.
    pub latency_threshold_ms: Option<u32>,
    /// `channel_ids`.
    pub channel_ids: Option<Vec<i64>>,
    /// `reminder_interval_seconds`.
    pub reminder_interval_seconds: Option<u32>,
    /// `cert_expiry_days`.
    pub cert_expiry_days: Option<u32>,
}

impl AlertPolicy {
    /// Validates the fields, naming the first bad one. Channel ids are checked for shape
    /// here; whether they are the owner's channels is the service's to check.
    pub fn parse(fields: AlertFields) -> Result<Self, MonitorError> {
        let threshold = |field, value: Option<u32>, default| {
            let value = value.unwrap_or(default);
            if (1..=MAX_THRESHOLD).contains(&value) {
                Ok(value)
            } else {
                Err(MonitorError::invalid(
                    field,
                    format!("must be between 1 and {MAX_THRESHOLD} (got {value})"),
                ))
            }
        };
        let failure_threshold = threshold(
            "failure_threshold",
            fields.failure_threshold,
            DEFAULT_FAILURE_THRESHOLD,
        )?;
        let success_threshold = threshold(
            "success_threshold",
            fields.success_threshold,
            DEFAULT_SUCCESS_THRESHOLD,
        )?;
        if let Some(ms) = fields.latency_threshold_ms
            && !(1..=MAX_LATENCY_THRESHOLD_MS).contains(&ms)
        {
            return Err(MonitorError::invalid(
                "latency_threshold_ms",
                format!("must be between 1 and {MAX_LATENCY_THRESHOLD_MS} (got {ms})"),
            ));
        }
        if let Some(secs) = fields.reminder_interval_seconds
            && !(MIN_REMINDER_SECS..=MAX_REMINDER_SECS).contains(&secs)
        {
            return Err(MonitorError::invalid(
                "reminder_interval_seconds",
                format!("must be between {MIN_REMINDER_SECS} and {MAX_REMINDER_SECS} (got {secs})"),
            ));
        }
        let cert_expiry_days = fields.cert_expiry_days.unwrap_or(DEFAULT_CERT_EXPIRY_DAYS);
        if cert_expiry_days > MAX_CERT_EXPIRY_DAYS {
            return Err(MonitorError::invalid(
                "cert_expiry_days",
                format!("must be between 0 and {MAX_CERT_EXPIRY_DAYS} (got {cert_expiry_days})"),
            ));
        }
        Ok(Self {
            failure_threshold,
            success_threshold,
            latency_threshold_ms: fields.latency_threshold_ms,
            channels: channels(fields.channel_ids.unwrap_or_default())?,
            reminder_interval_secs: fields.reminder_interval_seconds,
            cert_expiry_days,
        })
    }

    /// The fields this policy was made from, for a draft.
    pub fn to_fields(&self) -> AlertFields {
        AlertFields {
            failure_threshold: Some(self.failure_threshold),
            success_threshold: Some(self.success_threshold),
            latency_threshold_ms: self.latency_threshold_ms,
            channel_ids: Some(self.channels.iter().map(|c| c.0).collect()),
            reminder_interval_seconds: self.reminder_interval_secs,
            cert_expiry_days: Some(self.cert_expiry_days),
        }
    }

    /// The thresholds the results write decides states by.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            failure: self.failure_threshold,
            success: self.success_threshold,
            latency: self
                .latency_threshold_ms
                .map(|ms| Duration::from_millis(u64::from(ms))),
            cert_expiry_days: self.cert_expiry_days,
        }
    }

    /// Failed (or slow) checks in a row before `down` (or `degraded`).
    pub fn failure_threshold(&self) -> u32 {
        self.failure_threshold
    }
    /// Passing checks in a row before `up` again.
    pub fn success_threshold(&self) -> u32 {
        self.success_threshold
    }
    /// The latency over which a successful check is slow, in milliseconds.
    pub fn latency_threshold_ms(&self) -> Option<u32> {
        self.latency_threshold_ms
    }
    /// The channels told of incidents, by id, ascending.
    pub fn channels(&self) -> &[ChannelId] {
        &self.channels
    }
    /// How often an open incident is announced again, in seconds.
    pub fn reminder_interval_secs(&self) -> Option<u32> {
        self.reminder_interval_secs
    }
    /// How many days ahead an expiring certificate opens an incident (0: never).
    pub fn cert_expiry_days(&self) -> u32 {
        self.cert_expiry_days
    }
}

/// Positive ids, each once, ascending, at most [`MAX_CHANNELS`].
fn channels(ids: Vec<i64>) -> Result<Vec<ChannelId>, MonitorError> {
    if let Some(bad) = ids.iter().find(|id| **id < 1) {
        return Err(MonitorError::invalid(
            "channel_ids",
            format!("{bad} is not a channel id (ids are positive integers)"),
        ));
    }
    let mut ids: Vec<ChannelId> = ids.into_iter().map(ChannelId).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > MAX_CHANNELS {
        return Err(MonitorError::invalid(
            "channel_ids",
            format!("at most {MAX_CHANNELS} channels (got {})", ids.len()),
        ));
    }
    Ok(ids)
}
