//! `discord`: a Discord webhook. One message per delivery: `content` with the title and an
//! embed per event (Discord takes at most ten; the rest are listed in `content`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http::origin_only;
use super::{ChannelError, Deliver, Guard, Notice, Outbound, Settings, text};
use crate::alerting::EventKind;

const MAX_EMBEDS: usize = 10;
const MAX_CONTENT: usize = 2000;

/// A Discord channel's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The webhook URL (it holds the token, so it is never shown whole).
    pub url: String,
}

impl Settings for Config {
    fn check(&self, guard: &Guard) -> Result<(), ChannelError> {
        guard.url("url", &self.url).map(|_| ())
    }

    fn public(&self) -> Value {
        json!({ "url": origin_only(&self.url) })
    }
}

fn color(event: EventKind) -> u32 {
    match event {
        EventKind::Down | EventKind::Reminder => 0xd6_3031,
        EventKind::Up => 0x2e_a043,
        EventKind::Degraded | EventKind::CertificateExpiring => 0xe3_b341,
        EventKind::Test => 0x58_6069,
    }
}

/// The message Discord is sent.
pub fn message(notices: &[Notice]) -> Value {
    let mut content = text::title(notices);
    for n in notices.iter().skip(MAX_EMBEDS) {
        content.push('\n');
        content.push_str(&text::line(n));
    }
    let content: String = content.chars().take(MAX_CONTENT).collect();
    let embeds: Vec<Value> = notices
        .iter()
        .take(MAX_EMBEDS)
        .map(|n| {
            json!({
                "title": text::label(n.event),
                "description": text::line(n),
                "color": color(n.event),
                "timestamp": text::rfc3339(n.at),
            })
        })
        .collect();
    json!({"username": "tocsin", "content": content, "embeds": embeds})
}

#[async_trait]
impl Deliver for Config {
    fn groups(&self) -> bool {
        true
    }

    async fn deliver(&self, out: &Outbound, notices: &[Notice]) -> Result<(), String> {
        let url = url::Url::parse(&self.url).map_err(|e| format!("url: {e}"))?;
        let body = serde_json::to_vec(&message(notices)).map_err(|e| e.to_string())?;
        out.post_json(&url, &[], body).await.map(|_| ())
    }
}
