//! Reminders: queued once per interval while an incident stays open, whatever the number of
//! instances asking, and never for paused, muted or maintained monitors.

use chrono::{DateTime, TimeDelta, Utc};
use tocsin::alerting::EventKind;
use tocsin::check::FailureKind;

use crate::incidents::{Raw, all, down, fragile, up, write};
use crate::results::{at, failed, ok, records};
use crate::suite::{S, user};

fn seconds(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

async fn reminders(store: &S, now: DateTime<Utc>) -> Vec<tocsin::store::Reminder> {
    store.queue_reminders(now, 100).await.expect("reminders")
}

pub async fn reminders_come_once_per_interval_while_the_incident_is_open(store: S, raw: &Raw) {
    let owner = user(&store, "ops@example.com").await;
    let channel = raw.add_channel(owner, "pager").await;
    let m = fragile(&store, owner, "r", vec![channel], Some(300)).await;
    let quiet = fragile(&store, owner, "q", vec![channel], None).await;
    write(&store, &m, &[up(0), down(10)]).await;
    write(&store, &quiet, &[up(0), down(10)]).await;

    assert!(reminders(&store, at(10) + seconds(299)).await.is_empty());
    let due = reminders(&store, at(10) + seconds(300)).await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0].monitor, m.id);
    assert_eq!(due[0].owner, owner);
    assert_eq!(due[0].notifications, 1);
    // The same moment again, or a little later: already sent.
    assert!(reminders(&store, at(10) + seconds(300)).await.is_empty());
    assert!(reminders(&store, at(10) + seconds(599)).await.is_empty());

    // Several runs at once (instances) queue the next one once between them.
    let now = at(10) + seconds(600);
    let runs = futures_util::future::join_all((0..4).map(|_| reminders(&store, now))).await;
    assert_eq!(runs.iter().map(Vec::len).sum::<usize>(), 1, "{runs:?}");

    let listed = store.list_incidents(owner, &all(10)).await.expect("list");
    let of_m = listed.iter().find(|i| i.monitor == m.id).expect("m's");
    let events: Vec<EventKind> = of_m.notifications.iter().map(|n| n.event).collect();
    assert_eq!(
        events,
        vec![EventKind::Down, EventKind::Reminder, EventKind::Reminder]
    );

    // Resolved: no more reminders.
    write(&store, &m, &[up(700)]).await;
    assert!(reminders(&store, at(10) + seconds(3600)).await.is_empty());
}

pub async fn paused_muted_or_maintained_incidents_get_no_reminder(store: S, raw: &Raw) {
    let owner = user(&store, "ops@example.com").await;
    let channel = raw.add_channel(owner, "pager").await;
    let paused = fragile(&store, owner, "p", vec![channel], Some(300)).await;
    let maintained = fragile(&store, owner, "m", vec![channel], Some(300)).await;
    write(&store, &paused, &[up(0), down(10)]).await;
    write(&store, &maintained, &[up(0), down(10)]).await;
    store
        .set_paused(owner, paused.id, true)
        .await
        .expect("paused");
    let window = tocsin::alerting::WindowSpec::parse(tocsin::alerting::WindowDraft {
        name: "upgrade".into(),
        monitor_ids: Some(vec![maintained.id.0]),
        starts_at: at(100),
        ends_at: at(1000),
    })
    .expect("valid");
    store.create_window(owner, &window).await.expect("window");
    assert!(reminders(&store, at(400)).await.is_empty());
    // Once the window is over, the reminder comes.
    let due = reminders(&store, at(1000)).await;
    assert_eq!(
        due.iter().map(|r| r.monitor).collect::<Vec<_>>(),
        vec![maintained.id]
    );
}

pub async fn the_reminder_job_queues_due_reminders_once_and_counts_the_backlog(
    store: S,
    raw: &Raw,
) {
    let owner = user(&store, "ops@example.com").await;
    let channel = raw.add_channel(owner, "pager").await;
    let m = fragile(&store, owner, "j", vec![channel], Some(300)).await;
    // Down ten minutes ago: its `down` went out then, so a reminder is due now.
    let then = Utc::now() - seconds(600);
    let checks = [
        ok(then - seconds(10), 200, 20),
        failed(then, FailureKind::Timeout, None, 900),
    ];
    store
        .insert_results(&records(m.id, &checks))
        .await
        .expect("written");
    let metrics = tocsin::telemetry::Metrics::new();
    let first = tocsin::jobs::reminders::run_once(store.as_ref(), &metrics)
        .await
        .expect("pass");
    assert_eq!(first.len(), 1, "{first:?}");
    let again = tocsin::jobs::reminders::run_once(store.as_ref(), &metrics)
        .await
        .expect("pass");
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(
        store.outbox_backlog().await.expect("backlog"),
        2,
        "down and reminder"
    );
    let text = metrics.encode();
    assert!(text.contains("tocsin_alert_outbox_backlog 2"), "{text}");
    assert!(
        text.contains("tocsin_alert_events_total{event=\"reminder\"} 1"),
        "{text}"
    );
}
