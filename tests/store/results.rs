//! Results: batches are written once, read back exactly, and follow their monitor.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tocsin::check::{
    CheckKind, CheckRecord, CheckResult, DnsAnswer, Failure, FailureKind, LastCheck, Phases,
};
use tocsin::monitor::{Monitor, MonitorId};

use crate::suite::{S, spec, user};

/// 2026-01-01T00:00:00Z, a whole hour, so tests can place results in known hours.
pub fn base() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_767_225_600_000).expect("in range")
}

/// `base()` plus `seconds`.
pub fn at(seconds: i64) -> DateTime<Utc> {
    base() + chrono::Duration::seconds(seconds)
}

/// A successful check at `checked_at` that got `status` in `latency_ms`.
pub fn ok(checked_at: DateTime<Utc>, status: u16, latency_ms: u64) -> CheckResult {
    CheckResult {
        checked_at,
        kind: Default::default(),
        dns: None,
        status_code: Some(status),
        latency: Duration::from_millis(latency_ms),
        phases: Phases::default(),
        cert_expires_at: None,
        failure: None,
    }
}

/// A failed check of `kind`, with `status` if a response came.
pub fn failed(
    checked_at: DateTime<Utc>,
    kind: FailureKind,
    status: Option<u16>,
    latency_ms: u64,
) -> CheckResult {
    CheckResult {
        checked_at,
        kind: Default::default(),
        dns: None,
        status_code: status,
        latency: Duration::from_millis(latency_ms),
        phases: Phases::default(),
        cert_expires_at: None,
        failure: Some(Failure::new(kind, format!("{kind} went wrong"))),
    }
}

/// The results as records of monitor `id`.
pub fn records(id: MonitorId, results: &[CheckResult]) -> Vec<CheckRecord> {
    results
        .iter()
        .map(|result| CheckRecord {
            monitor: id,
            result: result.clone(),
        })
        .collect()
}

/// A monitor of a new account named after `tag`.
pub async fn owned_monitor(store: &S, tag: &str) -> Monitor {
    let owner = user(store, &format!("{tag}@example.com")).await;
    store
        .create_monitor(owner, &spec(&format!("https://{tag}.example")), 10)
        .await
        .expect("created")
}

async fn list(
    store: &S,
    m: &Monitor,
    before: Option<DateTime<Utc>>,
    limit: u32,
) -> Vec<CheckResult> {
    store
        .list_results(m.owner, m.id, before, limit)
        .await
        .expect("list")
        .expect("own monitor")
}

pub async fn results_round_trip_newest_first(store: S) {
    let m = owned_monitor(&store, "r1").await;
    let us = Duration::from_micros;
    let mut results = vec![CheckResult {
        checked_at: base() + chrono::Duration::milliseconds(1),
        kind: Default::default(),
        dns: None,
        status_code: Some(200),
        latency: us(123_456),
        phases: Phases {
            dns: Some(us(1_001)),
            connect: Some(us(2_002)),
            tls: Some(us(3_003)),
            ttfb: Some(us(4_004)),
        },
        cert_expires_at: Some(at(90 * 86_400) + chrono::Duration::milliseconds(7)),
        failure: None,
    }];
    for (i, kind) in FailureKind::ALL.into_iter().enumerate() {
        let mut result = failed(at(i as i64 + 1), kind, None, 10);
        if kind == FailureKind::Status {
            result.status_code = Some(503);
        }
        result.phases.dns = Some(us(17));
        result.latency = us(999_999);
        results.push(result);
    }
    // A TLS port, and a DNS answer with its records.
    let mut tls = ok(at(50), 200, 7);
    tls.kind = CheckKind::Tcp;
    tls.status_code = None;
    tls.cert_expires_at = Some(at(86_400));
    results.push(tls);
    let mut answer = ok(at(51), 200, 3);
    answer.kind = CheckKind::Dns;
    answer.status_code = None;
    answer.dns = Some(DnsAnswer {
        rcode: "NOERROR".into(),
        records: vec!["192.0.2.1".into(), "mail.example.com.".into()],
    });
    results.push(answer);
    let mut refused = failed(at(52), FailureKind::Dns, None, 4);
    refused.kind = CheckKind::Dns;
    refused.dns = Some(DnsAnswer {
        rcode: "NXDOMAIN".into(),
        records: Vec::new(),
    });
    results.push(refused);
    // A literal address over plain http: no DNS, no TLS, no certificate.
    let mut plain = ok(at(60), 204, 5);
    plain.phases.connect = Some(us(1));
    plain.phases.ttfb = Some(us(2));
    results.push(plain);
    let batch = records(m.id, &results);
    assert_eq!(
        store.insert_results(&batch).await.expect("insert").inserted,
        results.len()
    );
    results.reverse();
    assert_eq!(list(&store, &m, None, 100).await, results);
}

pub async fn a_batch_written_twice_is_stored_once(store: S) {
    let m = owned_monitor(&store, "r2").await;
    let batch = records(m.id, &[ok(at(0), 200, 10), ok(at(1), 200, 11)]);
    assert_eq!(
        store.insert_results(&batch).await.expect("first").inserted,
        2
    );
    assert_eq!(
        store.insert_results(&batch).await.expect("second").inserted,
        0
    );
    let overlapping = records(m.id, &[ok(at(1), 200, 11), ok(at(2), 200, 12)]);
    assert_eq!(
        store
            .insert_results(&overlapping)
            .await
            .expect("third")
            .inserted,
        1
    );
    assert_eq!(list(&store, &m, None, 100).await.len(), 3);
}

pub async fn a_result_twice_in_one_batch_is_stored_once(store: S) {
    let m = owned_monitor(&store, "r2d").await;
    let batch = records(
        m.id,
        &[ok(at(0), 200, 10), ok(at(0), 200, 10), ok(at(1), 200, 11)],
    );
    let written = store.insert_results(&batch).await.expect("insert");
    assert_eq!(written.inserted, 2);
    assert_eq!(list(&store, &m, None, 100).await.len(), 2);
}

/// Two writers delivering the same batch at once (a redelivery racing the first write)
/// store it once between them, and neither fails.
pub async fn one_batch_written_by_two_writers_at_once_is_stored_once(store: S) {
    let m = owned_monitor(&store, "r2c").await;
    let other = owned_monitor(&store, "r2o").await;
    let mut batch = records(
        m.id,
        &(0..50).map(|s| ok(at(s), 200, 10)).collect::<Vec<_>>(),
    );
    batch.extend(records(other.id, &[ok(at(0), 200, 10)]));
    let (a, b) = tokio::join!(store.insert_results(&batch), store.insert_results(&batch));
    let inserted = a.expect("first writer").inserted + b.expect("second writer").inserted;
    assert_eq!(inserted, 51);
    assert_eq!(list(&store, &m, None, 100).await.len(), 50);
}

pub async fn results_of_deleted_monitors_are_skipped(store: S) {
    let kept = owned_monitor(&store, "r3").await;
    let gone = store
        .create_monitor(kept.owner, &spec("https://gone.example"), 10)
        .await
        .expect("created");
    assert!(
        store
            .delete_monitor(gone.owner, gone.id)
            .await
            .expect("delete")
    );
    let mut batch = records(kept.id, &[ok(at(0), 200, 10)]);
    batch.extend(records(gone.id, &[ok(at(0), 200, 10)]));
    batch.extend(records(kept.id, &[ok(at(1), 200, 10)]));
    assert_eq!(
        store.insert_results(&batch).await.expect("insert").inserted,
        2
    );
    assert_eq!(
        list(&store, &kept, None, 100).await,
        vec![ok(at(1), 200, 10), ok(at(0), 200, 10)]
    );
}

pub async fn results_page_with_before_and_limit(store: S) {
    let m = owned_monitor(&store, "r4").await;
    let all: Vec<_> = (0..5).map(|i| ok(at(i), 200, 10 + i as u64)).collect();
    store
        .insert_results(&records(m.id, &all))
        .await
        .expect("insert");
    let page = |before, limit| list(&store, &m, before, limit);
    assert_eq!(page(None, 2).await, vec![all[4].clone(), all[3].clone()]);
    assert_eq!(
        page(Some(at(3)), 2).await,
        vec![all[2].clone(), all[1].clone()]
    );
    assert_eq!(page(Some(at(1)), 2).await, vec![all[0].clone()]);
    assert_eq!(page(Some(at(0)), 2).await, vec![]);
    assert_eq!(page(None, 0).await, vec![]);
}

pub async fn other_owners_cannot_read_results(store: S) {
    let m = owned_monitor(&store, "r5").await;
    let bob = user(&store, "bob@example.com").await;
    store
        .insert_results(&records(m.id, &[ok(at(0), 200, 10)]))
        .await
        .expect("insert");
    assert_eq!(
        store.list_results(bob, m.id, None, 10).await.expect("list"),
        None
    );
    assert_eq!(store.window(bob, m.id, base()).await.expect("window"), None);
    let missing = MonitorId(i64::MAX);
    assert_eq!(
        store
            .list_results(m.owner, missing, None, 10)
            .await
            .expect("list"),
        None
    );
    assert_eq!(
        store
            .window(m.owner, missing, base())
            .await
            .expect("window"),
        None
    );
}

pub async fn last_check_is_the_newest_result(store: S) {
    let m = owned_monitor(&store, "r6").await;
    assert_eq!(m.last_check, None);
    let newer = failed(at(60), FailureKind::Status, Some(500), 42);
    let older = ok(at(0), 200, 7);
    store
        .insert_results(&records(m.id, std::slice::from_ref(&newer)))
        .await
        .expect("newer");
    store
        .insert_results(&records(m.id, std::slice::from_ref(&older)))
        .await
        .expect("older, late");
    let expected = Some(LastCheck::from(&newer));
    let got = store
        .get_monitor(m.owner, m.id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(got.last_check, expected);
    let listed = store.list_monitors(m.owner).await.expect("list");
    assert_eq!(listed[0].last_check, expected);
    let updated = store
        .update_monitor(m.owner, m.id, &spec("https://r6b.example"))
        .await
        .expect("update")
        .expect("found");
    assert_eq!(updated.last_check, expected);
    let paused = store
        .set_paused(m.owner, m.id, true)
        .await
        .expect("pause")
        .expect("found");
    assert_eq!(paused.last_check, expected);
    let resumed = store
        .set_paused(m.owner, m.id, false)
        .await
        .expect("resume")
        .expect("found");
    let claims = store
        .claim_due(resumed.updated_at, resumed.updated_at, 10)
        .await
        .expect("claim")
        .claims;
    assert_eq!(claims[0].monitor.last_check, expected);
}

pub async fn deleting_a_monitor_removes_its_results(store: S) {
    let gone = owned_monitor(&store, "r7").await;
    let kept = store
        .create_monitor(gone.owner, &spec("https://kept.example"), 10)
        .await
        .expect("created");
    let gone_results: Vec<_> = (0..3).map(|i| ok(at(i), 200, 10)).collect();
    store
        .insert_results(&records(gone.id, &gone_results))
        .await
        .expect("insert");
    store
        .insert_results(&records(kept.id, &[ok(at(0), 200, 10), ok(at(1), 200, 10)]))
        .await
        .expect("insert");
    assert!(
        store
            .delete_monitor(gone.owner, gone.id)
            .await
            .expect("delete")
    );
    assert_eq!(
        store
            .list_results(gone.owner, gone.id, None, 10)
            .await
            .expect("list"),
        None
    );
    // Retention sees every raw row left: only the kept monitor's.
    let future = Utc::now() + chrono::Duration::days(1);
    assert_eq!(store.roll_up_before(future, 100).await.expect("roll up"), 2);
    let again = store
        .create_monitor(gone.owner, &spec("https://r7.example"), 10)
        .await
        .expect("re-created");
    assert_eq!(list(&store, &again, None, 10).await, vec![]);
    assert_eq!(
        store
            .insert_results(&records(gone.id, &gone_results))
            .await
            .expect("insert")
            .inserted,
        0
    );
}

pub async fn long_reads_return_every_row(store: S) {
    // Enough rows that SQLite's inline read budget runs out and the read is done again
    // off the async thread; the answer must be the same whole page.
    let m = owned_monitor(&store, "long").await;
    let all: Vec<CheckResult> = (0..3000).map(|i| ok(at(i), 200, 5)).collect();
    store
        .insert_results(&records(m.id, &all))
        .await
        .expect("insert");
    let page = list(&store, &m, None, 1000).await;
    assert_eq!(page.len(), 1000);
    assert_eq!(page.first().map(|r| r.checked_at), Some(at(2999)));
    assert_eq!(page.last().map(|r| r.checked_at), Some(at(2000)));
    let window = store
        .window(m.owner, m.id, base())
        .await
        .expect("window")
        .expect("own monitor");
    assert_eq!(window.raw.len(), 3000);
}
