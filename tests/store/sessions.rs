//! Web sessions: found while live, ended by logout, expiry and a password change.

use chrono::{Duration, Utc};
use tocsin::store::NewSession;

use crate::suite::{S, user};

fn session(id_hash: &str, owner: tocsin::auth::UserId, generation: i64) -> NewSession {
    NewSession {
        id_hash: id_hash.to_owned(),
        user: owner,
        token_generation: generation,
        csrf: format!("csrf-{id_hash}"),
        expires_at: Utc::now() + Duration::days(1),
    }
}

pub async fn sessions_live_until_logout_expiry_or_password_change(store: S) {
    let owner = user(&store, "s@example.com").await;
    let other = user(&store, "t@example.com").await;
    let now = Utc::now();
    store
        .create_session(&session("a", owner, 0), now)
        .await
        .expect("a");
    store
        .create_session(&session("b", owner, 0), now)
        .await
        .expect("b");
    store
        .create_session(&session("c", other, 0), now)
        .await
        .expect("c");
    let found = store.session("a", now).await.expect("read").expect("live");
    assert_eq!(found.user, owner);
    assert_eq!(found.csrf, "csrf-a");
    assert!(found.admin, "the first account administers");
    assert_eq!(store.session("zz", now).await.expect("read"), None);

    // Expired at `now + 2 days`, and swept by the next login after that.
    let later = now + Duration::days(2);
    assert_eq!(store.session("a", later).await.expect("read"), None);

    store.delete_session("a").await.expect("logout");
    store.delete_session("a").await.expect("twice is fine");
    assert_eq!(store.session("a", now).await.expect("read"), None);
    assert!(store.session("b", now).await.expect("read").is_some());

    // A password change moves the generation: the old sessions stop counting.
    store
        .change_password(owner, "new-hash")
        .await
        .expect("changed");
    assert_eq!(store.session("b", now).await.expect("read"), None);
    assert_eq!(store.delete_user_sessions(owner).await.expect("ended"), 1);
    assert!(
        store.session("c", now).await.expect("read").is_some(),
        "another account's session stays"
    );

    store
        .create_session(&session("d", other, 0), later)
        .await
        .expect("d");
    assert_eq!(
        store.delete_user_sessions(other).await.expect("ended"),
        1,
        "the expired session c was swept when d was made"
    );

    // Deleting the account takes its sessions with it.
    store
        .create_session(&session("e", other, 0), now)
        .await
        .expect("e");
    store.delete_user(other).await.expect("deleted");
    assert_eq!(store.session("e", now).await.expect("read"), None);
}
