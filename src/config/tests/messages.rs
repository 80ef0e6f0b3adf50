//! What a mistaken setting is told: the closest name, the flag or key it came from, values
//! read as people write them, and never a secret.

// `Jail::expect_with` dictates the closures' error type, figment's large `Error`.
#![allow(clippy::result_large_err)]

use figment::Jail;

use super::load;
use crate::config::Overrides;

#[test]
fn an_unknown_tocsin_variable_names_the_closest_setting() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("TOCSIN_JWT_TLL", "1h");
        let error = load(None, &Overrides::default()).expect_err("typo");
        assert!(
            error.contains("TOCSIN_JWT_TLL") && error.contains("did you mean TOCSIN_JWT_TTL"),
            "{error}"
        );
        Ok(())
    });
}

#[test]
fn a_typo_in_the_file_names_the_closest_key() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("typo.toml", "retension = \"1h\"\n")?;
        let error = load(Some("typo.toml"), &Overrides::default()).expect_err("typo");
        assert!(error.contains("did you mean `retention`"), "{error}");
        Ok(())
    });
}

#[test]
fn durations_in_errors_read_as_people_write_them() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("TOCSIN_RETENTION", "400d");
        let error = load(None, &Overrides::default()).expect_err("too long");
        assert!(error.contains("between 1s and 365d (got 400d)"), "{error}");
        jail.set_env("TOCSIN_RETENTION", "30");
        let error = load(None, &Overrides::default()).expect_err("no unit");
        assert!(error.contains("30s"), "suggests a unit: {error}");
        Ok(())
    });
}

#[test]
fn booleans_take_the_usual_spellings() {
    for (raw, expected) in [
        ("true", true),
        ("1", true),
        ("yes", true),
        ("YES", true),
        ("on", true),
        ("false", false),
        ("0", false),
        ("no", false),
        ("off", false),
    ] {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("TOCSIN_ALLOW_PRIVATE_TARGETS", raw);
            let s = load(None, &Overrides::default()).expect(raw);
            assert_eq!(s.allow_private_targets, expected, "{raw}");
            jail.clear_env();
            jail.create_file(
                "flags.toml",
                &format!("allow_private_targets = \"{raw}\"\n"),
            )?;
            let s = load(Some("flags.toml"), &Overrides::default()).expect(raw);
            assert_eq!(s.allow_private_targets, expected, "{raw} in TOML");
            Ok(())
        });
    }
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("flags.toml", "allow_private_targets = 1\n")?;
        let s = load(Some("flags.toml"), &Overrides::default()).expect("1 in TOML");
        assert!(s.allow_private_targets);
        Ok(())
    });
}

#[test]
fn listen_takes_a_host_name_or_says_the_form() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("TOCSIN_LISTEN", "localhost:8080");
        let s = load(None, &Overrides::default()).expect("localhost works");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        jail.set_env("TOCSIN_LISTEN", "8080");
        let error = load(None, &Overrides::default()).expect_err("no host");
        assert!(
            error.contains("TOCSIN_LISTEN") && error.contains("HOST:PORT"),
            "{error}"
        );
        Ok(())
    });
}

#[test]
fn errors_name_the_flag_or_file_key_the_value_came_from() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let flags = Overrides {
            listen: None,
            database_url: Some("mysql://db".into()),
        };
        let error = load(None, &flags).expect_err("bad flag");
        assert!(
            error.contains("--database-url") && !error.contains("TOCSIN_DATABASE_URL"),
            "{error}"
        );
        jail.create_file("short.toml", "jwt_ttl = \"60d\"\n")?;
        let error = load(Some("short.toml"), &Overrides::default()).expect_err("range");
        assert!(
            error.contains("`jwt_ttl` in") && !error.contains("TOCSIN_JWT_TTL"),
            "{error}"
        );
        Ok(())
    });
}

#[test]
fn secrets_never_appear_in_configuration_errors() {
    let secret = "hunter2-hunter2-hunter2-hunter2-hunter2";
    let url = "postgres://tocsin:hunter2@db/tocsin";
    for file in [
        format!("jwt_secret = \"{secret}\ntocsin = 1\n"),
        format!("jwt_secret = {secret}\n"),
        format!("database_url = \"{url}\" x\n"),
        format!("database_url = '{url}\n"),
        "redis_url = \"redis://:hunter2@h:6379\" = 1\n".to_owned(),
        "jwt_secret = 12345\n".to_owned(),
        "jwt_secret = \"hunter2\"\n".to_owned(),
        format!("database_url = \"my{url}\"\n"),
    ] {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("secret.toml", &file)?;
            let error = load(Some("secret.toml"), &Overrides::default()).expect_err(&file);
            assert!(!error.contains("hunter2"), "{file}: {error}");
            assert!(!error.contains("12345"), "{file}: {error}");
            assert!(error.contains("secret.toml"), "{file}: {error}");
            Ok(())
        });
    }
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("TOCSIN_JWT_SECRET", "12345");
        let error = load(None, &Overrides::default()).expect_err("short");
        assert!(!error.contains("12345"), "{error}");
        Ok(())
    });
}

#[test]
fn allowed_private_networks_are_read_and_checked() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("TOCSIN_ALLOWED_PRIVATE_NETWORKS", "10.0.5.0/24");
        let s = load(None, &Overrides::default()).expect("valid");
        assert!(
            s.allowed_private_networks
                .contains("10.0.5.9".parse().expect("ip"))
        );
        jail.set_env("TOCSIN_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8");
        let error = load(None, &Overrides::default()).expect_err("loopback");
        assert!(
            error.contains("TOCSIN_ALLOWED_PRIVATE_NETWORKS") && error.contains("loopback"),
            "{error}"
        );
        Ok(())
    });
}

#[test]
fn per_monitor_metrics_are_off_unless_asked_for() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        assert!(
            !load(None, &Overrides::default())
                .expect("valid")
                .metrics_per_monitor
        );
        jail.set_env("TOCSIN_METRICS_PER_MONITOR", "true");
        assert!(
            load(None, &Overrides::default())
                .expect("valid")
                .metrics_per_monitor
        );
        jail.set_env("TOCSIN_METRICS_PER_MONITOR", "maybe");
        let error = load(None, &Overrides::default()).expect_err("not a boolean");
        assert!(
            error.to_string().contains("TOCSIN_METRICS_PER_MONITOR"),
            "{error}"
        );
        Ok(())
    });
}

#[test]
fn the_smtp_relay_is_checked_at_start_without_quoting_its_password() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("TOCSIN_SMTP_URL", "smtp://user:s3cr3t@mail.example.com");
        let alone = load(None, &Overrides::default()).unwrap_err();
        assert!(alone.contains("TOCSIN_SMTP_FROM"), "{alone}");
        jail.set_env("TOCSIN_SMTP_FROM", "not an address");
        let from = load(None, &Overrides::default()).unwrap_err();
        assert!(
            from.contains("TOCSIN_SMTP_FROM") && !from.contains("s3cr3t"),
            "{from}"
        );
        jail.set_env("TOCSIN_SMTP_FROM", "tocsin <alerts@example.com>");
        let s = load(None, &Overrides::default()).expect("valid");
        assert!(
            !format!("{s:?}").contains("s3cr3t"),
            "settings' Debug hides it"
        );
        jail.set_env("TOCSIN_SMTP_URL", "imap://user:s3cr3t@mail.example.com");
        let scheme = load(None, &Overrides::default()).unwrap_err();
        assert!(
            scheme.contains("TOCSIN_SMTP_URL")
                && scheme.contains("smtps://")
                && !scheme.contains("s3cr3t"),
            "{scheme}"
        );
        jail.set_env("TOCSIN_SMTP_URL", "smtps://mail.example.com");
        jail.set_env("TOCSIN_SMTP_CA", "missing.pem");
        let ca = load(None, &Overrides::default()).unwrap_err();
        assert!(
            ca.contains("TOCSIN_SMTP_CA") && ca.contains("missing.pem"),
            "{ca}"
        );
        Ok(())
    });
}
