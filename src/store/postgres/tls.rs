//! TLS to PostgreSQL through rustls with the ring provider (the one provider in the build):
//! the client configuration libpq's `sslmode`, `sslrootcert`, `sslcert` and `sslkey` ask for,
//! and the adapter tokio-postgres connects through. A refused handshake is explained in words
//! (wrong host name, unknown CA, expired), since that is what the operator must fix.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

use crate::config::{PostgresTls, RootCerts, SslMode};
use crate::store::StoreError;

/// Makes a TLS session per connection; cheap to clone (the configuration is shared).
#[derive(Clone)]
pub(super) struct Connector {
    config: Arc<ClientConfig>,
    mode: SslMode,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Connector(sslmode={})", self.mode.name())
    }
}

impl Connector {
    /// The connector for `tls`, reading its certificate files now so a missing or unreadable
    /// one stops the start with its name.
    pub fn new(tls: &PostgresTls) -> Result<Self, StoreError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(format!("TLS is unavailable: {e}")))?;
        let verifier = verifier(tls, &provider)?;
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match (&tls.client_cert, &tls.client_key) {
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(certificates(cert, "sslcert")?, private_key(key)?)
                .map_err(|e| invalid(format!("sslcert and sslkey do not go together: {e}")))?,
            _ => builder.with_no_client_auth(),
        };
        // PostgreSQL 17 asks for its ALPN name on direct TLS; older servers ignore it.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            mode: tls.mode,
        })
    }
}

fn invalid(message: String) -> StoreError {
    StoreError::Unavailable(format!("PostgreSQL TLS settings: {message}"))
}

/// The verifier the mode asks for: full (chain and host name), chain only, or none.
fn verifier(
    tls: &PostgresTls,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, StoreError> {
    let algorithms = provider.signature_verification_algorithms;
    if !tls.verifies_chain() {
        return Ok(Arc::new(Unverified { algorithms }));
    }
    let mut roots = RootCertStore::empty();
    match &tls.root_certs {
        Some(RootCerts::File(path)) => {
            for cert in certificates(path, "sslrootcert")? {
                roots.add(cert).map_err(|e| {
                    invalid(format!("sslrootcert {}: unusable CA: {e}", path.display()))
                })?;
            }
        }
        Some(RootCerts::System) | None => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
    }
    let full = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| invalid(format!("sslrootcert: {e}")))?;
    if tls.mode == SslMode::VerifyFull {
        Ok(full)
    } else {
        Ok(Arc::new(ChainOnly { full }))
    }
}

/// Every certificate in the PEM file at `path`.
fn certificates(path: &Path, key: &str) -> Result<Vec<CertificateDer<'static>>, StoreError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| invalid(format!("{key} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(invalid(format!(
            "{key} {}: holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, StoreError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        invalid(format!(
            "sslkey {}: no usable private key: {e}",
            path.display()
        ))
    })
}

/// `require` and `prefer` without `sslrootcert`: encryption without checking who answers,
/// as libpq does. The handshake's signatures are still verified.
#[derive(Debug)]
struct Unverified {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the host name is not compared.
#[derive(Debug)]
struct ChainOnly {
    full: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.full.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.full.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.full.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.full.supported_verify_schemes()
    }
}

/// Why a TLS session could not be set up, in the words an operator needs.
#[derive(Debug, thiserror::Error)]
pub(super) enum TlsError {
    /// The URL's host is no name a certificate can be checked against.
    #[error("`{0}` is not a host name or address TLS can verify")]
    BadHost(String),
    /// The handshake failed.
    #[error("{0}")]
    Handshake(String),
}

/// The handshake's failure for `host`, said plainly for the certificate problems an
/// operator meets (and the mode that made them fatal).
fn explain(error: io::Error, host: &str, mode: SslMode) -> TlsError {
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let message = match rustls_error {
        Some(rustls::Error::InvalidCertificate(certificate)) => match certificate {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the server's certificate is not valid for host name `{host}` \
                 (sslmode={} checks the name; {certificate})",
                    mode.name()
                )
            }
            CertificateError::UnknownIssuer => format!(
                "the server's certificate is signed by an unknown certificate authority: \
                 none of the CAs in sslrootcert (sslmode={})",
                mode.name()
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("the server's certificate has expired ({certificate})")
            }
            other => format!("the server's certificate was refused: {other}"),
        },
        Some(rustls::Error::AlertReceived(alert)) => format!(
            "the server refused the TLS session ({alert:?}); if it asks for a client \
             certificate, set sslcert and sslkey"
        ),
        Some(other) => format!("TLS handshake with `{host}` failed: {other}"),
        None => format!("TLS handshake with `{host}` failed: {error}"),
    };
    TlsError::Handshake(message)
}

impl<S> MakeTlsConnect<S> for Connector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Tls<S>;
    type TlsConnect = Connect;
    type Error = TlsError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Connect, TlsError> {
        // A Unix socket comes with no name; tokio-postgres never asks it for TLS.
        let name = if domain.is_empty() {
            None
        } else {
            Some(
                ServerName::try_from(domain.to_owned())
                    .map_err(|_| TlsError::BadHost(domain.to_owned()))?,
            )
        };
        Ok(Connect {
            config: self.config.clone(),
            name,
            host: domain.to_owned(),
            mode: self.mode,
        })
    }
}

/// One connection's handshake, for one host.
pub(super) struct Connect {
    config: Arc<ClientConfig>,
    name: Option<ServerName<'static>>,
    host: String,
    mode: SslMode,
}

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Tls<S>;
    type Error = TlsError;
    type Future = Pin<Box<dyn Future<Output = Result<Tls<S>, TlsError>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let name = self
                .name
                .ok_or_else(|| TlsError::BadHost(self.host.clone()))?;
            tokio_rustls::TlsConnector::from(self.config)
                .connect(name, stream)
                .await
                .map(Tls)
                .map_err(|error| explain(error, &self.host, self.mode))
        })
    }
}

/// An encrypted connection to PostgreSQL.
pub(super) struct Tls<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Tls<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Tls<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for Tls<S> {
    /// No `tls-server-end-point` binding: SCRAM runs without channel binding, as it does
    /// over plain connections (`channel_binding=require` is therefore not supported).
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}
