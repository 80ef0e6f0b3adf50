//! One check against a healthy or failing target: phases and each failure kind.

use std::time::{Duration, Instant};

use tocsin::check::FailureKind;
use tocsin::monitor::MonitorDraft;
use tocsin::probe::{Probe, ProbeOptions};

use crate::target::Target;
use crate::{failed, headers, open_probe, spec, spec_with, up};

#[tokio::test]
async fn ok_over_http_measures_connect_and_ttfb_but_no_dns_for_a_literal_ip() {
    let target = Target::http().await;
    let result = open_probe().check(&spec(&target.url("/ok"))).await;
    up(&result);
    assert_eq!(result.status_code, Some(200));
    let phases = result.phases;
    assert_eq!(phases.dns, None);
    assert!(phases.connect.is_some(), "{phases:?}");
    assert_eq!(phases.tls, None);
    let ttfb = phases.ttfb.expect("ttfb measured");
    assert!(result.latency >= ttfb, "{result:?}");
    assert_eq!(result.cert_expires_at, None);
    assert_eq!(target.requests("/ok"), 1);
    assert_eq!(
        result.checked_at.timestamp_subsec_nanos() % 1_000_000,
        0,
        "checked_at has the store's millisecond resolution"
    );
}

#[tokio::test]
async fn a_host_name_has_a_dns_phase() {
    let target = Target::http().await;
    let url = format!("http://localhost:{}/ok", target.addr.port());
    let result = open_probe().check(&spec(&url)).await;
    up(&result);
    assert!(result.phases.dns.is_some(), "{result:?}");
}

#[tokio::test]
async fn https_with_a_trusted_cert_measures_tls_and_reads_the_expiry() {
    let (target, identity) = Target::https().await;
    let probe = Probe::new(ProbeOptions {
        allow_private: true,
        extra_roots: vec![identity.cert.clone()],
        ..Default::default()
    });
    for url in [
        target.https_url("/ok"),
        format!("https://localhost:{}/ok", target.addr.port()),
    ] {
        let result = probe.check(&spec(&url)).await;
        up(&result);
        assert_eq!(result.status_code, Some(200));
        assert!(result.phases.tls.is_some(), "{result:?}");
        assert_eq!(result.cert_expires_at, Some(identity.not_after));
    }
}

#[tokio::test]
async fn https_with_an_untrusted_cert_fails_tls() {
    let (target, _identity) = Target::https().await;
    let result = open_probe().check(&spec(&target.https_url("/ok"))).await;
    let message = failed(&result, FailureKind::Tls);
    assert!(message.contains("self-signed certificate"), "{message}");
    assert_eq!(result.status_code, None);
    assert_eq!(target.requests("/ok"), 0);
}

#[tokio::test]
async fn https_to_a_plain_http_server_fails_tls() {
    let target = Target::http().await;
    let url = format!("https://{}/ok", target.addr);
    let result = open_probe().check(&spec(&url)).await;
    let message = failed(&result, FailureKind::Tls);
    assert!(
        message.contains("the server answered plain HTTP on a TLS port"),
        "{message}"
    );
    assert!(result.phases.connect.is_some());
}

#[tokio::test]
async fn an_unknown_host_fails_dns_naming_it() {
    let result = open_probe()
        .check(&spec("http://no-such-host.invalid/"))
        .await;
    let message = failed(&result, FailureKind::Dns);
    assert!(message.contains("no-such-host.invalid"), "{message}");
    assert_eq!(result.phases.connect, None);
}

#[tokio::test]
async fn a_closed_port_fails_connect_naming_the_address() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let result = open_probe().check(&spec(&format!("http://{addr}/"))).await;
    let message = failed(&result, FailureKind::Connect);
    assert!(message.contains(&addr.to_string()), "{message}");
}

#[tokio::test]
async fn a_slow_server_times_out_within_the_timeout_keeping_the_phases() {
    let target = Target::http().await;
    let spec = spec_with(
        &target.url("/slow/2000"),
        MonitorDraft {
            timeout_ms: Some(300),
            ..Default::default()
        },
    );
    let started = Instant::now();
    let result = open_probe().check(&spec).await;
    let elapsed = started.elapsed();
    let message = failed(&result, FailureKind::Timeout);
    assert!(message.contains("300 ms"), "{message}");
    // Well under the server's 2 s, with room for a machine busy compiling.
    assert!(elapsed < Duration::from_millis(1_500), "{elapsed:?}");
    assert!(result.latency >= Duration::from_millis(300), "{result:?}");
    assert!(result.phases.connect.is_some(), "{result:?}");
    assert_eq!(result.phases.ttfb, None);
    assert_eq!(result.status_code, None);
}

#[tokio::test]
async fn an_unexpected_status_fails_naming_the_code() {
    let target = Target::http().await;
    let result = open_probe().check(&spec(&target.url("/status/500"))).await;
    let message = failed(&result, FailureKind::Status);
    assert!(
        message.contains("500") && message.contains("200-399"),
        "{message}"
    );
    assert_eq!(result.status_code, Some(500));

    let narrow = |expected: &str| {
        spec_with(
            &target.url("/status/404"),
            MonitorDraft {
                expected_status: Some(expected.into()),
                ..Default::default()
            },
        )
    };
    let result = open_probe().check(&narrow("200-299")).await;
    failed(&result, FailureKind::Status);
    let result = open_probe().check(&narrow("404")).await;
    up(&result);
    assert_eq!(result.status_code, Some(404));
}

#[tokio::test]
async fn the_keyword_must_be_in_the_body() {
    let target = Target::http().await;
    let with_keyword = |keyword: &str| {
        spec_with(
            &target.url("/ok"),
            MonitorDraft {
                keyword: Some(keyword.into()),
                ..Default::default()
            },
        )
    };
    up(&open_probe().check(&with_keyword("lo toc")).await);
    let result = open_probe().check(&with_keyword("goodbye")).await;
    let message = failed(&result, FailureKind::Keyword);
    assert!(message.contains("goodbye"), "{message}");
    assert_eq!(result.status_code, Some(200));
}

#[tokio::test]
async fn a_body_cut_short_fails_body() {
    let target = Target::http().await;
    let result = open_probe().check(&spec(&target.url("/cut"))).await;
    failed(&result, FailureKind::Body);
    assert_eq!(result.status_code, Some(200));
}

#[tokio::test]
async fn method_headers_and_body_reach_the_server() {
    let target = Target::http().await;
    let echo = |keyword: &str| {
        spec_with(
            &target.url("/echo"),
            MonitorDraft {
                method: Some("PUT".into()),
                headers: headers(&[("X-Probe", "hi there")]),
                body: Some("payload 42".into()),
                keyword: Some(keyword.into()),
                ..Default::default()
            },
        )
    };
    up(&open_probe()
        .check(&echo(
            "PUT x-probe=hi there auth=false others= body=payload 42",
        ))
        .await);
    failed(
        &open_probe().check(&echo("GET")).await,
        FailureKind::Keyword,
    );
}

#[tokio::test]
async fn head_reads_no_body_so_a_keyword_cannot_match() {
    let target = Target::http().await;
    let head = spec_with(
        &target.url("/ok"),
        MonitorDraft {
            method: Some("HEAD".into()),
            ..Default::default()
        },
    );
    let result = open_probe().check(&head).await;
    up(&result);
    assert_eq!(result.status_code, Some(200));

    let head_with_keyword = spec_with(
        &target.url("/ok"),
        MonitorDraft {
            method: Some("HEAD".into()),
            keyword: Some("hello".into()),
            ..Default::default()
        },
    );
    let result = open_probe().check(&head_with_keyword).await;
    failed(&result, FailureKind::Keyword);
}

#[tokio::test]
async fn the_probe_sends_its_own_headers_and_no_accept_encoding() {
    let target = Target::http().await;
    let expected = format!(
        "host={} ua=tocsin/{} accept=*/* connection=close encoding=- length=-",
        target.addr,
        env!("CARGO_PKG_VERSION")
    );
    let spec = spec_with(
        &target.url("/headers"),
        MonitorDraft {
            keyword: Some(expected),
            ..Default::default()
        },
    );
    up(&open_probe().check(&spec).await);
}

#[tokio::test]
async fn only_the_first_mebibyte_of_the_body_is_read() {
    let target = Target::http().await;
    let with_keyword = |bytes: usize| {
        spec_with(
            &target.url(&format!("/big/{bytes}")),
            MonitorDraft {
                keyword: Some("END".into()),
                ..Default::default()
            },
        )
    };
    up(&open_probe().check(&with_keyword(1024 * 1024 - 3)).await);
    let result = open_probe().check(&with_keyword(1024 * 1024 - 2)).await;
    let message = failed(&result, FailureKind::Keyword);
    assert!(message.contains("1048576 bytes"), "{message}");
    // A body larger than the limit is not an error in itself.
    up(&open_probe().check(&spec(&target.url("/big/3000000"))).await);
}

#[tokio::test]
async fn a_server_closing_before_answering_fails_connect() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    let result = open_probe().check(&spec(&format!("http://{addr}/"))).await;
    let message = failed(&result, FailureKind::Connect);
    assert!(message.contains("before a response head"), "{message}");
    assert!(result.phases.connect.is_some());
    assert_eq!(result.status_code, None);
}
