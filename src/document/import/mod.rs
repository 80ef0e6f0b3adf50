//! Other tools' configurations as tocsin documents: Gatus's `config.yaml` and Uptime Kuma's
//! backup. What has no place in tocsin is left out and named in a note, never guessed.

mod gatus;
mod kuma;

use super::{DocMonitor, Document};
use crate::monitor::conditions::Conditions;

pub use gatus::gatus;
pub use kuma::uptime_kuma;

/// A converted configuration.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// The tocsin document.
    pub document: Document,
    /// Each setting not carried over, and why.
    pub notes: Vec<String>,
}

impl Imported {
    /// Adds `monitor` under `wanted`, or `wanted (2)`… when the name is taken (names are
    /// unique in tocsin, not in every tool).
    fn add(&mut self, wanted: &str, monitor: DocMonitor) {
        let mut name = wanted.trim().to_owned();
        if name.is_empty() {
            name = "monitor".into();
        }
        let mut n = 1;
        while self.document.monitors.contains_key(&name) {
            n += 1;
            name = format!("{} ({n})", wanted.trim());
        }
        if n > 1 {
            self.notes.push(format!(
                "monitor `{wanted}`: the name is taken by another, so it is named `{name}`"
            ));
        }
        self.document.monitors.insert(name, monitor);
    }

    /// The conditions tocsin understands; each other one is named in a note.
    fn conditions(&mut self, monitor: &str, raw: Vec<String>) -> Option<Vec<String>> {
        let mut kept = Vec::new();
        for condition in raw {
            match Conditions::parse(std::slice::from_ref(&condition)) {
                Ok(_) => kept.push(condition),
                Err(why) => self.notes.push(format!(
                    "monitor `{monitor}`: condition `{condition}` ({why})"
                )),
            }
        }
        (!kept.is_empty()).then_some(kept)
    }
}

/// DNS record types tocsin queries.
const DNS_TYPES: [&str; 6] = ["A", "AAAA", "CNAME", "MX", "TXT", "NS"];

/// Seconds of a Gatus-style duration (`30s`, `5m`, `1h`), when whole.
fn seconds(duration: &str) -> Option<u32> {
    let parsed = humantime::parse_duration(duration.trim()).ok()?;
    u32::try_from(parsed.as_secs()).ok()
}

#[cfg(test)]
mod tests;
