//! `Target`: what a monitor checks, parsed and vetted once: an HTTP(S) URL, a TCP (or TLS)
//! port, or a DNS query to a given resolver.

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use url::{Host, Url};

use super::MonitorError;
use super::address::{Networks, how_to_allow, refusal};
use super::dns_target::DnsTarget;
use super::tcp_target::TcpTarget;
use crate::check::CheckKind;

/// The longest URL accepted, as most servers and browsers cap them near here.
pub const MAX_URL_LEN: usize = 2048;

/// What a monitor checks, told apart by the URL's scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `http://…` or `https://…`: a request, its status and body.
    Http(HttpTarget),
    /// `tcp://host:port` or `tls://host:port`: a connection (and a TLS handshake).
    Tcp(TcpTarget),
    /// `dns://resolver[:port]/name?type=A`: one query to one resolver.
    Dns(DnsTarget),
}

/// An absolute http(s) URL with a host, not a literal internal address unless allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget(Url);

impl Target {
    /// Parses `raw` by its scheme; `allow_private` lets literal loopback, private and
    /// link-local hosts in.
    pub fn parse(raw: &str, allow_private: bool) -> Result<Self, MonitorError> {
        Self::parse_within(raw, allow_private, &Networks::NONE)
    }

    /// Parses `raw` by its scheme; `allow_private` lets every literal internal host in,
    /// `networks` the private ones they cover (see [`refusal`]).
    pub fn parse_within(
        raw: &str,
        allow_private: bool,
        networks: &Networks,
    ) -> Result<Self, MonitorError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if raw.len() > MAX_URL_LEN {
            return Err(invalid(format!("must be at most {MAX_URL_LEN} characters")));
        }
        let scheme = raw
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("tcp" | "tls") => TcpTarget::parse(raw, allow_private, networks).map(Self::Tcp),
            Some("dns") => DnsTarget::parse(raw, allow_private, networks).map(Self::Dns),
            _ => HttpTarget::parse(raw, allow_private, networks).map(Self::Http),
        }
    }

    /// The target without the `user:password@` of an HTTP URL, and those credentials as
    /// the value of an `Authorization: Basic` header (RFC 7617), since that is what a URL's
    /// credentials mean to an HTTP client. Kept in the URL they would be stored and shown
    /// as part of it, in every result's message too, yet never sent.
    pub fn split_credentials(self) -> (Self, Option<String>) {
        let Self::Http(HttpTarget(mut url)) = self else {
            return (self, None);
        };
        if url.username().is_empty() && url.password().is_none() {
            return (Self::Http(HttpTarget(url)), None);
        }
        let decode = |part: &str| percent_decode_str(part).decode_utf8_lossy().into_owned();
        let user = decode(url.username());
        let password = decode(url.password().unwrap_or_default());
        // Cannot fail for an http(s) URL with a host, which every HttpTarget is.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let basic = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
        (Self::Http(HttpTarget(url)), Some(basic))
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Http(http) => http.as_str(),
            Self::Tcp(tcp) => tcp.as_str(),
            Self::Dns(dns) => dns.as_str(),
        }
    }

    /// The kind of check this target gets.
    pub fn kind(&self) -> CheckKind {
        match self {
            Self::Http(_) => CheckKind::Http,
            Self::Tcp(_) => CheckKind::Tcp,
            Self::Dns(_) => CheckKind::Dns,
        }
    }

    /// Whether the check makes a TLS handshake (and so sees a certificate).
    pub fn uses_tls(&self) -> bool {
        match self {
            Self::Http(http) => http.url().scheme() == "https",
            Self::Tcp(tcp) => tcp.tls(),
            Self::Dns(_) => false,
        }
    }

    /// A label for a monitor that has no name: the host, or for DNS the name queried.
    pub fn default_name(&self) -> String {
        match self {
            Self::Http(http) => http.host().to_owned(),
            Self::Tcp(tcp) => tcp.host().to_string(),
            Self::Dns(dns) => format!("{} {}", dns.name(), dns.record_type()),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl HttpTarget {
    /// Parses `raw`; `allow_private` lets literal loopback, private and link-local hosts in.
    ///
    /// The WHATWG parser behind `url` normalises every IPv4 spelling (`127.1`, `2130706433`,
    /// `0x7f000001`, `0177.0.0.1`) to one address, so the check below sees through them.
    fn parse(raw: &str, allow_private: bool, networks: &Networks) -> Result<Self, MonitorError> {
        let url =
            Url::parse(raw).map_err(|e| invalid(format!("`{raw}` is not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "scheme `{}` is not supported: use http, https, tcp, tls or dns",
                url.scheme()
            )));
        }
        // Normalising can lengthen a URL (percent-encoding, punycode): the stored form must
        // fit too, or it could not be read back.
        if url.as_str().len() > MAX_URL_LEN {
            return Err(invalid(format!(
                "must be at most {MAX_URL_LEN} characters once normalised"
            )));
        }
        if url.port() == Some(0) {
            return Err(invalid(
                "port 0 cannot be connected to: give a port from 1 to 65535",
            ));
        }
        match url.host() {
            None => return Err(invalid(format!("`{raw}` has no host"))),
            Some(host) => guard(&host, allow_private, networks)?,
        }
        Ok(Self(url))
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The host as written in the URL (a name, or an address without brackets).
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }
}

/// Refuses a literal internal host (an address, or `localhost`) unless private targets are
/// allowed, or its network is; names are checked again by the probe once resolved.
pub(super) fn guard(
    host: &Host<&str>,
    allow_private: bool,
    networks: &Networks,
) -> Result<(), MonitorError> {
    let reason = match host {
        Host::Ipv4(ip) => refusal(IpAddr::V4(*ip), allow_private, networks),
        Host::Ipv6(ip) => refusal(IpAddr::V6(*ip), allow_private, networks),
        Host::Domain(name) => (is_localhost(name) && !allow_private).then_some("loopback"),
    };
    match reason {
        Some(reason) => Err(MonitorError::Blocked {
            message: format!(
                "url: `{}` is a {reason} address; {}",
                host.to_string().trim_matches(['[', ']']),
                how_to_allow(reason)
            ),
        }),
        None => Ok(()),
    }
}

/// `localhost` and its subdomains resolve to loopback by definition (RFC 6761).
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

pub(super) fn invalid(message: impl Into<String>) -> MonitorError {
    MonitorError::invalid("url", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_public_urls() {
        let target = Target::parse(" https://www.google.com ", false).expect("valid");
        assert_eq!(target.as_str(), "https://www.google.com/");
        assert_eq!(target.default_name(), "www.google.com");
        assert_eq!(target.kind(), CheckKind::Http);
        assert!(target.uses_tls());
        assert!(Target::parse("http://93.184.216.34:8080/x?y=1", false).is_ok());
    }

    #[test]
    fn refuses_every_spelling_of_loopback() {
        for raw in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://0.0.0.0/",
            "http://0/",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[fe80::1]/",
        ] {
            let err = Target::parse(raw, false).expect_err(raw);
            assert!(matches!(err, MonitorError::Blocked { .. }), "{raw}: {err}");
            assert!(
                Target::parse(raw, true).is_ok(),
                "{raw} allowed when private targets are"
            );
        }
    }

    #[test]
    fn names_what_is_wrong() {
        let msg = |raw: &str| Target::parse(raw, false).expect_err(raw).to_string();
        assert!(msg("ftp://example.com/").contains("scheme `ftp`"));
        assert!(msg("not a url").contains("not a valid URL"));
        assert!(msg("").contains("must not be empty"));
        assert!(msg(&format!("https://e.com/{}", "a".repeat(3000))).contains("at most 2048"));
        assert!(msg("http://127.1/").contains("loopback"));
        assert!(msg("ftp://example.com/").starts_with("url:"));
        assert!(msg("http://example.com:0/").contains("port 0"));
        let spaces = format!("https://e.com/{}x", " ".repeat(1000));
        assert!(
            msg(&spaces).contains("once normalised"),
            "each space becomes %20"
        );
    }

    #[test]
    fn credentials_in_the_url_become_a_basic_authorization() {
        let target = Target::parse("https://ada:s%3Acret@example.com/x", false).expect("valid");
        let (target, basic) = target.split_credentials();
        assert_eq!(target.as_str(), "https://example.com/x");
        // base64("ada:s:cret")
        assert_eq!(basic.as_deref(), Some("Basic YWRhOnM6Y3JldA=="));
        let (plain, none) = Target::parse("https://example.com/", false)
            .expect("valid")
            .split_credentials();
        assert_eq!((plain.as_str(), none), ("https://example.com/", None));
    }

    #[test]
    fn allowed_networks_let_their_literal_addresses_in() {
        let lan = Networks::try_from("10.0.5.0/24".to_owned()).expect("valid");
        assert!(Target::parse_within("http://10.0.5.3/", false, &lan).is_ok());
        assert!(Target::parse_within("tcp://10.0.5.3:5432", false, &lan).is_ok());
        for raw in ["http://10.0.6.3/", "http://127.0.0.1/", "http://localhost/"] {
            let err = Target::parse_within(raw, false, &lan).expect_err(raw);
            assert!(matches!(err, MonitorError::Blocked { .. }), "{raw}: {err}");
        }
        let message = Target::parse_within("http://10.0.6.3/", false, &lan)
            .expect_err("outside")
            .to_string();
        assert!(
            message.contains("TOCSIN_ALLOWED_PRIVATE_NETWORKS"),
            "{message}"
        );
    }
}
