//! The store test suite, written once in `suite.rs` and run against every backend, so the
//! implementations cannot drift apart. PostgreSQL runs it on a fresh database per test, and
//! skips (with one line) where no PostgreSQL is reachable.

mod accounts;
mod alerting;
mod api_keys;
mod apply_channels;
mod backup;
mod changes;
mod channels;
mod cluster;
mod group_writes;
mod incidents;
mod maintenance;
mod pages;
#[path = "../support/pg_cluster.rs"]
mod pg_cluster;
#[path = "../support/pki.rs"]
mod pki;
/// Behaviour only the PostgreSQL store has: partitions, the roll-up mark, hosts, pool.
#[path = "postgres.rs"]
mod postgres_only;
mod postgres_tls;
#[path = "../support/proxy.rs"]
mod proxy;
mod reminders;
mod results;
mod retention;
mod scheduling;
#[path = "../support/services.rs"]
mod services;
mod sessions;
mod status_pages;
mod suite;
mod unique_names;
mod upgrade;

use std::sync::Arc;
use tocsin::store::prelude::*;

use tempfile::TempDir;
use tocsin::store::{PostgresStore, SqliteStore, Store};

/// A migrated store and whatever must live as long as it (a temporary folder, a database).
pub struct Backend {
    /// The store under test; dropped before the guard, so its connections close first.
    pub store: Arc<dyn Store>,
    /// Where the database is, for tests that write rows no store role writes yet.
    pub raw: incidents::Raw,
    _guard: Box<dyn Send>,
}

async fn sqlite() -> Option<Backend> {
    let dir = TempDir::new().expect("temp dir");
    let raw = incidents::Raw::Sqlite(dir.path().join("tocsin.db"));
    let store = SqliteStore::open(&dir.path().join("tocsin.db"))
        .await
        .expect("opens");
    store.migrate().await.expect("migrates");
    Some(Backend {
        store: Arc::new(store),
        raw,
        _guard: Box::new(dir),
    })
}

/// A migrated store on a fresh database, or `None` when PostgreSQL is not there.
async fn postgres() -> Option<Backend> {
    let db = services::fresh_postgres().await?;
    let store = PostgresStore::open(&db.url).await.expect("opens");
    store.migrate().await.expect("migrates");
    Some(Backend {
        store: Arc::new(store),
        raw: incidents::Raw::Postgres(db.url.clone()),
        _guard: Box::new(db),
    })
}

/// Generates one `#[tokio::test]` per suite function (`file::function`) for a backend.
macro_rules! store_suite {
    ($backend:ident, $make:expr) => {
        store_suite!(@each $backend, $make;
            suite::migrate_is_idempotent,
            suite::ping_answers,
            suite::a_setting_keeps_its_first_value,
            suite::concurrent_setting_writers_agree,
            suite::users_are_created_once_per_email,
            suite::credentials_are_found_by_email,
            suite::monitors_round_trip_every_field,
            suite::monitors_are_listed_per_owner_oldest_first,
            pages::monitors_page_by_id_after_a_cursor_and_only_the_owners,
            suite::updates_replace_the_spec_and_keep_created_at,
            suite::pause_and_resume,
            suite::delete_removes_only_the_owners_monitor,
            suite::owners_cannot_reach_each_others_monitors,
            suite::monitor_ids_are_never_reused,
            suite::the_monitor_limit_holds,
            suite::the_monitor_limit_holds_under_concurrent_creation,
            suite::deleting_a_monitor_frees_its_place_under_the_limit,
            group_writes::a_write_that_fails_among_concurrent_ones_fails_alone,
            scheduling::a_new_monitor_is_claimable_at_once,
            scheduling::claims_follow_the_grid_without_drift,
            scheduling::paused_monitors_are_not_claimed_and_resuming_makes_them_due,
            scheduling::updates_and_redundant_resumes_keep_the_grid,
            scheduling::deleted_monitors_are_never_claimed,
            scheduling::claims_respect_the_limit_earliest_due_first,
            scheduling::overdue_monitors_skip_to_the_grid_beyond_their_grace,
            scheduling::released_claims_are_due_again_unless_claimed_since,
            scheduling::two_pending_claims_of_one_monitor_are_both_given_back,
            scheduling::monitors_created_together_check_at_once_then_spread_over_the_interval,
            scheduling::concurrent_claimers_share_every_due_time_once,
            scheduling::monitors_overdue_past_their_grace_move_to_their_next_grid_point_once,
            results::results_round_trip_newest_first,
            results::a_batch_written_twice_is_stored_once,
            results::a_result_twice_in_one_batch_is_stored_once,
            results::one_batch_written_by_two_writers_at_once_is_stored_once,
            results::results_of_deleted_monitors_are_skipped,
            results::results_page_with_before_and_limit,
            results::other_owners_cannot_read_results,
            results::last_check_is_the_newest_result,
            results::deleting_a_monitor_removes_its_results,
            results::long_reads_return_every_row,
            retention::rolling_up_keeps_window_totals_exact,
            retention::windows_reach_back_to_the_start_of_their_first_hour,
            retention::pruning_removes_only_old_hours_at_most_limit,
            retention::tcp_and_dns_latency_counts_when_the_target_answered,
            retention::tallies_count_raw_rows_and_rollups_of_many_monitors_at_once,
            retention::hourly_latency_comes_from_the_rollups,
            alerting::a_new_monitor_is_pending_until_its_thresholds_decide,
            alerting::failures_in_a_row_take_it_down_across_batches_and_passes_bring_it_back,
            alerting::batches_out_of_order_late_or_twice_decide_each_transition_once,
            alerting::slow_checks_make_it_degraded,
            alerting::results_of_several_monitors_in_one_batch_each_decide_their_own,
            cluster::heartbeats_replace_the_last_and_silent_instances_are_forgotten,
            cluster::a_stopping_instance_removes_its_heartbeat,
            cluster::a_lease_has_one_holder_until_it_runs_out,
            cluster::concurrent_takers_of_a_lease_have_one_winner,
            channels::channels_belong_to_their_account_and_leave_monitors_when_deleted,
            channels::notifications_are_claimed_once_retried_and_settled,
            channels::concurrent_claimers_never_share_a_notification,
            accounts::the_first_account_is_the_administrator,
            accounts::closed_registration_makes_only_the_first_account,
            accounts::a_password_change_moves_the_token_generation,
            accounts::deleting_an_account_removes_everything_it_owns,
            api_keys::api_keys_are_found_by_hash_listed_per_owner_and_revoked,
            api_keys::monitor_names_are_unique_per_account,
            api_keys::applying_changes_is_all_or_nothing,
            apply_channels::applying_channels_goes_with_the_monitors_all_or_nothing,
            status_pages::status_pages_round_trip_and_slugs_are_unique_across_owners,
            status_pages::public_pages_show_listed_monitors_with_daily_counts,
            incidents::incidents_are_listed_newest_first_per_owner_and_filtered,
            incidents::one_batch_of_an_expiring_certificate_opens_one_incident,
            maintenance::windows_are_kept_per_owner,
            maintenance::a_window_mutes_the_monitors_it_covers_while_it_lasts,
            maintenance::one_batch_of_several_owners_is_muted_monitor_by_monitor,
            sessions::sessions_live_until_logout_expiry_or_password_change,
        );
    };
    (@each $backend:ident, $make:expr; $($file:ident :: $test:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $test() {
                    // No backend: the service is not there and the skip is already said.
                    let Some(backend) = $make.await else { return };
                    crate::$file::$test(backend.store.clone()).await;
                }
            )*
        }
    };
}

store_suite!(sqlite, crate::sqlite());
store_suite!(postgres, crate::postgres());
