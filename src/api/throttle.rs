//! Per-address throttling of register and login: a token bucket per client address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::config::TrustedProxies;

/// Buckets kept before idle ones are dropped, bounding memory under a spray of addresses.
const MAX_TRACKED: usize = 100_000;

/// Allows `per_minute` attempts per address per minute, in bursts of up to `per_minute`.
#[derive(Debug)]
pub struct Throttle {
    per_minute: u32,
    trusted: TrustedProxies,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Throttle {
    /// A throttle allowing `per_minute` attempts per address; 0 turns it off. Requests from
    /// a `trusted` proxy count against the client its `X-Forwarded-For` names.
    pub fn new(per_minute: u32, trusted: TrustedProxies) -> Self {
        Self {
            per_minute,
            trusted,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for `addr`, or says how long to wait for the next.
    pub fn check(&self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let key = bucket_key(addr);
        // A poisoned lock only means another request panicked mid-update; the map is still sound.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            buckets.retain(|_, b| b.refilled(now, per_second, capacity) < capacity);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        bucket.tokens = bucket.refilled(now, per_second, capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

impl Throttle {
    /// The client behind `peer`: the nearest address in `X-Forwarded-For` that is not a
    /// trusted proxy, when `peer` is one; otherwise `peer` itself. Read from the right,
    /// since a client can put anything at the left of the header.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.trusted.is_empty() || !self.trusted.contains(peer) {
            return peer;
        }
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(addr) if self.trusted.contains(addr) => continue,
                Ok(addr) => return addr,
                // Garbage from a hop we trust to append correctly: stop believing the header.
                Err(_) => return peer,
            }
        }
        peer
    }
}

impl Bucket {
    fn refilled(&self, now: Instant, per_second: f64, capacity: f64) -> f64 {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        (self.tokens + elapsed * per_second).min(capacity)
    }
}

/// IPv6 clients usually own a whole /64, so an address per attempt must not mean a bucket
/// per attempt.
fn bucket_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6([s[0], s[1], s[2], s[3], 0, 0, 0, 0].into())
            }
        },
        v4 => v4,
    }
}

/// Middleware for the routes that hash a password.
pub async fn limit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let client = state.throttle.client(peer.ip(), request.headers());
    match state.throttle.check(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            ApiError::TooManyRequests(wait.as_secs_f64().ceil().max(1.0) as u64).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_refills_over_time() {
        let throttle = Throttle::new(3, TrustedProxies::default());
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(throttle.check(ip, t0).is_ok());
        }
        let wait = throttle.check(ip, t0).expect_err("fourth is throttled");
        assert!(
            wait > Duration::from_secs(19) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(
            throttle.check(ip, t0 + Duration::from_secs(20)).is_ok(),
            "one token back after 20 s"
        );
    }

    #[test]
    fn addresses_are_throttled_separately() {
        let throttle = Throttle::new(1, TrustedProxies::default());
        let t0 = Instant::now();
        assert!(throttle.check("192.0.2.1".parse().expect("ip"), t0).is_ok());
        assert!(throttle.check("192.0.2.2".parse().expect("ip"), t0).is_ok());
        assert!(
            throttle
                .check("192.0.2.1".parse().expect("ip"), t0)
                .is_err()
        );
    }

    #[test]
    fn one_ipv6_slash_64_shares_a_bucket() {
        let throttle = Throttle::new(1, TrustedProxies::default());
        let t0 = Instant::now();
        assert!(
            throttle
                .check("2001:db8:1:2::1".parse().expect("ip"), t0)
                .is_ok()
        );
        assert!(
            throttle
                .check("2001:db8:1:2::ffff".parse().expect("ip"), t0)
                .is_err()
        );
    }

    #[test]
    fn zero_turns_it_off() {
        let throttle = Throttle::new(0, TrustedProxies::default());
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        assert!((0..1000).all(|_| throttle.check(ip, Instant::now()).is_ok()));
    }

    #[test]
    fn behind_a_trusted_proxy_the_forwarded_client_is_throttled() {
        let trusted = TrustedProxies::try_from("10.0.0.0/8".to_owned()).expect("valid");
        let throttle = Throttle::new(1, trusted);
        let headers = |value: &str| {
            let mut map = HeaderMap::new();
            map.insert("x-forwarded-for", value.parse().expect("header"));
            map
        };
        let lb: IpAddr = "10.0.0.2".parse().expect("ip");
        let client = |h: &HeaderMap| throttle.client(lb, h);
        // The client's own claim at the left is not believed; the balancer appended the peer.
        assert_eq!(
            client(&headers("6.6.6.6, 198.51.100.7")).to_string(),
            "198.51.100.7"
        );
        assert_eq!(
            client(&headers("198.51.100.7, 10.0.0.9")).to_string(),
            "198.51.100.7"
        );
        assert_eq!(client(&HeaderMap::new()), lb, "no header: the peer");
        assert_eq!(client(&headers("nonsense")), lb);
        let stranger: IpAddr = "203.0.113.5".parse().expect("ip");
        assert_eq!(
            throttle.client(stranger, &headers("198.51.100.7")),
            stranger,
            "an untrusted peer's header is ignored"
        );
        // Two clients behind one balancer have a bucket each.
        let now = Instant::now();
        assert!(
            throttle
                .check(client(&headers("198.51.100.7")), now)
                .is_ok()
        );
        assert!(
            throttle
                .check(client(&headers("198.51.100.8")), now)
                .is_ok()
        );
        assert!(
            throttle
                .check(client(&headers("198.51.100.7")), now)
                .is_err()
        );
    }
}
