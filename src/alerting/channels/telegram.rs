//! `telegram`: a message to a chat through a bot (`sendMessage` of the Bot API). The bot
//! token is part of the request's URL, so it is never shown and errors never quote the URL.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ChannelError, Deliver, Guard, Notice, Outbound, Settings, text, text_field};

const DEFAULT_API: &str = "https://api.telegram.org";
/// Telegram refuses longer messages.
const MAX_TEXT: usize = 4096;

/// A Telegram channel's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The bot's token, from BotFather.
    pub bot_token: String,
    /// The chat: a numeric id or `@channelname`.
    pub chat_id: String,
    /// The Bot API's base URL; api.telegram.org when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

impl Config {
    fn base(&self) -> &str {
        self.base_url.as_deref().unwrap_or(DEFAULT_API)
    }
}

impl Settings for Config {
    fn check(&self, guard: &Guard) -> Result<(), ChannelError> {
        guard.url("base_url", self.base())?;
        text_field("bot_token", &self.bot_token, 200)?;
        if self.bot_token.contains(['/', '?', '#', ' ']) {
            return Err(ChannelError::invalid("bot_token", "is not a bot token"));
        }
        text_field("chat_id", &self.chat_id, 100)
    }

    fn public(&self) -> Value {
        json!({ "chat_id": self.chat_id, "base_url": self.base(), "bot_token": true })
    }
}

/// The `sendMessage` body.
pub fn message(chat_id: &str, notices: &[Notice]) -> Value {
    let text: String = format!("{}\n{}", text::title(notices), text::body(notices))
        .chars()
        .take(MAX_TEXT)
        .collect();
    json!({"chat_id": chat_id, "text": text, "disable_web_page_preview": true})
}

#[async_trait]
impl Deliver for Config {
    fn groups(&self) -> bool {
        true
    }

    async fn deliver(&self, out: &Outbound, notices: &[Notice]) -> Result<(), String> {
        let url = url::Url::parse(&format!(
            "{}/bot{}/sendMessage",
            self.base().trim_end_matches('/'),
            self.bot_token
        ))
        .map_err(|_| "base_url or bot_token does not make a URL".to_owned())?;
        let body =
            serde_json::to_vec(&message(&self.chat_id, notices)).map_err(|e| e.to_string())?;
        let answer = out.post_json(&url, &[], body).await?;
        // The Bot API says `{"ok": false, "description": …}` on some refusals with a 200.
        match serde_json::from_str::<Value>(&answer) {
            Ok(json) if json["ok"] == Value::Bool(false) => Err(format!(
                "Telegram refused the message: {}",
                json["description"].as_str().unwrap_or("no reason given")
            )),
            _ => Ok(()),
        }
    }
}
