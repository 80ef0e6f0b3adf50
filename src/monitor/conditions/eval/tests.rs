//! Each condition form against what a check saw: holding, failing, and the message naming
//! the condition and the value seen.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::super::Pattern;
use super::*;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("in range")
}

fn seen(body: &str) -> Observation<'_> {
    Observation {
        status: Some(200),
        response_time: Duration::from_micros(123_900),
        body: body.as_bytes(),
        cert_expires_at: Some(now() + chrono::Duration::hours(72)),
        now: now(),
        connected: true,
        dns_rcode: None,
        ip: Some(IpAddr::from([127, 0, 0, 1])),
    }
}

fn check(condition: &str, seen: &Observation<'_>) -> Result<(), String> {
    Conditions::parse(&[condition.to_owned()])
        .unwrap_or_else(|e| panic!("{e}"))
        .evaluate(seen)
}

#[track_caller]
fn holds(condition: &str, seen: &Observation<'_>) {
    if let Err(why) = check(condition, seen) {
        panic!("`{condition}` should hold: {why}");
    }
}

#[track_caller]
fn fails(condition: &str, seen: &Observation<'_>, saw: &str) {
    let why = check(condition, seen).expect_err(condition);
    assert!(
        why.starts_with(&format!("The condition `{condition}` is not met: ")),
        "{why}"
    );
    assert!(
        why.contains(saw),
        "`{condition}`: expected `{saw}` in `{why}`"
    );
}

const DOC: &str = r#"{"status": "UP", "data": [{"id": 1, "name": "a"}, {"id": 2}], "items": [1, 2, 3],
    "empty": [], "errors": null, "ratio": 0.25, "ok": true, "nested": {"a": {"b": "deep"}},
    "matrix": [[1, 2], [3, 4]], "count": "12", "code": "017"}"#;

#[test]
fn status_and_response_time() {
    let s = seen("");
    holds("[STATUS] == 200", &s);
    holds("[STATUS] < 300", &s);
    holds("[STATUS] <= 200", &s);
    holds("[STATUS] >= 200", &s);
    holds("[STATUS] != 201", &s);
    holds("[STATUS] == any(200, 429)", &s);
    holds("[STATUS] == pat(2*)", &s);
    holds("200 == [STATUS]", &s);
    fails("[STATUS] > 400", &s, "[STATUS] is 200");
    fails("[STATUS] == any(201, 429)", &s, "[STATUS] is 200");
    holds("[RESPONSE_TIME] < 500", &s);
    holds("[RESPONSE_TIME] == 123", &s);
    holds("[RESPONSE_TIME] < 1s", &s);
    fails("[RESPONSE_TIME] < 100", &s, "[RESPONSE_TIME] is 123 ms");
    let none = Observation {
        status: None,
        ..seen("")
    };
    fails(
        "[STATUS] == 200",
        &none,
        "[STATUS] is missing: no response came",
    );
    holds("[STATUS] != 200", &none);
}

#[test]
fn body_paths() {
    let s = seen(DOC);
    holds("[BODY].status == UP", &s);
    holds("[BODY].data[0].id == 1", &s);
    holds("[BODY].data[1].id == 2", &s);
    holds("[BODY].nested.a.b == deep", &s);
    holds("[BODY].matrix[1][0] == 3", &s);
    holds("[BODY].ratio == 0.25", &s);
    holds("[BODY].ratio < 1", &s);
    holds("[BODY].ok == true", &s);
    holds("[BODY].count > 10", &s);
    holds("[BODY].code == 17", &s);
    holds("[BODY].data[0].name == any(a, b)", &s);
    holds("[BODY].status == pat(U*)", &s);
    holds("[body].STATUS != UP", &s); // keys are case-sensitive: no such key
    fails("[BODY].status == DOWN", &s, "[BODY].status is `UP`");
    fails(
        "[BODY].data[5].id == 1",
        &s,
        "[BODY].data[5].id is missing: there is no element 5",
    );
    fails("[BODY].missing == 1", &s, "there is no key `missing`");
    fails(
        "[BODY].status.x == 1",
        &s,
        "[BODY].status is a string, not an object",
    );
    fails(
        "[BODY].items.x == 1",
        &s,
        "[BODY].items is an array, not an object",
    );
    fails("[BODY].errors == null", &s, "it is null");
    fails(
        "[BODY].status > 3",
        &s,
        "[BODY].status is `UP`, which is not a number",
    );
    fails("[BODY].items == 1", &s, "[BODY].items is `[1,2,3]`");
    let not_json = seen("<html>");
    fails("[BODY].status == UP", &not_json, "the body is not JSON");
}

#[test]
fn len_and_has() {
    let s = seen(DOC);
    holds("len([BODY].items) > 0", &s);
    holds("len([BODY].items) == 3", &s);
    holds("len([BODY].empty) == 0", &s);
    holds("len([BODY].status) == 2", &s);
    holds("len([BODY].nested) == 1", &s);
    holds("has([BODY].errors) == false", &s);
    holds("has([BODY].nope) == false", &s);
    holds("has([BODY].status) == true", &s);
    holds("has([BODY]) == true", &s);
    fails("len([BODY].items) > 3", &s, "len([BODY].items) is 3");
    fails(
        "has([BODY].status) == false",
        &s,
        "has([BODY].status) is `true`",
    );
    fails("len([BODY].nope) > 0", &s, "len([BODY].nope) is missing");
    holds("len([BODY]) == 2", &seen("[1, 2]"));
    holds("len([BODY]) == 5", &seen(" hello "));
    holds("has([BODY]) == false", &seen("  "));
}

#[test]
fn whole_body_and_patterns() {
    let s = seen("  service is healthy\n");
    holds("[BODY] == pat(*healthy*)", &s);
    holds("[BODY] == service is healthy", &s);
    holds("[BODY] != pat(*down*)", &s);
    holds("[BODY] == pat(service ?? healthy)", &s);
    holds("[BODY] == pat([rs]ervice*)", &s);
    holds("[BODY] == pat([^x]*)", &s);
    fails(
        "[BODY] == pat(*sick*)",
        &s,
        "[BODY] is `service is healthy`",
    );
    let long = "x".repeat(500);
    let why = check("[BODY] == y", &seen(&long)).expect_err("differs");
    assert!(why.contains(&format!("`{}…`", "x".repeat(120))), "{why}");
}

#[test]
fn patterns_match_like_globs() {
    let p = |text: &str| Pattern::parse(text, 1).expect("valid pattern");
    assert!(p("*").matches(""));
    assert!(p("a*b*c").matches("aXXbYYc"));
    assert!(!p("a*b*c").matches("aXXbYY"));
    assert!(p("*.example.com").matches("api.example.com"));
    assert!(p("a\\*").matches("a*"));
    assert!(!p("a\\*").matches("ab"));
    assert!(p("[0-9][0-9]").matches("42"));
    assert!(!p("[!-/]").matches("a"));
    assert!(p("é?").matches("éa"));
    // Many stars on a long text stay fast (no exponential backtracking).
    let text = "a".repeat(10_000);
    assert!(!p("*a*a*a*a*a*b").matches(&text));
}

#[test]
fn certificate_connected_rcode_and_ip() {
    let s = seen("");
    holds("[CERTIFICATE_EXPIRATION] > 48h", &s);
    holds("[CERTIFICATE_EXPIRATION] < 100h", &s);
    fails(
        "[CERTIFICATE_EXPIRATION] > 720h",
        &s,
        "[CERTIFICATE_EXPIRATION] is 259200000 ms (expires in 3days)",
    );
    let expired = Observation {
        cert_expires_at: Some(now() - chrono::Duration::hours(1)),
        ..seen("")
    };
    fails("[CERTIFICATE_EXPIRATION] > 0", &expired, "expired 1h ago");
    let plain = Observation {
        cert_expires_at: None,
        ..seen("")
    };
    fails(
        "[CERTIFICATE_EXPIRATION] > 48h",
        &plain,
        "no certificate was seen",
    );
    holds("[CONNECTED] == true", &s);
    holds("[CONNECTED] == TRUE", &s);
    let cut = Observation {
        connected: false,
        ..seen("")
    };
    fails("[CONNECTED] == true", &cut, "[CONNECTED] is `false`");
    let dns = Observation {
        dns_rcode: Some("NXDOMAIN"),
        ..seen("")
    };
    holds("[DNS_RCODE] == NXDOMAIN", &dns);
    holds("[DNS_RCODE] == nxdomain", &dns);
    holds("[DNS_RCODE] != NOERROR", &dns);
    fails("[DNS_RCODE] == NOERROR", &dns, "[DNS_RCODE] is `NXDOMAIN`");
    fails("[DNS_RCODE] == NOERROR", &s, "no DNS answer came");
    holds("[IP] == 127.0.0.1", &s);
    holds("[IP] == pat(127.*)", &s);
    fails("[IP] == 10.0.0.1", &s, "[IP] is `127.0.0.1`");
}

#[test]
fn every_condition_must_hold_and_the_first_failure_is_named() {
    let s = seen(DOC);
    let all = Conditions::parse(&[
        "[STATUS] == 200".to_owned(),
        "[BODY].status == DOWN".to_owned(),
        "[BODY].data[0].id == 9".to_owned(),
        "len([BODY].items) > 5".to_owned(),
    ])
    .expect("valid");
    let why = all.evaluate(&s).expect_err("three fail");
    assert!(
        why.starts_with("The condition `[BODY].status == DOWN` is not met"),
        "{why}"
    );
    assert!(why.ends_with("(2 more conditions failed)"), "{why}");
    assert_eq!(Conditions::default().evaluate(&s), Ok(()));
}

#[test]
fn two_placeholders_name_both_values() {
    let s = seen(r#"{"a": 1, "b": 2}"#);
    holds("[BODY].a < [BODY].b", &s);
    fails(
        "[BODY].a == [BODY].b",
        &s,
        "[BODY].a is 1 and [BODY].b is 2",
    );
}
