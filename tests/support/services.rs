//! The machine's PostgreSQL and Redis for tests: a fresh database or key prefix per test,
//! removed afterwards, and a skip (one line per test binary) where a service is not there.
//!
//! `TOCSIN_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) and
//! `TOCSIN_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) say where they are. With
//! `TOCSIN_REQUIRE_SERVICES=1` (as `.ci/run` sets) a missing service fails the test instead.
#![allow(dead_code)]

use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The variable that turns a skip into a failure.
pub const REQUIRE: &str = "TOCSIN_REQUIRE_SERVICES";

static COUNTER: AtomicU32 = AtomicU32::new(0);
static SKIPPED_POSTGRES: Once = Once::new();
static SKIPPED_REDIS: Once = Once::new();

fn required() -> bool {
    std::env::var(REQUIRE).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// A name no other test of this or another run uses.
fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}_{}_{n}_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Skips (or, when services are required, fails) with one line per test binary.
fn unavailable(once: &Once, service: &str, url: &str, variable: &str, error: &str) {
    if required() {
        panic!("{service} is required ({REQUIRE}=1) but unreachable at {url}: {error}");
    }
    once.call_once(|| {
        // Written past the test harness's capture, so the skip is seen in a passing run.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {service} tests: nothing reachable at {url} ({error}); set {variable} or start it"
        );
    });
}

/// The administrative PostgreSQL URL tests create their databases through.
pub fn postgres_admin_url() -> String {
    std::env::var("TOCSIN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The Redis URL tests use.
pub fn redis_base_url() -> String {
    std::env::var("TOCSIN_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A fresh, empty PostgreSQL database, dropped when this is dropped.
pub struct PgDatabase {
    /// The database's URL (same server and user as the administrative URL).
    pub url: String,
    /// Its name.
    pub name: String,
    admin: String,
}

async fn admin_client(admin: &str) -> Result<tokio_postgres::Client, String> {
    let connect = tokio_postgres::connect(admin, tokio_postgres::NoTls);
    let (client, connection) = tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .map_err(|_| "connection timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(client)
}

/// A new database on the test server, or `None` (after saying so) when there is none.
pub async fn fresh_postgres() -> Option<PgDatabase> {
    let admin = postgres_admin_url();
    let client = match admin_client(&admin).await {
        Ok(client) => client,
        Err(error) => {
            unavailable(
                &SKIPPED_POSTGRES,
                "PostgreSQL",
                &admin,
                "TOCSIN_TEST_POSTGRES_URL",
                &error,
            );
            return None;
        }
    };
    let name = unique("tocsin_test");
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("creating a test database");
    let mut url = url::Url::parse(&admin).expect("the admin URL is a URL");
    url.set_path(&format!("/{name}"));
    Some(PgDatabase {
        url: url.to_string(),
        name,
        admin,
    })
}

/// Runs `work` to completion on a runtime of its own in a thread of its own: cleanup in
/// `Drop` may run inside a test's runtime (where blocking on it would panic) or outside any.
fn block_on_own_runtime<F>(work: impl FnOnce() -> F + Send + 'static)
where
    F: std::future::Future<Output = ()>,
{
    let done = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(work());
    });
    let _ = done.join();
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        block_on_own_runtime(move || async move {
            if let Ok(client) = admin_client(&admin).await {
                let _ = client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        });
    }
}

/// A fresh key prefix on the test Redis; its keys are deleted when this is dropped.
pub struct RedisSpace {
    /// The server's URL.
    pub url: String,
    /// The prefix every key of this test starts with.
    pub prefix: String,
}

/// A prefix of its own on the test Redis, or `None` (after saying so) when there is none.
pub async fn fresh_redis() -> Option<RedisSpace> {
    let url = redis_base_url();
    let reachable = async {
        let client = redis::Client::open(url.as_str()).map_err(|e| e.to_string())?;
        let mut conn = tokio::time::timeout(
            Duration::from_secs(5),
            client.get_multiplexed_async_connection(),
        )
        .await
        .map_err(|_| "connection timed out".to_owned())?
        .map_err(|e| e.to_string())?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(|e| e.to_string())
    };
    if let Err(error) = reachable.await {
        unavailable(
            &SKIPPED_REDIS,
            "Redis",
            &url,
            "TOCSIN_TEST_REDIS_URL",
            &error,
        );
        return None;
    }
    Some(RedisSpace {
        url,
        prefix: unique("tocsin-test"),
    })
}

impl Drop for RedisSpace {
    fn drop(&mut self) {
        let (url, pattern) = (self.url.clone(), format!("{}*", self.prefix));
        block_on_own_runtime(move || async move {
            let Ok(client) = redis::Client::open(url.as_str()) else {
                return;
            };
            let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
                return;
            };
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(&pattern)
                .query_async(&mut conn)
                .await
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await;
            }
        });
    }
}
