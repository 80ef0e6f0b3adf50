//! `tcp://` and `tls://` checks against local listeners: connect time, the handshake and
//! the certificate, refusals, the address guard and conditions.

use tocsin::check::{CheckKind, FailureKind};
use tocsin::probe::{Probe, ProbeOptions};
use tokio::net::TcpListener;

use crate::target::identity;
use crate::{failed, guarded_probe, open_probe, spec, spec_with_conditions, up};

/// A listener that accepts and holds connections; returns its port.
async fn listener() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    port
}

/// A TLS listener with `identity()`; returns its port and the identity's certificate and
/// expiry.
async fn tls_listener() -> (u16, crate::target::Identity) {
    let id = identity();
    let acceptor = id.acceptor.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    // Hold the session until the client goes.
                    let mut sink = [0u8; 64];
                    let _ = tokio::io::AsyncReadExt::read(&mut tls, &mut sink).await;
                }
            });
        }
    });
    (port, id)
}

/// A port nothing listens on (bound, then released).
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address").port()
}

fn trusting(cert: &rustls::pki_types::CertificateDer<'static>) -> Probe {
    Probe::new(ProbeOptions {
        allow_private: true,
        extra_roots: vec![cert.clone()],
        ..Default::default()
    })
}

#[tokio::test]
async fn an_open_port_is_up_with_its_connect_time() {
    let port = listener().await;
    let result = open_probe()
        .check(&spec(&format!("tcp://127.0.0.1:{port}")))
        .await;
    up(&result);
    assert_eq!(result.kind, CheckKind::Tcp);
    assert_eq!(result.status_code, None);
    assert!(result.phases.connect.is_some(), "{result:?}");
    assert_eq!(
        (result.phases.dns, result.phases.tls, result.phases.ttfb),
        (None, None, None)
    );
    assert_eq!(result.cert_expires_at, None);
    let named = open_probe()
        .check(&spec(&format!("tcp://localhost:{port}")))
        .await;
    up(&named);
    assert!(named.phases.dns.is_some(), "{named:?}");
}

#[tokio::test]
async fn a_closed_port_is_a_connect_failure() {
    let port = closed_port().await;
    let result = open_probe()
        .check(&spec(&format!("tcp://127.0.0.1:{port}")))
        .await;
    let message = failed(&result, FailureKind::Connect);
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
}

#[tokio::test]
async fn a_tls_port_shows_its_handshake_and_certificate() {
    let (port, id) = tls_listener().await;
    let url = format!("tls://localhost:{port}");
    let result = trusting(&id.cert).check(&spec(&url)).await;
    up(&result);
    assert!(result.phases.tls.is_some(), "{result:?}");
    assert_eq!(result.cert_expires_at, Some(id.not_after));
    let conditions = spec_with_conditions(
        &url,
        &[
            "[CONNECTED] == true",
            "[CERTIFICATE_EXPIRATION] > 48h",
            "[RESPONSE_TIME] < 5000",
        ],
    );
    up(&trusting(&id.cert).check(&conditions).await);
}

#[tokio::test]
async fn an_untrusted_certificate_or_a_plain_port_fails_the_handshake() {
    let (port, _id) = tls_listener().await;
    let result = open_probe()
        .check(&spec(&format!("tls://127.0.0.1:{port}")))
        .await;
    let message = failed(&result, FailureKind::Tls);
    assert!(message.contains("127.0.0.1"), "{message}");
    assert!(result.phases.connect.is_some());
    let plain = listener().await;
    // A port that accepts but never answers the handshake: the check times out.
    let spec = crate::spec_with(
        &format!("tls://127.0.0.1:{plain}"),
        tocsin::monitor::MonitorDraft {
            timeout_ms: Some(300),
            ..Default::default()
        },
    );
    failed(&open_probe().check(&spec).await, FailureKind::Timeout);
}

#[tokio::test]
async fn a_failed_condition_on_a_tcp_check_is_a_condition_failure() {
    let port = listener().await;
    let spec = spec_with_conditions(&format!("tcp://127.0.0.1:{port}"), &["[IP] == 10.0.0.1"]);
    let message = failed(&open_probe().check(&spec).await, FailureKind::Condition);
    assert!(message.contains("[IP] is `127.0.0.1`"), "{message}");
}

#[tokio::test]
async fn the_guard_refuses_internal_tcp_targets_without_connecting() {
    let port = listener().await;
    let result = guarded_probe(vec![])
        .check(&spec(&format!("tcp://localhost:{port}")))
        .await;
    let message = failed(&result, FailureKind::Blocked);
    assert!(
        message.contains("localhost") && message.contains("loopback"),
        "{message}"
    );
    assert_eq!(result.phases.connect, None);
}
