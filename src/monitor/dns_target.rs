//! `dns://resolver[:port]/name?type=A`: one query for `name` to the resolver named, which
//! is how a DNS monitor says which server to ask (Gatus's `url` plus `dns.query-name` and
//! `dns.query-type` in one URL).

use std::fmt;
use std::str::FromStr;

use url::{Host, Url};

use super::MonitorError;
use super::address::Networks;
use super::target::{guard, invalid};
use super::tcp_target::{borrowed, host_of, port_of};

/// The port DNS servers listen on.
const DNS_PORT: u16 = 53;

/// The record types a DNS check may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordType {
    /// IPv4 addresses, the default.
    #[default]
    A,
    /// IPv6 addresses.
    Aaaa,
    /// An alias's canonical name.
    Cname,
    /// Mail exchangers.
    Mx,
    /// Text records.
    Txt,
    /// Name servers.
    Ns,
}

impl RecordType {
    /// Every type, in the order the docs list them.
    pub const ALL: [RecordType; 6] = [
        Self::A,
        Self::Aaaa,
        Self::Cname,
        Self::Mx,
        Self::Txt,
        Self::Ns,
    ];

    /// The type's name as DNS tools write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Cname => "CNAME",
            Self::Mx => "MX",
            Self::Txt => "TXT",
            Self::Ns => "NS",
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordType {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(raw.trim()))
            .ok_or_else(|| {
                format!("record type `{raw}` is not supported: use A, AAAA, CNAME, MX, TXT or NS")
            })
    }
}

/// A query for one name and type, to one resolver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsTarget {
    text: String,
    resolver: Host<String>,
    port: u16,
    name: String,
    record_type: RecordType,
}

impl DnsTarget {
    /// Parses `dns://resolver[:port]/name[?type=T]`; the resolver is vetted like any host.
    pub(super) fn parse(
        raw: &str,
        allow_private: bool,
        networks: &Networks,
    ) -> Result<Self, MonitorError> {
        let url =
            Url::parse(raw).map_err(|e| invalid(format!("`{raw}` is not a valid URL: {e}")))?;
        let resolver = host_of(&url, raw)?;
        let port = port_of(&url, raw, Some(DNS_PORT))?;
        let example = "as in `dns://1.1.1.1/example.com?type=A`";
        let path = url.path().strip_prefix('/').unwrap_or(url.path());
        if path.is_empty() || path.contains('/') {
            return Err(invalid(format!(
                "`{raw}`: name the resolver, then the name to look up, {example}"
            )));
        }
        let name = query_name(path).map_err(|why| invalid(format!("`{raw}`: {why}")))?;
        let mut record_type = RecordType::default();
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "type" => {
                    record_type = value
                        .parse()
                        .map_err(|why| invalid(format!("`{raw}`: {why}")))?;
                }
                other => {
                    return Err(invalid(format!(
                        "`{raw}`: unknown parameter `{other}`; only `type` is understood, {example}"
                    )));
                }
            }
        }
        if url.fragment().is_some() {
            return Err(invalid(format!("`{raw}`: a DNS target has no `#` part")));
        }
        guard(&borrowed(&resolver), allow_private, networks)?;
        let shown_port = if port == DNS_PORT {
            String::new()
        } else {
            format!(":{port}")
        };
        Ok(Self {
            text: format!("dns://{resolver}{shown_port}/{name}?type={record_type}"),
            resolver,
            port,
            name,
            record_type,
        })
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The resolver asked: a name or an address.
    pub fn resolver(&self) -> &Host<String> {
        &self.resolver
    }

    /// The resolver's port (53 unless given).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The name looked up, in lower-case ASCII, without a final dot.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The record type asked for.
    pub fn record_type(&self) -> RecordType {
        self.record_type
    }
}

/// A domain name to look up: ASCII (international names are converted), at most 253
/// characters, labels of 1 to 63; underscores are allowed (`_dmarc.example.com`).
fn query_name(raw: &str) -> Result<String, String> {
    let trimmed = raw.strip_suffix('.').unwrap_or(raw);
    let name = match Host::parse(trimmed) {
        Ok(Host::Domain(name)) => name,
        Ok(_) => return Err(format!("`{raw}` is an address, not a name to look up")),
        Err(e) => return Err(format!("`{raw}` is not a valid domain name: {e}")),
    };
    if name.len() > 253 {
        return Err("a domain name is at most 253 characters".to_owned());
    }
    if name
        .split('.')
        .any(|label| label.is_empty() || label.len() > 63)
    {
        return Err(format!(
            "`{raw}` has an empty label or one over 63 characters"
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::super::{MonitorError, Target};
    use super::*;
    use crate::check::CheckKind;

    fn dns(raw: &str) -> DnsTarget {
        match Target::parse(raw, true) {
            Ok(Target::Dns(dns)) => dns,
            other => panic!("{raw}: {other:?}"),
        }
    }

    fn refused(raw: &str) -> String {
        Target::parse(raw, true).expect_err(raw).to_string()
    }

    #[test]
    fn dns_targets_are_normalised() {
        let t = dns("DNS://1.1.1.1/Example.COM.?type=mx");
        assert_eq!(t.as_str(), "dns://1.1.1.1/example.com?type=MX");
        assert_eq!(t.record_type(), RecordType::Mx);
        assert_eq!(t.port(), 53);
        assert_eq!(t.name(), "example.com");
        let t = dns("dns://127.0.0.1:5353/_dmarc.example.com?type=TXT");
        assert_eq!(
            t.as_str(),
            "dns://127.0.0.1:5353/_dmarc.example.com?type=TXT"
        );
        assert_eq!(t.port(), 5353);
        let t = dns("dns://dns.google/bücher.example");
        assert_eq!(t.as_str(), "dns://dns.google/xn--bcher-kva.example?type=A");
        assert_eq!(t.resolver().to_string(), "dns.google");
        let whole =
            Target::parse("dns://[2606:4700::1111]/example.com?type=AAAA", true).expect("valid");
        assert_eq!(whole.kind(), CheckKind::Dns);
        assert_eq!(whole.default_name(), "example.com AAAA");
        for t in RecordType::ALL {
            assert_eq!(t.as_str().parse::<RecordType>(), Ok(t));
        }
    }

    #[test]
    fn malformed_dns_targets_are_refused() {
        assert!(refused("dns://1.1.1.1").contains("name the resolver, then the name"));
        assert!(refused("dns://1.1.1.1/").contains("name the resolver, then the name"));
        assert!(refused("dns://1.1.1.1/a/b").contains("name the resolver, then the name"));
        assert!(refused("dns://1.1.1.1/example.com?type=SOA").contains("`SOA` is not supported"));
        assert!(
            refused("dns://1.1.1.1/example.com?class=IN").contains("unknown parameter `class`")
        );
        assert!(refused("dns://1.1.1.1/1.2.3.4").contains("an address"));
        assert!(refused("dns://1.1.1.1/a..b").contains("empty label"));
        assert!(refused(&format!("dns://1.1.1.1/{}.com", "a".repeat(64))).contains("63"));
        assert!(refused("dns://1.1.1.1:0/example.com").contains("port 0"));
        assert!(refused("dns://u:p@1.1.1.1/example.com").contains("user names"));
    }

    #[test]
    fn a_private_resolver_is_blocked_unless_allowed() {
        for raw in [
            "dns://127.0.0.1/example.com",
            "dns://10.0.0.53/example.com",
            "dns://localhost/x.org",
        ] {
            let error = Target::parse(raw, false).expect_err(raw);
            assert!(
                matches!(error, MonitorError::Blocked { .. }),
                "{raw}: {error}"
            );
        }
        assert!(Target::parse("dns://8.8.8.8/example.com", false).is_ok());
    }
}
