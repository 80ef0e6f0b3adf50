//! What a monitor trusts and presents beyond its URL: credentials written into the URL,
//! which become an `Authorization` header, and a PEM bundle of authorities to trust.

use std::collections::BTreeMap;

use super::MonitorError;

/// The most bytes a PEM bundle may have.
const MAX_PEM_BYTES: usize = 64 * 1024;

/// A PEM bundle of at least one certificate, each a well-formed X.509 certificate.
pub(super) fn ca_pem(pem: String) -> Result<String, MonitorError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let invalid = |why: String| MonitorError::invalid("tls_ca_pem", why);
    if pem.len() > MAX_PEM_BYTES {
        return Err(invalid(format!("must be at most {MAX_PEM_BYTES} bytes")));
    }
    let mut count = 0;
    for (i, cert) in CertificateDer::pem_slice_iter(pem.as_bytes()).enumerate() {
        let cert = cert.map_err(|e| invalid(format!("certificate #{}: {e}", i + 1)))?;
        x509_parser::parse_x509_certificate(cert.as_ref())
            .map_err(|e| invalid(format!("certificate #{} is not X.509: {e}", i + 1)))?;
        count += 1;
    }
    if count == 0 {
        return Err(invalid(
            "holds no certificate: paste -----BEGIN CERTIFICATE----- blocks".into(),
        ));
    }
    Ok(pem)
}

/// `headers` with the URL's credentials as their `Authorization`, unless they set one too.
pub(super) fn with_basic(
    mut headers: BTreeMap<String, String>,
    basic: Option<String>,
) -> Result<BTreeMap<String, String>, MonitorError> {
    let Some(basic) = basic else {
        return Ok(headers);
    };
    if headers
        .keys()
        .any(|name| name.trim().eq_ignore_ascii_case("authorization"))
    {
        return Err(MonitorError::invalid(
            "url",
            "has a user name or password and `headers` has an Authorization: give one of them",
        ));
    }
    headers.insert("authorization".to_owned(), basic);
    Ok(headers)
}
