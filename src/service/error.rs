//! What a use case can fail with; the transports map each case to their own answer.

use crate::auth::AuthError;
use crate::monitor::MonitorError;
use crate::public::StatusPageError;
use crate::store::StoreError;

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Credentials, a password rule or a token.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A monitor description breaks a rule.
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    /// A status page description breaks a rule.
    #[error(transparent)]
    StatusPage(#[from] StatusPageError),
    /// A value other than a monitor's fields breaks a rule; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// The thing does not exist or is not the caller's; the payload says what (`monitor`).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Registration is closed and the instance already has its first account.
    #[error("registration is closed: ask the administrator for an account")]
    RegistrationClosed,
    /// The caller may not do this (an administrator's use case).
    #[error("{0}")]
    Forbidden(&'static str),
    /// A unique value is taken; the message names it.
    #[error("{0}")]
    Conflict(String),
    /// A URL names an internal address while private targets are refused.
    #[error("{0}")]
    Blocked(String),
    /// The store failed or refused (a conflict, a limit).
    #[error(transparent)]
    Store(#[from] StoreError),
}
