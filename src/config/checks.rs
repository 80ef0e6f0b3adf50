//! The bounds of each setting, checked once at start; every error names the setting the
//! way its value was given (variable, file key or flag).

use std::time::Duration;

use secrecy::ExposeSecret;

use super::errors::invalid;
use super::values::human_duration;
use super::{ConfigError, MAX_INTERVAL, MIN_JWT_SECRET_LEN, Settings};

/// Names a setting by its key, after where its value came from.
pub(super) type Namer<'a> = dyn Fn(&str) -> String + 'a;

/// Checks every bound; `name` turns a key into the name the user gave it by.
pub(super) fn validate(s: &Settings, name: &Namer<'_>) -> Result<(), ConfigError> {
    let fail = |key: &str, message: String| Err(invalid(&name(key), message));
    if let Some(secret) = &s.jwt_secret
        && secret.expose_secret().len() < MIN_JWT_SECRET_LEN
    {
        return fail(
            "jwt_secret",
            format!("must be at least {MIN_JWT_SECRET_LEN} bytes long"),
        );
    }
    let secs = Duration::from_secs;
    let ranges = [
        ("jwt_ttl", s.jwt_ttl, secs(1), secs(30 * 86_400)),
        ("min_interval", s.min_interval, secs(1), MAX_INTERVAL),
        ("retention", s.retention, secs(1), secs(365 * 86_400)),
        (
            "rollup_retention",
            s.rollup_retention,
            secs(3600).max(s.retention),
            secs(10 * 366 * 86_400),
        ),
        // The seed flushed every 100 minutes; a day is the most that still makes sense.
        (
            "flush_interval",
            s.flush_interval,
            Duration::from_millis(100),
            secs(86_400),
        ),
        (
            "header_read_timeout",
            s.header_read_timeout,
            secs(1),
            secs(300),
        ),
        ("idle_timeout", s.idle_timeout, secs(1), secs(3600)),
        ("notify_timeout", s.notify_timeout, secs(1), secs(120)),
        (
            "notify_retry",
            s.notify_retry,
            Duration::from_millis(100),
            secs(3600),
        ),
    ];
    for (key, value, min, max) in ranges {
        if value < min || value > max {
            return fail(
                key,
                format!(
                    "must be between {} and {} (got {})",
                    human_duration(min),
                    human_duration(max),
                    human_duration(value)
                ),
            );
        }
    }
    if s.min_interval.subsec_nanos() != 0 {
        return fail("min_interval", "must be a whole number of seconds".into());
    }
    let counts = [
        ("max_in_flight", s.max_in_flight, 1, 100_000),
        ("check_threads", s.check_threads, 0, 1024),
        ("buffer_capacity", s.buffer_capacity, 1_000, 10_000_000),
        (
            "max_monitors_per_user",
            s.max_monitors_per_user,
            1,
            u32::MAX,
        ),
        ("max_connections", s.max_connections, 1, 1_000_000),
    ];
    for (key, value, min, max) in counts {
        if !(min..=max).contains(&value) {
            let bounds = if max == u32::MAX {
                format!("must be at least {min}")
            } else {
                format!("must be between {min} and {max}")
            };
            return fail(key, format!("{bounds} (got {value})"));
        }
    }
    let prefix_ok = !s.redis_prefix.is_empty()
        && s.redis_prefix.len() <= 64
        && s.redis_prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if !prefix_ok {
        return fail(
            "redis_prefix",
            "must be 1 to 64 letters, digits or - _ . :".into(),
        );
    }
    match (&s.smtp_url, &s.smtp_from) {
        (Some(url), Some(from)) => {
            if let Err(message) = crate::alerting::channels::Smtp::new(
                url.expose_secret(),
                from,
                s.notify_timeout,
                s.smtp_ca.as_deref(),
            ) {
                let key = if message.starts_with("TOCSIN_SMTP_FROM") {
                    "smtp_from"
                } else if message.starts_with("TOCSIN_SMTP_CA") {
                    "smtp_ca"
                } else {
                    "smtp_url"
                };
                return fail(key, message);
            }
        }
        (Some(_), None) => {
            return fail(
                "smtp_from",
                "must be set with smtp_url (the sender of alert emails)".into(),
            );
        }
        (None, Some(_)) => {
            return fail(
                "smtp_url",
                "must be set with smtp_from (the relay alert emails go through)".into(),
            );
        }
        (None, None) => {}
    }
    if s.smtp_ca.is_some() && s.smtp_url.is_none() {
        return fail(
            "smtp_ca",
            "is only used with smtp_url (the relay it verifies)".into(),
        );
    }
    if let Some(ca) = &s.redis_ca {
        if s.redis_url.as_ref().is_none_or(|url| !url.tls()) {
            return fail(
                "redis_ca",
                "is only used with TLS: set TOCSIN_REDIS_URL to rediss://… or rediss+sentinel://…"
                    .into(),
            );
        }
        if !ca.is_file() {
            return fail("redis_ca", format!("names no file: {}", ca.display()));
        }
    }
    if let Err(error) = tracing_subscriber::EnvFilter::try_new(&s.log) {
        return fail("log", format!("is not a valid log filter: {error}"));
    }
    Ok(())
}
