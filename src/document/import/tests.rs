use super::*;
use crate::monitor::{MonitorSpec, Rules};

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/import")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every monitor of a converted document is one tocsin accepts.
fn all_valid(imported: &Imported) {
    for (name, monitor) in &imported.document.monitors {
        MonitorSpec::parse(monitor.to_draft(name), &Rules::STORED)
            .unwrap_or_else(|e| panic!("monitor `{name}`: {e}"));
    }
}

fn noted(imported: &Imported, needle: &str) {
    assert!(
        imported.notes.iter().any(|n| n.contains(needle)),
        "no note with `{needle}`: {:#?}",
        imported.notes
    );
}

#[test]
fn a_gatus_configuration_converts_with_every_condition_form() {
    let imported = gatus(&fixture("gatus.yaml")).expect("converts");
    all_valid(&imported);
    let monitors = &imported.document.monitors;
    let names: Vec<&str> = monitors.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["api", "database", "front-end", "legacy", "resolver"]
    );

    let front = &monitors["front-end"];
    assert_eq!(front.url, "https://shop.example.com/health");
    assert_eq!(front.interval_seconds, Some(300));
    assert_eq!(front.failure_threshold, Some(5));
    assert_eq!(front.success_threshold, Some(2));
    let api = &monitors["api"];
    assert_eq!(api.method.as_deref(), Some("POST"));
    assert_eq!(api.body.as_deref(), Some(r#"{"ping": true}"#));
    assert_eq!(api.timeout_ms, Some(5000));
    assert_eq!(api.tls_skip_verify, Some(true));
    assert_eq!(api.interval_seconds, Some(30));
    // Every condition form carries over unchanged; the one tocsin lacks is named.
    let mut forms: Vec<String> = ["front-end", "api", "database", "resolver"]
        .iter()
        .flat_map(|n| monitors[*n].conditions.clone().unwrap_or_default())
        .collect();
    forms.sort();
    let mut expected = vec![
        "[STATUS] == 200",
        "[STATUS] < 300",
        "[RESPONSE_TIME] < 500",
        "[BODY].status == UP",
        "[BODY].data[0].id == 1",
        "len([BODY].items) > 0",
        "[BODY] == pat(*healthy*)",
        "[BODY].x == any(a, b)",
        "has([BODY].errors) == false",
        "[CERTIFICATE_EXPIRATION] > 48h",
        "[CONNECTED] == true",
        "[DNS_RCODE] == NOERROR",
    ];
    expected.sort();
    assert_eq!(forms, expected);
    noted(&imported, "condition `[DOMAIN_EXPIRATION] > 720h`");

    assert_eq!(monitors["database"].url, "tcp://db.example.com:5432");
    assert_eq!(
        monitors["resolver"].url,
        "dns://8.8.8.8/example.org?type=AAAA"
    );
    assert_eq!(monitors["legacy"].paused, Some(true));
    noted(&imported, "the `alerting` section");
    noted(&imported, "the `storage` section");
    noted(&imported, "monitor `front-end`: group `core`");
    noted(&imported, "monitor `front-end`: alert `slack`");
    noted(&imported, "monitor `front-end`: alert `pagerduty`");
    noted(
        &imported,
        "monitor `ping`: `icmp://` endpoints have no tocsin check: skipped",
    );
    noted(&imported, "monitor `legacy`: `ui`");
}

#[test]
fn an_uptime_kuma_backup_converts() {
    let imported = uptime_kuma(&fixture("uptime-kuma.json")).expect("converts");
    all_valid(&imported);
    let monitors = &imported.document.monitors;
    let names: Vec<&str> = monitors.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "Login page",
            "MX record",
            "Old site",
            "Postgres port",
            "Status JSON",
            "Website",
            "Website (2)"
        ]
    );
    let website = &monitors["Website"];
    assert_eq!(website.url, "https://www.example.com/");
    assert_eq!(website.timeout_ms, Some(24_000));
    assert_eq!(website.failure_threshold, Some(3));
    let login = &monitors["Login page"];
    assert_eq!(login.keyword.as_deref(), Some("Sign in"));
    assert_eq!(login.expected_status.as_deref(), Some("200-299,301"));
    assert_eq!(login.follow_redirects, Some(false));
    assert_eq!(login.tls_skip_verify, Some(true));
    assert_eq!(login.url, "https://probe:s3cret@app.example.com/login");
    assert_eq!(
        login
            .headers
            .as_ref()
            .and_then(|h| h.get("X-Probe"))
            .map(String::as_str),
        Some("kuma")
    );
    assert_eq!(
        monitors["Status JSON"].conditions,
        Some(vec!["[BODY].status == UP".to_owned()])
    );
    assert_eq!(monitors["Postgres port"].url, "tcp://db.example.com:5432");
    assert_eq!(
        monitors["MX record"].url,
        "dns://9.9.9.9/example.com?type=MX"
    );
    assert_eq!(monitors["Old site"].paused, Some(true));
    noted(&imported, "1 notification(s)");
    noted(&imported, "monitor `Website`: notifications");
    noted(&imported, "monitor `Login page`: tags");
    noted(
        &imported,
        "monitor `Router`: type `ping` has no tocsin check: skipped",
    );
    noted(&imported, "monitor `Old site`: upside-down mode");
    noted(
        &imported,
        "monitor `Website`: the name is taken by another, so it is named `Website (2)`",
    );
}

#[test]
fn other_files_are_refused_saying_why() {
    assert!(
        gatus("just: text")
            .expect_err("refused")
            .contains("endpoints")
    );
    assert!(gatus(": :").is_err());
    assert!(
        uptime_kuma("{}")
            .expect_err("refused")
            .contains("monitorList")
    );
    assert!(uptime_kuma("nope").expect_err("refused").contains("JSON"));
}
