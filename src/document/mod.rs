//! One document for a whole account: its monitors and channels keyed by name, in YAML or
//! JSON, as
//! `tocsin apply` sends it and `GET /api/v1/export` answers it. Parsing names the monitor
//! and the field at fault, with the line when the input has lines; the monitor rules are
//! checked later, by [`MonitorSpec`](crate::monitor::MonitorSpec), and [`Document::locate`]
//! finds their line.

mod channel;
pub mod import;
mod lines;
mod monitor;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use channel::{DocChannel, first_reference, secret_fields};
pub use monitor::DocMonitor;

/// A whole account's monitors (and, when written, channels).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Every monitor, keyed by its name (unique in an account).
    #[serde(default)]
    pub monitors: BTreeMap<String, DocMonitor>,
    /// Every channel, keyed by its name; `None` when the document leaves the account's
    /// channels alone (then even `prune` keeps them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<BTreeMap<String, DocChannel>>,
    /// Where each monitor and field was written, when the input had lines.
    #[serde(skip)]
    lines: lines::Lines,
}

/// The two spellings of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML (JSON is YAML too, so a JSON text parses as YAML, with lines).
    Yaml,
    /// JSON.
    Json,
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// The text is not YAML or JSON, or not a document's shape outside any monitor.
    #[error("{}{message}", at(*line))]
    Syntax {
        /// The line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A monitor's entry is wrong; names the monitor and, when one is at fault, the field.
    #[error("monitor `{monitor}`{}{}: {message}", field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default(), on(*line))]
    Monitor {
        /// The monitor's name.
        monitor: String,
        /// The field, when one is at fault.
        field: Option<String>,
        /// The line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A channel's entry is wrong; names the channel and, when one is at fault, the field.
    #[error("channel `{channel}`{}: {message}", field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
    Channel {
        /// The channel's name.
        channel: String,
        /// The field, when one is at fault.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
}

/// A refusal of `channel`'s `field`.
pub fn channel_error(channel: &str, field: Option<&str>, message: String) -> DocumentError {
    DocumentError::Channel {
        channel: channel.to_owned(),
        field: field.map(str::to_owned),
        message,
    }
}

fn at(line: Option<usize>) -> String {
    line.map(|l| format!("line {l}: ")).unwrap_or_default()
}

fn on(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

impl Document {
    /// Parses a YAML or JSON text (JSON when it starts with `{`: YAML readers refuse some
    /// characters that JSON carries as they are).
    pub fn from_yaml(text: &str) -> Result<Self, DocumentError> {
        if text.trim_start().starts_with('{') {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            let document: Self =
                serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
                    let message = strip_location(&e.inner().to_string());
                    refused(e.path(), Some(e.inner().line()), message)
                })?;
            deserializer.end().map_err(|e| DocumentError::Syntax {
                line: Some(e.line()),
                message: strip_location(&e.to_string()),
            })?;
            document.check_names()?;
            return Ok(document);
        }
        let deserializer = serde_norway::Deserializer::from_str(text);
        let mut document: Self = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let line = e.inner().location().map(|l| l.line());
            let message = strip_location(&e.inner().to_string());
            // serde_norway starts with the path too, which the error words its own way.
            let path = format!("{}: ", e.path());
            let message = message.strip_prefix(&path).unwrap_or(&message).to_owned();
            refused(e.path(), line, message)
        })?;
        document.lines = lines::Lines::scan(text);
        document.check_names()?;
        Ok(document)
    }

    /// Parses a JSON value (a document sent inline in a JSON body: no lines).
    pub fn from_json(value: serde_json::Value) -> Result<Self, DocumentError> {
        let document: Self = serde_path_to_error::deserialize(value)
            .map_err(|e| refused(e.path(), None, e.inner().to_string()))?;
        document.check_names()?;
        Ok(document)
    }

    /// The document in `format`.
    pub fn render(&self, format: Format) -> Result<String, DocumentError> {
        let failed = |e: String| DocumentError::Syntax {
            line: None,
            message: format!("cannot write the document: {e}"),
        };
        match format {
            Format::Yaml => serde_norway::to_string(self).map_err(|e| failed(e.to_string())),
            Format::Json => serde_json::to_string_pretty(self)
                .map(|mut text| {
                    text.push('\n');
                    text
                })
                .map_err(|e| failed(e.to_string())),
        }
    }

    /// The line of `monitor`'s `field` (or of the monitor itself when the field is not
    /// written, or is `None`), when the input had lines.
    pub fn locate(&self, monitor: &str, field: Option<&str>) -> Option<usize> {
        self.lines.find(monitor, field)
    }

    /// A refusal of `monitor`'s `field`, with its line.
    pub fn error(&self, monitor: &str, field: Option<&str>, message: String) -> DocumentError {
        DocumentError::Monitor {
            monitor: monitor.to_owned(),
            field: field.map(str::to_owned),
            line: self.locate(monitor, field),
            message,
        }
    }

    fn check_names(&self) -> Result<(), DocumentError> {
        for name in self.monitors.keys() {
            if name.trim() != name || name.is_empty() {
                return Err(self.error(
                    name,
                    None,
                    "a monitor's name may not be empty or start or end with a space".into(),
                ));
            }
        }
        for (name, entry) in self.channels.iter().flatten() {
            let length = name.chars().count();
            if name.trim() != name || length == 0 || length > crate::service::channels::MAX_NAME {
                return Err(channel_error(
                    name,
                    None,
                    format!(
                        "a channel's name must be 1 to {} characters, not starting or ending \
                         with a space",
                        crate::service::channels::MAX_NAME
                    ),
                ));
            }
            if entry
                .kind
                .parse::<crate::alerting::channels::ChannelKind>()
                .is_err()
            {
                return Err(channel_error(
                    name,
                    Some("kind"),
                    format!("`{}` is not a channel kind", entry.kind),
                ));
            }
            if entry.settings.contains_key("name") {
                return Err(channel_error(
                    name,
                    Some("name"),
                    "a channel's name is its key in `channels`".into(),
                ));
            }
        }
        Ok(())
    }
}

/// serde_norway and serde_json end their messages with ` at line L column C`; the line
/// is given apart.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message.to_owned(),
    }
}

/// A parse error at `path` (`monitors.<name>.<field>`), worded for the monitor when inside one.
fn refused(
    path: &serde_path_to_error::Path,
    line: Option<usize>,
    message: String,
) -> DocumentError {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = path.iter().collect();
    match segments.as_slice() {
        [
            Segment::Map { key },
            Segment::Map { key: channel_name },
            rest @ ..,
        ] if key == "channels" => {
            let field = rest.first().and_then(|s| match s {
                Segment::Map { key } => Some(key.clone()),
                _ => None,
            });
            DocumentError::Channel {
                channel: channel_name.clone(),
                field,
                message,
            }
        }
        [
            Segment::Map { key },
            Segment::Map { key: monitor },
            rest @ ..,
        ] if key == "monitors" => {
            let field = rest.first().and_then(|s| match s {
                Segment::Map { key } => Some(key.clone()),
                _ => None,
            });
            // An unknown field is reported at the monitor's level, naming it in the message.
            let field = field.or_else(|| unknown_field(&message));
            DocumentError::Monitor {
                monitor: monitor.clone(),
                field,
                line,
                message,
            }
        }
        _ => DocumentError::Syntax { line, message },
    }
}

/// The field serde names in "unknown field `x`, expected …".
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_owned())
}

#[cfg(test)]
mod tests;
