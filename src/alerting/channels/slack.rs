//! `slack`: a Slack incoming webhook. One message per delivery: `text` (what notifications
//! and old clients show) and a section block per event, grouped.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http::origin_only;
use super::{ChannelError, Deliver, Guard, Notice, Outbound, Settings, text};

/// Slack allows 50 blocks; the rest are only in `text`.
const MAX_BLOCKS: usize = 40;

/// A Slack channel's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The incoming webhook URL (it is the secret, so it is never shown whole).
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

/// The message Slack is sent.
pub fn message(notices: &[Notice]) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": text::title(notices)},
    })];
    blocks.extend(
        notices
            .iter()
            .take(MAX_BLOCKS)
            .map(|n| json!({"type": "section", "text": {"type": "mrkdwn", "text": text::line(n)}})),
    );
    json!({
        "text": format!("{}\n{}", text::title(notices), text::body(notices)),
        "blocks": blocks,
    })
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
