//! `tcp://host:port` and `tls://host:port` (Gatus's spelling): a connection to a port, with
//! a TLS handshake for `tls`.

use url::{Host, Url};

use super::MonitorError;
use super::address::Networks;
use super::target::{guard, invalid};

/// A host and port to connect to, and whether to make a TLS handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpTarget {
    text: String,
    host: Host<String>,
    port: u16,
    tls: bool,
}

impl TcpTarget {
    /// Parses `tcp://host:port` or `tls://host:port`, nothing after the port.
    pub(super) fn parse(
        raw: &str,
        allow_private: bool,
        networks: &Networks,
    ) -> Result<Self, MonitorError> {
        let url =
            Url::parse(raw).map_err(|e| invalid(format!("`{raw}` is not a valid URL: {e}")))?;
        let tls = url.scheme() == "tls";
        let host = host_of(&url, raw)?;
        let port = port_of(&url, raw, None)?;
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(format!(
                "`{raw}`: a {} target is `{}://host:port`, with nothing after the port",
                url.scheme(),
                url.scheme()
            )));
        }
        guard(&borrowed(&host), allow_private, networks)?;
        let text = format!("{}://{host}:{port}", url.scheme());
        Ok(Self {
            text,
            host,
            port,
            tls,
        })
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The host: a name or an address.
    pub fn host(&self) -> &Host<String> {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether a TLS handshake follows the connection.
    pub fn tls(&self) -> bool {
        self.tls
    }
}

/// The host of a URL whose scheme `url` does not know (`tcp`, `dns`), normalised as an
/// http host would be: every IPv4 spelling to one address, names to lower-case ASCII.
pub(super) fn host_of(url: &Url, raw: &str) -> Result<Host<String>, MonitorError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(format!(
            "`{raw}`: user names and passwords are not allowed in a {} URL",
            url.scheme()
        )));
    }
    match url.host() {
        None => Err(invalid(format!("`{raw}` has no host"))),
        Some(Host::Domain("")) => Err(invalid(format!("`{raw}` has no host"))),
        Some(Host::Ipv6(ip)) => Ok(Host::Ipv6(ip)),
        Some(Host::Ipv4(ip)) => Ok(Host::Ipv4(ip)),
        // An opaque host: read it again as an http host would be.
        Some(Host::Domain(opaque)) => Host::parse(opaque)
            .map_err(|e| invalid(format!("`{raw}`: `{opaque}` is not a valid host: {e}"))),
    }
}

/// The port, or `default` when none is written; 0 is refused.
pub(super) fn port_of(url: &Url, raw: &str, default: Option<u16>) -> Result<u16, MonitorError> {
    match url.port().or(default) {
        Some(0) => Err(invalid(format!("`{raw}`: port 0 cannot be connected to"))),
        Some(port) => Ok(port),
        None => Err(invalid(format!(
            "`{raw}` needs a port, as in `{}://example.com:5432`",
            url.scheme()
        ))),
    }
}

/// `host` borrowed, as the guard takes it.
pub(super) fn borrowed(host: &Host<String>) -> Host<&str> {
    match host {
        Host::Domain(name) => Host::Domain(name.as_str()),
        Host::Ipv4(ip) => Host::Ipv4(*ip),
        Host::Ipv6(ip) => Host::Ipv6(*ip),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{MonitorError, Target};
    use crate::check::CheckKind;

    fn tcp(raw: &str) -> Target {
        Target::parse(raw, true).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn refused(raw: &str) -> String {
        Target::parse(raw, true).expect_err(raw).to_string()
    }

    #[test]
    fn tcp_and_tls_targets_are_normalised() {
        let t = tcp(" TCP://Example.COM:5432 ");
        assert_eq!(t.as_str(), "tcp://example.com:5432");
        assert_eq!(t.kind(), CheckKind::Tcp);
        assert!(!t.uses_tls());
        assert_eq!(t.default_name(), "example.com");
        let t = tcp("tls://127.1:443/");
        assert_eq!(t.as_str(), "tls://127.0.0.1:443");
        assert!(t.uses_tls());
        assert_eq!(tcp("tcp://[::1]:22").as_str(), "tcp://[::1]:22");
        let super::super::Target::Tcp(inner) = tcp("tcp://[::1]:22") else {
            panic!("a tcp target")
        };
        assert_eq!(inner.port(), 22);
        assert_eq!(inner.host().to_string(), "[::1]");
    }

    #[test]
    fn malformed_tcp_targets_are_refused() {
        assert!(refused("tcp://example.com").contains("needs a port"));
        assert!(refused("tcp://example.com:0").contains("port 0"));
        assert!(refused("tcp://example.com:99999").contains("not a valid URL"));
        assert!(refused("tcp://example.com:80/path").contains("nothing after the port"));
        assert!(refused("tcp://example.com:80?x=1").contains("nothing after the port"));
        assert!(refused("tcp://user:pw@example.com:80").contains("user names"));
        assert!(refused("tcp://:80").contains("no host") || refused("tcp://:80").contains("valid"));
        assert!(refused("tcp://exa mple.com:80").starts_with("url:"));
    }

    #[test]
    fn literal_internal_hosts_are_blocked_unless_allowed() {
        for raw in [
            "tcp://127.0.0.1:5432",
            "tls://localhost:443",
            "tcp://[::1]:22",
            "tcp://0x7f000001:80",
        ] {
            let error = Target::parse(raw, false).expect_err(raw);
            assert!(
                matches!(error, MonitorError::Blocked { .. }),
                "{raw}: {error}"
            );
        }
        assert!(Target::parse("tcp://93.184.216.34:80", false).is_ok());
    }
}
