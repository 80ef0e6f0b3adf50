//! `email`: one message to a list of addresses through the server's SMTP relay
//! (`TOCSIN_SMTP_URL`: `smtp://` with STARTTLS required, `smtps://` with TLS from the
//! first byte; `smtp://…?tls=none` only for a relay on a trusted network), from
//! `TOCSIN_SMTP_FROM`. The URL's credentials are never shown or logged.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ChannelError, Deliver, Guard, Notice, Outbound, Settings, text};

const MAX_RECIPIENTS: usize = 20;

/// An email channel's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The recipients.
    pub to: Vec<String>,
}

impl Settings for Config {
    fn check(&self, _guard: &Guard) -> Result<(), ChannelError> {
        if self.to.is_empty() || self.to.len() > MAX_RECIPIENTS {
            return Err(ChannelError::invalid(
                "to",
                format!("must list 1 to {MAX_RECIPIENTS} addresses"),
            ));
        }
        for (i, to) in self.to.iter().enumerate() {
            to.parse::<Address>().map_err(|e| {
                ChannelError::invalid(
                    &format!("to[{i}]"),
                    format!("`{to}` is not an email address ({e})"),
                )
            })?;
        }
        Ok(())
    }

    fn public(&self) -> Value {
        json!({ "to": self.to })
    }
}

/// The server's SMTP relay and sender.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Smtp {
    /// The relay `url` names (see the module), sending as `from`, each session bounded by
    /// `timeout`; its certificate must chain to the web's roots, or to the PEM CA
    /// certificates in `ca` (`TOCSIN_SMTP_CA`) when given. The error names the setting at
    /// fault, never the password.
    pub fn new(
        url: &str,
        from: &str,
        timeout: Duration,
        ca: Option<&std::path::Path>,
    ) -> Result<Self, String> {
        let parsed =
            url::Url::parse(url).map_err(|e| format!("TOCSIN_SMTP_URL is not a URL ({e})"))?;
        let host = parsed
            .host_str()
            .ok_or("TOCSIN_SMTP_URL has no host")?
            .trim_matches(['[', ']'])
            .to_owned();
        let plain = parsed.query_pairs().any(|(k, v)| k == "tls" && v == "none");
        let ca = match ca {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| format!("TOCSIN_SMTP_CA: cannot read {}: {e}", path.display()))?;
                Some(Certificate::from_pem(&pem).map_err(|e| {
                    format!(
                        "TOCSIN_SMTP_CA: {} holds no PEM certificate: {e}",
                        path.display()
                    )
                })?)
            }
            None => None,
        };
        let tls = || {
            let mut builder = TlsParameters::builder(host.clone());
            if let Some(ca) = &ca {
                builder = builder.add_root_certificate(ca.clone());
            }
            builder
                .build_rustls()
                .map_err(|e| format!("TOCSIN_SMTP_URL: cannot set up TLS for {host}: {e}"))
        };
        let (tls, default_port) = match parsed.scheme() {
            "smtps" => (Tls::Wrapper(tls()?), 465),
            "smtp" if plain => (Tls::None, 25),
            "smtp" => (Tls::Required(tls()?), 587),
            other => {
                return Err(format!(
                    "TOCSIN_SMTP_URL: the scheme must be smtp:// or smtps:// (got {other}://)"
                ));
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
            .port(parsed.port().unwrap_or(default_port))
            .tls(tls)
            .timeout(Some(timeout));
        if !parsed.username().is_empty() {
            let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            builder = builder.credentials(Credentials::new(
                decode(parsed.username()),
                decode(parsed.password().unwrap_or_default()),
            ));
        }
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("TOCSIN_SMTP_FROM: `{from}` is not an email address ({e})"))?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Deliver for Config {
    fn groups(&self) -> bool {
        true
    }

    async fn deliver(&self, out: &Outbound, notices: &[Notice]) -> Result<(), String> {
        let smtp = out
            .smtp
            .as_ref()
            .ok_or("email is not set up on this server (TOCSIN_SMTP_URL and TOCSIN_SMTP_FROM)")?;
        let mut message = Message::builder()
            .from(smtp.from.clone())
            .subject(text::title(notices));
        for to in &self.to {
            let to: Mailbox = to.parse().map_err(|e| format!("to `{to}`: {e}"))?;
            message = message.to(to);
        }
        let ids: Vec<String> = notices.iter().map(|n| n.event_id.to_string()).collect();
        let message = message
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .header(EventIds(ids.join(",")))
            .body(text::body(notices))
            .map_err(|e| format!("cannot build the message: {e}"))?;
        smtp.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("the SMTP relay refused or failed: {e}"))
    }
}

/// `X-Tocsin-Event-Ids`: the events a message announces, for filters and deduplication.
#[derive(Clone)]
struct EventIds(String);

impl lettre::message::header::Header for EventIds {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("X-Tocsin-Event-Ids")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}
