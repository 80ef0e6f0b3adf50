//! The TLS client: rustls configuration, the handshake, the peer certificate's expiry, and
//! certificate failures said in words ("self-signed certificate", "expired on …", "name
//! mismatch: certificate is for …") instead of rustls' enum names.
//!
//! Certificates are checked by webpki as usual, through [`Worded`], which only rewords a
//! refusal; with a monitor's `tls_skip_verify` it accepts any certificate (the handshake's
//! signatures are still checked, and the expiry is still recorded), and with its
//! `tls_ca_pem` the monitor's own authorities are trusted besides the web's.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error, InvalidMessage, RootCertStore,
    SignatureScheme,
};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use url::{Host, Url};
use x509_parser::prelude::{GeneralName, X509Certificate};

use super::add;
use crate::check::{Failure, FailureKind, Phases};

/// A client configuration, or why none could be made (a failure of every check using it,
/// not of the service).
pub(super) type Config = Result<Arc<ClientConfig>, String>;

/// The configuration for web roots plus `extra_roots` and `pem` (a monitor's authorities);
/// with `skip_verify`, one that accepts any certificate. ALPN is HTTP/1.1 only, the one
/// protocol the probe speaks.
pub(super) fn client_config(
    extra_roots: &[CertificateDer<'static>],
    pem: Option<&str>,
    skip_verify: bool,
) -> Config {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for (i, root) in extra_roots.iter().enumerate() {
        roots
            .add(root.clone())
            .map_err(|e| format!("extra root certificate #{} is unusable: {e}", i + 1))?;
    }
    if let Some(pem) = pem {
        for (i, cert) in CertificateDer::pem_slice_iter(pem.as_bytes()).enumerate() {
            let cert = cert.map_err(|e| format!("tls_ca_pem certificate #{}: {e}", i + 1))?;
            roots
                .add(cert)
                .map_err(|e| format!("tls_ca_pem certificate #{} is unusable: {e}", i + 1))?;
        }
    }
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("TLS is unavailable: {e}"))?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS is unavailable: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Worded { inner, skip_verify }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// webpki's verdict on the certificate, reworded; or none at all with `skip_verify`.
#[derive(Debug)]
struct Worded {
    inner: Arc<WebPkiServerVerifier>,
    skip_verify: bool,
}

impl ServerCertVerifier for Worded {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if self.skip_verify {
            return Ok(ServerCertVerified::assertion());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|error| Error::General(in_words(&error, end_entity)))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A certificate refusal as a person would say it, from the error and the certificate.
fn in_words(error: &Error, end_entity: &CertificateDer<'_>) -> String {
    let parsed = x509_parser::parse_x509_certificate(end_entity.as_ref()).ok();
    let cert = parsed.as_ref().map(|(_, cert)| cert);
    let day = |time: x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(time.timestamp(), 0).map_or_else(
            || time.to_string(),
            |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
    };
    let Error::InvalidCertificate(error) = error else {
        return error.to_string();
    };
    match (error, cert) {
        (CertificateError::Expired | CertificateError::ExpiredContext { .. }, Some(cert)) => {
            format!("certificate expired on {}", day(cert.validity().not_after))
        }
        (
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
            Some(cert),
        ) => {
            format!(
                "certificate not valid before {}",
                day(cert.validity().not_before)
            )
        }
        (
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            Some(cert),
        ) => format!("name mismatch: certificate is for {}", names(cert)),
        (CertificateError::UnknownIssuer | CertificateError::Other(_), Some(cert))
            if cert.subject() == cert.issuer() =>
        {
            "self-signed certificate".to_owned()
        }
        (CertificateError::UnknownIssuer, Some(cert)) => format!(
            "certificate signed by an unknown authority ({})",
            cert.issuer()
        ),
        (CertificateError::Revoked, _) => "certificate revoked".to_owned(),
        (CertificateError::BadSignature, _) => "certificate has a bad signature".to_owned(),
        (other, _) => format!("invalid certificate ({other:?})"),
    }
}

/// The names a certificate is for: its DNS names and addresses, else its subject.
fn names(cert: &X509Certificate<'_>) -> String {
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).ok().map(std::net::IpAddr::from),
                        16 => <[u8; 16]>::try_from(*bytes)
                            .ok()
                            .map(std::net::IpAddr::from),
                        _ => None,
                    };
                    names.extend(ip.map(|ip| ip.to_string()));
                }
                _ => {}
            }
        }
    }
    if names.is_empty() {
        return cert.subject().to_string();
    }
    names.join(", ")
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
    config: &Config,
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
    config: &Config,
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
    let stream = result.map_err(|e| {
        tls_failure(format!(
            "TLS handshake with {host} failed: {}.",
            described(&e)
        ))
    })?;
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
pub(super) fn without_alpn(config: &Config) -> Config {
    let mut plain = ClientConfig::clone(config.as_ref().map_err(Clone::clone)?);
    plain.alpn_protocols.clear();
    Ok(Arc::new(plain))
}

/// The handshake's failure: our own words for a certificate, a plain-HTTP answer said as
/// such, else rustls' or the socket's text.
fn described(error: &std::io::Error) -> String {
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Error>())
    {
        Some(Error::General(words)) => words.clone(),
        // A record that does not start like TLS: "HTTP/1.1 400" read as a record header.
        Some(Error::InvalidMessage(InvalidMessage::InvalidContentType)) => {
            "the server answered plain HTTP on a TLS port".to_owned()
        }
        Some(other) => other.to_string(),
        None => error.to_string(),
    }
}

/// The certificate's notAfter; `None` if it does not parse.
fn not_after(der: &CertificateDer<'_>) -> Option<DateTime<Utc>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
}
