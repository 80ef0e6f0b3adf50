//! The address guard: internal addresses are refused before any connection, on every hop.

use std::net::IpAddr;

use tocsin::check::FailureKind;

use crate::target::Target;
use crate::{failed, guarded_probe, open_probe, spec, up};

const EXEMPT: &str = "127.0.0.2";

fn exempt() -> Vec<IpAddr> {
    vec![EXEMPT.parse().expect("ip")]
}

#[tokio::test]
async fn a_literal_loopback_address_is_blocked_without_connecting() {
    let target = Target::http().await;
    let result = guarded_probe(vec![]).check(&spec(&target.url("/ok"))).await;
    let message = failed(&result, FailureKind::Blocked);
    assert!(
        message.contains("127.0.0.1")
            && message.contains("loopback")
            && message.contains("TOCSIN_ALLOW_PRIVATE_TARGETS"),
        "{message}"
    );
    assert_eq!(target.connections(), 0);
    assert_eq!(result.phases.connect, None);
}

#[tokio::test]
async fn a_host_name_resolving_to_loopback_is_blocked_without_connecting() {
    let target = Target::http().await;
    let url = format!("http://localhost:{}/ok", target.addr.port());
    let result = guarded_probe(vec![]).check(&spec(&url)).await;
    let message = failed(&result, FailureKind::Blocked);
    assert!(message.contains("localhost"), "{message}");
    // What kind of address, not which: the owner of a monitor learns nothing of the
    // internal network's addresses.
    assert!(
        message.contains("loopback") && !message.contains("127.0.0.1") && !message.contains("::1"),
        "{message}"
    );
    assert!(result.phases.dns.is_some());
    assert_eq!(target.connections(), 0);
}

#[tokio::test]
async fn a_redirect_to_loopback_is_blocked_on_its_hop() {
    let inner = Target::http().await;
    let outer = Target::http_on(EXEMPT).await;
    let url = outer.url(&format!("/to?url={}", inner.url("/ok")));
    let result = guarded_probe(exempt()).check(&spec(&url)).await;
    let message = failed(&result, FailureKind::Blocked);
    assert!(message.contains("127.0.0.1"), "{message}");
    assert_eq!(outer.requests("/to"), 1);
    assert_eq!(inner.connections(), 0);
}

#[tokio::test]
async fn an_exempt_address_is_reachable_when_private_targets_are_refused() {
    let target = Target::http_on(EXEMPT).await;
    up(&guarded_probe(exempt())
        .check(&spec(&target.url("/ok")))
        .await);
}

#[tokio::test]
async fn allowing_private_targets_reaches_them_all() {
    let inner = Target::http().await;
    let outer = Target::http_on(EXEMPT).await;
    let probe = open_probe();
    up(&probe.check(&spec(&inner.url("/ok"))).await);
    let url = format!("http://localhost:{}/ok", inner.addr.port());
    up(&probe.check(&spec(&url)).await);
    let url = outer.url(&format!("/to?url={}", inner.url("/ok")));
    up(&probe.check(&spec(&url)).await);
    assert_eq!(inner.requests("/ok"), 3);
    assert_eq!(outer.requests("/to"), 1);
}
