//! `teams`: a Microsoft Teams incoming webhook (a Workflows "post to a channel when a
//! webhook request is received" URL), sent one Adaptive Card per delivery.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http::origin_only;
use super::{ChannelError, Deliver, Guard, Notice, Outbound, Settings, text};

/// A Teams channel's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The webhook URL (it holds a signature, so it is never shown whole).
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

/// The message Teams is sent: an Adaptive Card with a title and a line per event.
pub fn message(notices: &[Notice]) -> Value {
    let mut body = vec![json!({
        "type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true,
        "text": text::title(notices),
    })];
    body.extend(
        notices
            .iter()
            .map(|n| json!({"type": "TextBlock", "wrap": true, "text": text::line(n)})),
    );
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
            },
        }],
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
