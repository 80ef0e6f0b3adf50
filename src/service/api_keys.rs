//! API keys: an account makes long-lived keys for scripts and the command line, lists them
//! and revokes them; a request made with a key is authenticated here. Keys are looked up on
//! every request, so a revoked key stops working at once on every instance.

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;

use super::{Accounts, Caller, ServiceError};
use crate::auth::api_key::{self, Scope};
use crate::auth::{AuthError, UserId};
use crate::store::{ApiKey, NewApiKey};

/// The most keys one account may hold.
pub const MAX_KEYS_PER_ACCOUNT: u32 = 100;

/// The longest lifetime a key may be given, in days (ten years).
pub const MAX_EXPIRY_DAYS: u32 = 3650;

/// The longest key name, in characters.
pub const MAX_KEY_NAME_CHARS: usize = 100;

/// A key's last use is recorded at most this often, so reads stay reads.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// A key just made: the only time the key itself is seen.
pub struct CreatedKey {
    /// The key as listed.
    pub info: ApiKey,
    /// The key.
    pub key: SecretString,
}

impl Accounts {
    /// Makes a key for `owner`, named `name`, that may do what `scope` allows, expiring
    /// after `expires_in_days` if given.
    pub async fn create_api_key(
        &self,
        owner: UserId,
        name: &str,
        scope: Scope,
        expires_in_days: Option<u32>,
    ) -> Result<CreatedKey, ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_KEY_NAME_CHARS {
            return Err(ServiceError::Invalid(format!(
                "name: must be 1 to {MAX_KEY_NAME_CHARS} characters"
            )));
        }
        let expires_at = match expires_in_days {
            Some(days) if !(1..=MAX_EXPIRY_DAYS).contains(&days) => {
                return Err(ServiceError::Invalid(format!(
                    "expires_in_days: must be from 1 to {MAX_EXPIRY_DAYS} (got {days})"
                )));
            }
            Some(days) => Some(Utc::now() + Duration::days(i64::from(days))),
            None => None,
        };
        let new = api_key::generate();
        let info = self
            .store
            .create_api_key(
                owner,
                &NewApiKey {
                    name,
                    scope,
                    hash: &new.hash,
                    expires_at,
                },
                MAX_KEYS_PER_ACCOUNT,
            )
            .await
            .map_err(|e| match e {
                crate::store::StoreError::LimitReached { limit } => ServiceError::Invalid(format!(
                    "an account may hold at most {limit} API keys: revoke one first"
                )),
                other => other.into(),
            })?;
        Ok(CreatedKey { info, key: new.key })
    }

    /// The owner's keys, oldest first (never the keys themselves).
    pub async fn api_keys(&self, owner: UserId) -> Result<Vec<ApiKey>, ServiceError> {
        Ok(self.store.list_api_keys(owner).await?)
    }

    /// Revokes one of the owner's keys, at once on every instance.
    pub async fn revoke_api_key(&self, owner: UserId, id: i64) -> Result<(), ServiceError> {
        if self.store.delete_api_key(owner, id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("API key"))
        }
    }

    /// The caller a key speaks for, if the key exists and has not expired.
    pub(super) async fn authenticate_key(&self, key: &str) -> Result<Caller, ServiceError> {
        let found = self.store.api_key_by_hash(&api_key::hash(key)).await?;
        let (info, account) = found.ok_or(AuthError::TokenRevoked(
            "no such API key: it was revoked, or never existed",
        ))?;
        let now = Utc::now();
        if info.expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::TokenRevoked("the API key has expired").into());
        }
        if stale(info.last_used_at, now) {
            // Best effort: a failed note of the last use must not refuse the request.
            if let Err(error) = self.store.touch_api_key(info.id, now).await {
                tracing::warn!(%error, key = info.id, "cannot record an API key's use");
            }
        }
        Ok(Caller {
            id: account.user.id,
            admin: account.user.admin,
            scope: info.scope,
        })
    }
}

/// Whether the last use recorded is old enough to record a new one.
fn stale(last_used: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used.is_none_or(|at| now - at >= TOUCH_EVERY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_is_recorded_at_most_once_a_minute() {
        let now = Utc::now();
        assert!(stale(None, now));
        assert!(!stale(Some(now - Duration::seconds(59)), now));
        assert!(stale(Some(now - Duration::seconds(60)), now));
    }
}
