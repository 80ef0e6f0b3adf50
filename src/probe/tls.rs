//! The TLS client: rustls configuration, the handshake and the peer certificate's expiry.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use url::{Host, Url};

use super::add;
use crate::check::{Failure, FailureKind, Phases};

/// Builds the client configuration once per probe: web roots plus `extra_roots`, ring only,
/// and ALPN limited to HTTP/1.1 since that is the only protocol the probe speaks.
pub(super) fn client_config(
    extra_roots: &[CertificateDer<'static>],
) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for (i, root) in extra_roots.iter().enumerate() {
        roots
            .add(root.clone())
            .map_err(|e| format!("extra root certificate #{} is unusable: {e}", i + 1))?;
    }
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS is unavailable: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A finished handshake and when the peer's leaf certificate expires.
pub(super) struct Secured {
    /// The encrypted stream.
    pub stream: TlsStream<TcpStream>,
    /// The leaf certificate's notAfter, if it could be read.
    pub cert_expires_at: Option<DateTime<Utc>>,
}

/// Runs the handshake with SNI set to `url`'s host (an IP server name for a literal address).
pub(super) async fn handshake(
    config: &Result<Arc<ClientConfig>, String>,
    url: &Url,
    tcp: TcpStream,
    phases: &mut Phases,
) -> Result<Secured, Failure> {
    match url.host() {
        Some(host) => handshake_with(config, &host, tcp, phases).await,
        None => Err(Failure::new(
            FailureKind::Tls,
            format!("The URL {url} has no host."),
        )),
    }
}

/// [`handshake`] with `host` as the server name: what a `tls://` check and an https hop share.
pub(super) async fn handshake_with(
    config: &Result<Arc<ClientConfig>, String>,
    host: &Host<&str>,
    tcp: TcpStream,
    phases: &mut Phases,
) -> Result<Secured, Failure> {
    let tls_failure = |message: String| Failure::new(FailureKind::Tls, message);
    let config = config.as_ref().map_err(|e| tls_failure(format!("{e}.")))?;
    let name = match *host {
        Host::Ipv4(ip) => ServerName::from(std::net::IpAddr::V4(ip)),
        Host::Ipv6(ip) => ServerName::from(std::net::IpAddr::V6(ip)),
        Host::Domain(name) => ServerName::try_from(name.to_owned())
            .map_err(|e| tls_failure(format!("{name} is not a valid TLS server name: {e}.")))?,
    };
    let shown = host.to_string();
    let host = shown.trim_matches(['[', ']']);
    let started = Instant::now();
    let result = TlsConnector::from(Arc::clone(config))
        .connect(name, tcp)
        .await;
    add(&mut phases.tls, started.elapsed());
    let stream =
        result.map_err(|e| tls_failure(format!("TLS handshake with {host} failed: {e}.")))?;
    let cert_expires_at = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|leaf| not_after(leaf));
    Ok(Secured {
        stream,
        cert_expires_at,
    })
}

/// The same configuration without ALPN, for `tls://` checks: the probe speaks no protocol
/// over them, and a server that knows no `http/1.1` may refuse the handshake for it.
pub(super) fn without_alpn(
    config: &Result<Arc<ClientConfig>, String>,
) -> Result<Arc<ClientConfig>, String> {
    let mut plain = ClientConfig::clone(config.as_ref().map_err(Clone::clone)?);
    plain.alpn_protocols.clear();
    Ok(Arc::new(plain))
}

/// The certificate's notAfter; `None` if it does not parse (rustls accepted it, so rare).
fn not_after(der: &CertificateDer<'_>) -> Option<DateTime<Utc>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
}
