//! Pages of an owner's monitors: by id after a cursor, within the limit, the owner's only.

use tocsin::monitor::MonitorId;

use crate::suite::{S, spec, user};

pub async fn monitors_page_by_id_after_a_cursor_and_only_the_owners(store: S) {
    let a = user(&store, "pages-a@example.com").await;
    let b = user(&store, "pages-b@example.com").await;
    let mut mine = Vec::new();
    for i in 0..5 {
        mine.push(
            store
                .create_monitor(a, &spec(&format!("https://{i}.example")), 10)
                .await
                .expect("a's")
                .id,
        );
        // Interleaved with another owner's, which no page of a's shows.
        store
            .create_monitor(b, &spec(&format!("https://b{i}.example")), 10)
            .await
            .expect("b's");
    }
    let ids = |page: Vec<tocsin::monitor::Monitor>| page.iter().map(|m| m.id).collect::<Vec<_>>();
    let first = ids(store.monitors_page(a, None, 2).await.expect("page"));
    assert_eq!(first, mine[..2]);
    let second = ids(store
        .monitors_page(a, Some(first[1]), 2)
        .await
        .expect("page"));
    assert_eq!(second, mine[2..4]);
    let last = ids(store
        .monitors_page(a, Some(second[1]), 2)
        .await
        .expect("page"));
    assert_eq!(last, mine[4..]);
    assert!(
        store
            .monitors_page(a, Some(mine[4]), 2)
            .await
            .expect("page")
            .is_empty()
    );
    let all = ids(store
        .monitors_page(a, Some(MonitorId(0)), 100)
        .await
        .expect("page"));
    assert_eq!(all, mine, "the whole list, as list_monitors gives it");
    let listed: Vec<_> = store
        .list_monitors(a)
        .await
        .expect("list")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(all, listed);
}
