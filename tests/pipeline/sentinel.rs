//! Redis Sentinel: a master and a replica (both with AOF) and three Sentinels on loopback,
//! tocsin running checks against a local target with `redis+sentinel://` as its buffer. The
//! master is killed while checks run; tocsin follows the failover by itself, checks go on,
//! and after a graceful stop every check the target saw has its result in the database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tocsin::app::App;
use tocsin::auth::Email;
use tocsin::config::{DatabaseUrl, RedisUrl, Settings};
use tocsin::monitor::{MonitorDraft, MonitorSpec, Rules};
use tocsin::store::SqliteStore;
use tocsin::store::prelude::*;

use crate::helpers::eventually;
use crate::redis_servers::{RedisLab, command};

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
const MASTER: &str = "tocsin-test";
const MONITORS: usize = 3;

/// A target answering 200 and counting the requests it got.
async fn target() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new().route(
        "/ok",
        get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { "ok" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits)
}

/// Which port the Sentinel on `port` names as the master.
async fn named_master(port: u16) -> Option<u16> {
    let mut cmd = redis::cmd("SENTINEL");
    cmd.arg("get-master-addr-by-name").arg(MASTER);
    command::<Option<(String, u16)>>(port, &cmd)
        .await
        .ok()
        .flatten()
        .map(|(_, port)| port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_loses_no_result() {
    let Some(lab) = RedisLab::new() else { return };
    let aof = ["--appendonly", "yes", "--appendfsync", "always"];
    let mut master = lab.server(&aof);
    let replica_args: Vec<String> = aof
        .iter()
        .map(|s| (*s).to_owned())
        .chain([
            "--replicaof".into(),
            "127.0.0.1".into(),
            master.port.to_string(),
        ])
        .collect();
    let replica_refs: Vec<&str> = replica_args.iter().map(String::as_str).collect();
    let replica = lab.server(&replica_refs);
    eventually(
        "the replica is in sync",
        Duration::from_secs(20),
        || async {
            let mut info = redis::cmd("INFO");
            info.arg("replication");
            command::<String>(replica.port, &info)
                .await
                .is_ok_and(|text| text.contains("master_link_status:up"))
        },
    )
    .await;
    let sentinels: Vec<_> = (0..3)
        .map(|_| lab.sentinel(MASTER, master.port, 2))
        .collect();
    eventually(
        "the Sentinels know the replica",
        Duration::from_secs(20),
        || async {
            let mut cmd = redis::cmd("SENTINEL");
            cmd.arg("replicas").arg(MASTER);
            command::<Vec<redis::Value>>(sentinels[0].port, &cmd)
                .await
                .is_ok_and(|replicas| !replicas.is_empty())
        },
    )
    .await;

    let (target, hits) = target().await;
    let dir = tempfile::TempDir::new().expect("temp dir");
    let database = dir.path().join("tocsin.db");
    let store = SqliteStore::open(&database).await.expect("opens");
    store.migrate().await.expect("migrates");
    let owner = store
        .create_user(&Email::parse("sentinel@example.com").expect("email"), HASH)
        .await
        .expect("user")
        .id;
    for n in 0..MONITORS {
        let spec = MonitorSpec::parse(
            MonitorDraft {
                // Names are unique in an account; the store does not pick them.
                name: Some(format!("sentinel {n}")),
                url: format!("http://{target}/ok?n={n}"),
                interval_seconds: Some(1),
                ..MonitorDraft::default()
            },
            &Rules::STORED,
        )
        .expect("spec");
        store
            .create_monitor(owner, &spec, 10)
            .await
            .expect("monitor");
    }
    drop(store);

    let hosts: Vec<String> = sentinels
        .iter()
        .map(|s| format!("127.0.0.1:{}", s.port))
        .collect();
    let url = format!("redis+sentinel://{}/{MASTER}", hosts.join(","));
    let settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: DatabaseUrl::sqlite(&database),
        jwt_secret: Some(
            "a-test-secret-that-is-long-enough-0123456789"
                .to_owned()
                .into(),
        ),
        redis_url: Some(RedisUrl::try_from(url).expect("a Sentinel URL")),
        redis_prefix: format!("tocsin-test_sentinel_{}", std::process::id()),
        flush_interval: Duration::from_millis(500),
        allow_private_targets: true,
        min_interval: Duration::from_secs(1),
        ..Settings::default()
    };
    let app = App::build(&settings).await.expect("builds");
    let store = app.store();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let stored = || async {
        let mut total = 0;
        for monitor in store.list_monitors(owner).await.expect("monitors") {
            total += store
                .list_results(owner, monitor.id, None, 1000)
                .await
                .expect("results")
                .expect("monitor")
                .len();
        }
        total
    };
    eventually(
        "results flow through the master",
        Duration::from_secs(20),
        || async { stored().await >= 2 * MONITORS },
    )
    .await;

    // Kill -9 the master in the middle of the checks.
    let old_master = master.port;
    master.kill();
    let killed_at = hits.load(Ordering::SeqCst);
    eventually(
        "the Sentinels promote the replica",
        Duration::from_secs(60),
        || async { named_master(sentinels[0].port).await == Some(replica.port) },
    )
    .await;
    assert_ne!(old_master, replica.port);
    // Checks go on and their results reach the database through the new master.
    let after = stored().await;
    eventually(
        "results stored through the new master",
        Duration::from_secs(30),
        || async { stored().await >= after + 3 * MONITORS },
    )
    .await;
    assert!(hits.load(Ordering::SeqCst) > killed_at + 3 * MONITORS);

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(60), running)
        .await
        .expect("stops")
        .expect("ran")
        .expect("no error");
    let checked = hits.load(Ordering::SeqCst);
    assert_eq!(
        stored().await,
        checked,
        "every check the target answered has its result stored"
    );
}
