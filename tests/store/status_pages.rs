//! Status pages: owners' settings with server-wide slugs, and the public reads that show
//! only the monitors a page lists, with their checks per day from raw results and rollups.

use chrono::Duration;
use tocsin::check::FailureKind;
use tocsin::monitor::MonitorId;
use tocsin::public::{Slug, StatusPageDraft, StatusPageId, StatusPageSpec};
use tocsin::store::StoreError;

use crate::results::{at, base, failed, ok, owned_monitor, records};
use crate::suite::{S, user};

fn page(slug: &str, monitors: &[MonitorId]) -> StatusPageSpec {
    StatusPageSpec::parse(StatusPageDraft {
        slug: slug.into(),
        title: format!("{slug} status"),
        description: Some("All of it".into()),
        monitor_ids: Some(monitors.iter().map(|m| m.0).collect()),
    })
    .expect("valid page")
}

fn slug(raw: &str) -> Slug {
    Slug::parse(raw).expect("valid slug")
}

pub async fn status_pages_round_trip_and_slugs_are_unique_across_owners(store: S) {
    let alice = user(&store, "alice@example.com").await;
    let bob = user(&store, "bob@example.com").await;
    let created = store
        .create_status_page(alice, &page("acme", &[]))
        .await
        .expect("created");
    assert_eq!(created.owner, alice);
    assert_eq!(created.spec, page("acme", &[]));
    let taken = store.create_status_page(bob, &page("acme", &[])).await;
    assert!(
        matches!(taken, Err(StoreError::Conflict("slug"))),
        "{taken:?}"
    );
    let other = store
        .create_status_page(alice, &page("acme-two", &[]))
        .await
        .expect("second page");
    let listed = store.list_status_pages(alice).await.expect("list");
    assert_eq!(listed, vec![created.clone(), other.clone()]);
    assert_eq!(store.list_status_pages(bob).await.expect("list"), vec![]);

    // Another owner can neither read, change nor delete it.
    assert_eq!(
        store.get_status_page(bob, created.id).await.expect("get"),
        None
    );
    let hijack = store
        .update_status_page(bob, created.id, &page("mine", &[]))
        .await
        .expect("update");
    assert_eq!(hijack, None);
    assert!(
        !store
            .delete_status_page(bob, created.id)
            .await
            .expect("delete")
    );

    let renamed = store
        .update_status_page(alice, created.id, &page("acme-prod", &[]))
        .await
        .expect("update")
        .expect("found");
    assert_eq!(renamed.spec.slug, slug("acme-prod"));
    assert_eq!(renamed.created_at, created.created_at);
    let clash = store
        .update_status_page(alice, created.id, &page("acme-two", &[]))
        .await;
    assert!(
        matches!(clash, Err(StoreError::Conflict("slug"))),
        "{clash:?}"
    );
    assert!(
        store
            .delete_status_page(alice, created.id)
            .await
            .expect("delete")
    );
    assert_eq!(
        store
            .get_status_page(alice, StatusPageId(created.id.0))
            .await
            .expect("get"),
        None
    );
    // The freed slug may be taken again.
    store
        .create_status_page(bob, &page("acme-prod", &[]))
        .await
        .expect("slug free again");
}

pub async fn public_pages_show_listed_monitors_with_daily_counts(store: S) {
    let shown = owned_monitor(&store, "shown").await;
    let hidden = store
        .create_monitor(
            shown.owner,
            &crate::suite::spec("https://hidden.example/"),
            100,
        )
        .await
        .expect("second monitor");
    // A monitor of someone else's, listed by id: it must not show.
    let foreign = owned_monitor(&store, "foreign").await;
    store
        .create_status_page(
            shown.owner,
            &page("public", &[hidden.id, shown.id, foreign.id]),
        )
        .await
        .expect("page");
    // Day one: 3 checks, 1 failed, in two hours; day two: 1 check. The hidden monitor too.
    let day = 86_400;
    let results = [
        ok(at(60), 200, 10),
        failed(at(120), FailureKind::Timeout, None, 100),
        ok(at(3600 + 60), 200, 10),
        ok(at(day + 60), 200, 10),
    ];
    store
        .insert_results(&records(shown.id, &results))
        .await
        .expect("written");
    store
        .insert_results(&records(hidden.id, &results[..1]))
        .await
        .expect("written");
    store
        .insert_results(&records(foreign.id, &results))
        .await
        .expect("written");
    // The first hour goes to the rollups: a day's count is raw rows and rollups together.
    store
        .roll_up_before(at(3600), 1000)
        .await
        .expect("rolled up");

    let snapshot = store
        .public_page(&slug("public"), base() - Duration::days(1), base())
        .await
        .expect("read")
        .expect("the page");
    let ids: Vec<MonitorId> = snapshot.monitors.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![hidden.id, shown.id], "in the page's order");
    let mut days: Vec<(i64, u64, u64)> = snapshot
        .days
        .iter()
        .filter(|d| d.monitor == shown.id)
        .map(|d| (d.day, d.checks, d.failures))
        .collect();
    days.sort_unstable();
    let first = base().timestamp() / day;
    assert_eq!(days, vec![(first, 3, 1), (first + 1, 1, 0)]);
    assert!(snapshot.days.iter().all(|d| d.monitor != foreign.id));
    assert!(snapshot.incidents.iter().all(|i| i.monitor != foreign.id));

    assert_eq!(
        store
            .page_monitor(&slug("public"), shown.id)
            .await
            .expect("read")
            .map(|m| m.id),
        Some(shown.id)
    );
    for (slug_text, id) in [("public", foreign.id), ("nowhere", shown.id)] {
        assert_eq!(
            store
                .page_monitor(&slug(slug_text), id)
                .await
                .expect("read"),
            None,
            "{slug_text} {id:?}"
        );
    }
    assert_eq!(
        store
            .public_page(&slug("nowhere"), base(), base())
            .await
            .expect("read"),
        None
    );

    // A deleted monitor leaves the page; the others keep their order.
    assert!(
        store
            .delete_monitor(shown.owner, hidden.id)
            .await
            .expect("deleted")
    );
    let pages = store.list_status_pages(shown.owner).await.expect("list");
    assert_eq!(pages[0].spec.monitor_ids, vec![shown.id, foreign.id]);
}
