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

#[test]
fn conditions_are_parsed_with_the_spec_and_survive_its_draft() {
    let d = MonitorDraft {
        conditions: Some(vec![
            "[STATUS] == 200".into(),
            " [BODY].status == UP ".into(),
        ]),
        ..draft("https://e.com/health")
    };
    let spec = MonitorSpec::parse(d, &RULES).expect("valid");
    assert_eq!(
        spec.conditions().sources(),
        vec![
            "[STATUS] == 200".to_owned(),
            "[BODY].status == UP".to_owned()
        ]
    );
    let again = MonitorSpec::parse(spec.to_draft(), &RULES).expect("still valid");
    assert_eq!(spec, again);
    assert_eq!(
        MonitorSpec::parse(draft("https://e.com"), &RULES)
            .expect("valid")
            .to_draft()
            .conditions,
        None
    );
}

#[test]
fn a_malformed_condition_is_refused_with_its_place() {
    let e = error(MonitorDraft {
        conditions: Some(vec!["[STATUS] == 200".into(), "[BODY].x ==1".into()]),
        ..draft("https://e.com")
    });
    assert!(
        e.starts_with("conditions: condition 2 `[BODY].x ==1` at column 10:"),
        "{e}"
    );
}

#[test]
fn conditions_must_fit_the_kind_of_check() {
    let refused = |url: &str, condition: &str| {
        error(MonitorDraft {
            conditions: Some(vec![condition.into()]),
            ..draft(url)
        })
    };
    let e = refused("dns://8.8.8.8/example.com", "[STATUS] == 200");
    assert!(e.contains("[STATUS] has no value in a dns check"), "{e}");
    let e = refused("tcp://example.com:22", "[BODY] == pat(*SSH*)");
    assert!(e.contains("[BODY] has no value in a tcp check"), "{e}");
    let e = refused("https://e.com", "[DNS_RCODE] == NOERROR");
    assert!(
        e.contains("[DNS_RCODE] has no value in a http check"),
        "{e}"
    );
    let e = refused("http://e.com", "[CERTIFICATE_EXPIRATION] > 48h");
    assert!(e.contains("needs a TLS check"), "{e}");
    let e = refused("tcp://e.com:443", "[CERTIFICATE_EXPIRATION] > 48h");
    assert!(e.contains("needs a TLS check"), "{e}");
    for (url, condition) in [
        ("tls://e.com:443", "[CERTIFICATE_EXPIRATION] > 48h"),
        ("tcp://e.com:22", "[CONNECTED] == true"),
        ("tcp://e.com:22", "[RESPONSE_TIME] < 100"),
        ("dns://8.8.8.8/example.com", "[DNS_RCODE] == NOERROR"),
        ("dns://8.8.8.8/example.com", "[BODY] == 93.184.216.34"),
        ("https://e.com", "[CERTIFICATE_EXPIRATION] > 48h"),
    ] {
        let d = MonitorDraft {
            conditions: Some(vec![condition.into()]),
            ..draft(url)
        };
        assert!(MonitorSpec::parse(d, &RULES).is_ok(), "{url} {condition}");
    }
}

#[test]
fn http_settings_are_refused_on_tcp_and_dns_monitors() {
    let e = error(MonitorDraft {
        keyword: Some("x".into()),
        ..draft("tcp://e.com:22")
    });
    assert!(
        e.starts_with("keyword: applies to http(s) monitors only"),
        "{e}"
    );
    let e = error(MonitorDraft {
        method: Some("POST".into()),
        ..draft("dns://8.8.8.8/example.com")
    });
    assert!(e.starts_with("method:"), "{e}");
    // Defaults, as a stored monitor reads back, are fine, and so is switching from http
    // to tcp when nothing http-only was set.
    let spec = MonitorSpec::parse(draft("https://e.com"), &RULES).expect("valid");
    let switched = MonitorPatch::default().apply(MonitorDraft {
        url: "tcp://e.com:22".into(),
        ..spec.to_draft()
    });
    let spec = MonitorSpec::parse(switched.expect("applies"), &RULES).expect("valid");
    assert_eq!(spec.name(), "e.com");
    assert_eq!(spec.target().as_str(), "tcp://e.com:22");
    let dns = MonitorSpec::parse(draft("dns://8.8.8.8/example.com?type=mx"), &RULES).expect("ok");
    assert_eq!(dns.name(), "example.com MX");
}
