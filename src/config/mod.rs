//! Settings: defaults < optional `tocsin.toml` < `TOCSIN_*` environment < command-line flags.
//!
//! This is the only module that reads the environment. Everything is validated once, at start,
//! and every error names the setting that was wrong, so a typo never surfaces as a strange
//! behaviour hours later.

mod checks;
mod database_url;
mod errors;
mod postgres_tls;
mod proxies;
mod redis_url;
mod values;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

pub use crate::monitor::Networks;
pub use database_url::{DatabaseUrl, redact};
pub use errors::ConfigError;
use errors::{invalid, setting_name};
pub use postgres_tls::{PostgresTls, PostgresUrl, RootCerts, SslMode};
pub use proxies::TrustedProxies;
pub use redis_url::{RedisTarget, RedisUrl, SentinelUrl};
pub use values::human_duration;

/// The prefix of every environment variable tocsin reads.
pub const ENV_PREFIX: &str = "TOCSIN_";

/// Every setting's key, as written in `tocsin.toml`; the environment variable is
/// `TOCSIN_` + the key in upper case. Any other `TOCSIN_*` variable is refused as a typo,
/// except the test suite's and benchmarks' own (see `errors::check_env_names`).
pub const KEYS: &[&str] = &[
    "listen",
    "database_url",
    "jwt_secret",
    "jwt_ttl",
    "allow_private_targets",
    "allowed_private_networks",
    "min_interval",
    "max_monitors_per_user",
    "auth_rate_per_minute",
    "registration",
    "retention",
    "rollup_retention",
    "max_in_flight",
    "check_threads",
    "redis_url",
    "redis_prefix",
    "redis_ca",
    "flush_interval",
    "buffer_capacity",
    "trusted_proxies",
    "header_read_timeout",
    "idle_timeout",
    "max_connections",
    "metrics_per_monitor",
    "smtp_url",
    "smtp_from",
    "smtp_ca",
    "notify_timeout",
    "notify_retry",
    "public_url",
    "log",
];

/// The settings whose values are secret, or may hold one (a password in a URL): no
/// configuration error quotes them.
pub const SECRET_KEYS: &[&str] = &["jwt_secret", "database_url", "redis_url", "smtp_url"];

/// The shortest JWT secret accepted: HS256 wants at least 256 bits of key.
pub const MIN_JWT_SECRET_LEN: usize = 32;

/// The longest check interval a monitor may have.
pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Who may create an account (`TOCSIN_REGISTRATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// Anyone who can reach the API.
    #[default]
    Open,
    /// Only the first account, which becomes the administrator.
    Closed,
}

/// The validated settings of one tocsin process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP API listens on (`TOCSIN_LISTEN`): `IP:PORT` or `HOST:PORT`.
    #[serde(default = "defaults::listen", deserialize_with = "values::listen")]
    pub listen: SocketAddr,
    /// Where the data lives (`TOCSIN_DATABASE_URL`).
    #[serde(default = "defaults::database_url")]
    pub database_url: DatabaseUrl,
    /// HS256 key for tokens; when unset one is generated once and kept in the database.
    #[serde(default)]
    pub jwt_secret: Option<SecretString>,
    /// How long a token stays valid (`TOCSIN_JWT_TTL`, default 15m like the seed).
    #[serde(default = "defaults::jwt_ttl", deserialize_with = "values::duration")]
    pub jwt_ttl: Duration,
    /// Whether monitors may target loopback, private and link-local addresses.
    #[serde(default, deserialize_with = "values::flag")]
    pub allow_private_targets: bool,
    /// Private networks monitors may target even when private targets are refused
    /// (`TOCSIN_ALLOWED_PRIVATE_NETWORKS`); loopback, link-local and metadata stay refused.
    #[serde(default)]
    pub allowed_private_networks: Networks,
    /// The shortest check interval a monitor may ask for (`TOCSIN_MIN_INTERVAL`).
    #[serde(
        default = "defaults::min_interval",
        deserialize_with = "values::duration"
    )]
    pub min_interval: Duration,
    /// How many monitors one account may own.
    #[serde(default = "defaults::max_monitors_per_user")]
    pub max_monitors_per_user: u32,
    /// Register and login attempts allowed per client address per minute (0 turns it off).
    #[serde(default = "defaults::auth_rate_per_minute")]
    pub auth_rate_per_minute: u32,
    /// Who may create an account (`TOCSIN_REGISTRATION`): `open` or `closed`.
    #[serde(default)]
    pub registration: Registration,
    /// How long raw results are kept (`TOCSIN_RETENTION`, default 48h, the seed's two days).
    #[serde(default = "defaults::retention", deserialize_with = "values::duration")]
    pub retention: Duration,
    /// How long hourly rollups are kept (`TOCSIN_ROLLUP_RETENTION`, default 400d).
    #[serde(
        default = "defaults::rollup_retention",
        deserialize_with = "values::duration"
    )]
    pub rollup_retention: Duration,
    /// The most checks running at once in this process (`TOCSIN_MAX_IN_FLIGHT`).
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight: u32,
    /// Threads that run checks, each with its own event loop (`TOCSIN_CHECK_THREADS`,
    /// default one per core); 0 runs them on the server's own worker threads.
    #[serde(default = "defaults::check_threads")]
    pub check_threads: u32,
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
    #[serde(
        default = "defaults::flush_interval",
        deserialize_with = "values::duration"
    )]
    pub flush_interval: Duration,
    /// Results held in this process (`TOCSIN_BUFFER_CAPACITY`): the in-process buffer's
    /// size, or with Redis, how many wait here while Redis is away.
    #[serde(default = "defaults::buffer_capacity")]
    pub buffer_capacity: u32,
    /// Balancers whose `X-Forwarded-For` names the client (`TOCSIN_TRUSTED_PROXIES`),
    /// for throttling behind HAProxy; empty trusts no header.
    #[serde(default)]
    pub trusted_proxies: TrustedProxies,
    /// How long a client has to send a request's head (`TOCSIN_HEADER_READ_TIMEOUT`), so a
    /// connection trickling a header line now and then cannot be held open.
    #[serde(
        default = "defaults::header_read_timeout",
        deserialize_with = "values::duration"
    )]
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection may sit idle between requests (`TOCSIN_IDLE_TIMEOUT`).
    #[serde(
        default = "defaults::idle_timeout",
        deserialize_with = "values::duration"
    )]
    pub idle_timeout: Duration,
    /// The most client connections open at once (`TOCSIN_MAX_CONNECTIONS`); more wait in
    /// the listen backlog.
    #[serde(default = "defaults::max_connections")]
    pub max_connections: u32,
    /// Whether `/metrics` has a series per monitor checked here (`TOCSIN_METRICS_PER_MONITOR`);
    /// off by default, since every monitor adds three series.
    #[serde(default, deserialize_with = "values::flag")]
    pub metrics_per_monitor: bool,
    /// The SMTP relay email channels send through (`TOCSIN_SMTP_URL`): `smtp://` with
    /// STARTTLS, `smtps://`, credentials in the URL; secret, never shown or logged.
    #[serde(default)]
    pub smtp_url: Option<SecretString>,
    /// The sender of alert emails (`TOCSIN_SMTP_FROM`).
    #[serde(default)]
    pub smtp_from: Option<String>,
    /// A PEM file of CA certificates to trust for the SMTP relay (`TOCSIN_SMTP_CA`), for a
    /// relay whose certificate a private CA signed; unset trusts the public web roots.
    #[serde(default)]
    pub smtp_ca: Option<PathBuf>,
    /// How long one delivery to a channel may take (`TOCSIN_NOTIFY_TIMEOUT`).
    #[serde(
        default = "defaults::notify_timeout",
        deserialize_with = "values::duration"
    )]
    pub notify_timeout: Duration,
    /// The wait before a failed delivery's first retry (`TOCSIN_NOTIFY_RETRY`); each
    /// retry waits twice as long as the one before, up to an hour.
    #[serde(
        default = "defaults::notify_retry",
        deserialize_with = "values::duration"
    )]
    pub notify_retry: Duration,
    /// The address people reach tocsin at (`TOCSIN_PUBLIC_URL`, e.g. `https://status.example`),
    /// for links and cookies: with `https`, the session cookie is marked `Secure`.
    #[serde(default, deserialize_with = "values::public_url")]
    pub public_url: Option<url::Url>,
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

/// The few settings `tocsin check` uses. Nothing else is read, so a setting only the
/// server needs (a database URL, a secret) cannot stop a one-off check.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckSettings {
    /// Whether internal addresses may be checked (`--allow-private` sets it too).
    #[serde(default, deserialize_with = "values::flag")]
    pub allow_private_targets: bool,
    /// Private networks that may be checked.
    #[serde(default)]
    pub allowed_private_networks: Networks,
    /// Log filter.
    #[serde(default = "defaults::log")]
    pub log: String,
}

impl CheckSettings {
    /// Loads the check's settings from the file and the environment.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        let figment = layers(config_file, &Overrides::default())?;
        Ok(figment.extract()?)
    }
}

/// Every layer but the defaults: the file, the environment, the flags.
fn layers(config_file: Option<&Path>, overrides: &Overrides) -> Result<Figment, ConfigError> {
    errors::check_env_names(std::env::vars())?;
    let mut figment = Figment::new();
    if let Some(path) = config_file {
        // `Toml::file` silently skips a missing file; an explicit --config must exist.
        if !path.is_file() {
            return Err(invalid(
                "--config",
                format!("names no file: {}", path.display()),
            ));
        }
        errors::check_toml_syntax(path)?;
        figment = figment.merge(Toml::file_exact(path));
    }
    Ok(figment
        .merge(Env::prefixed(ENV_PREFIX).filter(|key| KEYS.iter().any(|known| key == *known)))
        .merge(Serialized::globals(overrides)))
}

impl Settings {
    /// Loads and validates the settings from every layer.
    pub fn load(config_file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::from_figment(layers(config_file, overrides)?)
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract()?;
        checks::validate(&settings, &|key| setting_name(&figment, key))?;
        Ok(settings)
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
            allowed_private_networks: Networks::NONE,
            min_interval: defaults::min_interval(),
            max_monitors_per_user: defaults::max_monitors_per_user(),
            auth_rate_per_minute: defaults::auth_rate_per_minute(),
            registration: Registration::Open,
            retention: defaults::retention(),
            rollup_retention: defaults::rollup_retention(),
            max_in_flight: defaults::max_in_flight(),
            check_threads: defaults::check_threads(),
            redis_url: None,
            redis_ca: None,
            redis_prefix: defaults::redis_prefix(),
            flush_interval: defaults::flush_interval(),
            buffer_capacity: defaults::buffer_capacity(),
            trusted_proxies: TrustedProxies::default(),
            header_read_timeout: defaults::header_read_timeout(),
            idle_timeout: defaults::idle_timeout(),
            max_connections: defaults::max_connections(),
            metrics_per_monitor: false,
            smtp_url: None,
            smtp_from: None,
            smtp_ca: None,
            notify_timeout: defaults::notify_timeout(),
            notify_retry: defaults::notify_retry(),
            public_url: None,
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
    pub fn check_threads() -> u32 {
        u32::try_from(crate::scheduler::default_check_threads()).unwrap_or(1)
    }
    pub fn header_read_timeout() -> Duration {
        Duration::from_secs(10)
    }
    pub fn idle_timeout() -> Duration {
        Duration::from_secs(60)
    }
    pub fn max_connections() -> u32 {
        1024
    }
    pub fn notify_timeout() -> Duration {
        Duration::from_secs(10)
    }
    pub fn notify_retry() -> Duration {
        Duration::from_secs(30)
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
