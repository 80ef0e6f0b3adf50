use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::check::{CheckResult, Failure, FailureKind, Phases};

const T: Thresholds = Thresholds {
    failure: 3,
    success: 2,
    latency: Some(Duration::from_millis(500)),
    cert_expiry_days: 14,
};

fn at(second: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + second, 0).expect("in range")
}

fn check(second: i64, ok: bool, latency_ms: u64) -> CheckResult {
    CheckResult {
        checked_at: at(second),
        kind: Default::default(),
        dns: None,
        status_code: Some(if ok { 200 } else { 503 }),
        latency: Duration::from_millis(latency_ms),
        phases: Phases::default(),
        cert_expires_at: None,
        failure: (!ok).then(|| Failure::new(FailureKind::Status, "status 503 is not expected")),
    }
}

/// Applies checks given as letters, one second apart from `start`: `f` failed, `s` slow,
/// `g` good; returns every state each decision moved to.
fn run(health: &mut Health, start: i64, checks: &str) -> Vec<MonitorState> {
    let mut states = Vec::new();
    for (i, c) in checks.chars().enumerate() {
        let second = start + i as i64;
        let result = match c {
            'f' => check(second, false, 20),
            's' => check(second, true, 900),
            'g' => check(second, true, 20),
            other => panic!("unknown check {other}"),
        };
        for decision in health.apply(&T, &result) {
            if let Decision::State { to, .. } = decision {
                states.push(to);
            }
        }
    }
    states
}

use MonitorState::*;

#[test]
fn thresholds_decide_never_one_check() {
    let mut h = Health::default();
    assert_eq!(run(&mut h, 0, "gg"), vec![Up]);
    let mut h = Health::default();
    assert_eq!(run(&mut h, 0, "ff"), vec![], "two failures are not three");
    assert_eq!(run(&mut h, 2, "f"), vec![Down]);
    assert_eq!(h.failures, 3);
    assert_eq!(run(&mut h, 3, "g"), vec![], "one success is not two");
    assert_eq!(run(&mut h, 4, "g"), vec![Up]);
}

#[test]
fn pending_needs_success_threshold_passing_checks() {
    let mut h = Health::default();
    // success_threshold is 2, but the first check of a new monitor already counts one.
    assert_eq!(run(&mut h, 0, "g"), vec![]);
    assert_eq!(h.state, Pending);
    assert_eq!(run(&mut h, 1, "g"), vec![Up]);
}

#[test]
fn flapping_below_the_threshold_never_goes_down() {
    let mut h = Health::default();
    run(&mut h, 0, "gg");
    assert_eq!(run(&mut h, 2, "ffgffgffgfgfffg"), vec![Down]);
    assert_eq!(
        h.state, Down,
        "one good check between failures does not recover"
    );
    let mut h = Health::default();
    run(&mut h, 0, "gg");
    assert_eq!(run(&mut h, 2, "fgfgffgffgfgffg"), vec![]);
    assert_eq!(h.state, Up);
}

#[test]
fn slow_checks_degrade_and_fast_ones_recover() {
    let mut h = Health::default();
    run(&mut h, 0, "gg");
    assert_eq!(run(&mut h, 2, "ss"), vec![]);
    assert_eq!(run(&mut h, 4, "s"), vec![Degraded]);
    assert_eq!(
        run(&mut h, 5, "gs"),
        vec![],
        "slow again before two fast ones"
    );
    assert_eq!(run(&mut h, 7, "gg"), vec![Up]);
    // Failures take a degraded monitor down; passing slowly brings it back degraded.
    run(&mut h, 9, "sss");
    assert_eq!(h.state, Degraded);
    assert_eq!(run(&mut h, 12, "fff"), vec![Down]);
    // Passing again: up after success_threshold checks, degraded once slow ones add up.
    assert_eq!(run(&mut h, 15, "sss"), vec![Up, Degraded]);
}

#[test]
fn runs_start_at_their_first_check_and_causes_name_the_deciding_one() {
    let mut h = Health::default();
    run(&mut h, 0, "gg");
    run(&mut h, 2, "ff");
    let decisions = h.apply(&T, &check(4, false, 20));
    let [
        Decision::State {
            from,
            to,
            since,
            cause,
        },
    ] = decisions.as_slice()
    else {
        panic!("one state change: {decisions:?}");
    };
    assert_eq!((*from, *to, *since), (Up, Down, at(2)));
    let cause = cause.as_ref().expect("a cause");
    assert_eq!(
        (cause.kind.as_str(), cause.status_code),
        ("status", Some(503))
    );
    run(&mut h, 5, "gg");
    run(&mut h, 7, "ss");
    let decisions = h.apply(&T, &check(9, true, 900));
    let [
        Decision::State {
            to, since, cause, ..
        },
    ] = decisions.as_slice()
    else {
        panic!("one state change: {decisions:?}");
    };
    assert_eq!((*to, *since), (Degraded, at(7)));
    assert_eq!(cause.as_ref().map(|c| c.kind.as_str()), Some("latency"));
}

#[test]
fn old_and_repeated_checks_change_nothing() {
    let mut h = Health::default();
    run(&mut h, 10, "gg");
    let before = h.clone();
    // Older than the last applied, and the last applied again: both ignored whole.
    assert_eq!(run(&mut h, 0, "fffff"), vec![]);
    assert_eq!(h.apply(&T, &check(11, false, 20)), vec![]);
    assert_eq!(h, before);
    // Out of order within what is new: only checks newer than the last applied count.
    assert_eq!(run(&mut h, 12, "fff"), vec![Down]);
    assert_eq!(h.apply(&T, &check(13, true, 20)), vec![]);
    assert_eq!(h.state, Down);
}

/// The certificate decisions among `decisions`.
fn certs(decisions: Vec<Decision>) -> Vec<Decision> {
    decisions
        .into_iter()
        .filter(|d| !matches!(d, Decision::State { .. }))
        .collect()
}

#[test]
fn certificates_open_one_incident_until_renewed() {
    let mut h = Health::default();
    let mut result = check(0, true, 20);
    result.cert_expires_at = Some(at(0) + TimeDelta::days(20));
    assert_eq!(certs(h.apply(&T, &result)), vec![]);
    result.checked_at = at(1);
    result.cert_expires_at = Some(at(0) + TimeDelta::days(10));
    assert_eq!(
        certs(h.apply(&T, &result)),
        vec![Decision::CertificateExpiring {
            expires_at: at(0) + TimeDelta::days(10)
        }]
    );
    // The store records the open incident; the same expiry then says nothing new.
    h.cert_incident = Some(IncidentId(7));
    result.checked_at = at(2);
    assert_eq!(certs(h.apply(&T, &result)), vec![]);
    result.checked_at = at(3);
    result.cert_expires_at = Some(at(0) + TimeDelta::days(90));
    assert_eq!(
        certs(h.apply(&T, &result)),
        vec![Decision::CertificateRenewed {
            expires_at: at(0) + TimeDelta::days(90)
        }]
    );
    let off = Thresholds {
        cert_expiry_days: 0,
        ..T
    };
    let mut h = Health::default();
    result.checked_at = at(4);
    result.cert_expires_at = Some(at(4) + TimeDelta::days(1));
    assert_eq!(certs(h.apply(&off, &result)), vec![]);
}

#[test]
fn states_round_trip_through_their_names() {
    for state in MonitorState::ALL {
        assert_eq!(MonitorState::parse(state.as_str()), Ok(*state));
    }
    assert!(MonitorState::parse("paused").is_err());
}

#[test]
fn one_batch_of_expiring_then_renewed_checks_opens_one_incident_and_closes_it() {
    let expiring = |second: i64| CheckResult {
        cert_expires_at: Some(at(0) + TimeDelta::days(3)),
        ..check(second, true, 20)
    };
    let renewed = CheckResult {
        cert_expires_at: Some(at(0) + TimeDelta::days(90)),
        ..check(3, true, 20)
    };
    let mut h = Health::default();
    // The store records no incident id while a batch is applied.
    let (decisions, _) = apply_all(&mut h, &T, &[expiring(1), expiring(2), renewed]);
    assert_eq!(
        certs(decisions.into_iter().map(|(_, d)| d).collect()),
        vec![
            Decision::CertificateExpiring {
                expires_at: at(0) + TimeDelta::days(3)
            },
            Decision::CertificateRenewed {
                expires_at: at(0) + TimeDelta::days(90)
            }
        ]
    );
}
