//! Web sessions: who a browser's session cookie speaks for.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::auth::UserId;
use crate::store::StoreError;

/// A new session, as the web layer makes it at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The SHA-256 (hex) of the id the cookie carries; the id itself is never stored.
    pub id_hash: String,
    /// The account.
    pub user: UserId,
    /// The account's token generation at login: a password change ends the session.
    pub token_generation: i64,
    /// The token every form of the session must carry.
    pub csrf: String,
    /// When it stops counting.
    pub expires_at: DateTime<Utc>,
}

/// A live session, as a request finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    /// The account.
    pub user: UserId,
    /// Whether it administers the instance.
    pub admin: bool,
    /// The token every form of the session must carry.
    pub csrf: String,
}

/// Keeping, finding and ending web sessions.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a session, and removes the sessions that expired before `now` (cheap: an
    /// index on the expiry), so the table never grows without bound.
    async fn create_session(
        &self,
        session: &NewSession,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The session with `id_hash`, if it exists, has not expired at `now`, and its account's
    /// token generation is still the one it was made under.
    async fn session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LiveSession>, StoreError>;

    /// Ends one session (logout); ending one that is gone is no error.
    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError>;

    /// Ends every session of an account (a password change); returns how many there were.
    async fn delete_user_sessions(&self, user: UserId) -> Result<u64, StoreError>;
}
