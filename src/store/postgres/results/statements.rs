//! The statements writing a batch into `results`: the usual one, and the fallback.

use std::sync::LazyLock;

/// Every row goes into `results`, even one at or below the roll-up mark: stored, it makes
/// the same result written again a duplicate. The rows new to the table that are at or
/// below the mark come back, to be folded into their rollups, since raw reads no longer
/// see them.
///
/// `{guard}` keeps out the rows already stored: [`SKIP_STORED`] normally, [`ON_CONFLICT`]
/// when that met a duplicate anyway.
fn insert_results_sql(guard: &str) -> String {
    format!(
        "WITH inserted AS ( \
            INSERT INTO results (monitor_id, checked_at, ok, status_code, latency_us, dns_us, \
                                 connect_us, tls_us, ttfb_us, error_kind, error_message, \
                                 cert_expires_at, check_kind, dns_rcode, dns_answer) \
            SELECT DISTINCT ON (u.checked_at, u.monitor_id) u.* \
            FROM unnest($1::bigint[], $2::timestamptz[], $3::boolean[], $4::integer[], \
                        $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], \
                        $9::bigint[], $10::text[], $11::text[], $12::timestamptz[], \
                        $13::text[], $14::text[], $15::text[]) \
                AS u (monitor_id, checked_at, ok, status_code, latency_us, dns_us, \
                      connect_us, tls_us, ttfb_us, error_kind, error_message, \
                      cert_expires_at, check_kind, dns_rcode, dns_answer) \
            JOIN monitors ON monitors.id = u.monitor_id \
            {guard} \
            RETURNING monitor_id, checked_at, ok, status_code, latency_us, check_kind, \
                      error_kind, dns_rcode \
        ), late AS ( \
            SELECT i.* FROM inserted i, rollup_mark m \
            WHERE (i.checked_at, i.monitor_id) <= (m.checked_at, m.monitor_id) \
        ) \
        SELECT (SELECT count(*) FROM inserted), late.monitor_id, late.checked_at, late.ok, \
               late.status_code, late.latency_us, late.check_kind, late.error_kind, \
               late.dns_rcode \
        FROM (VALUES (1)) AS one (x) LEFT JOIN late ON true"
    )
}

/// Rows already stored are skipped by looking them up, and a row twice in the batch is
/// written once (DISTINCT ON): a plain insert, without `ON CONFLICT`'s speculative one (a
/// third more WAL per row, and a second pass over the unique index). No other transaction
/// can be writing the same rows meanwhile: every writer holds its monitors' state rows
/// locked (`health::lock`, `FOR UPDATE`) from before its insert to its commit, and this
/// statement's snapshot (read committed), taken after that lock, sees whatever an earlier
/// writer of these monitors committed.
const SKIP_STORED: &str = "\
    WHERE NOT EXISTS (SELECT 1 FROM results r \
                      WHERE r.monitor_id = u.monitor_id AND r.checked_at = u.checked_at) \
    ORDER BY u.checked_at, u.monitor_id";

/// The fallback should a row be stored by a writer the lock did not order (a monitor
/// without a state row): duplicates skipped by the unique index itself.
const ON_CONFLICT: &str = "ORDER BY u.checked_at, u.monitor_id ON CONFLICT DO NOTHING";

/// The batch's insert, skipping stored rows by looking them up.
pub(super) static INSERT_SKIP_STORED: LazyLock<String> =
    LazyLock::new(|| insert_results_sql(SKIP_STORED));
/// The batch's insert, skipping stored rows by the unique index.
pub(super) static INSERT_ON_CONFLICT: LazyLock<String> =
    LazyLock::new(|| insert_results_sql(ON_CONFLICT));
