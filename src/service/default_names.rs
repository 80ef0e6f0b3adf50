//! Names left to their default (the host) are made unique in the account: the first
//! monitor of a host is named after it, the next ones `host (2)`, `host (3)`… The last
//! number given per account and host is remembered, so creating many monitors of one host
//! (the seed's `POST /url` under load) costs one insert each, not a walk over the taken
//! names; after a restart, or beside another instance, a taken number only moves the walk on.

use std::collections::HashMap;
use std::sync::Mutex;

use super::monitors::named;
use super::{Monitors, ServiceError};
use crate::auth::UserId;
use crate::monitor::{MAX_NAME_CHARS, Monitor, MonitorSpec};
use crate::store::StoreError;

/// Numbers tried before giving up; after the first few they double, so even an account
/// with many monitors of one host finds a free number in a few tries.
const PROBES: u32 = 48;

/// Numbers tried one after the other before doubling.
const LINEAR: u32 = 8;

/// Entries remembered before the memory starts afresh.
const MAX_REMEMBERED: usize = 10_000;

/// The last number given per account and default name.
#[derive(Debug, Default)]
pub(super) struct Suffixes(Mutex<HashMap<(UserId, String), u64>>);

impl Suffixes {
    /// The number after the last one given, taken at once so that creations running
    /// together (committed in one transaction) try different numbers, not the same one.
    fn claim(&self, owner: UserId, base: &str) -> Option<u64> {
        let mut map = self.0.lock().ok()?;
        let last = map.get_mut(&(owner, base.to_owned()))?;
        *last += 1;
        Some(*last)
    }

    fn remember(&self, owner: UserId, base: String, n: u64) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= MAX_REMEMBERED {
                map.clear();
            }
            let last = map.entry((owner, base)).or_insert(n);
            *last = (*last).max(n);
        }
    }
}

impl Monitors {
    /// Creates a monitor whose name was left to its default, made unique.
    pub(super) async fn create_defaulted(
        &self,
        owner: UserId,
        spec: MonitorSpec,
    ) -> Result<Monitor, ServiceError> {
        let base = spec.name().to_owned();
        let claimed = self.suffixes.claim(owner, &base);
        if claimed.is_none() {
            match self
                .store
                .create_monitor(owner, &spec, self.max_per_user)
                .await
            {
                Err(StoreError::Conflict("name")) => {}
                other => return other.map_err(|e| named(e, &base)),
            }
        }
        // Room for ` (n)` within the longest name.
        let short: String = base.chars().take(MAX_NAME_CHARS - 24).collect();
        let mut n = claimed.unwrap_or(2);
        for probe in 0..PROBES {
            let name = format!("{short} ({n})");
            let mut draft = spec.to_draft();
            draft.name = Some(name.clone());
            let renamed = MonitorSpec::parse(draft, &self.rules)?;
            match self
                .store
                .create_monitor(owner, &renamed, self.max_per_user)
                .await
            {
                Err(StoreError::Conflict("name")) => {
                    n = if probe < LINEAR {
                        let next = n + 1;
                        self.suffixes
                            .claim(owner, &base)
                            .map_or(next, |c| c.max(next))
                    } else {
                        n.saturating_mul(2)
                    };
                }
                Ok(monitor) => {
                    self.suffixes.remember(owner, base, n);
                    return Ok(monitor);
                }
                Err(e) => return Err(named(e, &name)),
            }
        }
        Err(ServiceError::NameTaken(base))
    }
}
