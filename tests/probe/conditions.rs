//! Conditions judged on real HTTP checks: the body the probe read, the status, the time and
//! the certificate; a condition that fails is a `condition` failure naming what was seen.

use tocsin::check::FailureKind;
use tocsin::monitor::MonitorDraft;
use tocsin::probe::{Probe, ProbeOptions};

use crate::target::Target;
use crate::{failed, open_probe, spec_with, spec_with_conditions, up};

#[tokio::test]
async fn conditions_on_a_json_body_hold() {
    let target = Target::http().await;
    let spec = spec_with_conditions(
        &target.url("/json"),
        &[
            "[STATUS] == 200",
            "[STATUS] < 300",
            "[RESPONSE_TIME] < 5000",
            "[BODY].status == UP",
            "[BODY].data[0].id == 1",
            "[BODY].data[0].name == any(db, cache)",
            "len([BODY].items) > 0",
            "has([BODY].errors) == false",
            "[BODY] == pat(*\"UP\"*)",
            "[CONNECTED] == true",
            "[IP] == 127.0.0.1",
        ],
    );
    let result = open_probe().check(&spec).await;
    up(&result);
}

#[tokio::test]
async fn a_failed_condition_names_the_condition_and_the_value_seen() {
    let target = Target::http().await;
    let spec = spec_with_conditions(
        &target.url("/json"),
        &[
            "[STATUS] == 200",
            "[BODY].status == DOWN",
            "len([BODY].items) > 5",
        ],
    );
    let result = open_probe().check(&spec).await;
    let message = failed(&result, FailureKind::Condition);
    assert_eq!(
        message,
        "The condition `[BODY].status == DOWN` is not met: [BODY].status is `UP`. \
         (1 more condition failed)"
    );
    assert_eq!(result.status_code, Some(200));
    assert!(result.phases.ttfb.is_some());
}

#[tokio::test]
async fn a_body_that_is_not_json_fails_a_path_condition() {
    let target = Target::http().await;
    let spec = spec_with_conditions(&target.url("/ok"), &["[BODY].status == UP"]);
    let message = failed(&open_probe().check(&spec).await, FailureKind::Condition);
    assert!(message.contains("the body is not JSON"), "{message}");
    let spec = spec_with_conditions(&target.url("/ok"), &["[BODY] == pat(hello*)"]);
    up(&open_probe().check(&spec).await);
}

#[tokio::test]
async fn expected_status_and_keyword_still_apply_before_conditions() {
    let target = Target::http().await;
    // 404 is not in the default 200-399: a status failure, whatever the conditions say.
    let spec = spec_with_conditions(&target.url("/status/404"), &["[STATUS] == 404"]);
    failed(&open_probe().check(&spec).await, FailureKind::Status);
    let widened = spec_with(
        &target.url("/status/404"),
        MonitorDraft {
            expected_status: Some("100-599".into()),
            conditions: Some(vec!["[STATUS] == 404".into()]),
            ..MonitorDraft::default()
        },
    );
    up(&open_probe().check(&widened).await);
    let keyword = spec_with(
        &target.url("/json"),
        MonitorDraft {
            keyword: Some("DOWN".into()),
            conditions: Some(vec!["[BODY].status == UP".into()]),
            ..MonitorDraft::default()
        },
    );
    failed(&open_probe().check(&keyword).await, FailureKind::Keyword);
}

#[tokio::test]
async fn the_certificate_expiry_of_an_https_check_is_a_condition() {
    let (target, identity) = Target::https().await;
    let probe = Probe::new(ProbeOptions {
        allow_private: true,
        extra_roots: vec![identity.cert.clone()],
        ..Default::default()
    });
    let url = target.https_url("/ok");
    up(&probe
        .check(&spec_with_conditions(
            &url,
            &["[CERTIFICATE_EXPIRATION] > 48h"],
        ))
        .await);
    // The certificate runs to 2040: far less than a million hours.
    let result = probe
        .check(&spec_with_conditions(
            &url,
            &["[CERTIFICATE_EXPIRATION] > 1000000h"],
        ))
        .await;
    let message = failed(&result, FailureKind::Condition);
    assert!(
        message.contains("[CERTIFICATE_EXPIRATION] is "),
        "{message}"
    );
    assert!(message.contains("expires in "), "{message}");
}
