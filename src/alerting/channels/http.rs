//! What deliveries go out through: the HTTP client (its own pool, apart from the probe's),
//! whose resolver applies the same address guard as check targets, and the SMTP relay.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::ChannelError;
use super::email::Smtp;
use crate::monitor::Networks;
use crate::monitor::address::{how_to_allow, refusal};

/// The longest answer body quoted in an error.
const QUOTED: usize = 300;

/// Which addresses deliveries may reach: the check targets' rule
/// (`TOCSIN_ALLOW_PRIVATE_TARGETS`, `TOCSIN_ALLOWED_PRIVATE_NETWORKS`).
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Every internal address allowed.
    pub allow_private: bool,
    /// Private networks allowed.
    pub networks: Networks,
}

impl Guard {
    /// Why `ip` may not be reached, or `None`.
    fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        refusal(ip, self.allow_private, &self.networks)
    }

    /// Parses `raw` as an http(s) URL with a host that is no refused literal address.
    pub fn url(&self, field: &str, raw: &str) -> Result<Url, ChannelError> {
        let url = Url::parse(raw.trim())
            .map_err(|e| ChannelError::invalid(field, format!("is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ChannelError::invalid(
                field,
                "must be an http:// or https:// URL",
            ));
        }
        self.host(field, &url)?;
        Ok(url)
    }

    fn host(&self, field: &str, url: &Url) -> Result<(), ChannelError> {
        let ip = match url.host() {
            None => return Err(ChannelError::invalid(field, "has no host")),
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        };
        match self.refusal(ip) {
            Some(reason) => Err(ChannelError::Blocked(format!(
                "{field}: {ip} is a {reason} address and {}",
                how_to_allow(reason)
            ))),
            None => Ok(()),
        }
    }
}

/// Resolves names and drops the addresses the guard refuses, so a name pointing inside
/// is caught at connect time (and a later change of its DNS answer too).
struct GuardedResolver(Guard);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match guard.refusal(a.ip()) {
                    Some(reason) => {
                        refused = Some((a.ip(), reason));
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                let message = match refused {
                    Some((ip, reason)) => format!(
                        "{host} resolves to {ip}, a {reason} address, and {}",
                        how_to_allow(reason)
                    ),
                    None => format!("{host} resolves to no address"),
                };
                return Err(message.into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Everything a delivery may use. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    http: reqwest::Client,
    guard: Guard,
    /// The SMTP relay, when the server has one (`TOCSIN_SMTP_URL`).
    pub smtp: Option<Arc<Smtp>>,
}

impl Outbound {
    /// A client whose requests time out after `timeout` and reach only what `guard`
    /// allows; follows no redirect (a redirect could lead past the guard).
    pub fn new(guard: Guard, timeout: Duration, smtp: Option<Smtp>) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver(guard.clone())))
            .user_agent(concat!("tocsin/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the notification HTTP client: {e}"))?;
        Ok(Self {
            http,
            guard,
            smtp: smtp.map(Arc::new),
        })
    }

    /// POSTs `body` as JSON to `url` with `headers`; the answer's body when it is a 2xx,
    /// otherwise an error quoting its status and the start of its body. Errors never
    /// contain the URL, which may hold a token (Slack, Discord, Telegram).
    pub async fn post_json(
        &self,
        url: &Url,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<String, String> {
        self.guard.host("url", url).map_err(|e| e.to_string())?;
        let mut request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(describe)?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(text)
        } else {
            let quoted: String = text.chars().take(QUOTED).collect();
            Err(format!("the receiver answered {status}: {}", quoted.trim()))
        }
    }
}

/// A transport error in words, without the URL.
fn describe(error: reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let error = error.without_url();
    let mut message = format!("{what}: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

/// A URL as the API shows it when it may hold a secret: scheme, host and port only.
pub fn origin_only(url: &str) -> String {
    match Url::parse(url) {
        Ok(url) => format!("{}/…", url.origin().ascii_serialization()),
        Err(_) => "…".to_owned(),
    }
}

/// A URL without its credentials and query, where a token would usually be.
pub fn without_secrets(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        Err(_) => "…".to_owned(),
    }
}
