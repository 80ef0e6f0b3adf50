//! One stream entry per record: `v` (the format's version), `m` (the monitor id) and `r` (the
//! result as compact JSON). Times are microseconds since the epoch and durations microseconds,
//! finer than the store keeps, so a round trip through Redis loses nothing the store would.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::check::{CheckKind, CheckRecord, CheckResult, DnsAnswer, Failure, FailureKind, Phases};
use crate::monitor::MonitorId;

/// The version this build writes and reads.
pub(super) const VERSION: &str = "1";

/// The result as it travels; short names because every check writes one.
#[derive(Serialize, Deserialize)]
struct Wire {
    t: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    s: Option<u16>,
    l: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    dns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    con: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    tls: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    fb: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    cert: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    fk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    fm: Option<String>,
    /// The check kind; absent for HTTP, which entries written before kinds existed were.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    k: Option<String>,
    /// A DNS answer's rcode and records.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    rc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    ans: Option<Vec<String>>,
}

/// What reading an entry gave.
#[derive(Debug)]
pub(super) enum Decoded {
    /// A record this build understands.
    Record(CheckRecord),
    /// Written by another version of tocsin: left for a reader that knows it.
    OtherVersion(String),
    /// Not a record at all.
    Corrupt(String),
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// The entry's fields for `record`.
pub(super) fn encode(record: &CheckRecord) -> [(&'static str, String); 3] {
    let r = &record.result;
    let wire = Wire {
        t: r.checked_at.timestamp_micros(),
        s: r.status_code,
        l: micros(r.latency),
        dns: r.phases.dns.map(micros),
        con: r.phases.connect.map(micros),
        tls: r.phases.tls.map(micros),
        fb: r.phases.ttfb.map(micros),
        cert: r.cert_expires_at.map(|at| at.timestamp_micros()),
        fk: r.failure.as_ref().map(|f| f.kind.as_str().to_owned()),
        fm: r.failure.as_ref().map(|f| f.message.clone()),
        k: (r.kind != CheckKind::Http).then(|| r.kind.as_str().to_owned()),
        rc: r.dns.as_ref().map(|dns| dns.rcode.clone()),
        ans: r.dns.as_ref().map(|dns| dns.records.clone()),
    };
    // Serializing plain numbers and strings cannot fail; an empty object would be refused
    // as corrupt on the way out rather than panic here.
    let json = serde_json::to_string(&wire).unwrap_or_default();
    [
        ("v", VERSION.to_owned()),
        ("m", record.monitor.0.to_string()),
        ("r", json),
    ]
}

fn field<'a>(fields: &'a [(Vec<u8>, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    fields
        .iter()
        .find(|(key, _)| key.as_slice() == name.as_bytes())
        .map(|(_, value)| value.as_slice())
}

fn time(micros: i64) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| format!("time {micros} out of range"))
}

/// Reads an entry's fields back into a record.
pub(super) fn decode(fields: &[(Vec<u8>, Vec<u8>)]) -> Decoded {
    match field(fields, "v") {
        Some(v) if v == VERSION.as_bytes() => {}
        Some(v) => return Decoded::OtherVersion(String::from_utf8_lossy(v).into_owned()),
        None => return Decoded::Corrupt("no version field".into()),
    }
    match decode_v1(fields) {
        Ok(record) => Decoded::Record(record),
        Err(why) => Decoded::Corrupt(why),
    }
}

fn decode_v1(fields: &[(Vec<u8>, Vec<u8>)]) -> Result<CheckRecord, String> {
    let monitor = field(fields, "m")
        .and_then(|m| std::str::from_utf8(m).ok())
        .and_then(|m| m.parse::<i64>().ok())
        .ok_or("no monitor id")?;
    let wire: Wire = serde_json::from_slice(field(fields, "r").ok_or("no result")?)
        .map_err(|e| format!("result: {e}"))?;
    let failure = match (wire.fk, wire.fm) {
        (Some(kind), message) => Some(Failure::new(
            kind.parse::<FailureKind>().map_err(|e| e.to_string())?,
            message.unwrap_or_default(),
        )),
        (None, _) => None,
    };
    let kind = match wire.k {
        Some(kind) => kind.parse::<CheckKind>().map_err(|e| e.to_string())?,
        None => CheckKind::Http,
    };
    let dns = wire.rc.map(|rcode| DnsAnswer {
        rcode,
        records: wire.ans.unwrap_or_default(),
    });
    Ok(CheckRecord {
        monitor: MonitorId(monitor),
        result: CheckResult {
            checked_at: time(wire.t)?,
            kind,
            dns,
            status_code: wire.s,
            latency: Duration::from_micros(wire.l),
            phases: Phases {
                dns: wire.dns.map(Duration::from_micros),
                connect: wire.con.map(Duration::from_micros),
                tls: wire.tls.map(Duration::from_micros),
                ttfb: wire.fb.map(Duration::from_micros),
            },
            cert_expires_at: wire.cert.map(time).transpose()?,
            failure,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    fn owned(encoded: [(&'static str, String); 3]) -> Vec<(Vec<u8>, Vec<u8>)> {
        encoded
            .into_iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.into_bytes()))
            .collect()
    }

    #[test]
    fn every_field_round_trips() {
        let at = DateTime::from_timestamp_micros(1_767_225_600_123_456).expect("in range");
        let record = CheckRecord {
            monitor: MonitorId(42),
            result: CheckResult {
                checked_at: at,
                kind: CheckKind::Dns,
                dns: Some(DnsAnswer {
                    rcode: "NOERROR".into(),
                    records: vec!["192.0.2.1".into(), "192.0.2.2".into()],
                }),
                status_code: Some(503),
                latency: Duration::from_micros(12_345),
                phases: Phases {
                    dns: Some(Duration::from_micros(1)),
                    connect: Some(Duration::from_micros(2)),
                    tls: Some(Duration::from_micros(3)),
                    ttfb: None,
                },
                cert_expires_at: Some(at),
                failure: Some(Failure::new(FailureKind::Status, "got 503 \"quoted\"")),
            },
        };
        match decode(&owned(encode(&record))) {
            Decoded::Record(back) => assert_eq!(back, record),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_success_is_compact() {
        let record = CheckRecord {
            monitor: MonitorId(7),
            result: CheckResult {
                checked_at: DateTime::from_timestamp_micros(1_000_000).expect("in range"),
                kind: CheckKind::Http,
                dns: None,
                status_code: Some(200),
                latency: Duration::from_micros(900),
                phases: Phases::default(),
                cert_expires_at: None,
                failure: None,
            },
        };
        let [_, _, (_, json)] = encode(&record);
        assert_eq!(json, r#"{"t":1000000,"s":200,"l":900}"#);
    }

    #[test]
    fn garbage_and_other_versions_are_told_apart() {
        assert!(matches!(
            decode(&fields(&[("foo", "bar")])),
            Decoded::Corrupt(_)
        ));
        assert!(matches!(
            decode(&fields(&[("v", "1"), ("m", "x"), ("r", "{}")])),
            Decoded::Corrupt(_)
        ));
        assert!(matches!(
            decode(&fields(&[("v", "1"), ("m", "3"), ("r", "{\"t\":1}")])),
            Decoded::Corrupt(_)
        ));
        assert!(matches!(
            decode(&fields(&[("v", "2"), ("m", "3")])),
            Decoded::OtherVersion(v) if v == "2"
        ));
    }
}
