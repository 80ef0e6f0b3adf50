//! Unit tests of `MonitorSpec` parsing and patching.

use std::collections::BTreeMap;

use super::*;

const RULES: Rules = Rules {
    min_interval_secs: 10,
    allow_private_targets: false,
    private_networks: Networks::NONE,
};

fn draft(url: &str) -> MonitorDraft {
    MonitorDraft {
        url: url.to_owned(),
        ..MonitorDraft::default()
    }
}

fn error(d: MonitorDraft) -> String {
    MonitorSpec::parse(d, &RULES)
        .expect_err("should be refused")
        .to_string()
}

#[test]
fn defaults_fill_what_the_draft_leaves_out() {
    let spec = MonitorSpec::parse(draft("https://example.com/health"), &RULES).expect("valid");
    assert_eq!(spec.name(), "example.com");
    assert_eq!(spec.method(), Method::Get);
    assert_eq!(spec.interval_secs(), 60);
    assert_eq!(spec.timeout_ms(), 10_000);
    assert_eq!(spec.explicit_timeout_ms(), None);
    assert_eq!(spec.expected_status().to_string(), "200-399");
    assert!(spec.follow_redirects());
    assert_eq!(spec.keyword(), None);
}

#[test]
fn default_interval_respects_a_higher_minimum() {
    let rules = Rules {
        min_interval_secs: 120,
        ..RULES
    };
    let spec = MonitorSpec::parse(draft("https://example.com"), &rules).expect("valid");
    assert_eq!(spec.interval_secs(), 120);
}

#[test]
fn default_timeout_stays_below_a_short_interval() {
    let d = MonitorDraft {
        interval_seconds: Some(10),
        ..draft("https://example.com")
    };
    let spec = MonitorSpec::parse(d, &RULES).expect("valid");
    assert_eq!(spec.timeout_ms(), 8_000);
}

#[test]
fn interval_bounds_name_the_field() {
    let short = error(MonitorDraft {
        interval_seconds: Some(5),
        ..draft("https://e.com")
    });
    assert_eq!(
        short,
        "interval_seconds: must be between 10 and 86400 (got 5)"
    );
    let long = error(MonitorDraft {
        interval_seconds: Some(86_401),
        ..draft("https://e.com")
    });
    assert!(long.starts_with("interval_seconds:"), "{long}");
}

#[test]
fn timeout_must_stay_below_the_interval() {
    let e = error(MonitorDraft {
        interval_seconds: Some(10),
        timeout_ms: Some(10_000),
        ..draft("https://e.com")
    });
    assert!(e.starts_with("timeout_ms:") && e.contains("9999"), "{e}");
    let e = error(MonitorDraft {
        timeout_ms: Some(50),
        ..draft("https://e.com")
    });
    assert!(e.starts_with("timeout_ms:"), "{e}");
}

#[test]
fn text_fields_are_bounded() {
    assert!(
        error(MonitorDraft {
            name: Some("  ".into()),
            ..draft("https://e.com")
        })
        .starts_with("name:")
    );
    assert!(
        error(MonitorDraft {
            name: Some("x".repeat(201)),
            ..draft("https://e.com")
        })
        .starts_with("name:")
    );
    assert!(
        error(MonitorDraft {
            keyword: Some(String::new()),
            ..draft("https://e.com")
        })
        .starts_with("keyword:")
    );
    assert!(
        error(MonitorDraft {
            body: Some("x".repeat(70_000)),
            ..draft("https://e.com")
        })
        .starts_with("body:")
    );
}

#[test]
fn literal_internal_targets_are_blocked_unless_allowed() {
    let err = MonitorSpec::parse(draft("http://127.1:9000/"), &RULES).expect_err("blocked");
    assert!(matches!(err, MonitorError::Blocked { .. }));
    assert_eq!(err.field(), "url");
    let open = Rules {
        allow_private_targets: true,
        ..RULES
    };
    assert!(MonitorSpec::parse(draft("http://127.1:9000/"), &open).is_ok());
}

#[test]
fn a_spec_survives_the_round_trip_through_its_draft() {
    let d = MonitorDraft {
        name: Some("api".into()),
        method: Some("post".into()),
        interval_seconds: Some(30),
        timeout_ms: Some(2_000),
        expected_status: Some("200,204".into()),
        keyword: Some("ok".into()),
        follow_redirects: Some(false),
        headers: Some(BTreeMap::from([("X-Key".to_owned(), "v".to_owned())])),
        body: Some("{}".into()),
        ..draft("https://example.com/api")
    };
    let spec = MonitorSpec::parse(d, &RULES).expect("valid");
    let again = MonitorSpec::parse(spec.to_draft(), &RULES).expect("still valid");
    assert_eq!(spec, again);
}

fn patch(json: &str) -> MonitorPatch {
    serde_json::from_str(json).expect("patch JSON")
}

#[test]
fn patch_changes_only_what_it_names_and_resets_nulls() {
    let original = MonitorDraft {
        keyword: Some("ok".into()),
        timeout_ms: Some(3_000),
        ..draft("https://e.com")
    };
    let spec = MonitorSpec::parse(original, &RULES).expect("valid");
    let patched = patch(r#"{"interval_seconds": 10, "keyword": null, "timeout_ms": null}"#)
        .apply(spec.to_draft())
        .expect("applies");
    let spec = MonitorSpec::parse(patched, &RULES).expect("valid");
    assert_eq!(spec.interval_secs(), 10);
    assert_eq!(spec.keyword(), None);
    assert_eq!(
        spec.timeout_ms(),
        8_000,
        "default timeout follows the new interval"
    );
    assert_eq!(spec.target().as_str(), "https://e.com/");
}

#[test]
fn patch_refuses_null_for_required_fields() {
    let base = draft("https://e.com");
    let e = patch(r#"{"url": null}"#)
        .apply(base.clone())
        .expect_err("url required");
    assert_eq!(e.to_string(), "url: cannot be null");
    let e = patch(r#"{"interval_seconds": null}"#)
        .apply(base)
        .expect_err("interval required");
    assert_eq!(e.field(), "interval_seconds");
}

#[test]
fn patch_refuses_unknown_fields() {
    let e = serde_json::from_str::<MonitorPatch>(r#"{"intervl": 5}"#).expect_err("unknown");
    assert!(e.to_string().contains("intervl"));
}

#[test]
fn a_long_host_name_makes_a_name_within_bounds() {
    let host = format!("{}.{}.example.com", "a".repeat(63), "b".repeat(150));
    let spec = MonitorSpec::parse(draft(&format!("https://{host}/")), &RULES).expect("valid");
    assert_eq!(spec.name().chars().count(), 200);
    // And it reads back, as the store does.
    assert!(MonitorSpec::parse(spec.to_draft(), &Rules::STORED).is_ok());
}
