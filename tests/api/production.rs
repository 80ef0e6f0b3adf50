//! The seed's production stack, PostgreSQL and Redis, end to end: results reach Redis first
//! and PostgreSQL at each flush; kill -9 loses nothing that reached Redis; checks go on
//! through a database outage and through a Redis outage, and every result lands.
//!
//! Each test gets a fresh database and Redis key prefix; without the services they skip
//! (or fail under `TOCSIN_REQUIRE_SERVICES=1`).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tocsin::config::{DatabaseUrl, RedisUrl, Settings};
use tokio::time::sleep;

use crate::binary::Server;
use crate::checks::{eventually, results};
use crate::helpers::{PASSWORD, TestApp, start, test_settings};
use crate::proxy::Proxy;
use crate::services::{PgDatabase, RedisSpace, fresh_postgres, fresh_redis};
use crate::target::Target;

/// Settings for an instance on `database` and Redis at `redis` (keys under `space`'s
/// prefix), checking loopback every second.
fn production(
    dir: &TempDir,
    database: &str,
    (redis, space): (&str, &RedisSpace),
    flush: Duration,
) -> Settings {
    let mut settings = test_settings(dir.path());
    settings.database_url = DatabaseUrl::try_from(database.to_owned()).expect("database URL");
    settings.redis_url = Some(RedisUrl::try_from(redis.to_owned()).expect("redis URL"));
    settings.redis_prefix = space.prefix.clone();
    settings.flush_interval = flush;
    settings.min_interval = Duration::from_secs(1);
    settings.allow_private_targets = true;
    settings
}

async fn services() -> Option<(PgDatabase, RedisSpace)> {
    Some((fresh_postgres().await?, fresh_redis().await?))
}

async fn redis(space: &RedisSpace) -> redis::aio::MultiplexedConnection {
    redis::Client::open(space.url.as_str())
        .expect("redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("redis answers")
}

/// How many results wait in the instance's stream.
async fn stream_len(space: &RedisSpace) -> usize {
    redis::cmd("XLEN")
        .arg(format!("{}:results", space.prefix))
        .query_async(&mut redis(space).await)
        .await
        .expect("XLEN")
}

async fn one_second_monitor(app: &TestApp, token: &str, url: &str) -> i64 {
    let monitor = app
        .create_monitor(token, json!({"url": url, "interval_seconds": 1}))
        .await;
    monitor["id"].as_i64().expect("id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_flow_reaches_redis_first_then_postgres_at_each_flush() {
    let Some((database, space)) = services().await else {
        return;
    };
    let target = Target::start().await;
    let dir = TempDir::new().expect("dir");
    let app = start(production(
        &dir,
        &database.url,
        (&space.url, &space),
        Duration::from_secs(4),
    ))
    .await;
    // The seed's own three calls.
    let credentials = r#"{"Email": "seed@example.com", "Password": "XXXXXXXX"}"#;
    assert_eq!(
        app.post("/register", credentials, None).await.status(),
        StatusCode::CREATED
    );
    let login = app.post("/login", credentials, None).await;
    let token: String = login.json().await.expect("token");
    let url = json!({"URL": target.url("/ok"), "Period": 1}).to_string();
    let created = app.post("/url", &url, Some(&token)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.expect("monitor")["id"]
        .as_i64()
        .expect("id");

    // The first check runs within a second; its result is in Redis, not yet in PostgreSQL.
    eventually(Duration::from_secs(3), "a result in Redis", || async {
        (stream_len(&space).await >= 1).then_some(())
    })
    .await;
    assert!(
        results(&app, &token, id).await.is_empty(),
        "not in PostgreSQL before the flush"
    );
    let stored = eventually(Duration::from_secs(10), "the flush", || async {
        let found = results(&app, &token, id).await;
        (!found.is_empty()).then_some(found)
    })
    .await;
    assert_eq!(stored[0]["status_code"], 200);
    assert_eq!(
        stream_len(&space).await,
        0,
        "flushed entries leave the stream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_result_that_reached_redis() {
    let Some((database, space)) = services().await else {
        return;
    };
    let target = Target::start().await;
    // Flushing hourly: everything this instance checks waits in Redis when it is killed.
    let server = tokio::task::block_in_place(|| {
        Server::start(&[
            ("TOCSIN_DATABASE_URL", database.url.as_str()),
            ("TOCSIN_REDIS_URL", space.url.as_str()),
            ("TOCSIN_REDIS_PREFIX", space.prefix.as_str()),
            ("TOCSIN_FLUSH_INTERVAL", "1h"),
            ("TOCSIN_ALLOW_PRIVATE_TARGETS", "true"),
            ("TOCSIN_MIN_INTERVAL", "1s"),
        ])
    });
    let client = reqwest::Client::new();
    let api = |path: &str| format!("http://{}{path}", server.addr);
    let credentials = json!({"email": "kill@example.com", "password": PASSWORD});
    let register = client.post(api("/api/v1/auth/register")).json(&credentials);
    assert!(
        register
            .send()
            .await
            .expect("register")
            .status()
            .is_success()
    );
    let login: Value = client
        .post(api("/api/v1/auth/login"))
        .json(&credentials)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    let token = login["token"].as_str().expect("token").to_owned();
    let paths = ["/ok", "/status/503", "/slow/300"];
    for path in paths {
        let created = client
            .post(api("/api/v1/monitors"))
            .bearer_auth(&token)
            .json(&json!({"url": target.url(path), "interval_seconds": 1}))
            .send()
            .await
            .expect("create");
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    eventually(Duration::from_secs(15), "four checks each", || async {
        paths
            .iter()
            .all(|path| target.count(path) >= 4)
            .then_some(())
    })
    .await;
    server.kill();
    let in_redis = stream_len(&space).await;
    let hits: usize = paths.iter().map(|path| target.count(path)).sum();
    // Only a check in flight at the kill (at most one per monitor) had no result yet.
    assert!(
        in_redis + paths.len() >= hits,
        "{in_redis} results in Redis for {hits} requests"
    );

    // A new instance flushes what the dead one left in Redis.
    let dir = TempDir::new().expect("dir");
    let settings = production(
        &dir,
        &database.url,
        (&space.url, &space),
        Duration::from_millis(200),
    );
    let app = start(settings).await;
    let token = app.login("kill@example.com").await;
    let monitors: Value = app
        .get("/api/v1/monitors", &token)
        .await
        .json()
        .await
        .expect("monitors");
    let ids: Vec<i64> = monitors["monitors"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect();
    eventually(
        Duration::from_secs(15),
        "every result in PostgreSQL",
        || async {
            let mut stored = 0;
            for &id in &ids {
                stored += results(&app, &token, id).await.len();
            }
            (stored >= in_redis).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_go_on_through_a_database_outage_and_every_result_lands() {
    let Some((database, space)) = services().await else {
        return;
    };
    let target = Target::start().await;
    let (proxy, through_proxy) = Proxy::in_front_of(&database.url).await;
    let dir = TempDir::new().expect("dir");
    let app = start(production(
        &dir,
        &through_proxy,
        (&space.url, &space),
        Duration::from_millis(300),
    ))
    .await;
    let token = app.new_user().await;
    let ok = one_second_monitor(&app, &token, &target.url("/ok")).await;
    let failing = one_second_monitor(&app, &token, &target.url("/status/500")).await;
    eventually(Duration::from_secs(10), "results stored", || async {
        (results(&app, &token, ok).await.len() >= 2).then_some(())
    })
    .await;

    proxy.cut();
    let before = target.count("/ok");
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: Value = ready.json().await.expect("json");
    assert_eq!(ready["database"]["reachable"], false, "{ready}");
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    // Checks go on locally; their results wait in Redis.
    eventually(
        Duration::from_secs(10),
        "checks during the outage",
        || async { (target.count("/ok") >= before + 4).then_some(()) },
    )
    .await;
    assert!(stream_len(&space).await > 0, "results wait in Redis");

    proxy.restore().await;
    let ready = eventually(Duration::from_secs(15), "ready again", || async {
        let ready = app.client.get(app.url("/readyz")).send().await.ok()?;
        (ready.status() == StatusCode::OK).then_some(())
    });
    ready.await;
    // Every request the target saw has its result, each due time once.
    for (id, path) in [(ok, "/ok"), (failing, "/status/500")] {
        let stored = eventually(Duration::from_secs(15), "every result", || async {
            let stored = results(&app, &token, id).await;
            (stored.len() + 1 >= target.count(path)).then_some(stored)
        })
        .await;
        let mut times: Vec<&str> = stored
            .iter()
            .map(|r| r["checked_at"].as_str().expect("time"))
            .collect();
        times.dedup();
        assert_eq!(times.len(), stored.len(), "no result stored twice");
    }
    assert_eq!(stream_len(&space).await, 0, "the backlog was flushed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_go_on_through_a_redis_outage_and_every_result_lands() {
    let Some(space) = fresh_redis().await else {
        return;
    };
    let target = Target::start().await;
    let (proxy, through_proxy) = Proxy::in_front_of(&space.url).await;
    // SQLite here: this test is about Redis.
    let dir = TempDir::new().expect("dir");
    let sqlite = format!("sqlite://{}", dir.path().join("tocsin.db").display());
    let app = start(production(
        &dir,
        &sqlite,
        (&through_proxy, &space),
        Duration::from_millis(300),
    ))
    .await;
    let token = app.new_user().await;
    let id = one_second_monitor(&app, &token, &target.url("/ok")).await;
    eventually(Duration::from_secs(10), "results stored", || async {
        (!results(&app, &token, id).await.is_empty()).then_some(())
    })
    .await;

    proxy.cut();
    let before = target.count("/ok");
    eventually(
        Duration::from_secs(10),
        "checks during the outage",
        || async { (target.count("/ok") >= before + 3).then_some(()) },
    )
    .await;
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK, "Redis away is not unready");
    let ready: Value = ready.json().await.expect("json");
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["buffer"]["reachable"], false, "{ready}");
    assert!(
        ready["buffer"]["held_locally"].as_u64() > Some(0),
        "{ready}"
    );

    proxy.restore().await;
    eventually(Duration::from_secs(15), "every result stored", || async {
        let stored = results(&app, &token, id).await.len();
        (stored + 1 >= target.count("/ok")).then_some(())
    })
    .await;
    sleep(Duration::from_millis(200)).await;
}
