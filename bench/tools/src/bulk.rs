//! `seed-monitors --bulk`: a million monitors in minutes, on SQLite and PostgreSQL.
//!
//! `Store::create_monitor` is one transaction per monitor (a few hundred per second on
//! PostgreSQL), so a million would take most of an hour. Instead the store creates the first
//! account (with a real password hash, so the runner can log in) and one monitor of it,
//! migrated and validated like any other; then big `INSERT … SELECT` statements copy that
//! monitor row (every column but its id, owner, name, URL and due time) and that account row
//! (every column but its id, email and counter), one statement per account of monitors, so
//! the rows are the ones the store writes, whatever columns later migrations add. Each
//! monitor also gets its `monitor_status` row, and each account its `monitor_count`, as
//! `create_monitor` leaves them. The due times are spread evenly over one interval from now.

use std::time::Instant;

use anyhow::{Context, anyhow};
use chrono::Utc;
use serde_json::{Value, json};
use tocsin::config::DatabaseUrl;
use tocsin::monitor::MonitorId;

use crate::seed::{self, MonitorsArgs, PASSWORD};

/// Accounts written per transaction.
const ACCOUNTS_PER_COMMIT: u32 = 50;

/// What the bulk statements need to know: the template rows and the layout of the accounts.
struct Plan {
    /// The account the store created; it owns the template, monitor number 0.
    owner: i64,
    /// The monitor the store created, copied for every other monitor.
    template: i64,
    /// Monitors in all.
    count: u32,
    /// Monitors per account.
    per_user: u32,
    /// The URL, `{n}` replaced by each monitor's number.
    url: String,
    /// Monitor 0's due time (now), in milliseconds since the epoch.
    start_ms: i64,
    /// One interval in milliseconds: monitor n is due `n × spread ÷ count` after the first.
    spread_ms: i64,
    /// A random tag making the bulk accounts' emails unique across runs on one database.
    tag: u32,
}

impl Plan {
    /// Accounts needed.
    fn accounts(&self) -> u32 {
        self.count.div_ceil(self.per_user)
    }

    /// The monitor numbers account `k` owns (account 0's first one is the template).
    fn range(&self, k: u32) -> (i64, i64) {
        let start = (k * self.per_user).max(1);
        let end = ((k + 1) * self.per_user).min(self.count);
        (i64::from(start), i64::from(end))
    }

    /// How many monitors account `k` owns, for its counter.
    fn owned(&self, k: u32) -> i64 {
        let (start, end) = self.range(k);
        end - start + i64::from(k == 0)
    }

    /// A unique email of bulk account `k`.
    fn email(&self, k: u32) -> String {
        format!("bench-{}-{k}@example.com", self.tag)
    }
}

/// Seeds `args.count` monitors in bulk; the report has the fields the paced seeding's has.
pub async fn monitors(args: MonitorsArgs) -> anyhow::Result<Value> {
    let store = match seed::open(&args.database_url).await? {
        Ok(store) => store,
        Err(skipped) => return Ok(skipped),
    };
    if args.alerts {
        return Err(anyhow!(
            "--bulk does not link alert channels; seed without --bulk"
        ));
    }
    let started = Instant::now();
    let (owner, email) = seed::user(store.as_ref()).await?;
    let spec = seed::spec(&args.url.replace("{n}", "0"), args.interval_secs, 0, None)?;
    let template = store.create_monitor(owner, &spec, u32::MAX).await?;
    drop(store);
    let count = args.count.max(1);
    let plan = Plan {
        owner: owner.0,
        template: template.id.0,
        count,
        per_user: if args.per_user == 0 {
            count
        } else {
            args.per_user
        },
        url: args.url.clone(),
        start_ms: Utc::now().timestamp_millis(),
        spread_ms: i64::from(args.interval_secs) * 1000,
        tag: rand::random(),
    };
    let accounts = plan.accounts();
    let parsed = DatabaseUrl::try_from(args.database_url.clone()).map_err(|e| anyhow!(e))?;
    let last = match parsed {
        DatabaseUrl::Postgres { .. } => postgres(&args.database_url, &plan).await?,
        DatabaseUrl::Sqlite { path } => {
            tokio::task::spawn_blocking(move || sqlite(&path, &plan)).await??
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({
        "email": email,
        "password": PASSWORD,
        "users": accounts,
        "monitors": count,
        "alerts": false,
        "bulk": true,
        "first_id": template.id.0,
        "last_id": last.0,
        "interval_secs": args.interval_secs,
        "seconds": seconds,
        "created_per_s": f64::from(count) / seconds.max(1e-9),
        "max_lag_secs": 0.0,
    }))
}

/// `columns` but those in `skip`, comma-separated, each prefixed by `prefix`.
fn column_list(columns: &[String], skip: &[&str], prefix: &str) -> String {
    columns
        .iter()
        .filter(|c| !skip.contains(&c.as_str()))
        .map(|c| format!("{prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Monitor columns written per monitor rather than copied from the template.
const MONITOR_OWN: [&str; 5] = ["id", "user_id", "name", "url", "next_check_at"];
/// Account columns written per account rather than copied (admin keeps its default: no).
const USER_OWN: [&str; 4] = ["id", "email", "monitor_count", "admin"];

/// The SQLite bulk path; returns the last monitor's id.
fn sqlite(path: &std::path::Path, plan: &Plan) -> anyhow::Result<MonitorId> {
    let mut conn = rusqlite::Connection::open(path).context("opening the SQLite file")?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
    let columns = |table: &str| -> anyhow::Result<Vec<String>> {
        let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
        let names = stmt.query_map([], |row| row.get::<_, String>(1))?;
        Ok(names.collect::<Result<_, _>>()?)
    };
    let (monitor_cols, user_cols) = (columns("monitors")?, columns("users")?);
    let copied = column_list(&monitor_cols, &MONITOR_OWN, "");
    let insert_monitors = format!(
        "WITH RECURSIVE s(n) AS (SELECT ?1 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < ?2) \
         INSERT INTO monitors (user_id, name, url, next_check_at, {copied}) \
         SELECT ?3, 'bench ' || n, replace(?4, '{{n}}', n), ?5 + n * ?6 / ?7, {} \
         FROM s, monitors t WHERE t.id = ?8 ORDER BY n",
        column_list(&monitor_cols, &MONITOR_OWN, "t.")
    );
    let user_copied = column_list(&user_cols, &USER_OWN, "");
    let insert_user = format!(
        "INSERT INTO users (email, monitor_count, {user_copied}) \
         SELECT ?1, ?2, {user_copied} FROM users WHERE id = ?3 RETURNING id"
    );
    let mut last = plan.template;
    for first in (0..plan.accounts()).step_by(ACCOUNTS_PER_COMMIT as usize) {
        let tx = conn.transaction()?;
        for k in first..(first + ACCOUNTS_PER_COMMIT).min(plan.accounts()) {
            let owner: i64 = if k == 0 {
                tx.execute(
                    "UPDATE users SET monitor_count = ?1 WHERE id = ?2",
                    (plan.owned(0), plan.owner),
                )?;
                plan.owner
            } else {
                tx.query_row(
                    &insert_user,
                    (plan.email(k), plan.owned(k), plan.owner),
                    |row| row.get(0),
                )?
            };
            let (start, end) = plan.range(k);
            if start >= end {
                continue;
            }
            tx.execute(
                &insert_monitors,
                rusqlite::params![
                    start,
                    end,
                    owner,
                    plan.url,
                    plan.start_ms,
                    plan.spread_ms,
                    i64::from(plan.count),
                    plan.template
                ],
            )?;
            tx.execute(
                "INSERT INTO monitor_status (monitor_id) \
                 SELECT id FROM monitors WHERE user_id = ?1 AND id > ?2",
                (owner, plan.template),
            )?;
            last = tx.query_row(
                "SELECT max(id) FROM monitors WHERE user_id = ?1",
                [owner],
                |row| row.get(0),
            )?;
        }
        tx.commit()?;
    }
    conn.execute(
        "UPDATE monitors SET next_check_at = ?1 WHERE id = ?2",
        (plan.start_ms, plan.template),
    )?;
    Ok(MonitorId(last))
}

/// The PostgreSQL bulk path; returns the last monitor's id.
async fn postgres(url: &str, plan: &Plan) -> anyhow::Result<MonitorId> {
    let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("connecting to PostgreSQL")?;
    let driver = tokio::spawn(connection);
    let columns = async |client: &tokio_postgres::Client, table: &str| {
        let rows = client
            .query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position",
                &[&table],
            )
            .await?;
        anyhow::Ok(
            rows.iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>(),
        )
    };
    let monitor_cols = columns(&client, "monitors").await?;
    let user_cols = columns(&client, "users").await?;
    let copied = column_list(&monitor_cols, &MONITOR_OWN, "");
    let insert_monitors = format!(
        "INSERT INTO monitors (user_id, name, url, next_check_at, {copied}) \
         SELECT $3, 'bench ' || n, replace($4, '{{n}}', n::text), \
                to_timestamp(($5 + n * $6 / $7)::float8 / 1000), {} \
         FROM generate_series($1::bigint, $2::bigint - 1) n, monitors t WHERE t.id = $8 \
         ORDER BY n",
        column_list(&monitor_cols, &MONITOR_OWN, "t.")
    );
    let user_copied = column_list(&user_cols, &USER_OWN, "");
    let insert_user = format!(
        "INSERT INTO users (email, monitor_count, {user_copied}) \
         SELECT $1, $2, {user_copied} FROM users WHERE id = $3 RETURNING id"
    );
    let mut last = plan.template;
    let count = i64::from(plan.count);
    for first in (0..plan.accounts()).step_by(ACCOUNTS_PER_COMMIT as usize) {
        let tx = client.transaction().await?;
        for k in first..(first + ACCOUNTS_PER_COMMIT).min(plan.accounts()) {
            let owned = i32::try_from(plan.owned(k))?;
            let owner: i64 = if k == 0 {
                tx.execute(
                    "UPDATE users SET monitor_count = $1 WHERE id = $2",
                    &[&owned, &plan.owner],
                )
                .await?;
                plan.owner
            } else {
                tx.query_one(&insert_user, &[&plan.email(k), &owned, &plan.owner])
                    .await?
                    .get(0)
            };
            let (start, end) = plan.range(k);
            if start >= end {
                continue;
            }
            tx.execute(
                &insert_monitors,
                &[
                    &start,
                    &end,
                    &owner,
                    &plan.url,
                    &plan.start_ms,
                    &plan.spread_ms,
                    &count,
                    &plan.template,
                ],
            )
            .await?;
            let row = tx
                .query_one(
                    "WITH s AS (INSERT INTO monitor_status (monitor_id) \
                     SELECT id FROM monitors WHERE user_id = $1 AND id > $2 RETURNING monitor_id) \
                     SELECT max(monitor_id) FROM s",
                    &[&owner, &plan.template],
                )
                .await?;
            last = row.get::<_, Option<i64>>(0).unwrap_or(last);
        }
        tx.commit().await?;
    }
    client
        .execute(
            "UPDATE monitors SET next_check_at = to_timestamp($1::float8 / 1000) WHERE id = $2",
            &[&(plan.start_ms as f64), &plan.template],
        )
        .await?;
    // Fresh statistics, as autovacuum would give them soon after a million inserts.
    client.batch_execute("ANALYZE").await?;
    drop(client);
    driver.await??;
    Ok(MonitorId(last))
}
