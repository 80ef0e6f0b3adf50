//! Accounts: registering, logging in, and telling who a token belongs to.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::ServiceError;
use crate::auth::{AuthError, Email, IssuedToken, Password, PasswordHasher, TokenKeys, UserId};
use crate::store::{Store, User};

/// The account use cases. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn Store>,
    hasher: PasswordHasher,
    tokens: Arc<TokenKeys>,
}

impl Accounts {
    /// Accounts kept in `store`, passwords hashed by `hasher`, tokens signed by `tokens`.
    pub fn new(store: Arc<dyn Store>, hasher: PasswordHasher, tokens: Arc<TokenKeys>) -> Self {
        Self {
            store,
            hasher,
            tokens,
        }
    }

    /// Creates an account; the password is hashed (off the runtime) before anything is stored.
    pub async fn register(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<User, ServiceError> {
        let email = Email::parse(email)?;
        let password = Password::parse(password)?;
        let hash = self.hasher.hash(&password).await?;
        Ok(self.store.create_user(&email, &hash).await?)
    }

    /// Checks the credentials and issues a token. An unknown email and a wrong password get
    /// the same error after the same work (a hash verification), so neither the answer nor
    /// its timing tells which emails have accounts.
    pub async fn login(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<IssuedToken, ServiceError> {
        // No account has a longer password, and hashing a megabyte would cost three
        // hashes' time: refused before any work, which tells nothing about the account.
        if password.expose_secret().chars().count() > Password::MAX_CHARS {
            return Err(AuthError::InvalidPassword(format!(
                "must be at most {} characters",
                Password::MAX_CHARS
            ))
            .into());
        }
        let account = match Email::parse(email) {
            Ok(email) => self.store.user_credentials(&email).await?,
            Err(_) => None,
        };
        let (user, hash) = match account {
            Some(found) => (Some(found.user), Some(found.password_hash)),
            None => (None, None),
        };
        let verified = self.hasher.verify(&password, hash).await?;
        match user {
            Some(user) if verified => Ok(self.tokens.issue(user.id)?),
            _ => Err(AuthError::InvalidCredentials.into()),
        }
    }

    /// The account a bearer credential (a token as `login` issued it) speaks for.
    pub async fn authenticate(&self, credential: &str) -> Result<UserId, ServiceError> {
        Ok(self.tokens.verify(credential)?)
    }
}
