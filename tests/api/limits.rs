//! Connection limits: slow request heads and idle connections are closed, and no more
//! than `max_connections` are served at once.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::spawn_with;

/// Waits until the server closes `stream` (a read of 0 bytes or an error), up to `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(started + limit),
            stream.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn a_head_trickled_a_line_at_a_time_is_cut_off() {
    let app = spawn_with(|s| {
        s.header_read_timeout = Duration::from_secs(1);
        s.idle_timeout = Duration::from_secs(30);
    })
    .await;
    let mut stream = TcpStream::connect(app.addr).await.expect("connects");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("writes");
    let trickle = async {
        for i in 0..20 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if stream
                .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    };
    let started = Instant::now();
    trickle.await;
    let closed = closed_within(&mut stream, Duration::from_secs(5)).await;
    let total = started.elapsed();
    assert!(closed.is_some(), "still open after {total:?}");
    assert!(total < Duration::from_secs(5), "closed after {total:?}");
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_a_busy_one_is_not() {
    let app = spawn_with(|s| {
        s.header_read_timeout = Duration::from_secs(30);
        s.idle_timeout = Duration::from_secs(1);
    })
    .await;
    // Silent from the start.
    let mut silent = TcpStream::connect(app.addr).await.expect("connects");
    let closed = closed_within(&mut silent, Duration::from_secs(5)).await;
    assert!(
        closed.is_some_and(|after| after >= Duration::from_millis(900)),
        "{closed:?}"
    );

    // Kept alive after a request, then silent.
    let mut kept = TcpStream::connect(app.addr).await.expect("connects");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("writes");
    let mut buf = [0u8; 1024];
    let n = kept.read(&mut buf).await.expect("answer");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert!(
        closed_within(&mut kept, Duration::from_secs(5))
            .await
            .is_some()
    );

    // Requests more often than the idle timeout keep a connection open.
    let mut busy = TcpStream::connect(app.addr).await.expect("connects");
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        busy.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("still open");
        let n = busy.read(&mut buf).await.expect("answer");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    }
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_one_to_close() {
    let app = spawn_with(|s| {
        s.max_connections = 2;
        s.idle_timeout = Duration::from_secs(30);
    })
    .await;
    let first = TcpStream::connect(app.addr).await.expect("connects");
    let _second = TcpStream::connect(app.addr).await.expect("connects");
    let health = || async {
        reqwest::Client::new()
            .get(app.url("/healthz"))
            .timeout(Duration::from_millis(500))
            .send()
            .await
    };
    // Give the server a moment to take both.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(health().await.is_err(), "a third connection is not served");
    drop(first);
    let answered = health().await.expect("served once one closed");
    assert!(answered.status().is_success());
}
