//! `tocsin-bench`: the bench suite's helper. It writes data straight through tocsin's
//! `Store` trait (never the API, whose hashing and validation would dominate), drives the
//! batch writer for the ingest scenario and times the password hash. Every subcommand prints
//! one JSON object on stdout, which `bench/run` reads.

mod bulk;
mod deferred;
mod dns;
mod ingest;
mod records;
mod seed;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::SecretString;
use serde_json::json;
use tocsin::auth::{Password, PasswordHasher};

/// Seeds tocsin databases and measures its write path, for the bench suite.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
enum Command {
    /// One user owning N monitors of one URL, created paced so their phases spread evenly.
    SeedMonitors(seed::MonitorsArgs),
    /// Monitors with days of hourly rollups and hours of raw results behind them.
    SeedHistory(seed::HistoryArgs),
    /// Results per second through the in-process buffer and the batch writer.
    Ingest(ingest::IngestArgs),
    /// A DNS server answering every name of one zone with one address, TTL 0, until killed.
    DnsServe(dns::DnsArgs),
    /// How long one argon2id hash takes with tocsin's hasher, sequentially.
    HashTime {
        /// How many hashes to time (the median is reported).
        #[arg(long, default_value_t = 20)]
        count: usize,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("tocsin-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one subcommand; `ExitCode::from(3)` means "skipped" (e.g. a store not built in).
async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let report = match cli.command {
        Command::SeedMonitors(args) => seed::monitors(args).await?,
        Command::SeedHistory(args) => seed::history(args).await?,
        Command::Ingest(args) => ingest::run(args).await?,
        Command::HashTime { count } => hash_time(count).await?,
        Command::DnsServe(args) => {
            tokio::task::spawn_blocking(move || dns::serve(args)).await??;
            serde_json::Value::Null
        }
    };
    println!("{report}");
    let skipped = report.get("skipped").is_some();
    Ok(if skipped {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// Times `count` hashes one after another (one core busy), the register endpoint's unit of work.
async fn hash_time(count: usize) -> anyhow::Result<serde_json::Value> {
    let hasher = PasswordHasher::default();
    let password = Password::parse(SecretString::from("bench-password1".to_owned()))
        .context("the bench password is refused")?;
    // One warm-up: the first hash pays for the blocking pool's thread start.
    hasher.hash(&password).await.context("hashing")?;
    let mut times = Vec::with_capacity(count.max(1));
    for _ in 0..count.max(1) {
        let started = Instant::now();
        hasher.hash(&password).await.context("hashing")?;
        times.push(started.elapsed());
    }
    times.sort();
    let median = times[times.len() / 2];
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok(json!({
        "count": times.len(),
        "median_ms": ms(median),
        "min_ms": ms(times[0]),
        "max_ms": ms(times[times.len() - 1]),
        "cores": cores,
        "ceiling_per_s": cores as f64 / median.as_secs_f64(),
    }))
}

/// A duration in milliseconds, as the reports show them.
fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
