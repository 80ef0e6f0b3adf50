//! Which IP addresses a monitor may not reach unless private targets are allowed.
//!
//! Pure classification, no I/O: the API uses it on literal addresses when a monitor is
//! created, and the probe uses it again after DNS and on every redirect hop, so a hostname
//! that resolves to a private address is caught too.
//!
//! Between "public only" and "everything" (`TOCSIN_ALLOW_PRIVATE_TARGETS`), an operator may
//! open chosen private networks (`TOCSIN_ALLOWED_PRIVATE_NETWORKS`): a self-hoster's LAN,
//! say. Loopback, link-local, unspecified and multicast addresses and the clouds' metadata
//! services stay refused even inside such a network, since reaching them from a shared
//! service is the classic server-side request forgery.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Deserialize;

/// The clouds' instance metadata services outside link-local space (AWS over IPv6, Alibaba).
const METADATA: [IpAddr; 2] = [
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
];

/// Reasons no allowed network can override.
const ALWAYS_REFUSED: [&str; 5] = [
    "loopback",
    "unspecified",
    "link-local",
    "multicast",
    "cloud metadata",
];

/// The reason `ip` may not be probed (`"loopback"`, `"private"`…), or `None` for a public one.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    if METADATA.contains(&ip) {
        return Some("cloud metadata");
    }
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

/// Why `ip` may not be probed under these settings, or `None` when it may: public
/// addresses always may; `allow_all` lets every internal one in; `networks` lets in the
/// private addresses they cover, but never loopback, link-local, unspecified, multicast or
/// metadata ones.
pub fn refusal(ip: IpAddr, allow_all: bool, networks: &Networks) -> Option<&'static str> {
    let reason = forbidden_reason(ip)?;
    if allow_all || (!ALWAYS_REFUSED.contains(&reason) && networks.contains(ip)) {
        return None;
    }
    Some(reason)
}

/// The settings that would let an address refused for `reason` in, for error messages.
pub fn how_to_allow(reason: &str) -> &'static str {
    if ALWAYS_REFUSED.contains(&reason) {
        "private targets are disabled (TOCSIN_ALLOW_PRIVATE_TARGETS)"
    } else {
        "private targets are disabled (TOCSIN_ALLOW_PRIVATE_TARGETS, or list its network in \
         TOCSIN_ALLOWED_PRIVATE_NETWORKS)"
    }
}

/// Private networks an operator allows as targets (`TOCSIN_ALLOWED_PRIVATE_NETWORKS`):
/// addresses and CIDR blocks, comma-separated (`10.0.5.0/24,fd12::/64`).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Networks(Vec<(IpAddr, u8)>);

impl Networks {
    /// No network.
    pub const NONE: Networks = Networks(Vec::new());

    /// Whether `ip` is in one of the networks (an IPv4-mapped IPv6 address as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|&(net, bits)| match (ip, net) {
            (IpAddr::V4(a), IpAddr::V4(n)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
                u32::from(a) & mask == u32::from(n) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(n)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
                u128::from(a) & mask == u128::from(n) & mask
            }
            _ => false,
        })
    }

    /// Whether no network is allowed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<String> for Networks {
    type Error = String;

    /// Each block must be private space: a block of public addresses needs no allowing,
    /// and one of loopback, link-local or metadata addresses would be refused anyway, which
    /// is better said at start than found out from a blocked check.
    fn try_from(list: String) -> Result<Self, Self::Error> {
        let mut networks = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, bits) = item.split_once('/').unwrap_or((item, ""));
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("`{item}` is not an IP address or CIDR block"))?;
            let addr = match addr {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
                v4 => v4,
            };
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = if bits.is_empty() {
                max
            } else {
                bits.parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("`{item}`: the prefix length must be 0 to {max}"))?
            };
            let (first, last) = bounds(addr, bits);
            for end in [first, last] {
                match forbidden_reason(end) {
                    None => {
                        return Err(format!(
                            "`{item}` reaches public addresses ({end}); list private networks only"
                        ));
                    }
                    Some(reason) if ALWAYS_REFUSED.contains(&reason) => {
                        return Err(format!(
                            "`{item}` holds {reason} addresses ({end}), which stay refused; \
                             TOCSIN_ALLOW_PRIVATE_TARGETS=true allows every address"
                        ));
                    }
                    Some(_) => {}
                }
            }
            networks.push((addr, bits));
        }
        Ok(Self(networks))
    }
}

/// The lowest and highest addresses of the block `addr/bits`.
fn bounds(addr: IpAddr, bits: u8) -> (IpAddr, IpAddr) {
    match addr {
        IpAddr::V4(v4) => {
            let host = u32::MAX.checked_shr(u32::from(bits)).unwrap_or(0);
            let v4 = u32::from(v4);
            (
                IpAddr::V4(Ipv4Addr::from(v4 & !host)),
                IpAddr::V4(Ipv4Addr::from(v4 | host)),
            )
        }
        IpAddr::V6(v6) => {
            let host = u128::MAX.checked_shr(u32::from(bits)).unwrap_or(0);
            let v6 = u128::from(v6);
            (
                IpAddr::V6(Ipv6Addr::from(v6 & !host)),
                IpAddr::V6(Ipv6Addr::from(v6 | host)),
            )
        }
    }
}

impl fmt::Debug for Networks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(|(a, b)| format!("{a}/{b}")).collect();
        write!(f, "Networks({})", list.join(","))
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let reason = match (a, b, c) {
        (0, _, _) => "unspecified",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private",
        (172, 16..=31, _) => "private",
        (100, 64..=127, _) => "shared (carrier-grade NAT)",
        (169, 254, _) => "link-local",
        (192, 0, 0) => "reserved",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    };
    Some(reason)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // Forms that carry an IPv4 address inside are judged by that address.
    if let Some(v4) = embedded_v4(ip) {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    let reason = match s[0] {
        0xfc00..=0xfdff => "private (unique local)",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xff00..=0xffff => "multicast",
        0x2001 if s[1] == 0x0db8 => "documentation",
        0x0100 if s[1..4] == [0, 0, 0] => "discard-only",
        _ => return None,
    };
    Some(reason)
}

/// The IPv4 address inside an IPv4-mapped, IPv4-translated (SIIT), IPv4-compatible, NAT64
/// (well-known and local-use prefixes) or 6to4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(tail),
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] | [0x64, 0xff9b, 1, _, _, _, _, _] => Some(tail),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(ip: &str) -> Option<&'static str> {
        forbidden_reason(ip.parse().expect("test address"))
    }

    #[test]
    fn refuses_internal_ipv4() {
        for (ip, why) in [
            ("127.0.0.1", "loopback"),
            ("127.255.1.2", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("255.255.255.255", "reserved"),
        ] {
            assert_eq!(reason(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn allows_public_ipv4_next_to_the_ranges() {
        for ip in [
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "1.1.1.1",
        ] {
            assert_eq!(reason(ip), None, "{ip}");
        }
    }

    #[test]
    fn refuses_internal_ipv6_and_embedded_ipv4() {
        for (ip, why) in [
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fc00::1", "private (unique local)"),
            ("fd12:3456::1", "private (unique local)"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "link-local"),
            ("64:ff9b::7f00:1", "loopback"),
            ("::ffff:0:7f00:1", "loopback"),
            ("::ffff:0:a9fe:a9fe", "link-local"),
            ("::ffff:0:a00:1", "private"),
            ("64:ff9b:1::a00:1", "private"),
            ("fd00:ec2::254", "cloud metadata"),
            ("100.100.100.200", "cloud metadata"),
            ("2002:7f00:1::", "loopback"),
        ] {
            assert_eq!(reason(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn allows_public_ipv6() {
        for ip in [
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "2002:808:808::",
        ] {
            assert_eq!(reason(ip), None, "{ip}");
        }
    }

    fn networks(list: &str) -> Networks {
        Networks::try_from(list.to_owned()).expect("valid networks")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn allowed_networks_open_their_private_addresses_only() {
        let lan = networks("10.0.5.0/24, fd12:3456::/32, 100.64.0.0/10");
        for allowed in [
            "10.0.5.1",
            "10.0.5.254",
            "::ffff:10.0.5.7",
            "fd12:3456::9",
            "100.64.1.1",
        ] {
            assert_eq!(refusal(ip(allowed), false, &lan), None, "{allowed}");
        }
        for (refused, why) in [
            ("10.0.6.1", "private"),
            ("192.168.1.1", "private"),
            ("127.0.0.1", "loopback"),
            ("169.254.169.254", "link-local"),
            ("100.100.100.200", "cloud metadata"),
        ] {
            assert_eq!(refusal(ip(refused), false, &lan), Some(why), "{refused}");
        }
        assert_eq!(refusal(ip("8.8.8.8"), false, &Networks::NONE), None);
        assert_eq!(refusal(ip("127.0.0.1"), true, &Networks::NONE), None);
    }

    #[test]
    fn metadata_stays_refused_inside_an_allowed_network() {
        let wide = networks("fd00::/8, 100.64.0.0/10");
        assert_eq!(
            refusal(ip("fd00:ec2::254"), false, &wide),
            Some("cloud metadata")
        );
        assert_eq!(
            refusal(ip("100.100.100.200"), false, &wide),
            Some("cloud metadata")
        );
        assert_eq!(refusal(ip("fd00:ec2::253"), false, &wide), None);
    }

    #[test]
    fn networks_that_would_open_loopback_or_public_space_are_refused() {
        let error = |list: &str| Networks::try_from(list.to_owned()).expect_err(list);
        assert!(error("127.0.0.0/8").contains("loopback"));
        assert!(error("169.254.0.0/16").contains("link-local"));
        assert!(error("0.0.0.0/0").contains("unspecified"));
        assert!(error("8.8.8.0/24").contains("public"));
        assert!(error("10.0.0.0/7").contains("public"), "10/7 reaches 11.x");
        assert!(
            error("192.168.0.0/9").contains("public"),
            "the block, not the address"
        );
        assert!(error("lan").contains("`lan`"));
        assert!(error("10.0.0.0/40").contains("prefix length"));
        assert!(Networks::try_from(String::new()).expect("empty").is_empty());
    }
}
