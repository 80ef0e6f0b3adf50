//! A local HTTP(S) server the probe checks: real sockets, counting what reaches it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = BoxBody<Bytes, BoxError>;

/// What the server has seen, shared with its connection tasks.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    requests: Mutex<HashMap<String, usize>>,
}

/// A running target server; it stops with the test's runtime.
pub struct Target {
    /// Where it listens.
    pub addr: SocketAddr,
    seen: Arc<Seen>,
}

/// The TLS identity of an HTTPS target.
pub struct Identity {
    /// The self-signed certificate, to be trusted through `extra_roots`.
    pub cert: CertificateDer<'static>,
    /// Its notAfter.
    pub not_after: DateTime<Utc>,
    /// Accepts TLS connections with this identity.
    pub acceptor: TlsAcceptor,
}

impl Target {
    /// A plain HTTP server on 127.0.0.1.
    pub async fn http() -> Self {
        Self::start("127.0.0.1", None).await
    }

    /// A plain HTTP server on `ip` (e.g. 127.0.0.2).
    pub async fn http_on(ip: &str) -> Self {
        Self::start(ip, None).await
    }

    /// An HTTPS server on 127.0.0.1 with a certificate for `localhost` and `127.0.0.1`.
    pub async fn https() -> (Self, Identity) {
        let identity = identity();
        let target = Self::start("127.0.0.1", Some(identity.acceptor.clone())).await;
        (target, identity)
    }

    /// An HTTPS server on 127.0.0.1 presenting `identity`.
    pub async fn https_with(identity: &Identity) -> Self {
        Self::start("127.0.0.1", Some(identity.acceptor.clone())).await
    }

    async fn start(ip: &str, tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind((ip, 0)).await.expect("bind target");
        let addr = listener.local_addr().expect("target address");
        let seen = Arc::new(Seen::default());
        let shared = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let seen = Arc::clone(&shared);
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&seen), req));
                    let builder = hyper::server::conn::http1::Builder::new();
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = builder
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        Self { addr, seen }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `https://ADDR{path}`.
    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.seen.connections.load(Ordering::SeqCst)
    }

    /// Requests seen on paths starting with `prefix`.
    pub fn requests(&self, prefix: &str) -> usize {
        let requests = self.seen.requests.lock().expect("counts");
        requests
            .iter()
            .filter(|(path, _)| path.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }
}

/// A self-signed identity for `localhost` and `127.0.0.1`, valid until 2040-06-15.
pub fn identity() -> Identity {
    Identity::self_signed(&["localhost", "127.0.0.1"], 2040)
}

impl Identity {
    /// A self-signed certificate for `names`, valid until June `until_year`.
    pub fn self_signed(names: &[&str], until_year: i32) -> Self {
        let params = params(names, until_year);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("self-signed cert");
        Self::serving(&params, cert.der().clone(), &key)
    }

    /// A certificate for `names`, valid until June `until_year`, issued by a new private
    /// authority, whose PEM is returned too.
    pub fn from_private_ca(names: &[&str], until_year: i32) -> (Self, String) {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "tocsin test CA");
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let params = params(names, until_year);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &issuer).expect("issued cert");
        (
            Self::serving(&params, cert.der().clone(), &key),
            ca_cert.pem(),
        )
    }

    fn serving(
        params: &rcgen::CertificateParams,
        der: CertificateDer<'static>,
        key: &rcgen::KeyPair,
    ) -> Self {
        let not_after =
            DateTime::from_timestamp(params.not_after.unix_timestamp(), 0).expect("not_after");
        build_identity(der, not_after, key)
    }
}

fn params(names: &[&str], until_year: i32) -> rcgen::CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names).expect("cert params");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(until_year, 6, 15);
    params
}

fn build_identity(
    der: CertificateDer<'static>,
    not_after: DateTime<Utc>,
    key: &rcgen::KeyPair,
) -> Identity {
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocols")
    .with_no_client_auth()
    .with_single_cert(vec![der.clone()], private)
    .expect("server config");
    Identity {
        cert: der,
        not_after,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    }
}

async fn handle(seen: Arc<Seen>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_owned();
    *seen
        .requests
        .lock()
        .expect("counts")
        .entry(path.clone())
        .or_default() += 1;
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let response = match segments.as_slice() {
        ["ok"] => text(200, "hello tocsin"),
        ["json"] => text(
            200,
            r#"{"status": "UP", "data": [{"id": 1, "name": "db"}], "items": [1, 2, 3], "errors": null}"#,
        ),
        ["status", code] => text(code.parse().unwrap_or(400), "status"),
        ["slow", ms] => {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
            text(200, "slow")
        }
        ["redirect", n] => match n.parse::<u32>() {
            Ok(0) => text(200, "redirected"),
            Ok(n) => redirect(302, &format!("/redirect/{}", n - 1)),
            Err(_) => text(400, "bad count"),
        },
        ["to"] => {
            let query = req.uri().query().unwrap_or_default();
            let to = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("url="))
                .unwrap_or_default();
            let code = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("code="))
                .and_then(|c| c.parse().ok())
                .unwrap_or(302);
            redirect(code, to)
        }
        ["cut"] => cut(),
        ["big", bytes] => {
            // Filler, then a marker the probe can only see if it reads past `bytes`.
            let filler = "a".repeat(bytes.parse().unwrap_or(0));
            text(200, &format!("{filler}END"))
        }
        ["headers"] => {
            let get = |name: &str| {
                req.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_owned()
            };
            text(
                200,
                &format!(
                    "host={} ua={} accept={} connection={} encoding={} length={}",
                    get("host"),
                    get("user-agent"),
                    get("accept"),
                    get("connection"),
                    get("accept-encoding"),
                    get("content-length"),
                ),
            )
        }
        ["echo"] => echo(req).await,
        _ => text(404, "not found"),
    };
    Ok(response)
}

fn text(code: u16, body: &str) -> Response<Body> {
    let mut response = Response::new(full(body.to_owned()));
    *response.status_mut() = hyper::StatusCode::from_u16(code).expect("status code");
    response
}

fn redirect(code: u16, location: &str) -> Response<Body> {
    let mut response = text(code, "");
    response.headers_mut().insert(
        hyper::header::LOCATION,
        location.parse().expect("location header"),
    );
    response
}

/// Promises 1000 bytes, sends 10 and then fails, so hyper drops the connection mid-body;
/// the pause lets hyper flush the head and the 10 bytes before the error.
fn cut() -> Response<Body> {
    use futures_util::StreamExt;
    let first: Result<Frame<Bytes>, BoxError> = Ok(Frame::data(Bytes::from_static(b"0123456789")));
    let failure = futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err::<Frame<Bytes>, BoxError>("cut short on purpose".into())
    });
    let body = StreamBody::new(futures_util::stream::iter([first]).chain(failure));
    let mut response = Response::new(BodyExt::boxed(body));
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_LENGTH, 1000.into());
    response
}

/// Echoes `METHOD x-probe=VALUE auth=BOOL others=NAMES body=BODY`, where NAMES are the
/// request's headers other than the probe's own and those two, comma-separated.
async fn echo(req: Request<Incoming>) -> Response<Body> {
    let method = req.method().to_string();
    let header = req
        .headers()
        .get("x-probe")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let auth = req.headers().contains_key("authorization");
    let own = [
        "host",
        "user-agent",
        "accept",
        "connection",
        "content-length",
        "x-probe",
        "authorization",
    ];
    let others: Vec<&str> = req
        .headers()
        .keys()
        .map(|name| name.as_str())
        .filter(|name| !own.contains(name))
        .collect();
    let others = others.join(",");
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let body = String::from_utf8_lossy(&body.unwrap_or_default()).into_owned();
    text(
        200,
        &format!("{method} x-probe={header} auth={auth} others={others} body={body}"),
    )
}

fn full(body: String) -> Body {
    Full::new(Bytes::from(body))
        .map_err(|never| match never {})
        .boxed()
}
