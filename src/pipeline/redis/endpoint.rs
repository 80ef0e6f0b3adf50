//! Where the buffer's Redis is: the one server the URL names, or the master Redis Sentinel
//! names now. With Sentinel the answer changes on a failover, so the link asks again
//! whenever its connection breaks or the server it reaches turned into a replica.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, ConnectionInfo, IntoConnectionInfo,
    RedisConnectionInfo, RedisResult, TlsCertificates,
};

use crate::config::{RedisTarget, RedisUrl, SentinelUrl};
use crate::pipeline::PipelineError;

/// One server, or the Sentinels that know which server is the master.
pub(super) enum Endpoint {
    /// A fixed server.
    Server(Client),
    /// Ask the Sentinels.
    Sentinel(Sentinels),
}

/// The Sentinels of one master, and how to reach the master once named.
pub(super) struct Sentinels {
    sentinels: Vec<Client>,
    master: String,
    node: RedisConnectionInfo,
    tls: bool,
    ca: Option<Vec<u8>>,
    /// The Sentinel that answered last, asked first next time.
    next: AtomicUsize,
    timeout: Duration,
}

fn client(info: ConnectionInfo, ca: Option<&[u8]>) -> RedisResult<Client> {
    match ca {
        Some(ca) => Client::build_with_tls(
            info,
            TlsCertificates {
                client_tls: None,
                root_cert: Some(ca.to_vec()),
            },
        ),
        None => Client::open(info),
    }
}

fn address(host: &str, port: u16, tls: bool) -> ConnectionAddr {
    if tls {
        ConnectionAddr::TcpTls {
            host: host.to_owned(),
            port,
            insecure: false,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(host.to_owned(), port)
    }
}

impl Endpoint {
    /// The endpoint for `url`, trusting `ca` (PEM) instead of the public roots for TLS.
    pub fn new(
        url: &RedisUrl,
        ca: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Self, PipelineError> {
        let invalid = |e: redis::RedisError| {
            PipelineError::Backend(format!("Redis URL {url}: {}", e.category()))
        };
        match url.target() {
            RedisTarget::Server => {
                let info = url.expose().into_connection_info().map_err(invalid)?;
                let ca = ca.as_deref().filter(|_| url.tls());
                Ok(Self::Server(client(info, ca).map_err(invalid)?))
            }
            RedisTarget::Sentinel(sentinel) => Ok(Self::Sentinel(
                Sentinels::new(sentinel, ca, timeout).map_err(invalid)?,
            )),
        }
    }

    /// Whether the server behind this endpoint can change (a Sentinel failover).
    pub fn follows_failover(&self) -> bool {
        matches!(self, Self::Sentinel(_))
    }

    /// A client for the server to use now, and where that is (for logs).
    pub async fn current(&self) -> RedisResult<(Client, String)> {
        match self {
            Self::Server(client) => Ok((client.clone(), "the configured server".to_owned())),
            Self::Sentinel(sentinels) => sentinels.master().await,
        }
    }
}

impl Sentinels {
    fn new(url: &SentinelUrl, ca: Option<Vec<u8>>, timeout: Duration) -> RedisResult<Self> {
        let ca = ca.filter(|_| url.tls);
        let mut auth = RedisConnectionInfo::default();
        if let Some(password) = &url.sentinel_password {
            auth = auth.set_password(password);
        }
        let sentinels = url
            .sentinels
            .iter()
            .map(|(host, port)| {
                let info = address(host, *port, url.tls)
                    .into_connection_info()?
                    .set_redis_settings(auth.clone());
                client(info, ca.as_deref())
            })
            .collect::<RedisResult<Vec<_>>>()?;
        let mut node = RedisConnectionInfo::default().set_db(url.db);
        if let Some(username) = &url.username {
            node = node.set_username(username);
        }
        if let Some(password) = &url.password {
            node = node.set_password(password);
        }
        Ok(Self {
            sentinels,
            master: url.master.clone(),
            node,
            tls: url.tls,
            ca,
            next: AtomicUsize::new(0),
            timeout,
        })
    }

    /// Asks the Sentinels in turn, from the one that answered last, for the master's address.
    async fn master(&self) -> RedisResult<(Client, String)> {
        let count = self.sentinels.len();
        let first = self.next.load(Ordering::Relaxed);
        let mut last_error = None;
        for n in 0..count {
            let index = (first + n) % count;
            match self.ask(&self.sentinels[index]).await {
                Ok(Some((host, port))) => {
                    self.next.store(index, Ordering::Relaxed);
                    let info = address(&host, port, self.tls)
                        .into_connection_info()?
                        .set_redis_settings(self.node.clone());
                    return Ok((client(info, self.ca.as_deref())?, format!("{host}:{port}")));
                }
                Ok(None) => {
                    last_error = Some(format!("a Sentinel does not know `{}`", self.master))
                }
                Err(error) => last_error = Some(error.to_string()),
            }
        }
        // A transport error for the link: no master to write to is Redis being away.
        Err(std::io::Error::other(format!(
            "no Sentinel named the master `{}`: {}",
            self.master,
            last_error.unwrap_or_else(|| "no Sentinel configured".into())
        ))
        .into())
    }

    async fn ask(&self, sentinel: &Client) -> RedisResult<Option<(String, u16)>> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let mut conn = sentinel
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(&self.master)
            .query_async(&mut conn)
            .await
    }
}
