//! What the Redis in use keeps on disk. A Redis with neither an append-only file nor RDB
//! snapshots loses everything it holds when it restarts, results waiting in the stream
//! included; tocsin cannot fix that, but it says so: a warning in the log and a field in
//! `/readyz`, re-checked every minute and whenever the link moves to another server.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::Value;

/// How often the answer is refreshed while the server stays the same.
const REFRESH: Duration = Duration::from_secs(60);

/// A Redis server's persistence, from `CONFIG GET appendonly` and `CONFIG GET save`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Not asked yet, or the server would not say (CONFIG forbidden, as on managed services).
    Unknown,
    /// Neither AOF nor RDB: a restart loses everything.
    None,
    /// An append-only file.
    Aof,
    /// RDB snapshots only: a restart loses what came after the last snapshot.
    Rdb,
    /// Both.
    AofAndRdb,
}

impl Persistence {
    /// The name `/readyz` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::None => "none",
            Self::Aof => "aof",
            Self::Rdb => "rdb",
            Self::AofAndRdb => "aof+rdb",
        }
    }

    /// Reads the two `CONFIG GET` answers (RESP2 arrays or RESP3 maps of name → value).
    pub fn from_config(appendonly: &Value, save: &Value) -> Self {
        let aof = config_value(appendonly).map(|v| v.eq_ignore_ascii_case("yes"));
        let rdb = config_value(save).map(|v| !v.trim().is_empty());
        match (aof, rdb) {
            (Some(true), Some(true)) => Self::AofAndRdb,
            (Some(true), _) => Self::Aof,
            (Some(false), Some(true)) => Self::Rdb,
            (Some(false), Some(false)) => Self::None,
            _ => Self::Unknown,
        }
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(text) => Some(text.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// The value of a one-parameter `CONFIG GET` answer.
fn config_value(value: &Value) -> Option<String> {
    match value {
        Value::Array(items) => items.get(1).and_then(text),
        Value::Map(pairs) => pairs.first().and_then(|(_, v)| text(v)),
        _ => None,
    }
}

/// The last answer and when it was had.
#[derive(Debug)]
pub(super) struct Durability {
    state: Mutex<(Persistence, Option<Instant>)>,
}

impl Default for Durability {
    fn default() -> Self {
        Self {
            state: Mutex::new((Persistence::Unknown, None)),
        }
    }
}

impl Durability {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Persistence, Option<Instant>)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The last answer.
    pub fn get(&self) -> Persistence {
        self.lock().0
    }

    /// Whether it is time to ask again.
    pub fn due(&self) -> bool {
        self.lock().1.is_none_or(|at| at.elapsed() >= REFRESH)
    }

    /// The server changed: ask at the next chance.
    pub fn stale(&self) {
        self.lock().1 = None;
    }

    /// Keeps a new answer, warning when it turned to "nothing on disk".
    pub fn record(&self, persistence: Persistence) {
        let previous = {
            let mut state = self.lock();
            let previous = state.0;
            *state = (persistence, Some(Instant::now()));
            previous
        };
        if persistence == Persistence::None && previous != Persistence::None {
            tracing::warn!(
                "the Redis that buffers results persists nothing (appendonly no, no save \
                 points): a Redis restart loses the results it holds; turn on AOF \
                 (deploy/redis/redis.conf)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str, value: &str) -> Value {
        Value::Array(vec![
            Value::BulkString(name.as_bytes().to_vec()),
            Value::BulkString(value.as_bytes().to_vec()),
        ])
    }

    #[test]
    fn reads_both_settings_in_both_protocols() {
        let p = |aof, save| Persistence::from_config(&pair("appendonly", aof), &pair("save", save));
        assert_eq!(p("yes", "3600 1 300 100"), Persistence::AofAndRdb);
        assert_eq!(p("yes", ""), Persistence::Aof);
        assert_eq!(p("no", "60 1"), Persistence::Rdb);
        assert_eq!(p("no", ""), Persistence::None);
        let map = |name: &str, value: &str| {
            Value::Map(vec![(
                Value::BulkString(name.as_bytes().to_vec()),
                Value::BulkString(value.as_bytes().to_vec()),
            )])
        };
        assert_eq!(
            Persistence::from_config(&map("appendonly", "no"), &map("save", "")),
            Persistence::None
        );
        assert_eq!(
            Persistence::from_config(&Value::Nil, &pair("save", "")),
            Persistence::Unknown
        );
    }
}
