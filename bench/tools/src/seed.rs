//! Seeding through the `Store` trait: monitors for the engine scenario, and monitors with a
//! month of history for the stats scenario.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use secrecy::SecretString;
use serde_json::{Value, json};
use tocsin::alerting::ChannelId;
use tocsin::alerting::channels::{ChannelConfig, ChannelKind};
use tocsin::auth::{Email, Password, PasswordHasher, UserId};
use tocsin::config::DatabaseUrl;
use tocsin::monitor::{MonitorDraft, MonitorId, MonitorSpec, Rules};
use tocsin::store::{self, Store};

use crate::deferred::Deferred;
use crate::records;

/// The password of every seeded account, so the runner can log in.
pub const PASSWORD: &str = "bench-password1";
/// Results per `insert_results` call while seeding.
const SEED_BATCH: usize = 5000;
/// Raw results moved per `roll_up_before` call, as the retention job does.
const ROLL_UP_BATCH: u32 = 5000;
/// Monitors whose whole history is written (and rolled up) before the next ones'.
const SEED_CHUNK: usize = 4;

/// Arguments of `seed-monitors`.
#[derive(Debug, Args)]
pub struct MonitorsArgs {
    /// The database (`sqlite:///abs/path.db` or `postgres://…`), migrated first.
    #[arg(long)]
    pub(crate) database_url: String,
    /// How many monitors to create.
    #[arg(long)]
    pub(crate) count: u32,
    /// Each monitor's interval in seconds.
    #[arg(long)]
    pub(crate) interval_secs: u32,
    /// The URL every monitor checks; `{n}` in it is replaced by the monitor's number, so
    /// each monitor can check a name of its own (`http://m{n}.bench.test:8080/`).
    #[arg(long)]
    pub(crate) url: String,
    /// Create as fast as possible instead of pacing creations over one interval.
    #[arg(long)]
    pub(crate) no_pace: bool,
    /// Monitors per account (0: all in one account). SQLite counts an owner's monitors on
    /// every creation, so one account of 100k monitors seeds quadratically slowly, too slowly
    /// to keep the pace; the scheduler does not care who owns a monitor.
    #[arg(long, default_value_t = 0)]
    pub(crate) per_user: u32,
    /// Pace creations over this many intervals instead of one: the due times are as evenly
    /// spread, at a creation rate the store can keep up with (count ÷ (K × interval) per s).
    #[arg(long, default_value_t = 1)]
    pub(crate) spread_intervals: u32,
    /// Alerting on: every account gets a webhook channel and every monitor is linked to
    /// it, so each results write runs the thresholds and plans notifications, as for a user
    /// who set up alerts (healthy targets notify nobody: a first `up` is no news).
    #[arg(long)]
    pub(crate) alerts: bool,
    /// Write the monitors with big `INSERT … SELECT` statements copying one monitor the
    /// store created, due times spread evenly over one interval from now, instead of one
    /// `create_monitor` each (a million in minutes; see bench/tools/src/bulk.rs).
    #[arg(long)]
    pub(crate) bulk: bool,
}

/// Arguments of `seed-history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The database (`sqlite:///abs/path.db` or `postgres://…`), migrated first.
    #[arg(long)]
    database_url: String,
    /// How many monitors to create.
    #[arg(long)]
    monitors: u32,
    /// Days of history, rollups and raw together.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// The most recent hours, kept as raw results; older hours become rollups.
    #[arg(long, default_value_t = 48)]
    raw_hours: u32,
    /// The monitors' interval, and the spacing of the raw results.
    #[arg(long, default_value_t = 60)]
    interval_secs: u32,
    /// Results rolled into each hourly rollup. A rollup row costs a stats query the same
    /// whatever its counts, so fewer than 3600 / interval saves seeding time.
    #[arg(long, default_value_t = 2)]
    samples_per_hour: u32,
    /// The URL every monitor checks.
    #[arg(long, default_value = "http://127.0.0.1:9/")]
    url: String,
    /// Leave the monitors running instead of pausing them (paused ones keep the server quiet
    /// while stats are measured).
    #[arg(long)]
    unpaused: bool,
}

/// The store `url` names, migrated; `Err(Value)` is a "skipped" report for a PostgreSQL URL
/// this build of tocsin cannot open.
pub async fn open(url: &str) -> anyhow::Result<Result<Arc<dyn Store>, Value>> {
    let parsed = DatabaseUrl::try_from(url.to_owned()).map_err(|e| anyhow!(e))?;
    let store = match store::open(&parsed).await {
        Ok(store) => store,
        Err(error) if matches!(parsed, DatabaseUrl::Postgres { .. }) => {
            return Ok(Err(
                json!({ "skipped": format!("PostgreSQL store: {error}") }),
            ));
        }
        Err(error) => return Err(error).context("opening the store"),
    };
    store.migrate().await.context("migrating")?;
    Ok(Ok(store))
}

/// A new account with a real argon2id hash of [`PASSWORD`].
pub(crate) async fn user(store: &dyn Store) -> anyhow::Result<(UserId, String)> {
    let email = format!("bench-{}@example.com", rand::random::<u32>());
    let parsed = Email::parse(&email).context("bench email")?;
    let password = Password::parse(SecretString::from(PASSWORD.to_owned())).context("password")?;
    let hash = PasswordHasher::default().hash(&password).await?;
    let user = store.create_user(&parsed, &hash).await?;
    Ok((user.id, email))
}

/// A webhook channel of `owner`'s, never called by the engine scenario (its targets stay
/// healthy): there only so that every results write does what it does for alerting users.
async fn channel(store: &dyn Store, owner: UserId) -> anyhow::Result<ChannelId> {
    let config = ChannelConfig::stored(
        ChannelKind::Webhook,
        json!({ "url": "http://127.0.0.1:9/bench" }),
    )
    .map_err(|e| anyhow!("bench channel: {e}"))?;
    Ok(store.create_channel(owner, "bench", &config).await?.id)
}

/// A spec for `url` every `interval_secs`, valid for any interval the store accepts, named
/// `bench <n>` (names are unique per account), linked to `channel` when alerting is on.
pub fn spec(
    url: &str,
    interval_secs: u32,
    n: u32,
    channel: Option<ChannelId>,
) -> anyhow::Result<MonitorSpec> {
    let draft = MonitorDraft {
        url: url.to_owned(),
        name: Some(format!("bench {n}")),
        interval_seconds: Some(interval_secs),
        channel_ids: channel.map(|c| vec![c.0]),
        ..MonitorDraft::default()
    };
    Ok(MonitorSpec::parse(draft, &Rules::STORED)?)
}

/// `seed-monitors`: a monitor's first due time is its creation time, so creating them
/// evenly over one interval spreads their checks evenly over every later interval.
pub async fn monitors(args: MonitorsArgs) -> anyhow::Result<Value> {
    if args.bulk {
        return crate::bulk::monitors(args).await;
    }
    let store = match open(&args.database_url).await? {
        Ok(store) => store,
        Err(skipped) => return Ok(skipped),
    };
    let (mut owner, email) = user(store.as_ref()).await?;
    let mut users = 1;
    let account_channel = async |owner| -> anyhow::Result<Option<ChannelId>> {
        Ok(match args.alerts {
            true => Some(channel(store.as_ref(), owner).await?),
            false => None,
        })
    };
    let mut channel = account_channel(owner).await?;
    let started = Instant::now();
    let spread = u64::from(args.interval_secs) * u64::from(args.spread_intervals.max(1));
    let step = Duration::from_secs(spread) / args.count.max(1);
    let (mut first, mut last, mut max_lag) = (None, None, Duration::ZERO);
    for i in 0..args.count {
        if args.per_user > 0 && i > 0 && i % args.per_user == 0 {
            owner = user(store.as_ref()).await?.0;
            channel = account_channel(owner).await?;
            users += 1;
        }
        if !args.no_pace {
            let due = started + step * i;
            match due.checked_duration_since(Instant::now()) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => max_lag = max_lag.max(due.elapsed()),
            }
        }
        // `{n}` in the URL: a name of its own per monitor (the names scenario).
        let url = args.url.replace("{n}", &i.to_string());
        let spec = spec(&url, args.interval_secs, i, channel)?;
        let monitor = store.create_monitor(owner, &spec, u32::MAX).await?;
        first.get_or_insert(monitor.id.0);
        last = Some(monitor.id.0);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({
        "email": email,
        "password": PASSWORD,
        "users": users,
        "monitors": args.count,
        "alerts": args.alerts,
        "first_id": first,
        "last_id": last,
        "interval_secs": args.interval_secs,
        "seconds": seconds,
        "created_per_s": f64::from(args.count) / seconds.max(1e-9),
        // How far creation fell behind the pace: beyond a small fraction of the interval,
        // the monitors' due times are not evenly spread.
        "max_lag_secs": max_lag.as_secs_f64(),
    }))
}

/// `seed-history`: old hours are written sparsely and rolled up (as the retention job would),
/// then the recent hours are written raw at the interval, newest ending now.
pub async fn history(args: HistoryArgs) -> anyhow::Result<Value> {
    let store = match open(&args.database_url).await? {
        Ok(store) => store,
        Err(skipped) => return Ok(skipped),
    };
    let (owner, email) = user(store.as_ref()).await?;
    let mut ids = Vec::with_capacity(args.monitors as usize);
    for n in 0..args.monitors {
        let spec = spec(&args.url, args.interval_secs, n, None)?;
        let monitor = store.create_monitor(owner, &spec, u32::MAX).await?;
        if !args.unpaused {
            store.set_paused(owner, monitor.id, true).await?;
        }
        ids.push(monitor.id);
    }
    let now = Utc::now();
    let raw_from = now - TimeDelta::hours(i64::from(args.raw_hours));
    let history_from = now - TimeDelta::days(i64::from(args.days));
    let started = Instant::now();
    let mut rng = SmallRng::from_os_rng();
    let hour = TimeDelta::hours(1);
    let spacing = hour / args.samples_per_hour.max(1) as i32;
    let url = DatabaseUrl::try_from(args.database_url.clone()).map_err(|e| anyhow!(e))?;
    let (mut old, mut rolled) = (0, 0);
    // A few monitors at a time, each one's old hours written sparsely and rolled up before
    // the next ones': only these monitors' results are older than the cutoff, so the
    // roll-up reads and deletes one small key range, and the rollups' keys append. Their
    // index by hour alone would take each rollup at a random page: set aside meanwhile.
    let by_hour = Deferred::drop(&url, &["rollups_by_hour"])?;
    for (n, chunk) in ids.chunks(SEED_CHUNK).enumerate() {
        let first = n * SEED_CHUNK;
        old += write_series(
            store.as_ref(),
            chunk,
            first,
            history_from,
            raw_from,
            spacing,
            &mut rng,
        )
        .await?;
        loop {
            let moved = store.roll_up_before(raw_from, ROLL_UP_BATCH).await?;
            rolled += moved;
            if moved < ROLL_UP_BATCH as usize {
                break;
            }
        }
    }
    let rolled_secs = started.elapsed().as_secs_f64();
    // Recent hours: raw results on the monitors' interval, monitor by monitor (the keys
    // append), with the results' index by time alone set aside likewise.
    let by_time = Deferred::drop(&url, &["results_by_time"])?;
    let interval = TimeDelta::seconds(i64::from(args.interval_secs));
    let raw = write_series(store.as_ref(), &ids, 0, raw_from, now, interval, &mut rng).await?;
    let indexing = Instant::now();
    for deferred in [by_hour, by_time].into_iter().flatten() {
        deferred.restore()?;
    }
    let index_secs = indexing.elapsed().as_secs_f64();
    Ok(json!({
        "email": email,
        "password": PASSWORD,
        "user_id": owner.0,
        "monitors": args.monitors,
        "first_id": ids.first().map(|id| id.0),
        "last_id": ids.last().map(|id| id.0),
        "rolled_up_results": rolled,
        "old_results": old,
        "raw_results": raw,
        "rollup_seconds": rolled_secs,
        "index_seconds": index_secs,
        "seconds_per_monitor": started.elapsed().as_secs_f64() / f64::from(args.monitors.max(1)),
        "seconds": started.elapsed().as_secs_f64(),
    }))
}

/// Writes one result per `spacing` from `from` to `until` for every monitor, monitor by
/// monitor (so each batch appends to one key range), in batches; returns how many. `first`
/// is the number of `ids[0]` among all seeded monitors, which sets each one's offset.
async fn write_series(
    store: &dyn Store,
    ids: &[MonitorId],
    first: usize,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    spacing: TimeDelta,
    rng: &mut SmallRng,
) -> anyhow::Result<usize> {
    let mut batch = Vec::with_capacity(SEED_BATCH);
    let mut written = 0;
    for (k, &id) in ids.iter().enumerate() {
        let n = first + k;
        // A per-monitor offset inside the spacing, so monitors do not all share timestamps.
        let offset = TimeDelta::milliseconds((n as i64 * 7919) % spacing.num_milliseconds());
        let mut at = from + offset;
        while at < until {
            batch.push(records::record(rng, id, at));
            if batch.len() == SEED_BATCH {
                store.insert_results(&batch).await?;
                written += batch.len();
                batch.clear();
            }
            at += spacing;
        }
    }
    if !batch.is_empty() {
        store.insert_results(&batch).await?;
        written += batch.len();
    }
    Ok(written)
}
