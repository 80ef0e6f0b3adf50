//! libpq's TLS parameters in a PostgreSQL URL (`sslmode`, `sslrootcert`, `sslcert`,
//! `sslkey`). tokio-postgres reads `sslmode` only as disable/prefer/require and rejects the
//! rest, so tocsin takes them out of the URL here, hands the driver a URL it accepts, and
//! keeps what they asked for to build the rustls configuration from.

use std::fmt;
use std::path::PathBuf;

/// How much TLS a connection demands, as libpq's `sslmode` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plain connections only.
    Disable,
    /// TLS when the server offers it, plain otherwise (libpq's default).
    #[default]
    Prefer,
    /// TLS or no connection; the certificate is checked only when `sslrootcert` is given.
    Require,
    /// TLS with a certificate chain to a trusted root; any host name.
    VerifyCa,
    /// TLS with a chain to a trusted root and a certificate for the host connected to.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, String> {
        match value {
            "disable" => Ok(Self::Disable),
            "allow" | "prefer" => Ok(Self::Prefer),
            "require" => Ok(Self::Require),
            "verify-ca" => Ok(Self::VerifyCa),
            "verify-full" => Ok(Self::VerifyFull),
            other => Err(format!(
                "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
            )),
        }
    }

    /// The `sslmode` tokio-postgres understands for this one: whether TLS is tried and
    /// whether it is required. Verification is rustls's business.
    fn for_driver(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require | Self::VerifyCa | Self::VerifyFull => "require",
        }
    }

    /// The name libpq gives it, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// Which certificates are trusted as roots (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    /// A PEM file of CA certificates.
    File(PathBuf),
    /// `sslrootcert=system`: the public web roots compiled into tocsin.
    System,
}

/// What the URL asked of TLS, parsed; the files are read when the store connects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PostgresTls {
    /// `sslmode`.
    pub mode: SslMode,
    /// `sslrootcert`.
    pub root_certs: Option<RootCerts>,
    /// `sslcert`: the client certificate (PEM), with `sslkey`.
    pub client_cert: Option<PathBuf>,
    /// `sslkey`: the client certificate's private key (PEM).
    pub client_key: Option<PathBuf>,
}

impl PostgresTls {
    /// Whether the server's certificate must chain to a trusted root: always for the
    /// verify modes, and (as libpq does) for `require` and `prefer` once a root is given.
    pub fn verifies_chain(&self) -> bool {
        match self.mode {
            SslMode::VerifyCa | SslMode::VerifyFull => true,
            SslMode::Require | SslMode::Prefer => self.root_certs.is_some(),
            SslMode::Disable => false,
        }
    }
}

/// A PostgreSQL URL split into the part tokio-postgres reads and the TLS parameters.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    /// The URL for the driver: the TLS parameters taken out, `sslmode` mapped.
    pub driver: String,
    /// The TLS parameters.
    pub tls: PostgresTls,
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresUrl")
            .field("driver", &super::redact(&self.driver))
            .field("tls", &self.tls)
            .finish()
    }
}

const TLS_KEYS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

impl PostgresUrl {
    /// Splits `url`; an error names the parameter at fault.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, query),
            None => (url, ""),
        };
        let mut tls = PostgresTls::default();
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
            if !TLS_KEYS.contains(&key) {
                kept.push(pair.to_owned());
                continue;
            }
            let value = percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| format!("{key} is not valid UTF-8 once percent-decoded"))?
                .into_owned();
            if value.is_empty() {
                return Err(format!("{key} has no value"));
            }
            match key {
                "sslmode" => tls.mode = SslMode::parse(&value)?,
                "sslrootcert" if value == "system" => tls.root_certs = Some(RootCerts::System),
                "sslrootcert" => tls.root_certs = Some(RootCerts::File(value.into())),
                "sslcert" => tls.client_cert = Some(value.into()),
                _ => tls.client_key = Some(value.into()),
            }
        }
        check(&tls)?;
        kept.push(format!("sslmode={}", tls.mode.for_driver()));
        Ok(Self {
            driver: format!("{base}?{}", kept.join("&")),
            tls,
        })
    }
}

/// Combinations libpq would fail on later, refused at start with the reason.
fn check(tls: &PostgresTls) -> Result<(), String> {
    let verify = matches!(tls.mode, SslMode::VerifyCa | SslMode::VerifyFull);
    if verify && tls.root_certs.is_none() {
        return Err(format!(
            "sslmode={} needs sslrootcert=FILE (the CA that signed the server's certificate) \
             or sslrootcert=system (the public web roots)",
            tls.mode.name()
        ));
    }
    match (&tls.client_cert, &tls.client_key) {
        (Some(_), None) => Err("sslcert needs sslkey (the certificate's private key)".into()),
        (None, Some(_)) => Err("sslkey needs sslcert (the client certificate)".into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_tls_parameters_out_and_maps_sslmode() {
        let url = PostgresUrl::parse(
            "postgres://u:p@h1:5432,h2/db?target_session_attrs=read-write&sslmode=verify-full\
             &sslrootcert=%2Fetc%2Fca.pem&sslcert=/c.pem&sslkey=/k.pem",
        )
        .expect("parses");
        assert_eq!(
            url.driver,
            "postgres://u:p@h1:5432,h2/db?target_session_attrs=read-write&sslmode=require"
        );
        assert_eq!(url.tls.mode, SslMode::VerifyFull);
        assert_eq!(
            url.tls.root_certs,
            Some(RootCerts::File("/etc/ca.pem".into()))
        );
        assert_eq!(url.tls.client_cert, Some("/c.pem".into()));
        assert_eq!(url.tls.client_key, Some("/k.pem".into()));
        assert!(url.tls.verifies_chain());
    }

    #[test]
    fn defaults_to_prefer_like_libpq() {
        let url = PostgresUrl::parse("postgres://h/db").expect("parses");
        assert_eq!(url.driver, "postgres://h/db?sslmode=prefer");
        assert_eq!(url.tls.mode, SslMode::Prefer);
        assert!(!url.tls.verifies_chain());
        let disabled = PostgresUrl::parse("postgres://h/db?sslmode=disable").expect("parses");
        assert_eq!(disabled.driver, "postgres://h/db?sslmode=disable");
    }

    #[test]
    fn require_with_a_root_verifies_the_chain_as_libpq_does() {
        let url = PostgresUrl::parse("postgres://h/db?sslmode=require&sslrootcert=system")
            .expect("parses");
        assert_eq!(url.tls.root_certs, Some(RootCerts::System));
        assert!(url.tls.verifies_chain());
    }

    #[test]
    fn refuses_what_cannot_work_and_says_why() {
        let error = PostgresUrl::parse("postgres://h/db?sslmode=verify-ca").unwrap_err();
        assert!(error.contains("sslrootcert"), "{error}");
        let error = PostgresUrl::parse("postgres://h/db?sslmode=secure").unwrap_err();
        assert!(error.contains("`secure`"), "{error}");
        let error = PostgresUrl::parse("postgres://h/db?sslcert=/c.pem").unwrap_err();
        assert!(error.contains("sslkey"), "{error}");
        let error = PostgresUrl::parse("postgres://h/db?sslrootcert=").unwrap_err();
        assert!(error.contains("no value"), "{error}");
    }
}
