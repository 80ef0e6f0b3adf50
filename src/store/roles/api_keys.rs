//! API keys: an account's long-lived credentials, kept as hashes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::auth::UserId;
use crate::auth::api_key::Scope;
use crate::store::{Account, StoreError};

/// A key as listed: never the key itself, which is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key's id.
    pub id: i64,
    /// The account it speaks for.
    pub owner: UserId,
    /// A label its owner chose.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When a request last used it (kept to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What a new key is made of.
#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    /// A label.
    pub name: &'a str,
    /// What it may do.
    pub scope: Scope,
    /// The SHA-256 of the key, in hex.
    pub hash: &'a str,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Accounts' API keys.
#[async_trait]
pub trait ApiKeyStore: Send + Sync + 'static {
    /// Stores a key for `owner` unless it already has `limit` of them
    /// ([`StoreError::LimitReached`]).
    async fn create_api_key(
        &self,
        owner: UserId,
        key: &NewApiKey<'_>,
        limit: u32,
    ) -> Result<ApiKey, StoreError>;

    /// The owner's keys, oldest first.
    async fn list_api_keys(&self, owner: UserId) -> Result<Vec<ApiKey>, StoreError>;

    /// Deletes one of the owner's keys; false if it had no such key.
    async fn delete_api_key(&self, owner: UserId, id: i64) -> Result<bool, StoreError>;

    /// The key with this hash and the account it speaks for (every request made with a key
    /// asks, so a deleted key stops working at once on every instance).
    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<(ApiKey, Account)>, StoreError>;

    /// Records that the key was used at `at`.
    async fn touch_api_key(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError>;
}
