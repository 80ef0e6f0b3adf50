//! A TCP proxy in front of a real server that a test can cut and restore, so "the database
//! (or Redis) went away and came back" happens to the real server's clients without stopping
//! the server other tests share.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Mutex;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Forwards connections on its own port to `upstream` while up.
pub struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    accepting: Mutex<Option<JoinHandle<()>>>,
    generation: watch::Sender<u64>,
}

impl Proxy {
    /// Starts forwarding from a free loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("addr");
        let (generation, _) = watch::channel(0);
        let proxy = Self {
            addr,
            upstream,
            accepting: Mutex::new(None),
            generation,
        };
        proxy.serve(listener);
        proxy
    }

    /// Starts a proxy in front of the server a `postgres://` or `redis://` URL names, and
    /// returns it with that URL pointed through it.
    pub async fn in_front_of(url: &str) -> (Self, String) {
        let mut url = url::Url::parse(url).expect("a URL");
        let default_port = if url.scheme().starts_with("redis") {
            6379
        } else {
            5432
        };
        let host = url.host_str().expect("a host").to_owned();
        let port = url.port().unwrap_or(default_port);
        let upstream = tokio::net::lookup_host((host.as_str(), port))
            .await
            .expect("resolves")
            .next()
            .expect("an address");
        let proxy = Self::start(upstream).await;
        let through = proxy.addr();
        url.set_host(Some(&through.ip().to_string())).expect("host");
        url.set_port(Some(through.port())).expect("port");
        (proxy, url.to_string())
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every forwarded connection and refuses new ones, as a stopped server would.
    pub fn cut(&self) {
        if let Some(task) = self.accepting.lock().expect("lock").take() {
            task.abort();
        }
        self.generation.send_modify(|g| *g += 1);
    }

    /// Listens again on the same port.
    pub async fn restore(&self) {
        // The aborted task may take a moment to drop its listener and free the port.
        for _ in 0..100 {
            if let Ok(listener) = TcpListener::bind(self.addr).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("cannot listen on {} again", self.addr);
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream;
        let generation = self.generation.subscribe();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut cut = generation.clone();
                cut.mark_unchanged();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        *self.accepting.lock().expect("lock") = Some(task);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}
