//! The HTTP/1.1 server in front of the router, with the limits `axum::serve` does not
//! offer: a client has [`Limits::header_read_timeout`] to send a request head (so one
//! trickling a header line every few seconds is cut off), a kept-alive connection may sit
//! idle [`Limits::idle_timeout`], and at most [`Limits::max_connections`] are open at once
//! (more wait in the kernel's backlog), so idle or slow clients cannot hold every descriptor.
//!
//! hyper's own header timer also runs while a kept-alive connection waits for its next
//! request, which would make the idle timeout the header timeout; so both are kept here,
//! from what the connection reads and what the router is doing.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::Service as _;

/// What a client may hold of the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From the first byte of a request to the end of its head.
    pub header_read_timeout: Duration,
    /// Between requests on a kept-alive connection (or while nothing moves either way).
    pub idle_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets
/// each connection finish the request it is serving (closing those serving none), and
/// returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, or a connection reset before it was accepted:
                    // neither ends the server, and a pause lets descriptors come back.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            remote,
            router.clone(),
            limits,
            stopping.clone(),
            permit,
        ));
    }
    drop(listener);
    stop.send_replace(true);
    // Each connection holds a permit until it closes.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}

/// Serves one connection until it closes, times out, or the server stops.
async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: Arc::clone(&activity),
    });
    let in_service = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let mut router = router.clone();
        let activity = Arc::clone(&in_service);
        activity.set(BUSY);
        request.extensions_mut().insert(ConnectInfo(remote));
        async move {
            // A router is always ready: no `poll_ready` needed.
            let response = router.call(request.map(Body::new)).await;
            activity.touch();
            activity.set(IDLE);
            response
        }
    });
    let mut builder = http1::Builder::new();
    builder.keep_alive(true).header_read_timeout(None);
    let mut conn = pin!(builder.serve_connection(io, service));
    let mut draining = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, %remote, "connection ended with an error");
                }
                return;
            }
            _ = stopping.wait_for(|stop| *stop), if !draining => {
                // A stop waits for the request being served, not for one still arriving
                // nor for the next one on an idle connection: those are closed now, or a
                // client could hold the stop for as long as it likes.
                if activity.state.load(Ordering::Relaxed) != BUSY {
                    return;
                }
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
            reason = activity.expired(limits) => {
                // Dropping the connection closes the socket.
                tracing::debug!(%remote, reason, "closing a connection");
                return;
            }
        }
    }
}

const IDLE: u8 = 0;
const HEAD: u8 = 1;
const BUSY: u8 = 2;

/// Where one connection is: idle, reading a request head (since when), or serving.
struct Activity {
    base: Instant,
    state: AtomicU8,
    /// Milliseconds after `base`: the last byte read or written.
    last: AtomicU64,
    /// Milliseconds after `base`: the first byte of the head being read.
    head_started: AtomicU64,
    /// Wakes the watcher when a head starts, whose deadline is nearer than idleness's.
    head: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            state: AtomicU8::new(IDLE),
            last: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
            head: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn touch(&self) {
        self.last.store(self.now(), Ordering::Relaxed);
    }

    fn set(&self, state: u8) {
        self.state.store(state, Ordering::Relaxed);
    }

    /// Bytes came in: on an idle connection they start a request head.
    fn read(&self) {
        let now = self.now();
        self.last.store(now, Ordering::Relaxed);
        if self
            .state
            .compare_exchange(IDLE, HEAD, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.head_started.store(now, Ordering::Relaxed);
            self.head.notify_one();
        }
    }

    /// Completes with the reason once a limit has passed; never while a request is served
    /// (handlers bound their own work).
    async fn expired(&self, limits: Limits) -> &'static str {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        loop {
            let (deadline, reason) = match self.state.load(Ordering::Relaxed) {
                HEAD => (
                    self.head_started
                        .load(Ordering::Relaxed)
                        .saturating_add(millis(limits.header_read_timeout)),
                    "the request head took too long",
                ),
                IDLE => (
                    self.last
                        .load(Ordering::Relaxed)
                        .saturating_add(millis(limits.idle_timeout)),
                    "idle",
                ),
                _ => (self.now().saturating_add(millis(limits.idle_timeout)), ""),
            };
            if self.now() >= deadline && !reason.is_empty() {
                return reason;
            }
            let at = self.base + Duration::from_millis(deadline);
            tokio::select! {
                () = tokio::time::sleep_until(at) => {}
                () = self.head.notified() => {}
            }
        }
    }
}

/// The connection's socket, noting every byte read or written in its [`Activity`].
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
