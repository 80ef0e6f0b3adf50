//! Register and log in, shared by the seed routes and `/api/v1/auth`.

use secrecy::{ExposeSecret, SecretString};

use super::AppState;
use super::error::ApiError;
use crate::auth::{AuthError, Email, IssuedToken, Password};
use crate::store::User;

/// Creates an account; the password is hashed before anything is stored.
pub async fn register(
    state: &AppState,
    email: &str,
    password: SecretString,
) -> Result<User, ApiError> {
    let email = Email::parse(email)?;
    let password = Password::parse(password)?;
    let hash = state.hasher.hash(&password).await?;
    Ok(state.store.create_user(&email, &hash).await?)
}

/// Checks the credentials and issues a token. An unknown email and a wrong password get the
/// same error after the same work (a hash verification), so neither answer nor timing tells
/// which emails have accounts.
pub async fn login(
    state: &AppState,
    email: &str,
    password: SecretString,
) -> Result<IssuedToken, ApiError> {
    // No account has a longer password, and hashing a megabyte would cost three hashes'
    // time: refused before any work, which tells nothing about the account.
    if password.expose_secret().chars().count() > Password::MAX_CHARS {
        return Err(AuthError::InvalidPassword(format!(
            "must be at most {} characters",
            Password::MAX_CHARS
        ))
        .into());
    }
    let account = match Email::parse(email) {
        Ok(email) => state.store.user_credentials(&email).await?,
        Err(_) => None,
    };
    let (user, hash) = match account {
        Some(found) => (Some(found.user), Some(found.password_hash)),
        None => (None, None),
    };
    let verified = state.hasher.verify(&password, hash).await?;
    match user {
        Some(user) if verified => Ok(state.tokens.issue(user.id)?),
        _ => Err(AuthError::InvalidCredentials.into()),
    }
}
