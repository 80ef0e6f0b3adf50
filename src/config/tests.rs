//! Loading settings from every layer, in a `figment::Jail` so the process environment and
//! working directory of other tests are untouched.

// `Jail::expect_with` dictates the closures' error type, figment's large `Error`.
#![allow(clippy::result_large_err)]

use std::path::Path;
use std::time::Duration;

use figment::Jail;

use super::{DatabaseUrl, Overrides, Settings};

mod messages;

fn load(config: Option<&str>, overrides: &Overrides) -> Result<Settings, String> {
    Settings::load(config.map(Path::new), overrides).map_err(|e| e.to_string())
}

#[test]
fn defaults_apply_when_nothing_is_set() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let s = load(None, &Overrides::default()).expect("defaults are valid");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url, DatabaseUrl::sqlite("tocsin.db"));
        assert!(s.jwt_secret.is_none());
        assert_eq!(s.jwt_ttl, Duration::from_secs(15 * 60));
        assert!(!s.allow_private_targets);
        assert_eq!(s.min_interval, Duration::from_secs(10));
        assert_eq!(s.max_monitors_per_user, 1000);
        assert_eq!(s.auth_rate_per_minute, 30);
        assert_eq!(s.retention, Duration::from_secs(48 * 3600));
        assert_eq!(s.rollup_retention, Duration::from_secs(400 * 86_400));
        assert_eq!(s.max_in_flight, 512);
        assert!(s.redis_url.is_none());
        assert_eq!(s.redis_prefix, "tocsin");
        assert_eq!(s.flush_interval, Duration::from_secs(5));
        assert_eq!(s.buffer_capacity, 100_000);
        assert_eq!(s.header_read_timeout, Duration::from_secs(10));
        assert_eq!(s.idle_timeout, Duration::from_secs(60));
        assert_eq!(s.max_connections, 1024);
        assert_eq!(s.registration, super::Registration::Open);
        assert!(s.allowed_private_networks.is_empty());
        Ok(())
    });
}

#[test]
fn layers_override_in_order_file_env_flags() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "tocsin.toml",
            "listen = \"127.0.0.1:1001\"\njwt_ttl = \"1h\"\nmin_interval = \"30s\"\nallow_private_targets = true\n",
        )?;
        jail.set_env("TOCSIN_LISTEN", "127.0.0.1:1002");
        jail.set_env("TOCSIN_JWT_TTL", "2h");
        let file_and_env = load(Some("tocsin.toml"), &Overrides::default()).expect("valid");
        assert_eq!(
            file_and_env.listen.to_string(),
            "127.0.0.1:1002",
            "env beats the file"
        );
        assert_eq!(file_and_env.jwt_ttl, Duration::from_secs(7200));
        assert_eq!(
            file_and_env.min_interval,
            Duration::from_secs(30),
            "the file beats the default"
        );
        assert!(file_and_env.allow_private_targets);

        let flags = Overrides {
            listen: Some("127.0.0.1:1003".into()),
            database_url: Some("sqlite://x.db".into()),
        };
        let all = load(Some("tocsin.toml"), &flags).expect("valid");
        assert_eq!(
            all.listen.to_string(),
            "127.0.0.1:1003",
            "flags beat everything"
        );
        assert_eq!(all.database_url, DatabaseUrl::sqlite("x.db"));
        Ok(())
    });
}

#[test]
fn every_bad_value_names_its_setting() {
    let cases = [
        ("TOCSIN_JWT_TTL", "abc", "TOCSIN_JWT_TTL"),
        ("TOCSIN_JWT_TTL", "0s", "TOCSIN_JWT_TTL"),
        ("TOCSIN_JWT_SECRET", "too-short", "TOCSIN_JWT_SECRET"),
        ("TOCSIN_JWT_SECRET", "12345", "TOCSIN_JWT_SECRET"),
        ("TOCSIN_MIN_INTERVAL", "0s", "TOCSIN_MIN_INTERVAL"),
        ("TOCSIN_MIN_INTERVAL", "500ms", "TOCSIN_MIN_INTERVAL"),
        ("TOCSIN_MIN_INTERVAL", "1500ms", "TOCSIN_MIN_INTERVAL"),
        (
            "TOCSIN_MAX_MONITORS_PER_USER",
            "0",
            "TOCSIN_MAX_MONITORS_PER_USER",
        ),
        (
            "TOCSIN_MAX_MONITORS_PER_USER",
            "many",
            "TOCSIN_MAX_MONITORS_PER_USER",
        ),
        ("TOCSIN_DATABASE_URL", "mysql://x", "TOCSIN_DATABASE_URL"),
        ("TOCSIN_LISTEN", "nonsense", "TOCSIN_LISTEN"),
        (
            "TOCSIN_ALLOW_PRIVATE_TARGETS",
            "perhaps",
            "TOCSIN_ALLOW_PRIVATE_TARGETS",
        ),
        ("TOCSIN_LOG", "tocsin=loud", "TOCSIN_LOG"),
        (
            "TOCSIN_PUBLIC_URL",
            "ftp://status.example",
            "TOCSIN_PUBLIC_URL",
        ),
        ("TOCSIN_PUBLIC_URL", "status.example", "TOCSIN_PUBLIC_URL"),
        ("TOCSIN_RETENTION", "0s", "TOCSIN_RETENTION"),
        ("TOCSIN_RETENTION", "two days", "TOCSIN_RETENTION"),
        ("TOCSIN_ROLLUP_RETENTION", "30m", "TOCSIN_ROLLUP_RETENTION"),
        ("TOCSIN_MAX_IN_FLIGHT", "0", "TOCSIN_MAX_IN_FLIGHT"),
        ("TOCSIN_MAX_IN_FLIGHT", "lots", "TOCSIN_MAX_IN_FLIGHT"),
        ("TOCSIN_REDIS_URL", "http://x", "TOCSIN_REDIS_URL"),
        ("TOCSIN_REDIS_PREFIX", "", "TOCSIN_REDIS_PREFIX"),
        ("TOCSIN_REDIS_PREFIX", "a b", "TOCSIN_REDIS_PREFIX"),
        ("TOCSIN_FLUSH_INTERVAL", "10ms", "TOCSIN_FLUSH_INTERVAL"),
        ("TOCSIN_FLUSH_INTERVAL", "2days", "TOCSIN_FLUSH_INTERVAL"),
        ("TOCSIN_BUFFER_CAPACITY", "10", "TOCSIN_BUFFER_CAPACITY"),
        (
            "TOCSIN_HEADER_READ_TIMEOUT",
            "0s",
            "TOCSIN_HEADER_READ_TIMEOUT",
        ),
        ("TOCSIN_IDLE_TIMEOUT", "2h", "TOCSIN_IDLE_TIMEOUT"),
        ("TOCSIN_MAX_CONNECTIONS", "0", "TOCSIN_MAX_CONNECTIONS"),
        ("TOCSIN_REGISTRATION", "invite", "TOCSIN_REGISTRATION"),
        ("TOCSIN_TRUSTED_PROXIES", "lb1", "TOCSIN_TRUSTED_PROXIES"),
        (
            "TOCSIN_DATABASE_URL",
            "postgres://h:port/db",
            "TOCSIN_DATABASE_URL",
        ),
    ];
    for (key, value, named) in cases {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env(key, value);
            let error = load(None, &Overrides::default()).expect_err("invalid");
            assert!(error.contains(named), "{key}={value}: {error}");
            assert!(
                !(key == "TOCSIN_JWT_SECRET" && error.contains(value)),
                "secrets are not echoed: {error}"
            );
            Ok(())
        });
    }
}

#[test]
fn rollups_cannot_be_kept_shorter_than_raw_results() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("TOCSIN_RETENTION", "30d");
        jail.set_env("TOCSIN_ROLLUP_RETENTION", "7d");
        let error = load(None, &Overrides::default()).expect_err("invalid");
        assert!(error.contains("TOCSIN_ROLLUP_RETENTION"), "{error}");
        jail.set_env("TOCSIN_RETENTION", "3s");
        let short = load(None, &Overrides::default()).expect("a test-sized retention");
        assert_eq!(short.retention, Duration::from_secs(3));
        Ok(())
    });
}

#[test]
fn file_errors_name_the_key_and_the_file() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("typo.toml", "jwt_tll = \"1h\"\n")?;
        let error = load(Some("typo.toml"), &Overrides::default()).expect_err("unknown key");
        assert!(
            error.contains("jwt_tll") && error.contains("typo.toml"),
            "{error}"
        );
        jail.create_file("bad.toml", "max_monitors_per_user = -1\n")?;
        let error = load(Some("bad.toml"), &Overrides::default()).expect_err("negative");
        assert!(
            error.contains("max_monitors_per_user") && error.contains("bad.toml"),
            "{error}"
        );
        let error = load(Some("missing.toml"), &Overrides::default()).expect_err("missing file");
        assert!(
            error.contains("--config") && error.contains("missing.toml"),
            "{error}"
        );
        let flags = Overrides {
            listen: Some("nowhere".into()),
            database_url: None,
        };
        let error = load(None, &flags).expect_err("bad flag");
        assert!(error.contains("--listen"), "{error}");
        Ok(())
    });
}

#[test]
fn unknown_tocsin_variables_are_not_settings() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("TOCSIN_REQUIRE_SERVICES", "1");
        assert!(load(None, &Overrides::default()).is_ok());
        Ok(())
    });
}

#[test]
fn the_production_stack_is_configured_from_the_environment() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let url = "postgres://tocsin:pw@h1:5432,h2:5432/tocsin?target_session_attrs=read-write";
        jail.set_env("TOCSIN_DATABASE_URL", url);
        jail.set_env("TOCSIN_REDIS_URL", "redis://127.0.0.1:6379/2");
        // The seed flushed every 100 minutes; that must stay possible.
        jail.set_env("TOCSIN_FLUSH_INTERVAL", "100m");
        jail.set_env("TOCSIN_TRUSTED_PROXIES", "127.0.0.1,10.0.0.0/8");
        let s = load(None, &Overrides::default()).expect("valid");
        assert_eq!(s.database_url, DatabaseUrl::Postgres { url: url.into() });
        assert_eq!(
            s.redis_url.as_ref().map(|u| u.expose()),
            Some("redis://127.0.0.1:6379/2")
        );
        assert_eq!(s.flush_interval, Duration::from_secs(6000));
        assert!(s.trusted_proxies.contains("10.1.2.3".parse().expect("ip")));
        assert!(!format!("{s:?}").contains("pw"), "no password in Debug");
        Ok(())
    });
}

#[test]
fn a_redis_ca_needs_tls_and_an_existing_file() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("ca.pem", "-----BEGIN CERTIFICATE-----\n")?;
        jail.set_env("TOCSIN_REDIS_CA", "ca.pem");
        jail.set_env("TOCSIN_REDIS_URL", "redis://127.0.0.1:6379");
        let plain = load(None, &Overrides::default()).unwrap_err();
        assert!(
            plain.contains("TOCSIN_REDIS_CA") && plain.contains("rediss://"),
            "{plain}"
        );
        jail.set_env("TOCSIN_REDIS_URL", "rediss+sentinel://s1,s2,s3/tocsin");
        let s = load(None, &Overrides::default()).expect("valid");
        assert_eq!(s.redis_ca.as_deref(), Some(Path::new("ca.pem")));
        jail.set_env("TOCSIN_REDIS_CA", "missing.pem");
        let missing = load(None, &Overrides::default()).unwrap_err();
        assert!(missing.contains("missing.pem"), "{missing}");
        Ok(())
    });
}
