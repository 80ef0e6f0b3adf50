//! `Target`: the URL a monitor checks, parsed and vetted once.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

use super::MonitorError;
use super::address::forbidden_reason;

/// The longest URL accepted, as most servers and browsers cap them near here.
pub const MAX_URL_LEN: usize = 2048;

/// An absolute http(s) URL with a host, not a literal internal address unless allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target(Url);

impl Target {
    /// Parses `raw`; `allow_private` lets literal loopback, private and link-local hosts in.
    ///
    /// The WHATWG parser behind `url` normalises every IPv4 spelling (`127.1`, `2130706433`,
    /// `0x7f000001`, `0177.0.0.1`) to one address, so the check below sees through them.
    pub fn parse(raw: &str, allow_private: bool) -> Result<Self, MonitorError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if raw.len() > MAX_URL_LEN {
            return Err(invalid(format!("must be at most {MAX_URL_LEN} characters")));
        }
        let url =
            Url::parse(raw).map_err(|e| invalid(format!("`{raw}` is not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "scheme `{}` is not supported: use http or https",
                url.scheme()
            )));
        }
        let reason = match url.host() {
            None => return Err(invalid(format!("`{raw}` has no host"))),
            Some(Host::Ipv4(ip)) => forbidden_reason(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => forbidden_reason(IpAddr::V6(ip)),
            Some(Host::Domain(name)) => is_localhost(name).then_some("loopback"),
        };
        if let Some(reason) = reason
            && !allow_private
        {
            return Err(MonitorError::Blocked {
                message: format!(
                    "url: `{}` is a {reason} address; private targets are disabled \
                     (TOCSIN_ALLOW_PRIVATE_TARGETS)",
                    url.host_str().unwrap_or_default()
                ),
            });
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

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `localhost` and its subdomains resolve to loopback by definition (RFC 6761).
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

fn invalid(message: impl Into<String>) -> MonitorError {
    MonitorError::invalid("url", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_public_urls() {
        let target = Target::parse(" https://www.google.com ", false).expect("valid");
        assert_eq!(target.as_str(), "https://www.google.com/");
        assert_eq!(target.host(), "www.google.com");
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
    }
}
