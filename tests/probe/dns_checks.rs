//! `dns://` checks against a DNS server on loopback started by each test: answers of every
//! record type, rcodes, truncation and TCP, the address guard, and conditions on the answer.

use tocsin::check::{CheckKind, FailureKind};
use tocsin::monitor::MonitorDraft;

use crate::dns::DnsServer;
use crate::{failed, guarded_probe, open_probe, spec, spec_with, spec_with_conditions, up};

#[tokio::test]
async fn every_record_type_is_answered_as_text() {
    let server = DnsServer::start().await;
    for (record_type, expected) in [
        ("A", vec!["192.0.2.10", "192.0.2.11"]),
        ("AAAA", vec!["2001:db8::1"]),
        ("MX", vec!["mail.example.test."]),
        ("TXT", vec!["v=spf1 -all"]),
        ("NS", vec!["ns1.example.test."]),
    ] {
        let result = open_probe()
            .check(&spec(&server.url("example.test", record_type)))
            .await;
        up(&result);
        assert_eq!(result.kind, CheckKind::Dns);
        let answer = result.dns.expect("an answer");
        assert_eq!(answer.rcode, "NOERROR", "{record_type}");
        assert_eq!(answer.records, expected, "{record_type}");
        assert_eq!(result.status_code, None);
        assert!(result.phases.ttfb.is_some(), "the query's round trip");
        assert_eq!(
            result.phases.dns, None,
            "a literal resolver needs no resolving"
        );
    }
    // A CNAME asked for directly; an A query through an alias keeps only the A records.
    let cname = open_probe()
        .check(&spec(&server.url("www.example.test", "CNAME")))
        .await;
    assert_eq!(cname.dns.expect("answer").records, vec!["example.test."]);
    let through = open_probe()
        .check(&spec(&server.url("www.example.test", "A")))
        .await;
    assert_eq!(through.dns.expect("answer").records, vec!["192.0.2.10"]);
    assert!(server.udp_queries() >= 7);
}

#[tokio::test]
async fn without_conditions_a_name_must_resolve() {
    let server = DnsServer::start().await;
    let result = open_probe()
        .check(&spec(&server.url("nope.example.test", "A")))
        .await;
    let message = failed(&result, FailureKind::Dns);
    assert!(
        message.contains("answered NXDOMAIN for nope.example.test A"),
        "{message}"
    );
    assert_eq!(result.dns.expect("answer").rcode, "NXDOMAIN");
    let servfail = open_probe()
        .check(&spec(&server.url("servfail.example.test", "A")))
        .await;
    assert!(failed(&servfail, FailureKind::Dns).contains("SERVFAIL"));
    let empty = open_probe()
        .check(&spec(&server.url("example.test", "CNAME")))
        .await;
    let message = failed(&empty, FailureKind::Dns);
    assert!(
        message.contains("NOERROR but no example.test CNAME record"),
        "{message}"
    );
}

#[tokio::test]
async fn conditions_judge_the_answer_as_gatus_does() {
    let server = DnsServer::start().await;
    let url = server.url("example.test", "A");
    up(&open_probe()
        .check(&spec_with_conditions(
            &url,
            &[
                "[DNS_RCODE] == NOERROR",
                "[BODY] == pat(*192.0.2.10*)",
                "[CONNECTED] == true",
                "[RESPONSE_TIME] < 5000",
                "len([BODY]) > 0",
            ],
        ))
        .await);
    // With conditions, they alone judge: a name that must not exist.
    let gone = spec_with_conditions(
        &server.url("gone.example.test", "A"),
        &["[DNS_RCODE] == NXDOMAIN"],
    );
    up(&open_probe().check(&gone).await);
    let mx = spec_with_conditions(
        &server.url("example.test", "MX"),
        &["[BODY] == mail.example.test."],
    );
    up(&open_probe().check(&mx).await);
    let wrong = spec_with_conditions(&url, &["[BODY] == 192.0.2.99"]);
    let message = failed(&open_probe().check(&wrong).await, FailureKind::Condition);
    assert!(
        message.contains("[BODY] is `192.0.2.10\n192.0.2.11`"),
        "{message}"
    );
}

#[tokio::test]
async fn a_truncated_answer_is_asked_again_over_tcp() {
    let server = DnsServer::start().await;
    let result = open_probe()
        .check(&spec(&server.url("big.example.test", "TXT")))
        .await;
    up(&result);
    let answer = result.dns.expect("answer");
    assert_eq!(answer.records.len(), 20);
    assert!(answer.records[0].starts_with("00-xxx"), "{answer:?}");
    assert_eq!(server.tcp_queries(), 1);
    assert!(
        result.phases.connect.is_some(),
        "the TCP connection is timed"
    );
}

#[tokio::test]
async fn a_resolver_that_does_not_answer_times_out() {
    // A bound UDP socket that reads nothing: queries go unanswered.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "dns://{}/example.test",
        silent.local_addr().expect("address")
    );
    let spec = spec_with(
        &url,
        MonitorDraft {
            timeout_ms: Some(200),
            ..MonitorDraft::default()
        },
    );
    let result = open_probe().check(&spec).await;
    failed(&result, FailureKind::Timeout);
    assert_eq!(result.dns, None);
}

#[tokio::test]
async fn the_guard_refuses_a_private_resolver_without_sending_a_query() {
    let server = DnsServer::start().await;
    let url = format!("dns://localhost:{}/example.test", server.addr.port());
    let result = guarded_probe(vec![]).check(&spec(&url)).await;
    let message = failed(&result, FailureKind::Blocked);
    assert!(message.contains("loopback"), "{message}");
    assert_eq!(server.udp_queries(), 0);
    // An operator's exemption lets it through.
    let exempt = guarded_probe(vec!["127.0.0.1".parse().expect("ip")]);
    up(&exempt.check(&spec(&server.url("example.test", "A"))).await);
}
