//! `webhook`: one JSON POST per event to any URL, with `X-Tocsin-Event-Id` (the same on
//! every attempt) and, with a secret, `X-Tocsin-Signature: sha256=<hex HMAC-SHA256 of the
//! body>` so the receiver can tell tocsin's requests from anyone's.

use std::collections::BTreeMap;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use super::http::without_secrets;
use super::{ChannelError, Deliver, Guard, Notice, Outbound, Settings, is_set};

const MAX_HEADERS: usize = 20;

/// A webhook's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where to POST.
    pub url: String,
    /// Extra request headers (an `Authorization`, say); their values are never shown.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The HMAC key the body is signed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl Settings for Config {
    fn check(&self, guard: &Guard) -> Result<(), ChannelError> {
        guard.url("url", &self.url)?;
        if self.headers.len() > MAX_HEADERS {
            return Err(ChannelError::invalid(
                "headers",
                format!("at most {MAX_HEADERS} headers"),
            ));
        }
        for (name, value) in &self.headers {
            let field = format!("headers.{name}");
            let parsed = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ChannelError::invalid(&field, "is not a valid header name"))?;
            if parsed == http::header::CONTENT_TYPE
                || parsed.as_str().starts_with("x-tocsin-")
                || parsed == http::header::HOST
            {
                return Err(ChannelError::invalid(&field, "is set by tocsin itself"));
            }
            http::HeaderValue::from_str(value)
                .map_err(|_| ChannelError::invalid(&field, "is not a valid header value"))?;
        }
        if let Some(secret) = &self.secret
            && !(1..=256).contains(&secret.len())
        {
            return Err(ChannelError::invalid("secret", "must be 1 to 256 bytes"));
        }
        Ok(())
    }

    fn public(&self) -> Value {
        json!({
            "url": without_secrets(&self.url),
            "headers": self.headers.keys().collect::<Vec<_>>(),
            "secret": is_set(&self.secret),
        })
    }
}

/// The body of one event, as documented in the README.
pub fn body(notice: &Notice) -> Value {
    json!({
        "id": notice.event_id,
        "event": notice.event.as_str(),
        "monitor": notice.monitor.as_ref().map(|m| json!({
            "id": m.id, "name": m.name, "url": m.url,
        })),
        "incident": notice.incident.as_ref().map(|i| json!({
            "id": i.id.0,
            "kind": i.kind.as_str(),
            "started_at": super::text::rfc3339(i.started_at),
            "resolved_at": i.resolved_at.map(super::text::rfc3339),
        })),
        "cause": notice.cause.as_ref().map(|c| json!({
            "kind": c.kind, "message": c.message, "status_code": c.status_code,
        })),
        "at": super::text::rfc3339(notice.at),
    })
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> Result<String, String> {
    // HMAC takes a key of any length; the error case is the trait's, never met.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .map_err(|e| format!("cannot sign the body: {e}"))?;
    mac.update(body);
    Ok(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

#[async_trait]
impl Deliver for Config {
    fn groups(&self) -> bool {
        false
    }

    async fn deliver(&self, out: &Outbound, notices: &[Notice]) -> Result<(), String> {
        let url = url::Url::parse(&self.url).map_err(|e| format!("url: {e}"))?;
        for notice in notices {
            let body = serde_json::to_vec(&body(notice)).map_err(|e| e.to_string())?;
            let mut headers: Vec<(String, String)> = self
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            headers.push(("X-Tocsin-Event-Id".into(), notice.event_id.to_string()));
            headers.push(("X-Tocsin-Event".into(), notice.event.as_str().into()));
            if let Some(secret) = &self.secret {
                headers.push(("X-Tocsin-Signature".into(), signature(secret, &body)?));
            }
            out.post_json(&url, &headers, body).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?").as_deref(),
            Ok("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }
}
