//! The Redis buffer with Redis away (a cut proxy in front of the real server): checks never
//! wait, results wait locally within the bound, and nothing is lost once Redis is back.

use std::time::Duration;

use tocsin::pipeline::Buffer;

use crate::helpers::{Env, env, eventually, times};
use crate::proxy::Proxy;

const LONG: Duration = Duration::from_secs(20);
/// Far more than a push takes; a push that waited on Redis would take the call timeout.
const PROMPT: Duration = Duration::from_millis(500);

async fn proxy(env: &Env) -> Proxy {
    Proxy::in_front_of(&env.space.url).await.0
}

#[tokio::test]
async fn results_wait_locally_while_redis_is_away_and_none_are_lost() {
    let Some(env) = env().await else { return };
    let proxy = proxy(&env).await;
    let url = format!("redis://{}", proxy.addr());
    let buffer = env
        .buffer_with(env.options(&url, Duration::from_millis(150)))
        .await;
    let writer = env.writer(buffer.clone());
    for n in 0..5 {
        buffer.push(env.record(n)).await.expect("push");
    }
    eventually("the first results are stored", LONG, || async {
        env.stored().await == times(0..5)
    })
    .await;

    proxy.cut();
    for n in 5..25 {
        tokio::time::timeout(PROMPT, buffer.push(env.record(n)))
            .await
            .expect("push does not wait on Redis")
            .expect("push");
    }
    eventually("the outage is seen", LONG, || async {
        !buffer.health().reachable
    })
    .await;
    let health = buffer.health();
    assert_eq!(health.backend, "redis");
    assert_eq!(health.held_locally, 20, "{health:?}");

    proxy.restore().await;
    eventually("everything reaches Redis", LONG, || async {
        buffer.health().held_locally == 0
    })
    .await;
    assert!(buffer.health().reachable);
    eventually("everything is stored", LONG, || async {
        env.stored().await == times(0..25)
    })
    .await;
    eventually("the stream ends empty", LONG, || async {
        env.xlen().await == 0 && env.pending().await == 0
    })
    .await;
    assert!(
        !env.metrics
            .encode()
            .contains("tocsin_results_dropped_total 1")
    );
    buffer.close();
    tokio::time::timeout(LONG, writer)
        .await
        .expect("stops")
        .expect("ran");
}

#[tokio::test]
async fn a_full_local_queue_drops_the_oldest_and_counts_them() {
    let Some(env) = env().await else { return };
    let proxy = proxy(&env).await;
    // Redis is away from the start: the buffer still starts.
    proxy.cut();
    let url = format!("redis://{}", proxy.addr());
    let mut options = env.options(&url, Duration::from_millis(150));
    options.capacity = 5;
    let buffer = env.buffer_with(options).await;
    assert!(!buffer.health().reachable);
    let writer = env.writer(buffer.clone());
    for n in 0..12 {
        tokio::time::timeout(PROMPT, buffer.push(env.record(n)))
            .await
            .expect("push does not wait on Redis")
            .expect("push");
    }
    // Records in a send that fails are counted once that send has failed.
    eventually("seven results are counted as dropped", LONG, || async {
        env.metrics
            .encode()
            .contains("tocsin_results_dropped_total 7")
    })
    .await;
    assert_eq!(buffer.health().held_locally, 5);

    proxy.restore().await;
    eventually("the newest five are stored", LONG, || async {
        env.stored().await == times(7..12)
    })
    .await;
    buffer.close();
    tokio::time::timeout(LONG, writer)
        .await
        .expect("stops")
        .expect("ran");
    assert_eq!(env.stored().await, times(7..12));
}
