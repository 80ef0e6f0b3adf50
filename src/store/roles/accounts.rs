//! Accounts: who may log in.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::auth::{Email, UserId};
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

    /// The account with `email` and its hash, if there is one.
    async fn user_credentials(&self, email: &Email) -> Result<Option<UserCredentials>, StoreError>;
}
