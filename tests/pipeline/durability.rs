//! Redis's own durability, against private servers: what the buffer reports about a Redis
//! that persists nothing or keeps an append-only file, a stream that vanished with a Redis
//! restarted empty (counted, made again, and the buffer carries on), and `rediss://` with a
//! private CA.

use std::time::Duration;

use tocsin::config::RedisUrl;
use tocsin::pipeline::{Buffer, RedisBuffer};

use crate::helpers::{env, eventually, times};
use crate::pki::{Ca, write};
use crate::redis_servers::RedisLab;

const LONG: Duration = Duration::from_secs(20);

#[tokio::test]
async fn persistence_is_reported_as_the_server_has_it() {
    let Some(env) = env().await else { return };
    let Some(lab) = RedisLab::new() else { return };
    for (args, expected) in [
        (&["--appendonly", "no"][..], "none"),
        (&["--appendonly", "yes"][..], "aof"),
        (&["--save", "3600 1"][..], "rdb"),
    ] {
        let server = lab.server(args);
        let url = format!("redis://127.0.0.1:{}", server.port);
        let buffer = env
            .buffer_with(env.options(&url, Duration::from_secs(60)))
            .await;
        assert_eq!(buffer.health().persistence, Some(expected), "{args:?}");
        buffer.close();
    }
}

#[tokio::test]
async fn a_stream_lost_with_a_redis_restarted_empty_is_counted_and_made_again() {
    let Some(env) = env().await else { return };
    let Some(lab) = RedisLab::new() else { return };
    let mut server = lab.server(&[]);
    let url = format!("redis://127.0.0.1:{}", server.port);
    let buffer = env
        .buffer_with(env.options(&url, Duration::from_millis(200)))
        .await;
    for n in 0..5 {
        buffer.push(env.record(n)).await.expect("push");
    }
    eventually("five results in Redis", LONG, || async {
        buffer.health().held_locally == 0
    })
    .await;

    // No AOF, no RDB: the restart forgets the stream and its consumer group.
    server.restart();
    for n in 5..8 {
        buffer.push(env.record(n)).await.expect("push");
    }
    eventually("the newer results reach the new Redis", LONG, || async {
        buffer.health().held_locally == 0
    })
    .await;
    let writer = env.writer(buffer.clone());
    eventually("the newer results are stored", LONG, || async {
        env.stored().await == times(5..8)
    })
    .await;
    let metrics = env.metrics.encode();
    assert!(
        metrics.contains("tocsin_redis_stream_lost_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("tocsin_results_lost_total 5"), "{metrics}");

    // The group made again works like the first: results keep flowing.
    buffer.push(env.record(8)).await.expect("push");
    eventually("later results are stored", LONG, || async {
        env.stored().await == times(5..9)
    })
    .await;
    buffer.close();
    tokio::time::timeout(LONG, writer)
        .await
        .expect("stops")
        .expect("ran");
}

#[tokio::test]
async fn the_deploy_redis_config_keeps_waiting_results_across_a_crash() {
    let Some(env) = env().await else { return };
    let Some(lab) = RedisLab::new() else { return };
    let conf = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/redis/redis.conf");
    let mut server = lab.server_with_config(&conf);
    let url = format!("redis://127.0.0.1:{}", server.port);
    let buffer = env
        .buffer_with(env.options(&url, Duration::from_millis(200)))
        .await;
    assert_eq!(buffer.health().persistence, Some("aof+rdb"));
    for n in 0..5 {
        buffer.push(env.record(n)).await.expect("push");
    }
    eventually("five results in Redis", LONG, || async {
        buffer.health().held_locally == 0
    })
    .await;
    // appendfsync everysec: a crash loses at most the last second, so give it that.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.restart();
    let writer = env.writer(buffer.clone());
    eventually("every result is stored after the crash", LONG, || async {
        env.stored().await == times(0..5)
    })
    .await;
    assert!(
        !env.metrics
            .encode()
            .contains("tocsin_redis_stream_lost_total 1"),
        "nothing was lost"
    );
    buffer.close();
    tokio::time::timeout(LONG, writer)
        .await
        .expect("stops")
        .expect("ran");
}

#[tokio::test]
async fn rediss_with_a_private_ca_is_trusted_only_with_that_ca() {
    let Some(env) = env().await else { return };
    let Some(lab) = RedisLab::new() else { return };
    let ca = Ca::new("tocsin Redis CA");
    let leaf = ca.server(&["localhost"]);
    let ca_file = write(lab.dir(), "ca.pem", &ca.pem());
    let cert = write(lab.dir(), "redis.crt", &leaf.cert);
    let key = write(lab.dir(), "redis.key", &leaf.key);
    let server = lab.tls_server(&cert, &key, &ca_file);
    let url = format!("rediss://localhost:{}", server.port);
    assert!(RedisUrl::try_from(url.clone()).expect("a URL").tls());

    // The public roots do not know this CA: results stay here.
    let untrusted = env
        .buffer_with(env.options(&url, Duration::from_millis(200)))
        .await;
    untrusted.push(env.record(0)).await.expect("push");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let health = untrusted.health();
    assert!(!health.reachable && health.held_locally == 1, "{health:?}");
    untrusted.close();

    // A CA file that holds no certificate stops the start, naming the setting.
    let mut options = env.options(&url, Duration::from_millis(200));
    options.ca_file = Some(write(lab.dir(), "not-a-ca.pem", "hello"));
    let refused = RedisBuffer::connect(options, env.metrics.clone())
        .await
        .err()
        .expect("refused");
    assert!(refused.to_string().contains("TOCSIN_REDIS_CA"), "{refused}");

    let mut options = env.options(&url, Duration::from_millis(200));
    options.ca_file = Some(ca_file);
    let trusted = env.buffer_with(options).await;
    let writer = env.writer(trusted.clone());
    for n in 1..4 {
        trusted.push(env.record(n)).await.expect("push");
    }
    eventually("results go through TLS to the store", LONG, || async {
        env.stored().await == times(1..4)
    })
    .await;
    assert!(trusted.health().reachable);
    trusted.close();
    tokio::time::timeout(LONG, writer)
        .await
        .expect("stops")
        .expect("ran");
}
