//! A small HTTP/1.1 client for the commands that drive a tocsin server (`apply`,
//! `export`): one request per connection, `https` through rustls with the web's roots,
//! bounded in time, the API key sent as a bearer credential.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use url::Url;

/// The most one request may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The largest answer read (an export of many monitors fits).
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The server URL is not an `http(s)://host[:port]` URL.
    #[error("--server / TOCSIN_SERVER: {0}")]
    BadServer(String),
    /// The connection or the exchange failed.
    #[error("{server}: {message}")]
    Failed {
        /// The server asked.
        server: String,
        /// What went wrong.
        message: String,
    },
}

/// A server and the key to use with it.
pub struct Remote {
    base: Url,
    key: Option<String>,
}

/// An answer: its status, content type and body.
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The body, as text.
    pub body: String,
}

impl Remote {
    /// The server at `server` (`http(s)://host[:port]`), sending `key` if given.
    pub fn new(server: &str, key: Option<String>) -> Result<Self, RemoteError> {
        let base =
            Url::parse(server).map_err(|e| RemoteError::BadServer(format!("{server}: {e}")))?;
        if !["http", "https"].contains(&base.scheme()) || base.host_str().is_none() {
            return Err(RemoteError::BadServer(format!(
                "{server}: must be an http:// or https:// URL with a host"
            )));
        }
        Ok(Self { base, key })
    }

    /// Sends `method path` with an optional JSON `body` and the `accept` header.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        accept: &str,
    ) -> Result<Answer, RemoteError> {
        let failed = |message: String| RemoteError::Failed {
            server: self.base.as_str().trim_end_matches('/').to_owned(),
            message,
        };
        tokio::time::timeout(TIMEOUT, self.exchange(method, path, body, accept))
            .await
            .map_err(|_| failed(format!("no answer within {} s", TIMEOUT.as_secs())))?
            .map_err(failed)
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        accept: &str,
    ) -> Result<Answer, String> {
        let url = self.base.join(path).map_err(|e| e.to_string())?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let tcp = TcpStream::connect((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let mut request = Request::builder()
            .method(method)
            .uri(&url[url::Position::BeforePath..])
            .header(
                header::HOST,
                &url[url::Position::BeforeHost..url::Position::AfterPort],
            )
            .header(header::ACCEPT, accept)
            .header(
                header::USER_AGENT,
                concat!("tocsin/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(key) = &self.key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| e.to_string())?;
        if url.scheme() == "https" {
            let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                .map_err(|e| e.to_string())?;
            let tls = tokio_rustls::TlsConnector::from(tls_config()?)
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS: {e}"))?;
            round_trip(TokioIo::new(tls), request).await
        } else {
            round_trip(TokioIo::new(tcp), request).await
        }
    }
}

async fn round_trip<IO>(io: IO, request: Request<Full<Bytes>>) -> Result<Answer, String>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl Answer {
    /// The `{"error": {"code", "message"}}` of an error answer, as one line.
    pub fn error_message(&self) -> String {
        let parsed: Option<serde_json::Value> = serde_json::from_str(&self.body).ok();
        match parsed.as_ref().and_then(|v| v.get("error")) {
            Some(error) => format!(
                "{} ({}): {}",
                self.status.as_u16(),
                error["code"].as_str().unwrap_or("error"),
                error["message"].as_str().unwrap_or_default()
            ),
            None => format!("{}: {}", self.status, self.body.trim()),
        }
    }
}
