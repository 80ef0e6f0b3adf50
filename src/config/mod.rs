//! Settings: defaults < optional `tocsin.toml` < `TOCSIN_*` environment < command-line flags.
//!
//! This is the only module that reads the environment. Everything is validated once, at start,
//! and every error names the setting that was wrong, so a typo never surfaces as a strange
//! behaviour hours later.

mod database_url;
mod postgres_tls;
mod proxies;
mod redis_url;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use database_url::{DatabaseUrl, redact};
pub use postgres_tls::{PostgresTls, PostgresUrl, RootCerts, SslMode};
pub use proxies::TrustedProxies;
pub use redis_url::{RedisTarget, RedisUrl, SentinelUrl};

/// The prefix of every environment variable tocsin reads.
pub const ENV_PREFIX: &str = "TOCSIN_";

/// Every setting's key, as written in `tocsin.toml`; the environment variable is
/// `TOCSIN_` + the key in upper case. Only these are read from the environment, so that
/// variables meant for other tools (such as the test suite's) are not mistaken for typos.
pub const KEYS: &[&str] = &[
    "listen",
    "database_url",
    "jwt_secret",
    "jwt_ttl",
    "allow_private_targets",
    "min_interval",
    "max_monitors_per_user",
    "auth_rate_per_minute",
    "retention",
    "rollup_retention",
    "max_in_flight",
    "redis_url",
    "redis_prefix",
    "redis_ca",
    "flush_interval",
    "buffer_capacity",
    "trusted_proxies",
    "metrics_per_monitor",
    "log",
];

/// The shortest JWT secret accepted: HS256 wants at least 256 bits of key.
pub const MIN_JWT_SECRET_LEN: usize = 32;

/// The longest check interval a monitor may have.
pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// The validated settings of one tocsin process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP API listens on (`TOCSIN_LISTEN`).
    #[serde(default = "defaults::listen")]
    pub listen: SocketAddr,
    /// Where the data lives (`TOCSIN_DATABASE_URL`).
    #[serde(default = "defaults::database_url")]
    pub database_url: DatabaseUrl,
    /// HS256 key for tokens; when unset one is generated once and kept in the database.
    #[serde(default)]
    pub jwt_secret: Option<SecretString>,
    /// How long a token stays valid (`TOCSIN_JWT_TTL`, humantime, default 15m like the seed).
    #[serde(default = "defaults::jwt_ttl", with = "humantime_serde")]
    pub jwt_ttl: Duration,
    /// Whether monitors may target loopback, private and link-local addresses.
    #[serde(default)]
    pub allow_private_targets: bool,
    /// The shortest check interval a monitor may ask for (`TOCSIN_MIN_INTERVAL`).
    #[serde(default = "defaults::min_interval", with = "humantime_serde")]
    pub min_interval: Duration,
    /// How many monitors one account may own.
    #[serde(default = "defaults::max_monitors_per_user")]
    pub max_monitors_per_user: u32,
    /// Register and login attempts allowed per client address per minute (0 turns it off).
    #[serde(default = "defaults::auth_rate_per_minute")]
    pub auth_rate_per_minute: u32,
    /// How long raw results are kept (`TOCSIN_RETENTION`, default 48h, the seed's two days).
    #[serde(default = "defaults::retention", with = "humantime_serde")]
    pub retention: Duration,
    /// How long hourly rollups are kept (`TOCSIN_ROLLUP_RETENTION`, default 400d).
    #[serde(default = "defaults::rollup_retention", with = "humantime_serde")]
    pub rollup_retention: Duration,
    /// The most checks running at once in this process (`TOCSIN_MAX_IN_FLIGHT`).
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight: u32,
    /// The Redis server that buffers results (`TOCSIN_REDIS_URL`); unset keeps them in
    /// this process until written.
    #[serde(default)]
    pub redis_url: Option<RedisUrl>,
    /// A PEM file of CA certificates to trust for `rediss://` (`TOCSIN_REDIS_CA`), for a
    /// Redis whose certificate a private CA signed; unset trusts the public web roots.
    #[serde(default)]
    pub redis_ca: Option<PathBuf>,
    /// What every Redis key tocsin makes starts with (`TOCSIN_REDIS_PREFIX`), so deployments
    /// can share one Redis.
    #[serde(default = "defaults::redis_prefix")]
    pub redis_prefix: String,
    /// How often buffered results go from Redis to the database (`TOCSIN_FLUSH_INTERVAL`).
    #[serde(default = "defaults::flush_interval", with = "humantime_serde")]
    pub flush_interval: Duration,
    /// Results held in this process (`TOCSIN_BUFFER_CAPACITY`): the in-process buffer's
    /// size, or with Redis, how many wait here while Redis is away.
    #[serde(default = "defaults::buffer_capacity")]
    pub buffer_capacity: u32,
    /// Balancers whose `X-Forwarded-For` names the client (`TOCSIN_TRUSTED_PROXIES`),
    /// for throttling behind HAProxy; empty trusts no header.
    #[serde(default)]
    pub trusted_proxies: TrustedProxies,
    /// Whether `/metrics` has a series per monitor checked here (`TOCSIN_METRICS_PER_MONITOR`);
    /// off by default, since every monitor adds three series.
    #[serde(default)]
    pub metrics_per_monitor: bool,
    /// Log filter, in `tracing` directive syntax (`info`, `tocsin=debug,tower_http=info`).
    #[serde(default = "defaults::log")]
    pub log: String,
}

/// Values given on the command line; `None` leaves the lower layers' value alone.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    /// `--listen`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// `--database-url`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value was malformed or out of bounds; `key` says where it came from.
    #[error("invalid configuration: {key}: {message}")]
    Invalid {
        /// The setting as the user wrote it: `TOCSIN_JWT_TTL`, `jwt_ttl in tocsin.toml`, `--listen`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

impl From<figment::Error> for ConfigError {
    /// Names the failing key the way the user wrote it, whichever layer it came from.
    fn from(error: figment::Error) -> Self {
        let key = error.path.join(".");
        let source = error.metadata.as_ref().and_then(|m| m.source.as_ref());
        let named = match (source, key.is_empty()) {
            (Some(figment::Source::File(path)), false) => format!("`{key}` in {}", path.display()),
            (Some(figment::Source::File(path)), true) => path.display().to_string(),
            (Some(figment::Source::Code(_)), _) => format!("--{}", key.replace('_', "-")),
            (_, false) => format!("{ENV_PREFIX}{}", key.to_uppercase()),
            (_, true) => "settings".to_owned(),
        };
        // The kind's text may quote the value, and a secret must not reach the terminal or logs.
        let message = if key == "jwt_secret" {
            format!("must be a string of at least {MIN_JWT_SECRET_LEN} bytes")
        } else {
            error.kind.to_string()
        };
        Self::Invalid {
            key: named,
            message,
        }
    }
}

impl Settings {
    /// Loads and validates the settings from every layer.
    pub fn load(config_file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = config_file {
            // `Toml::file` silently skips a missing file; an explicit --config must exist.
            if !path.is_file() {
                return Err(invalid(
                    "--config",
                    format!("names no file: {}", path.display()),
                ));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let figment = figment
            .merge(Env::prefixed(ENV_PREFIX).filter(|key| KEYS.iter().any(|known| key == *known)))
            .merge(Serialized::globals(overrides));
        Self::from_figment(figment)
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(secret) = &self.jwt_secret
            && secret.expose_secret().len() < MIN_JWT_SECRET_LEN
        {
            return Err(invalid(
                "TOCSIN_JWT_SECRET",
                format!("must be at least {MIN_JWT_SECRET_LEN} bytes long"),
            ));
        }
        check_range(
            "TOCSIN_JWT_TTL",
            self.jwt_ttl,
            Duration::from_secs(1),
            Duration::from_secs(30 * 86_400),
        )?;
        check_range(
            "TOCSIN_MIN_INTERVAL",
            self.min_interval,
            Duration::from_secs(1),
            MAX_INTERVAL,
        )?;
        if self.min_interval.subsec_nanos() != 0 {
            return Err(invalid(
                "TOCSIN_MIN_INTERVAL",
                "must be a whole number of seconds",
            ));
        }
        check_range(
            "TOCSIN_RETENTION",
            self.retention,
            Duration::from_secs(1),
            Duration::from_secs(365 * 86_400),
        )?;
        check_range(
            "TOCSIN_ROLLUP_RETENTION",
            self.rollup_retention,
            Duration::from_secs(3600).max(self.retention),
            Duration::from_secs(10 * 366 * 86_400),
        )?;
        if !(1..=100_000).contains(&self.max_in_flight) {
            return Err(invalid(
                "TOCSIN_MAX_IN_FLIGHT",
                format!("must be between 1 and 100000 (got {})", self.max_in_flight),
            ));
        }
        // The seed flushed every 100 minutes; a day is the most that still makes sense.
        check_range(
            "TOCSIN_FLUSH_INTERVAL",
            self.flush_interval,
            Duration::from_millis(100),
            Duration::from_secs(86_400),
        )?;
        if !(1_000..=10_000_000).contains(&self.buffer_capacity) {
            return Err(invalid(
                "TOCSIN_BUFFER_CAPACITY",
                format!(
                    "must be between 1000 and 10000000 (got {})",
                    self.buffer_capacity
                ),
            ));
        }
        if let Some(ca) = &self.redis_ca {
            if self.redis_url.as_ref().is_none_or(|url| !url.tls()) {
                return Err(invalid(
                    "TOCSIN_REDIS_CA",
                    "is only used with TLS: set TOCSIN_REDIS_URL to rediss://… or rediss+sentinel://…",
                ));
            }
            if !ca.is_file() {
                return Err(invalid(
                    "TOCSIN_REDIS_CA",
                    format!("names no file: {}", ca.display()),
                ));
            }
        }
        let prefix_ok = !self.redis_prefix.is_empty()
            && self.redis_prefix.len() <= 64
            && self
                .redis_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if !prefix_ok {
            return Err(invalid(
                "TOCSIN_REDIS_PREFIX",
                "must be 1 to 64 letters, digits or - _ . :",
            ));
        }
        if self.max_monitors_per_user == 0 {
            return Err(invalid(
                "TOCSIN_MAX_MONITORS_PER_USER",
                "must be at least 1",
            ));
        }
        if let Err(error) = tracing_subscriber::EnvFilter::try_new(&self.log) {
            return Err(invalid(
                "TOCSIN_LOG",
                format!("is not a valid log filter: {error}"),
            ));
        }
        Ok(())
    }
}

fn check_range(
    key: &str,
    value: Duration,
    min: Duration,
    max: Duration,
) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(invalid(
            key,
            format!(
                "must be between {} and {} (got {})",
                humantime::format_duration(min),
                humantime::format_duration(max),
                humantime::format_duration(value)
            ),
        ));
    }
    Ok(())
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.into(),
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: defaults::listen(),
            database_url: defaults::database_url(),
            jwt_secret: None,
            jwt_ttl: defaults::jwt_ttl(),
            allow_private_targets: false,
            min_interval: defaults::min_interval(),
            max_monitors_per_user: defaults::max_monitors_per_user(),
            auth_rate_per_minute: defaults::auth_rate_per_minute(),
            retention: defaults::retention(),
            rollup_retention: defaults::rollup_retention(),
            max_in_flight: defaults::max_in_flight(),
            redis_url: None,
            redis_ca: None,
            redis_prefix: defaults::redis_prefix(),
            flush_interval: defaults::flush_interval(),
            buffer_capacity: defaults::buffer_capacity(),
            trusted_proxies: TrustedProxies::default(),
            metrics_per_monitor: false,
            log: defaults::log(),
        }
    }
}

mod defaults {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::DatabaseUrl;

    pub fn listen() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8080))
    }
    pub fn database_url() -> DatabaseUrl {
        DatabaseUrl::sqlite("tocsin.db")
    }
    pub fn jwt_ttl() -> Duration {
        Duration::from_secs(15 * 60)
    }
    pub fn min_interval() -> Duration {
        Duration::from_secs(10)
    }
    pub fn max_monitors_per_user() -> u32 {
        1000
    }
    pub fn auth_rate_per_minute() -> u32 {
        30
    }
    pub fn retention() -> Duration {
        Duration::from_secs(48 * 3600)
    }
    pub fn rollup_retention() -> Duration {
        Duration::from_secs(400 * 86_400)
    }
    pub fn max_in_flight() -> u32 {
        512
    }
    pub fn redis_prefix() -> String {
        "tocsin".to_owned()
    }
    pub fn flush_interval() -> Duration {
        Duration::from_secs(5)
    }
    pub fn buffer_capacity() -> u32 {
        100_000
    }
    pub fn log() -> String {
        "info".to_owned()
    }
}

#[cfg(test)]
mod tests;
