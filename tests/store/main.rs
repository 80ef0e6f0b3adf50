//! The store test suite, written once in `suite.rs` and run against every backend, so the
//! implementations cannot drift apart. PostgreSQL joins with one more `store_suite!` line.

mod suite;

use std::sync::Arc;

use tempfile::TempDir;
use tocsin::store::{SqliteStore, Store};

/// A migrated store and whatever must live as long as it (a temporary folder).
pub struct Backend {
    /// The store under test.
    pub store: Arc<dyn Store>,
    _guard: TempDir,
}

async fn sqlite() -> Backend {
    let dir = TempDir::new().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("tocsin.db"))
        .await
        .expect("opens");
    store.migrate().await.expect("migrates");
    Backend {
        store: Arc::new(store),
        _guard: dir,
    }
}

/// Generates one `#[tokio::test]` per suite function for a backend.
macro_rules! store_suite {
    ($backend:ident, $make:expr) => {
        store_suite!(@each $backend, $make;
            migrate_is_idempotent,
            ping_answers,
            a_setting_keeps_its_first_value,
            concurrent_setting_writers_agree,
            users_are_created_once_per_email,
            credentials_are_found_by_email,
            monitors_round_trip_every_field,
            monitors_are_listed_per_owner_oldest_first,
            updates_replace_the_spec_and_keep_created_at,
            pause_and_resume,
            delete_removes_only_the_owners_monitor,
            owners_cannot_reach_each_others_monitors,
            monitor_ids_are_never_reused,
            the_monitor_limit_holds,
            the_monitor_limit_holds_under_concurrent_creation,
        );
    };
    (@each $backend:ident, $make:expr; $($test:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $test() {
                    let backend = $make.await;
                    crate::suite::$test(backend.store.clone()).await;
                }
            )*
        }
    };
}

store_suite!(sqlite, crate::sqlite());
