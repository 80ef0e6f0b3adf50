//! TLS failures said in words, and a monitor's own trust: its private authorities
//! (`tls_ca_pem`) or none checked (`tls_skip_verify`, the expiry still recorded).

use tocsin::check::FailureKind;
use tocsin::monitor::MonitorDraft;

use crate::target::{Identity, Target};
use crate::{failed, open_probe, spec, spec_with, up};

#[tokio::test]
async fn an_expired_certificate_says_when_it_expired() {
    let identity = Identity::self_signed(&["localhost", "127.0.0.1"], 2021);
    let target = Target::https_with(&identity).await;
    let result = open_probe()
        .check(&spec_with(
            &target.https_url("/ok"),
            MonitorDraft {
                tls_ca_pem: Some(pem(&identity)),
                ..Default::default()
            },
        ))
        .await;
    let message = failed(&result, FailureKind::Tls);
    assert!(
        message.contains("certificate expired on 2021-06-15"),
        "{message}"
    );
}

#[tokio::test]
async fn a_name_mismatch_says_what_the_certificate_is_for() {
    let (identity, ca) = Identity::from_private_ca(&["api.internal", "10.9.8.7"], 2040);
    let target = Target::https_with(&identity).await;
    let result = open_probe()
        .check(&spec_with(
            &target.https_url("/ok"),
            MonitorDraft {
                tls_ca_pem: Some(ca),
                ..Default::default()
            },
        ))
        .await;
    let message = failed(&result, FailureKind::Tls);
    assert!(
        message.contains("name mismatch: certificate is for api.internal, 10.9.8.7"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unknown_authority_is_named_and_a_monitors_own_ca_is_trusted() {
    let (identity, ca) = Identity::from_private_ca(&["localhost", "127.0.0.1"], 2040);
    let target = Target::https_with(&identity).await;
    let url = target.https_url("/ok");
    let message = failed(&open_probe().check(&spec(&url)).await, FailureKind::Tls);
    assert!(
        message.contains("certificate signed by an unknown authority")
            && message.contains("tocsin test CA"),
        "{message}"
    );
    let trusted = spec_with(
        &url,
        MonitorDraft {
            tls_ca_pem: Some(ca),
            ..Default::default()
        },
    );
    let result = open_probe().check(&trusted).await;
    up(&result);
    assert_eq!(result.cert_expires_at, Some(identity.not_after));
}

#[tokio::test]
async fn skipping_verification_still_records_the_expiry() {
    let identity = Identity::self_signed(&["elsewhere.example"], 2039);
    let target = Target::https_with(&identity).await;
    let skipping = spec_with(
        &target.https_url("/ok"),
        MonitorDraft {
            tls_skip_verify: Some(true),
            ..Default::default()
        },
    );
    let result = open_probe().check(&skipping).await;
    up(&result);
    assert_eq!(result.cert_expires_at, Some(identity.not_after));
    assert!(result.phases.tls.is_some());
}

#[test]
fn a_ca_bundle_must_hold_certificates() {
    use tocsin::monitor::{MonitorSpec, Rules};
    let error = MonitorSpec::parse(
        MonitorDraft {
            url: "https://example.com/".into(),
            tls_ca_pem: Some("not a certificate".into()),
            ..Default::default()
        },
        &Rules::STORED,
    )
    .expect_err("no certificate");
    assert!(error.to_string().starts_with("tls_ca_pem:"), "{error}");
}

fn pem(identity: &Identity) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(identity.cert.as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}
