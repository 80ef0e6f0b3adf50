//! Maintenance windows: kept per owner, and looked up by the results write, which mutes the
//! incidents a window covers.

use tocsin::alerting::{
    Decision, EventKind, IncidentFilter, MaintenanceId, MonitorState, WindowDraft, WindowSpec,
};
use tocsin::monitor::MonitorId;

use crate::incidents::{down, fragile, up};
use crate::results::{at, records};
use crate::suite::{S, user};

fn window(name: &str, ids: Option<Vec<i64>>, from: i64, to: i64) -> WindowSpec {
    WindowSpec::parse(WindowDraft {
        name: name.into(),
        monitor_ids: ids,
        starts_at: at(from),
        ends_at: at(to),
    })
    .expect("valid window")
}

pub async fn windows_are_kept_per_owner(store: S) {
    let owner = user(&store, "ops@example.com").await;
    let other = user(&store, "other@example.com").await;
    let late = store
        .create_window(owner, &window("late", None, 500, 600))
        .await
        .expect("created");
    let early = store
        .create_window(owner, &window("early", Some(vec![3, 1]), 100, 200))
        .await
        .expect("created");
    assert_eq!(early.spec.name(), "early");
    assert_eq!(
        early.spec.monitors(),
        Some(&[MonitorId(1), MonitorId(3)][..])
    );
    assert_eq!(early.spec.starts_at(), at(100));
    assert_eq!(early.spec.ends_at(), at(200));
    assert_eq!(late.spec.monitors(), None);

    let listed = store.list_windows(owner).await.expect("list");
    assert_eq!(listed, vec![early.clone(), late.clone()], "by start");
    assert!(store.list_windows(other).await.expect("other").is_empty());

    assert!(
        !store
            .delete_window(other, early.id)
            .await
            .expect("not theirs")
    );
    assert!(store.delete_window(owner, early.id).await.expect("deleted"));
    assert!(!store.delete_window(owner, early.id).await.expect("gone"));
    assert!(
        !store
            .delete_window(owner, MaintenanceId(early.id.0 + 1000))
            .await
            .expect("never was")
    );
    assert_eq!(store.list_windows(owner).await.expect("list"), vec![late]);
}

/// Writes `results` of `m`; returns each transition's new state and queued event.
async fn write(
    store: &S,
    m: &tocsin::monitor::Monitor,
    results: &[tocsin::check::CheckResult],
) -> Vec<(MonitorState, Option<EventKind>)> {
    let written = store
        .insert_results(&records(m.id, results))
        .await
        .expect("written");
    written
        .transitions
        .iter()
        .filter_map(|t| match t.decision {
            Decision::State { to, .. } => Some((to, t.event)),
            _ => None,
        })
        .collect()
}

pub async fn a_window_mutes_the_monitors_it_covers_while_it_lasts(store: S) {
    let owner = user(&store, "ops@example.com").await;
    let covered = fragile(&store, owner, "covered", vec![], None).await;
    let other = fragile(&store, owner, "other", vec![], None).await;
    let everything = fragile(&store, owner, "all", vec![], None).await;
    store
        .create_window(owner, &window("deploy", Some(vec![covered.id.0]), 100, 200))
        .await
        .expect("window");
    store
        .create_window(owner, &window("all", None, 300, 400))
        .await
        .expect("window");
    // Someone else's window covering everything of theirs changes nothing here.
    let stranger = user(&store, "stranger@example.com").await;
    store
        .create_window(stranger, &window("theirs", None, 0, 10_000))
        .await
        .expect("window");

    // Inside the window: the incident opens, muted, and nobody hears of it or its end.
    assert_eq!(
        write(&store, &covered, &[up(0), down(150), up(160)]).await,
        vec![
            (MonitorState::Up, None),
            (MonitorState::Down, None),
            (MonitorState::Up, None)
        ]
    );
    // The monitor it does not name is told.
    assert_eq!(
        write(&store, &other, &[up(0), down(150)]).await,
        vec![
            (MonitorState::Up, None),
            (MonitorState::Down, Some(EventKind::Down))
        ]
    );
    // Its end is exclusive: a check at 200 is outside it.
    assert_eq!(
        write(&store, &covered, &[down(200)]).await,
        vec![(MonitorState::Down, Some(EventKind::Down))]
    );
    // A window without monitor ids covers every monitor of the account.
    assert_eq!(
        write(&store, &everything, &[up(0), down(350)]).await,
        vec![(MonitorState::Up, None), (MonitorState::Down, None)]
    );
    // An incident opened in a window stays muted after it: its `up` is not sent either.
    assert_eq!(
        write(&store, &everything, &[up(500)]).await,
        vec![(MonitorState::Up, None)]
    );

    let muted: Vec<(MonitorId, bool)> = store
        .list_incidents(
            owner,
            &IncidentFilter {
                monitor: None,
                state: None,
                before: None,
                limit: 10,
            },
        )
        .await
        .expect("list")
        .iter()
        .rev()
        .map(|i| (i.monitor, i.muted))
        .collect();
    assert_eq!(
        muted,
        vec![
            (covered.id, true),
            (other.id, false),
            (covered.id, false),
            (everything.id, true)
        ]
    );
}

pub async fn one_batch_of_several_owners_is_muted_monitor_by_monitor(store: S) {
    let ada = user(&store, "ada@example.com").await;
    let bob = user(&store, "bob@example.com").await;
    let a1 = fragile(&store, ada, "a1", vec![], None).await;
    let a2 = fragile(&store, ada, "a2", vec![], None).await;
    let b1 = fragile(&store, bob, "b1", vec![], None).await;
    store
        .create_window(ada, &window("a1 only", Some(vec![a1.id.0]), 100, 200))
        .await
        .expect("window");
    store
        .create_window(bob, &window("all of bob's", None, 250, 300))
        .await
        .expect("window");
    let mut batch = records(a1.id, &[up(0), down(150)]);
    batch.extend(records(a2.id, &[up(0), down(150)]));
    batch.extend(records(
        b1.id,
        &[up(0), down(150), up(260), down(270), up(400)],
    ));
    let written = store.insert_results(&batch).await.expect("written");
    let events: Vec<(MonitorId, MonitorState, Option<EventKind>)> = written
        .transitions
        .iter()
        .filter_map(|t| match t.decision {
            Decision::State { to, .. } => Some((t.monitor, to, t.event)),
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        vec![
            (a1.id, MonitorState::Up, None),
            (a1.id, MonitorState::Down, None),
            (a2.id, MonitorState::Up, None),
            (a2.id, MonitorState::Down, Some(EventKind::Down)),
            (b1.id, MonitorState::Up, None),
            (b1.id, MonitorState::Down, Some(EventKind::Down)),
            // Recovered inside bob's window: not announced.
            (b1.id, MonitorState::Up, None),
            (b1.id, MonitorState::Down, None),
            // The muted incident's end is not announced either.
            (b1.id, MonitorState::Up, None),
        ]
    );
}
