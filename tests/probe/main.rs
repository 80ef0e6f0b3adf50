//! Tests of the probe against real local servers: HTTP phases, failure kinds, the address
//! guard, redirects, conditions, TCP, TLS and DNS checks, and the `tocsin check` command.
//! Compiled as one binary, so it links once.

mod checks;
mod cli;
mod conditions;
#[path = "../support/dns.rs"]
mod dns;
mod dns_checks;
mod guard;
mod redirects;
mod target;
mod tcp_checks;
mod tls;

use std::collections::BTreeMap;

use tocsin::check::{CheckResult, FailureKind};
use tocsin::monitor::{MonitorDraft, MonitorSpec, Rules};
use tocsin::probe::{Probe, ProbeOptions};

/// A spec for `url` with private targets allowed and everything else from `draft`.
pub fn spec_with(url: &str, draft: MonitorDraft) -> MonitorSpec {
    let draft = MonitorDraft {
        url: url.to_owned(),
        interval_seconds: Some(60),
        timeout_ms: draft.timeout_ms.or(Some(5_000)),
        ..draft
    };
    MonitorSpec::parse(
        draft,
        &Rules {
            min_interval_secs: 1,
            allow_private_targets: true,
            ..Rules::STORED
        },
    )
    .expect("valid spec")
}

/// A spec for `url` with these conditions.
pub fn spec_with_conditions(url: &str, conditions: &[&str]) -> MonitorSpec {
    spec_with(
        url,
        MonitorDraft {
            conditions: Some(conditions.iter().map(|c| c.to_string()).collect()),
            ..MonitorDraft::default()
        },
    )
}

/// A default spec for `url`.
pub fn spec(url: &str) -> MonitorSpec {
    spec_with(url, MonitorDraft::default())
}

/// A probe that may reach loopback.
pub fn open_probe() -> Probe {
    Probe::new(ProbeOptions {
        allow_private: true,
        ..Default::default()
    })
}

/// A probe that refuses internal addresses except `exempt`.
pub fn guarded_probe(exempt: Vec<std::net::IpAddr>) -> Probe {
    Probe::new(ProbeOptions {
        allow_private: false,
        exempt,
        ..Default::default()
    })
}

/// Headers from pairs.
pub fn headers(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// Asserts the check failed with `kind` and returns its message.
#[track_caller]
pub fn failed(result: &CheckResult, kind: FailureKind) -> String {
    let failure = result
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("expected a {kind} failure, got {result:?}"));
    assert_eq!(failure.kind, kind, "{result:?}");
    failure.message.clone()
}

/// Asserts the check succeeded.
#[track_caller]
pub fn up(result: &CheckResult) {
    assert!(result.ok(), "expected up, got {result:?}");
}
