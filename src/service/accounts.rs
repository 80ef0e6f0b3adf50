//! Accounts: registering (open, or closed after the first account, which administers the
//! instance), logging in, telling who a token belongs to, and an account's own page: who it
//! is, changing its password (which revokes every earlier token, on every instance), and
//! deleting it with everything it owns.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::{Event, EventBus, ServiceError};
use crate::auth::api_key::{self, Scope};
use crate::auth::{AuthError, Email, IssuedToken, Password, PasswordHasher, TokenKeys, UserId};
use crate::config::Registration;
use crate::store::{Store, User};

/// Who sent a request, as a token vouched and the store confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The account.
    pub id: UserId,
    /// Whether it administers the instance.
    pub admin: bool,
    /// What the credential may do: a token may do everything, an API key what its scope says.
    pub scope: Scope,
}

/// The account use cases. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    pub(super) store: Arc<dyn Store>,
    hasher: PasswordHasher,
    tokens: Arc<TokenKeys>,
    registration: Registration,
    events: EventBus,
}

impl Accounts {
    /// Accounts kept in `store`, passwords hashed by `hasher`, tokens signed by `tokens`,
    /// new accounts as `registration` allows, deletions announced on `events`.
    pub fn new(
        store: Arc<dyn Store>,
        hasher: PasswordHasher,
        tokens: Arc<TokenKeys>,
        registration: Registration,
        events: EventBus,
    ) -> Self {
        Self {
            store,
            hasher,
            tokens,
            registration,
            events,
        }
    }

    /// Creates an account; the password is hashed (off the runtime) before anything is
    /// stored. The first account is the administrator and can always be created; with
    /// registration closed, no other can.
    pub async fn register(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<User, ServiceError> {
        let email = Email::parse(email)?;
        let password = Password::parse(password)?;
        let hash = self.hasher.hash(&password).await?;
        match self.registration {
            Registration::Open => Ok(self.store.create_user(&email, &hash).await?),
            Registration::Closed => self
                .store
                .create_first_user(&email, &hash)
                .await?
                .ok_or(ServiceError::RegistrationClosed),
        }
    }

    /// Checks the credentials and issues a token. An unknown email and a wrong password get
    /// the same error after the same work (a hash verification), so neither the answer nor
    /// its timing tells which emails have accounts.
    pub async fn login(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<IssuedToken, ServiceError> {
        too_long(&password)?;
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
            Some(user) if verified => {
                // The generation is read after the verification: a password changed
                // meanwhile must not hand out a token of the old one.
                let generation = self
                    .store
                    .account(user.id)
                    .await?
                    .ok_or(AuthError::InvalidCredentials)?
                    .token_generation;
                Ok(self.tokens.issue(user.id, generation)?)
            }
            _ => Err(AuthError::InvalidCredentials.into()),
        }
    }

    /// The account a bearer credential (a token as `login` issued it, or an API key) speaks
    /// for. The store is asked every time, so a deleted account's tokens, the tokens from
    /// before a password change and revoked keys stop working at once, on every instance.
    pub async fn authenticate(&self, credential: &str) -> Result<Caller, ServiceError> {
        if api_key::is_key(credential) {
            return self.authenticate_key(credential).await;
        }
        let verified = self.tokens.verify(credential)?;
        let account = self
            .store
            .account(verified.user)
            .await?
            .ok_or(AuthError::TokenRevoked("the account no longer exists"))?;
        if account.token_generation != verified.generation {
            return Err(AuthError::TokenRevoked("the password changed since: log in again").into());
        }
        Ok(Caller {
            id: account.user.id,
            admin: account.user.admin,
            scope: Scope::Write,
        })
    }

    /// The caller's own account.
    pub async fn me(&self, caller: UserId) -> Result<User, ServiceError> {
        Ok(self
            .store
            .account(caller)
            .await?
            .ok_or(AuthError::TokenRevoked("the account no longer exists"))?
            .user)
    }

    /// Changes the caller's password after checking the current one, revokes every token
    /// issued before, and answers a token of the new generation.
    pub async fn change_password(
        &self,
        caller: UserId,
        current: SecretString,
        new: SecretString,
    ) -> Result<IssuedToken, ServiceError> {
        too_long(&current)?;
        let new = Password::parse(new).map_err(|e| match e {
            AuthError::InvalidPassword(why) => {
                ServiceError::Invalid(format!("new_password: {why}"))
            }
            other => other.into(),
        })?;
        let user = self.me(caller).await?;
        let stored = self.store.user_credentials(&user.email).await?;
        let hash = stored.map(|found| found.password_hash);
        if !self.hasher.verify(&current, hash).await? {
            return Err(ServiceError::Invalid(
                "current_password: is not the account's password".into(),
            ));
        }
        let hash = self.hasher.hash(&new).await?;
        let generation = self
            .store
            .change_password(caller, &hash)
            .await?
            .ok_or(AuthError::TokenRevoked("the account no longer exists"))?;
        Ok(self.tokens.issue(caller, generation)?)
    }

    /// Deletes the caller's account and everything it owns; its monitors stop being checked.
    pub async fn delete(&self, caller: UserId) -> Result<(), ServiceError> {
        let monitors = self
            .store
            .delete_user(caller)
            .await?
            .ok_or(AuthError::TokenRevoked("the account no longer exists"))?;
        for id in monitors {
            self.events
                .publish(Event::MonitorRemoved { owner: caller, id });
        }
        Ok(())
    }
}

/// No account has a password over the limit, and hashing a megabyte would cost three
/// hashes' time: such a password is refused before any work, which tells nothing.
fn too_long(password: &SecretString) -> Result<(), ServiceError> {
    if password.expose_secret().chars().count() > Password::MAX_CHARS {
        return Err(AuthError::InvalidPassword(format!(
            "must be at most {} characters",
            Password::MAX_CHARS
        ))
        .into());
    }
    Ok(())
}
