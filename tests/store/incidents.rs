//! Incidents read back with their notifications, and reminders queued once per interval.

use std::path::PathBuf;

use chrono::TimeDelta;
use tocsin::alerting::{
    EventKind, IncidentFilter, IncidentId, IncidentKind, IncidentState, NotificationState,
};
use tocsin::auth::UserId;
use tocsin::check::{CheckResult, FailureKind};
use tocsin::monitor::{Monitor, MonitorDraft, MonitorSpec, Rules};

use crate::results::{at, failed, ok, records};
use crate::suite::{S, user};

/// Where a backend's database is, to write rows no store role writes on this branch.
pub enum Raw {
    /// The SQLite file.
    Sqlite(PathBuf),
    /// The PostgreSQL database's URL.
    Postgres(String),
}

impl Raw {
    /// Adds a webhook channel of `owner` directly in the database; returns its id.
    pub async fn add_channel(&self, owner: UserId, name: &str) -> i64 {
        match self {
            Raw::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("opens");
                conn.query_row(
                    "INSERT INTO channels (user_id, name, kind, config, created_at, updated_at) \
                     VALUES (?1, ?2, 'webhook', '{\"url\": \"http://127.0.0.1:9/\"}', 0, 0) \
                     RETURNING id",
                    (owner.0, name),
                    |row| row.get(0),
                )
                .expect("channel inserted")
            }
            Raw::Postgres(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("connects");
                tokio::spawn(connection);
                let row = client
                    .query_one(
                        "INSERT INTO channels (user_id, name, kind, config, created_at, updated_at) \
                         VALUES ($1, $2, 'webhook', '{\"url\": \"http://127.0.0.1:9/\"}', now(), now()) \
                         RETURNING id",
                        &[&owner.0, &name],
                    )
                    .await
                    .expect("channel inserted");
                row.get(0)
            }
        }
    }
}

/// A monitor of `owner` going down after one failure, with these channels and reminders.
pub async fn fragile(
    store: &S,
    owner: UserId,
    tag: &str,
    channels: Vec<i64>,
    reminder: Option<u32>,
) -> Monitor {
    let spec = MonitorSpec::parse(
        MonitorDraft {
            url: format!("https://{tag}.example"),
            failure_threshold: Some(1),
            channel_ids: Some(channels),
            reminder_interval_seconds: reminder,
            ..MonitorDraft::default()
        },
        &Rules::STORED,
    )
    .expect("valid spec");
    store
        .create_monitor(owner, &spec, 10)
        .await
        .expect("created")
}

pub fn down(second: i64) -> CheckResult {
    failed(at(second), FailureKind::Status, Some(503), 40)
}

pub fn up(second: i64) -> CheckResult {
    ok(at(second), 200, 20)
}

/// Writes `results` of `m` as one batch.
pub async fn write(store: &S, m: &Monitor, results: &[CheckResult]) {
    store
        .insert_results(&records(m.id, results))
        .await
        .expect("written");
}

pub fn all(limit: u32) -> IncidentFilter {
    IncidentFilter {
        monitor: None,
        state: None,
        before: None,
        limit,
    }
}

fn ids(incidents: &[tocsin::alerting::Incident]) -> Vec<i64> {
    incidents.iter().map(|i| i.id.0).collect()
}

pub async fn incidents_are_listed_newest_first_per_owner_and_filtered(store: S) {
    let owner = user(&store, "ops@example.com").await;
    let a = fragile(&store, owner, "a", vec![], None).await;
    let b = fragile(&store, owner, "b", vec![], None).await;
    // a: down at 10, up at 20, down at 30 (open); b: down at 15 (open).
    write(&store, &a, &[up(0), down(10), up(20), down(30)]).await;
    write(&store, &b, &[up(0), down(15)]).await;

    let listed = store.list_incidents(owner, &all(10)).await.expect("list");
    assert_eq!(listed.len(), 3);
    assert!(listed.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let first = listed.last().expect("oldest");
    assert_eq!(first.monitor, a.id);
    assert_eq!(first.kind, IncidentKind::Down);
    assert_eq!(first.started_at, at(10));
    assert_eq!(first.resolved_at, Some(at(20)));
    assert_eq!(first.cause.kind, "status");
    assert_eq!(first.cause.status_code, Some(503));
    assert!(!first.muted);
    assert_eq!(first.cert_expires_at, None);
    assert!(
        first.notifications.is_empty(),
        "no channels, no notifications"
    );

    let open = store
        .list_incidents(
            owner,
            &IncidentFilter {
                state: Some(IncidentState::Open),
                ..all(10)
            },
        )
        .await
        .expect("open");
    assert_eq!(open.len(), 2);
    assert!(open.iter().all(|i| i.resolved_at.is_none()));
    let resolved = store
        .list_incidents(
            owner,
            &IncidentFilter {
                state: Some(IncidentState::Resolved),
                ..all(10)
            },
        )
        .await
        .expect("resolved");
    assert_eq!(ids(&resolved), vec![first.id.0]);

    let of_a = store
        .list_incidents(
            owner,
            &IncidentFilter {
                monitor: Some(a.id),
                ..all(10)
            },
        )
        .await
        .expect("of a");
    assert_eq!(of_a.len(), 2);
    assert!(of_a.iter().all(|i| i.monitor == a.id));

    // Paging by id: two pages of two and one.
    let page1 = store.list_incidents(owner, &all(2)).await.expect("page 1");
    let page2 = store
        .list_incidents(
            owner,
            &IncidentFilter {
                before: Some(IncidentId(page1[1].id.0)),
                ..all(2)
            },
        )
        .await
        .expect("page 2");
    let mut paged = ids(&page1);
    paged.extend(ids(&page2));
    assert_eq!(paged, ids(&listed));

    // Someone else sees none of them, even naming the monitor.
    let other = user(&store, "other@example.com").await;
    assert!(
        store
            .list_incidents(other, &all(10))
            .await
            .expect("other")
            .is_empty()
    );
    let named = IncidentFilter {
        monitor: Some(a.id),
        ..all(10)
    };
    assert!(
        store
            .list_incidents(other, &named)
            .await
            .expect("named")
            .is_empty()
    );
}

pub async fn notifications_are_listed_under_their_incident(store: S, raw: &Raw) {
    let owner = user(&store, "ops@example.com").await;
    let c1 = raw.add_channel(owner, "one").await;
    let c2 = raw.add_channel(owner, "two").await;
    let m = fragile(&store, owner, "n", vec![c1, c2], None).await;
    write(&store, &m, &[up(0), down(10), up(20)]).await;
    let listed = store.list_incidents(owner, &all(10)).await.expect("list");
    assert_eq!(listed.len(), 1);
    let events: Vec<(i64, EventKind)> = listed[0]
        .notifications
        .iter()
        .map(|n| (n.channel.0, n.event))
        .collect();
    assert_eq!(
        events,
        vec![
            (c1, EventKind::Down),
            (c2, EventKind::Down),
            (c1, EventKind::Up),
            (c2, EventKind::Up)
        ]
    );
    for n in &listed[0].notifications {
        assert_eq!(n.state, NotificationState::Pending);
        assert_eq!(n.attempts, 0);
        assert_eq!(n.last_error, None);
        assert_eq!(n.delivered_at, None);
    }
}

pub async fn one_batch_of_an_expiring_certificate_opens_one_incident(store: S) {
    let owner = user(&store, "ops@example.com").await;
    let m = fragile(&store, owner, "tls", vec![], None).await;
    let with_expiry = |second: i64, days: i64| CheckResult {
        cert_expires_at: Some(at(0) + TimeDelta::days(days)),
        ..up(second)
    };
    let batch = [with_expiry(1, 3), with_expiry(2, 3), with_expiry(3, 3)];
    write(&store, &m, &batch).await;
    write(&store, &m, &batch).await;
    write(&store, &m, &[with_expiry(4, 3)]).await;
    let listed = store.list_incidents(owner, &all(10)).await.expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].kind, IncidentKind::Certificate);
    assert_eq!(listed[0].cert_expires_at, Some(at(0) + TimeDelta::days(3)));
    assert_eq!(listed[0].started_at, at(1));
    // Expiring and renewed within one batch: opened and resolved.
    write(&store, &m, &[with_expiry(5, 3), with_expiry(6, 90)]).await;
    let listed = store.list_incidents(owner, &all(10)).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].resolved_at, Some(at(6)));
    let other = fragile(&store, owner, "tls2", vec![], None).await;
    write(&store, &other, &[with_expiry(1, 3), with_expiry(2, 90)]).await;
    let of_other = IncidentFilter {
        monitor: Some(other.id),
        ..all(10)
    };
    let listed = store.list_incidents(owner, &of_other).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].resolved_at, Some(at(2)));
}

/// Runs suite functions that also write rows directly, on each backend.
macro_rules! raw_suite {
    ($backend:ident, $make:expr; $($file:ident :: $test:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $test() {
                    let Some(backend) = $make.await else { return };
                    crate::$file::$test(backend.store.clone(), &backend.raw).await;
                }
            )*
        }
    };
}

raw_suite!(sqlite_raw, crate::sqlite();
    incidents::notifications_are_listed_under_their_incident,
    reminders::the_reminder_job_queues_due_reminders_once_and_counts_the_backlog,
    reminders::reminders_come_once_per_interval_while_the_incident_is_open,
    reminders::paused_muted_or_maintained_incidents_get_no_reminder,
);
raw_suite!(postgres_raw, crate::postgres();
    incidents::notifications_are_listed_under_their_incident,
    reminders::the_reminder_job_queues_due_reminders_once_and_counts_the_backlog,
    reminders::reminders_come_once_per_interval_while_the_incident_is_open,
    reminders::paused_muted_or_maintained_incidents_get_no_reminder,
);
