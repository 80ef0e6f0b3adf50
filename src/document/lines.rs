//! Where each monitor and field of a YAML document was written, found by a scan of the
//! text's block structure, so that a rule broken by a field (checked after parsing) can
//! name its line. Flow-style YAML (`{…}`) and JSON have no such structure: then no line.

use std::collections::HashMap;

/// Lines (1-based) by monitor name and field (`None`: the monitor's own line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Lines(HashMap<(String, Option<String>), usize>);

impl Lines {
    /// Scans `text` for `monitors:` at the top level and the keys under it.
    pub(super) fn scan(text: &str) -> Self {
        let mut found = HashMap::new();
        let mut inside = false;
        let mut monitor_indent = None;
        let mut field_indent = None;
        let mut monitor: Option<String> = None;
        for (index, raw) in text.lines().enumerate() {
            let trimmed = raw.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = raw.len() - trimmed.len();
            if indent == 0 {
                inside = key(trimmed).as_deref() == Some("monitors");
                (monitor_indent, field_indent, monitor) = (None, None, None);
                continue;
            }
            if !inside {
                continue;
            }
            let monitor_level = *monitor_indent.get_or_insert(indent);
            if indent == monitor_level {
                monitor = key(trimmed);
                field_indent = None;
                if let Some(name) = &monitor {
                    found.insert((name.clone(), None), index + 1);
                }
            } else if indent > monitor_level
                && let Some(name) = &monitor
                && *field_indent.get_or_insert(indent) == indent
                && let Some(field) = key(trimmed)
            {
                found.insert((name.clone(), Some(field)), index + 1);
            }
        }
        Self(found)
    }

    /// The line of `monitor`'s `field`, or of the monitor when the field is not written.
    pub(super) fn find(&self, monitor: &str, field: Option<&str>) -> Option<usize> {
        let at = |field: Option<&str>| {
            self.0
                .get(&(monitor.to_owned(), field.map(str::to_owned)))
                .copied()
        };
        field.and_then(|f| at(Some(f))).or_else(|| at(None))
    }
}

/// The key of a `key: value` or `key:` line, unquoted; `None` for list items and the like.
fn key(line: &str) -> Option<String> {
    if line.starts_with("- ") || line == "-" {
        return None;
    }
    let (key, quoted) = match line.chars().next()? {
        quote @ ('"' | '\'') => {
            let end = line[1..].find(quote)? + 1;
            (&line[1..end], &line[end + 1..])
        }
        _ => {
            let colon = line
                .find(": ")
                .or_else(|| line.ends_with(':').then(|| line.len() - 1))?;
            (&line[..colon], &line[colon..])
        }
    };
    quoted.starts_with(':').then(|| key.trim().to_owned())
}
