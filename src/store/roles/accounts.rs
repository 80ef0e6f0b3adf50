//! Accounts: who may log in.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::auth::{Email, UserId};
use crate::monitor::MonitorId;
use crate::store::StoreError;

/// An account, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The normalised email.
    pub email: Email,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// Whether it administers the instance (the first account does).
    pub admin: bool,
}

/// An account and the generation its tokens must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The account.
    pub user: User,
    /// Moves on with every password change; tokens of an earlier one are revoked.
    pub token_generation: i64,
}

/// An account with its password hash, for login only.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    /// The account.
    pub user: User,
    /// The argon2id PHC string.
    pub password_hash: String,
}

/// Accounts and their credentials.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Creates an account; [`StoreError::Conflict`]`("email")` if the email is taken.
    async fn create_user(&self, email: &Email, password_hash: &str) -> Result<User, StoreError>;

    /// Creates an account only if the database has none yet (closed registration); `None`
    /// when one exists. Atomic: of two first accounts made at once, one is made.
    async fn create_first_user(
        &self,
        email: &Email,
        password_hash: &str,
    ) -> Result<Option<User>, StoreError>;

    /// The account with `email` and its hash, if there is one.
    async fn user_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError>;

    /// The account with `id`, if it exists (every authenticated request asks).
    async fn account(&self, id: UserId) -> Result<Option<Account>, StoreError>;

    /// Replaces the password hash and moves the account to its next token generation,
    /// which it returns; `None` if there is no such account.
    async fn change_password(&self, id: UserId, hash: &str) -> Result<Option<i64>, StoreError>;

    /// Deletes the account and everything it owns (monitors, their results and rollups,
    /// and any row of a later feature that refers to the account or a monitor with
    /// `ON DELETE CASCADE`); returns the ids of the monitors it had, `None` if there is
    /// no such account.
    async fn delete_user(&self, id: UserId) -> Result<Option<Vec<MonitorId>>, StoreError>;
}
