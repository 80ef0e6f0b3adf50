//! The ingest scenario: pre-made results pushed through tocsin's in-process buffer and
//! written by its `BatchWriter`, exactly as the scheduler's results are, timed end to end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use clap::Args;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::{Value, json};
use tocsin::service::EventBus;
use tocsin::pipeline::{BatchWriter, Buffer, MemoryBuffer, WriterOptions};
use tocsin::telemetry::Metrics;

use crate::{records, seed};

/// Arguments of `ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The database (`sqlite:///abs/path.db` or `postgres://…`), migrated first.
    #[arg(long)]
    database_url: String,
    /// How many results to write.
    #[arg(long)]
    results: usize,
    /// The most results per transaction (tocsin uses 1000 in process, 5000 from Redis).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// The most results per transaction while at least that many wait (tocsin's
    /// `WriterOptions::deep_batch`, 10000 by default; at most `--batch` turns it off).
    #[arg(long, default_value_t = WriterOptions::default().deep_batch)]
    deep_batch: usize,
    /// How many monitors the results are spread over.
    #[arg(long, default_value_t = 1000)]
    monitors: u32,
}

/// Seeds the monitors, makes every record first (so generating them is not timed), then
/// times from the first push until the writer has stored the last batch.
pub async fn run(args: IngestArgs) -> anyhow::Result<Value> {
    let store = match seed::open(&args.database_url).await? {
        Ok(store) => store,
        Err(skipped) => return Ok(skipped),
    };
    let email =
        tocsin::auth::Email::parse(&format!("ingest-{}@example.com", rand::random::<u32>()))?;
    let owner = store.create_user(&email, "not-a-hash").await?.id;
    let mut ids = Vec::with_capacity(args.monitors as usize);
    for n in 0..args.monitors.max(1) {
        let spec = seed::spec("http://127.0.0.1:9/", 86_400, n, None)?;
        ids.push(store.create_monitor(owner, &spec, u32::MAX).await?.id);
    }

    // Result i belongs to monitor i mod M, one check per second of each monitor: the
    // interleaving a busy scheduler produces.
    let start = Utc::now() - TimeDelta::hours(1);
    let mut rng = SmallRng::from_os_rng();
    let made: Vec<_> = (0..args.results)
        .map(|i| {
            let id = ids[i % ids.len()];
            let at = start + TimeDelta::milliseconds((i / ids.len()) as i64 * 1000);
            records::record(&mut rng, id, at)
        })
        .collect();

    let buffer = Arc::new(MemoryBuffer::new(100_000));
    let metrics = Arc::new(Metrics::new());
    let options = WriterOptions {
        max_batch: args.batch.max(1),
        deep_batch: args.deep_batch,
        ..WriterOptions::default()
    };
    let shared: Arc<dyn Buffer> = buffer.clone();
    let writer = BatchWriter::new(shared, store.clone(), metrics, EventBus::new(), options);
    let started = Instant::now();
    let writer = tokio::spawn(writer.run());
    for record in made {
        buffer.push(record).await?;
    }
    buffer.close();
    writer.await?;
    let elapsed = started.elapsed();
    Ok(report(&args, elapsed))
}

/// The JSON line the runner reads.
fn report(args: &IngestArgs, elapsed: Duration) -> Value {
    let seconds = elapsed.as_secs_f64();
    json!({
        "results": args.results,
        "batch": args.batch,
        "deep_batch": args.deep_batch.max(args.batch),
        "monitors": args.monitors,
        "seconds": seconds,
        "results_per_s": args.results as f64 / seconds.max(1e-9),
    })
}
