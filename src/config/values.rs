//! How setting values are written: durations, yes/no flags and listen addresses, read the
//! way people write them and shown back the same way.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// Reads a humantime duration (`500ms`, `10s`, `15m`, `48h`, `365d`); a bare number is
/// refused with a hint, since `10` could mean seconds or minutes.
pub(super) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    struct DurationVisitor;
    impl Visitor<'_> for DurationVisitor {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as 500ms, 10s, 15m, 48h or 365d")
        }
        fn visit_str<E: de::Error>(self, raw: &str) -> Result<Duration, E> {
            humantime::parse_duration(raw.trim()).map_err(|e| {
                E::custom(format!(
                    "`{raw}` is not a duration such as 500ms, 10s, 15m, 48h or 365d ({e})"
                ))
            })
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Duration, E> {
            Err(E::custom(format!(
                "`{n}` needs a unit: write {n}s, {n}m, {n}h or {n}d"
            )))
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Duration, E> {
            Err(E::custom(format!("`{n}` is not a duration such as 10s")))
        }
        fn visit_f64<E: de::Error>(self, n: f64) -> Result<Duration, E> {
            Err(E::custom(format!("`{n}` is not a duration such as 10s")))
        }
    }
    d.deserialize_any(DurationVisitor)
}

/// Reads a yes/no setting: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case.
pub(super) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct FlagVisitor;
    impl Visitor<'_> for FlagVisitor {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("true or false (also 1/0, yes/no, on/off)")
        }
        fn visit_bool<E: de::Error>(self, value: bool) -> Result<bool, E> {
            Ok(value)
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<bool, E> {
            match n {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::custom(format!(
                    "`{n}` is not true or false (also 1/0, yes/no, on/off)"
                ))),
            }
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<bool, E> {
            u64::try_from(n)
                .map_err(|_| E::custom(format!("`{n}` is not true or false")))
                .and_then(|n| self.visit_u64(n))
        }
        fn visit_str<E: de::Error>(self, raw: &str) -> Result<bool, E> {
            match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(E::custom(format!(
                    "`{raw}` is not true or false (also 1/0, yes/no, on/off)"
                ))),
            }
        }
    }
    d.deserialize_any(FlagVisitor)
}

/// Reads where to listen: `IP:PORT` (`127.0.0.1:8080`, `[::1]:8080`) or `HOST:PORT`
/// (`localhost:8080`), a name being resolved once, at start, to its first address.
pub(super) fn listen<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    struct ListenVisitor;
    impl Visitor<'_> for ListenVisitor {
        type Value = SocketAddr;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(LISTEN_FORMS)
        }
        fn visit_str<E: de::Error>(self, raw: &str) -> Result<SocketAddr, E> {
            parse_listen(raw).map_err(E::custom)
        }
    }
    d.deserialize_any(ListenVisitor)
}

const LISTEN_FORMS: &str =
    "IP:PORT or HOST:PORT, e.g. 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080 or localhost:8080";

fn parse_listen(raw: &str) -> Result<SocketAddr, String> {
    let raw = raw.trim();
    if let Ok(address) = raw.parse::<SocketAddr>() {
        return Ok(address);
    }
    let expected = || format!("`{raw}` is not {LISTEN_FORMS}");
    let (host, port) = raw.rsplit_once(':').ok_or_else(expected)?;
    let port: u16 = port.parse().map_err(|_| expected())?;
    if host.is_empty() || host.contains(':') {
        return Err(expected());
    }
    // `localhost` without asking the resolver: it is loopback by definition (RFC 6761), and
    // IPv4 is what the default listens on.
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("`{raw}`: cannot resolve {host} ({e}); expected {LISTEN_FORMS}"))?
        .next()
        .ok_or_else(|| format!("`{raw}`: {host} resolves to no address"))
}

/// `d` as people write it: the largest unit that divides it (`365d`, `48h`, `15m`, `500ms`),
/// or a few units added up (`1h30m`), never humantime's `11months 30days 3h 50m 24s`.
pub fn human_duration(d: Duration) -> String {
    const UNITS: [(&str, u128); 5] = [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let mut ms = d.as_millis();
    if ms == 0 {
        return if d.is_zero() {
            "0s".to_owned()
        } else {
            format!("{}us", d.as_micros())
        };
    }
    let mut text = String::new();
    for (unit, size) in UNITS {
        if ms >= size {
            text.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    text
}

/// Reads the public address: an absolute `http` or `https` URL (unset when empty).
pub(super) fn public_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<url::Url>, D::Error> {
    let raw = String::deserialize(d)?;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let url = url::Url::parse(raw)
        .map_err(|e| de::Error::custom(format!("`{raw}` is not an absolute URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(de::Error::custom(format!(
            "`{raw}` must be an http:// or https:// address with a host"
        )));
    }
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_shown_as_written() {
        let secs = Duration::from_secs;
        assert_eq!(human_duration(secs(365 * 86_400)), "365d");
        assert_eq!(human_duration(secs(48 * 3600)), "2d");
        assert_eq!(human_duration(secs(3600)), "1h");
        assert_eq!(human_duration(secs(5400)), "1h30m");
        assert_eq!(human_duration(secs(30 * 86_400)), "30d");
        assert_eq!(human_duration(Duration::from_millis(100)), "100ms");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1s500ms");
        assert_eq!(human_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn listen_addresses_take_names_and_say_the_form() {
        assert_eq!(
            parse_listen("localhost:8080"),
            Ok(SocketAddr::from(([127, 0, 0, 1], 8080)))
        );
        assert_eq!(
            parse_listen("[::1]:9"),
            Ok("[::1]:9".parse().expect("address"))
        );
        for bad in ["nowhere", "localhost", ":8080", "localhost:http", "a:b:c"] {
            let error = parse_listen(bad).expect_err(bad);
            assert!(error.contains("HOST:PORT"), "{bad}: {error}");
        }
    }
}
