//! Several instances on one database: heartbeats, and leases that let one instance at a
//! time run a job.

use chrono::{DateTime, Duration, Utc};
use tocsin::store::Heartbeat;

use crate::results::at;
use crate::suite::S;

fn beat(instance: &str, seen: DateTime<Utc>, checks: u64) -> Heartbeat {
    Heartbeat {
        instance: instance.to_owned(),
        address: format!("{instance}:8080"),
        started_at: at(0),
        seen_at: seen,
        checks_last_minute: checks,
    }
}

pub async fn heartbeats_replace_the_last_and_silent_instances_are_forgotten(store: S) {
    store
        .heartbeat(&beat("a", at(10), 5), at(0))
        .await
        .expect("a");
    store
        .heartbeat(&beat("b", at(12), 7), at(0))
        .await
        .expect("b");
    store
        .heartbeat(&beat("a", at(20), 9), at(0))
        .await
        .expect("a again");
    assert_eq!(
        store.instances(at(0)).await.expect("list"),
        vec![beat("a", at(20), 9), beat("b", at(12), 7)]
    );
    assert_eq!(
        store.instances(at(15)).await.expect("live"),
        vec![beat("a", at(20), 9)],
        "b has been silent since 12"
    );
    // Forgetting happens with the next heartbeat of anyone.
    store
        .heartbeat(&beat("a", at(30), 1), at(13))
        .await
        .expect("a");
    assert_eq!(
        store.instances(at(0)).await.expect("list"),
        vec![beat("a", at(30), 1)]
    );
}

pub async fn a_stopping_instance_removes_its_heartbeat(store: S) {
    store
        .heartbeat(&beat("a", at(10), 5), at(0))
        .await
        .expect("a");
    store
        .heartbeat(&beat("b", at(11), 0), at(0))
        .await
        .expect("b");
    store.forget_instance("b").await.expect("b stops");
    assert_eq!(
        store.instances(at(0)).await.expect("list"),
        vec![beat("a", at(10), 5)],
        "b is gone at once, not after it has been silent for long"
    );
    store
        .forget_instance("never-seen")
        .await
        .expect("an unknown instance is no error");
    assert_eq!(store.instances(at(0)).await.expect("list").len(), 1);
}

pub async fn a_lease_has_one_holder_until_it_runs_out(store: S) {
    let until = |s| at(s);
    assert!(
        store
            .lease("retention", "a", at(0), until(60))
            .await
            .expect("take")
    );
    assert!(
        !store
            .lease("retention", "b", at(30), until(90))
            .await
            .expect("held")
    );
    assert!(
        store
            .lease("retention", "a", at(30), until(90))
            .await
            .expect("renew")
    );
    assert!(
        !store
            .lease("retention", "b", at(89), until(150))
            .await
            .expect("renewed")
    );
    assert!(
        store
            .lease("other-job", "b", at(89), until(150))
            .await
            .expect("own job")
    );
    // a died: its lease runs out at 90 and b takes over.
    assert!(
        store
            .lease("retention", "b", at(90), until(150))
            .await
            .expect("expired")
    );
    assert!(
        !store
            .lease("retention", "a", at(91), until(151))
            .await
            .expect("b's now")
    );
}

pub async fn concurrent_takers_of_a_lease_have_one_winner(store: S) {
    let now = Utc::now();
    let takers = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let holder = format!("instance-{i}");
            store
                .lease("upkeep", &holder, now, now + Duration::seconds(60))
                .await
                .expect("lease")
        })
    });
    let mut winners = 0;
    for taker in takers {
        winners += usize::from(taker.await.expect("joined"));
    }
    assert_eq!(winners, 1);
}
