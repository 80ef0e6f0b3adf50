//! The wiring: with a Redis URL the app buffers in Redis, and an unreachable Redis does not
//! keep it from starting.

use std::time::Duration;

use tocsin::app::App;
use tocsin::config::{DatabaseUrl, RedisUrl, Settings};

use crate::proxy::Proxy;

#[tokio::test]
async fn the_app_starts_and_serves_with_redis_unreachable() {
    // A port that refuses connections, as a stopped Redis would.
    let proxy = Proxy::start("127.0.0.1:9".parse().expect("address")).await;
    proxy.cut();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: DatabaseUrl::sqlite(dir.path().join("tocsin.db")),
        jwt_secret: Some(
            "a-test-secret-that-is-long-enough-0123456789"
                .to_owned()
                .into(),
        ),
        redis_url: Some(
            RedisUrl::try_from(format!("redis://:hunter2@{}", proxy.addr())).expect("url"),
        ),
        ..Settings::default()
    };
    let app = tokio::time::timeout(Duration::from_secs(20), App::build(&settings))
        .await
        .expect("builds without waiting on Redis")
        .expect("app builds");
    let addr = app.local_addr().expect("bound");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .expect("answers");
    assert_eq!(health.status(), 200);
    let _ = stop.send(());
    // Stopping gives an unreachable Redis a bounded grace, then ends.
    tokio::time::timeout(Duration::from_secs(40), running)
        .await
        .expect("stops in bounded time")
        .expect("ran")
        .expect("no error");
}
