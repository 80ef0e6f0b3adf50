//! `ntfy`: a message published to an ntfy topic (ntfy.sh or a self-hosted server), as
//! JSON to the server's root, with a bearer token when the topic is protected.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ChannelError, Deliver, Guard, Notice, Outbound, Settings, is_set, text};
use crate::alerting::EventKind;

const DEFAULT_SERVER: &str = "https://ntfy.sh";

/// An ntfy channel's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The server; ntfy.sh when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The topic.
    pub topic: String,
    /// An access token for a protected topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl Config {
    fn server(&self) -> &str {
        self.server.as_deref().unwrap_or(DEFAULT_SERVER)
    }
}

impl Settings for Config {
    fn check(&self, guard: &Guard) -> Result<(), ChannelError> {
        guard.url("server", self.server())?;
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if self.topic.is_empty() || self.topic.len() > 64 || !self.topic.chars().all(valid) {
            return Err(ChannelError::invalid(
                "topic",
                "must be 1 to 64 letters, digits, `-` or `_`",
            ));
        }
        Ok(())
    }

    fn public(&self) -> Value {
        json!({ "server": self.server(), "topic": self.topic, "token": is_set(&self.token) })
    }
}

/// The message published.
pub fn message(topic: &str, notices: &[Notice]) -> Value {
    let urgent = notices.iter().any(|n| n.event == EventKind::Down);
    let all_up = notices.iter().all(|n| n.event == EventKind::Up);
    let tag = if all_up {
        "white_check_mark"
    } else if urgent {
        "rotating_light"
    } else {
        "warning"
    };
    json!({
        "topic": topic,
        "title": text::title(notices),
        "message": text::body(notices),
        "priority": if urgent { 4 } else { 3 },
        "tags": [tag],
    })
}

#[async_trait]
impl Deliver for Config {
    fn groups(&self) -> bool {
        true
    }

    async fn deliver(&self, out: &Outbound, notices: &[Notice]) -> Result<(), String> {
        let url = url::Url::parse(self.server()).map_err(|e| format!("server: {e}"))?;
        let body = serde_json::to_vec(&message(&self.topic, notices)).map_err(|e| e.to_string())?;
        let mut headers = Vec::new();
        if let Some(token) = &self.token {
            headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
        }
        out.post_json(&url, &headers, body).await.map(|_| ())
    }
}
