//! Wiring: opens the store, settles the JWT secret, binds the listener, starts the check
//! engine (scheduler → buffer → batch writer) and the retention job, serves until told to
//! stop, then stops them in the order that loses nothing. Holds no business rules.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rand::RngCore;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::alerting::channels::{Guard, Outbound, Smtp};
use crate::api::{self, AppState, Throttle};
use crate::auth::{PasswordHasher, TokenKeys};
use crate::config::{DatabaseUrl, Settings};
use crate::jobs::changes;
use crate::jobs::heartbeat::{self, Instance};
use crate::jobs::notify::{Sender, SenderOptions};
use crate::jobs::reminders;
use crate::jobs::retention::Retention;
use crate::monitor::Rules;
use crate::pipeline::{
    BatchWriter, Buffer, MemoryBuffer, RedisBuffer, RedisOptions, WriterOptions,
};
use crate::probe::{Probe, ProbeOptions};
use crate::scheduler::{Scheduler, SchedulerOptions};
use crate::service::{
    Accounts, Channels, EventBus, Incidents, Maintenance, Monitors, Sessions, StatusPages,
};
use crate::store::{self, Store};
use crate::telemetry::Metrics;

/// The settings key under which a generated JWT secret is kept.
const JWT_SECRET_KEY: &str = "jwt_secret";

/// The most results in one transaction when they come from Redis: a backlog there (the
/// database was away) drains in fewer, larger transactions.
const REDIS_MAX_BATCH: usize = 5000;

/// A bound, ready-to-serve instance.
pub struct App {
    listener: TcpListener,
    router: axum::Router,
    store: Arc<dyn Store>,
    scheduler: Scheduler,
    events: EventBus,
    buffer: Arc<dyn Buffer>,
    writer_options: WriterOptions,
    metrics: Arc<Metrics>,
    instance: Arc<Instance>,
    retention: Retention,
    limits: api::server::Limits,
    sender: Sender,
    stop: watch::Sender<bool>,
    stopping: watch::Receiver<bool>,
}

impl App {
    /// Opens and migrates the store, then binds `settings.listen` (port 0 picks a free one).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let store = store::open(&settings.database_url)
            .await
            .with_context(|| format!("opening {}", settings.database_url))?;
        store.migrate().await.context("migrating the database")?;
        let secret = jwt_secret(settings, store.as_ref()).await?;
        let metrics = Arc::new(Metrics::with_monitor_gauges(settings.metrics_per_monitor));
        let (buffer, writer_options) = result_buffer(settings, metrics.clone()).await?;
        let probe = Probe::new(ProbeOptions {
            allow_private: settings.allow_private_targets,
            private_networks: settings.allowed_private_networks.clone(),
            ..ProbeOptions::default()
        });
        let events = EventBus::new();
        let scheduler = Scheduler::new(
            store.clone(),
            probe,
            buffer.clone(),
            metrics.clone(),
            SchedulerOptions {
                max_in_flight: settings.max_in_flight as usize,
                check_threads: settings.check_threads as usize,
                ..SchedulerOptions::default()
            },
            events.subscribe(),
        );
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listening on {} (TOCSIN_LISTEN)", settings.listen))?;
        let instance = Arc::new(Instance::new(listener.local_addr()?.to_string()));
        let rules = Rules {
            min_interval_secs: settings.min_interval.as_secs() as u32,
            allow_private_targets: settings.allow_private_targets,
            private_networks: settings.allowed_private_networks.clone(),
        };
        let guard = Guard {
            allow_private: settings.allow_private_targets,
            networks: settings.allowed_private_networks.clone(),
        };
        let smtp = match (&settings.smtp_url, &settings.smtp_from) {
            (Some(url), Some(from)) => Some(
                Smtp::new(
                    url.expose_secret(),
                    from,
                    settings.notify_timeout,
                    settings.smtp_ca.as_deref(),
                )
                .map_err(anyhow::Error::msg)?,
            ),
            _ => None,
        };
        let outbound = Outbound::new(guard.clone(), settings.notify_timeout, smtp)
            .map_err(anyhow::Error::msg)?;
        let sender = Sender::new(
            store.clone(),
            outbound.clone(),
            metrics.clone(),
            SenderOptions {
                timeout: settings.notify_timeout,
                retry: settings.notify_retry,
                ..SenderOptions::default()
            },
        )
        .wake_on(events.subscribe());
        let accounts = Accounts::new(
            store.clone(),
            PasswordHasher::default(),
            Arc::new(TokenKeys::new(&secret, settings.jwt_ttl)),
            settings.registration,
            events.clone(),
        );
        // Made here so the pages' live streams can end at a stop (run_until sends it).
        let (stop, stopping) = watch::channel(false);
        let state = AppState {
            stopping: stopping.clone(),
            sessions: Sessions::new(store.clone(), accounts.clone(), &secret),
            accounts,
            public_url: settings.public_url.clone(),
            monitors: Monitors::new(
                store.clone(),
                events.clone(),
                rules,
                settings.max_monitors_per_user,
            ),
            channels: Channels::new(store.clone(), outbound, guard, settings.notify_timeout),
            status_pages: StatusPages::new(store.clone()),
            incidents: Incidents::new(store.clone()),
            maintenance: Maintenance::new(store.clone()),
            events: events.clone(),
            store: store.clone(),
            throttle: Arc::new(Throttle::new(
                settings.auth_rate_per_minute,
                settings.trusted_proxies.clone(),
            )),
            metrics: metrics.clone(),
            buffer: buffer.clone(),
            instance: instance.clone(),
        };
        Ok(Self {
            listener,
            router: api::router(state),
            store,
            scheduler,
            events,
            buffer,
            writer_options,
            metrics,
            instance,
            retention: Retention {
                raw: settings.retention,
                rollups: settings.rollup_retention,
            },
            limits: api::server::Limits {
                header_read_timeout: settings.header_read_timeout,
                idle_timeout: settings.idle_timeout,
                max_connections: settings.max_connections as usize,
            },
            sender,
            stop,
            stopping,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The store this instance uses.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Serves and checks until `shutdown` completes. Then, so that nothing is lost: the API
    /// finishes the requests in progress while the scheduler stops claiming and waits for
    /// the checks in flight; then the buffer is closed and the writer stores what is left.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopping) = (self.stop, self.stopping);
        let stop = Arc::new(stop);
        let stopped = move || {
            let mut stopping = stopping.clone();
            async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            }
        };
        let writer = BatchWriter::new(
            self.buffer.clone(),
            self.store.clone(),
            self.metrics.clone(),
            self.events.clone(),
            self.writer_options,
        );
        let writer = tokio::spawn(writer.run());
        let peers = self.scheduler.peers();
        let scheduler = tokio::spawn(self.scheduler.run(stopped()));
        let changes = tokio::spawn(changes::run(
            self.store.clone(),
            self.events.clone(),
            stopped(),
        ));
        let retention = tokio::spawn(self.retention.run(
            self.store.clone(),
            self.instance.id.clone(),
            stopped(),
        ));
        let sender = tokio::spawn(self.sender.run(stopped()));
        let reminders = tokio::spawn(reminders::run(
            self.store.clone(),
            self.metrics.clone(),
            reminders::PERIOD,
            stopped(),
        ));
        let heartbeat = tokio::spawn(heartbeat::run(
            self.instance.clone(),
            self.store.clone(),
            self.metrics.clone(),
            peers,
            stopped(),
        ));

        let signal = {
            let stop = stop.clone();
            async move {
                shutdown.await;
                stop.send_replace(true);
            }
        };
        let mut serve = tokio::spawn(api::server::serve(
            self.listener,
            self.router,
            self.limits,
            signal,
        ));
        stopped().await;
        // The API (the requests being served, at most HTTP_DRAIN) and the checks in flight
        // wind down side by side, so the stop takes the longer of the two, not their sum.
        let http = async {
            if tokio::time::timeout(HTTP_DRAIN, &mut serve).await.is_err() {
                tracing::warn!(
                    drain = ?HTTP_DRAIN,
                    "API requests still running at the stop deadline are cut short"
                );
                serve.abort();
            }
        };
        let ((), scheduled) = tokio::join!(http, scheduler);
        if let Err(error) = scheduled {
            tracing::error!(%error, "the scheduler failed");
        }
        self.buffer.close();
        if let Err(error) = writer.await {
            tracing::error!(%error, "the batch writer failed");
        }
        if let Err(error) = changes.await {
            tracing::error!(%error, "following monitor changes failed");
        }
        if let Err(error) = retention.await {
            tracing::error!(%error, "the retention job failed");
        }
        if let Err(error) = sender.await {
            tracing::error!(%error, "the notification sender failed");
        }
        if let Err(error) = reminders.await {
            tracing::error!(%error, "the reminder job failed");
        }
        if let Err(error) = heartbeat.await {
            tracing::error!(%error, "the heartbeat job failed");
        }
        Ok(())
    }
}

/// How long a stop waits for the API requests being served.
const HTTP_DRAIN: Duration = Duration::from_secs(10);

/// The buffer between checks and the store, and how the writer batches from it.
async fn result_buffer(
    settings: &Settings,
    metrics: Arc<Metrics>,
) -> anyhow::Result<(Arc<dyn Buffer>, WriterOptions)> {
    let capacity = settings.buffer_capacity as usize;
    match &settings.redis_url {
        Some(url) => {
            let mut options = RedisOptions::new(
                url.clone(),
                settings.redis_prefix.clone(),
                settings.flush_interval,
                capacity,
            );
            options.ca_file = settings.redis_ca.clone();
            // Only a malformed URL fails here: an unreachable Redis is waited for, with
            // results held locally, so checks go on.
            let buffer = RedisBuffer::connect(options, metrics)
                .await
                .with_context(|| format!("setting up the Redis buffer at {url}"))?;
            let writer = WriterOptions {
                max_batch: REDIS_MAX_BATCH,
                ..WriterOptions::default()
            };
            Ok((Arc::new(buffer), writer))
        }
        // `flush_interval` is not used here: results only in this process's memory are
        // lost with it, so they are written within the writer's one-second linger instead
        // of waiting for a flush. Only Redis makes waiting safe.
        None => {
            let mut writer = WriterOptions::default();
            if matches!(settings.database_url, DatabaseUrl::Sqlite { .. }) {
                // SQLite has one writer: a backlog written 10,000 results at a time held
                // the scheduler's claims behind a transaction of about a second, checks
                // started late and were skipped, and at 10,000 checks/s the engine never
                // caught up. Batches stay at `max_batch` there.
                writer.deep_batch = writer.max_batch;
            }
            Ok((Arc::new(MemoryBuffer::new(capacity)), writer))
        }
    }
}

/// The configured secret, or the one kept in the database (generated by whichever instance
/// started first), so tokens survive restarts and every instance accepts every token.
async fn jwt_secret(settings: &Settings, store: &dyn Store) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.expose_secret().as_bytes().to_vec());
    }
    let mut random = [0u8; 64];
    rand::rng().fill_bytes(&mut random);
    let kept = store
        .setting_or_insert(JWT_SECRET_KEY, &hex::encode(random))
        .await
        .context("loading the generated JWT secret")?;
    Ok(kept.into_bytes())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
