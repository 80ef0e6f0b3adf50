//! Accounts' secrets: credentials, password hashing (argon2id, off the async runtime) and
//! tokens (JWT HS256 with expiry). Knows nothing of HTTP.

pub mod api_key;
mod credentials;
mod password;
mod token;

pub use credentials::{Email, Password};
pub use password::PasswordHasher;
pub use token::{IssuedToken, TokenKeys, Verified};

/// A user's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

/// Why an authentication step failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The email is not an address.
    #[error("email: {0}")]
    InvalidEmail(String),
    /// The password breaks the password rules.
    #[error("password: {0}")]
    InvalidPassword(String),
    /// Unknown email or wrong password; deliberately the same error for both.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The token is malformed, forged, signed with another algorithm or lacks a claim.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The token was valid once and has expired.
    #[error("token expired: log in again")]
    TokenExpired,
    /// The token was revoked: its account changed its password, or no longer exists.
    #[error("token revoked: {0}")]
    TokenRevoked(&'static str),
    /// Hashing or signing failed for a reason that is not the client's.
    #[error("authentication backend failed: {0}")]
    Internal(String),
}
