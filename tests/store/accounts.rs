//! Accounts beyond creation: the first is the administrator, closed registration makes only
//! the first, password changes move the token generation, and deletion takes everything.

use chrono::Utc;
use tocsin::auth::Email;

use crate::results::{at, ok, records};
use crate::suite::{S, spec};

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn email(raw: &str) -> Email {
    Email::parse(raw).expect("valid email")
}

pub async fn the_first_account_is_the_administrator(store: S) {
    let first = store
        .create_user(&email("first@example.com"), HASH)
        .await
        .expect("first");
    let second = store
        .create_user(&email("second@example.com"), HASH)
        .await
        .expect("second");
    assert!(first.admin && !second.admin);
    let account = store
        .account(first.id)
        .await
        .expect("query")
        .expect("found");
    assert_eq!(account.user, first);
    assert_eq!(account.token_generation, 0);
    assert!(
        store
            .user_credentials(&email("first@example.com"))
            .await
            .expect("query")
            .expect("found")
            .user
            .admin
    );
}

pub async fn closed_registration_makes_only_the_first_account(store: S) {
    let (first, second) = (email("a@example.com"), email("b@example.com"));
    let (a, b) = tokio::join!(
        store.create_first_user(&first, HASH),
        store.create_first_user(&second, HASH),
    );
    let made: Vec<_> = [a.expect("a"), b.expect("b")]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(made.len(), 1, "one of two at once: {made:?}");
    assert!(made[0].admin);
    assert!(
        store
            .create_first_user(&email("c@example.com"), HASH)
            .await
            .expect("query")
            .is_none()
    );
}

pub async fn a_password_change_moves_the_token_generation(store: S) {
    let user = store
        .create_user(&email("p@example.com"), HASH)
        .await
        .expect("user");
    let next = store
        .change_password(user.id, "$argon2id$new")
        .await
        .expect("changed");
    assert_eq!(next, Some(1));
    let account = store.account(user.id).await.expect("query").expect("found");
    assert_eq!(account.token_generation, 1);
    let stored = store
        .user_credentials(&email("p@example.com"))
        .await
        .expect("query")
        .expect("found");
    assert_eq!(stored.password_hash, "$argon2id$new");
    assert_eq!(
        store
            .change_password(tocsin::auth::UserId(user.id.0 + 1000), "x")
            .await
            .expect("query"),
        None
    );
}

pub async fn deleting_an_account_removes_everything_it_owns(store: S) {
    let gone = store
        .create_user(&email("gone@example.com"), HASH)
        .await
        .expect("user");
    let kept = store
        .create_user(&email("kept@example.com"), HASH)
        .await
        .expect("user");
    let mut ids = Vec::new();
    for url in ["https://one.example", "https://two.example"] {
        let monitor = store
            .create_monitor(gone.id, &spec(url), 10)
            .await
            .expect("monitor");
        store
            .insert_results(&records(
                monitor.id,
                &[ok(at(0), 200, 5), ok(at(1), 200, 5)],
            ))
            .await
            .expect("results");
        ids.push(monitor.id);
    }
    let other = store
        .create_monitor(kept.id, &spec("https://kept.example"), 10)
        .await
        .expect("monitor");
    store
        .insert_results(&records(other.id, &[ok(at(0), 200, 5)]))
        .await
        .expect("results");

    let mut removed = store
        .delete_user(gone.id)
        .await
        .expect("delete")
        .expect("existed");
    removed.sort();
    assert_eq!(removed, ids);
    assert!(store.account(gone.id).await.expect("query").is_none());
    assert!(store.list_monitors(gone.id).await.expect("list").is_empty());
    for id in &ids {
        assert_eq!(
            store
                .list_results(gone.id, *id, None, 10)
                .await
                .expect("list"),
            None
        );
    }
    // Retention sees every raw row left: only the kept account's.
    let future = Utc::now() + chrono::Duration::days(1);
    assert_eq!(store.roll_up_before(future, 100).await.expect("roll up"), 1);
    assert_eq!(store.list_monitors(kept.id).await.expect("list").len(), 1);
    assert_eq!(store.delete_user(gone.id).await.expect("again"), None);
    // The email is free again.
    store
        .create_user(&email("gone@example.com"), HASH)
        .await
        .expect("the address can register again");
}
