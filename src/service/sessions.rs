//! Web sessions: logging in through the pages opens a session kept in the store, named by a
//! random id that the browser holds in a signed cookie; logout ends it, and a password
//! change ends every session of the account (the old ones by their token generation, on
//! every instance at once). Login and password rules are [`Accounts`]' own, so the pages
//! and the API cannot drift apart.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use super::{Accounts, ServiceError};
use crate::auth::{AuthError, UserId};
use crate::store::{LiveSession, NewSession, Store, User};

/// How long a session lasts without a new login.
pub const SESSION_TTL: Duration = Duration::from_secs(14 * 24 * 60 * 60);

type HmacSha256 = Hmac<Sha256>;

/// A session just opened: what the browser is given.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    /// The cookie's value: the random id and its signature.
    pub cookie: String,
    /// The account.
    pub user: UserId,
}

/// The session use cases. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn Store>,
    accounts: Accounts,
    key: Arc<[u8; 32]>,
}

impl Sessions {
    /// Sessions kept in `store`, credentials checked by `accounts`, cookies signed with a
    /// key derived from `secret` (the token secret: one secret to keep, not two).
    pub fn new(store: Arc<dyn Store>, accounts: Accounts, secret: &[u8]) -> Self {
        let key = sign(secret, b"tocsin web session cookies");
        Self {
            store,
            accounts,
            key: Arc::new(key),
        }
    }

    /// Checks the credentials exactly as the API's login does (same hashing, same answer
    /// for an unknown email and a wrong password) and opens a session.
    pub async fn login(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<OpenedSession, ServiceError> {
        let issued = self.accounts.login(email, password).await?;
        let caller = self.accounts.authenticate(&issued.token).await?;
        self.open(caller.id).await
    }

    /// Creates an account as the API's register does, and opens its first session.
    pub async fn register(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<(User, OpenedSession), ServiceError> {
        let user = self.accounts.register(email, password).await?;
        let opened = self.open(user.id).await?;
        Ok((user, opened))
    }

    /// The live session a cookie names, if its signature holds and the store still has it.
    pub async fn find(&self, cookie: &str) -> Result<Option<LiveSession>, ServiceError> {
        let Some(id) = self.verified_id(cookie) else {
            return Ok(None);
        };
        Ok(self.store.session(&id_hash(&id), Utc::now()).await?)
    }

    /// Ends the session a cookie names (nothing if it names none).
    pub async fn logout(&self, cookie: &str) -> Result<(), ServiceError> {
        if let Some(id) = self.verified_id(cookie) {
            self.store.delete_session(&id_hash(&id)).await?;
        }
        Ok(())
    }

    /// Changes the password as the API does, ends every session of the account, and opens
    /// a new one for the browser that asked.
    pub async fn change_password(
        &self,
        user: UserId,
        current: SecretString,
        new: SecretString,
    ) -> Result<OpenedSession, ServiceError> {
        self.accounts.change_password(user, current, new).await?;
        self.store.delete_user_sessions(user).await?;
        self.open(user).await
    }

    async fn open(&self, user: UserId) -> Result<OpenedSession, ServiceError> {
        let generation = self
            .store
            .account(user)
            .await?
            .ok_or(AuthError::TokenRevoked("the account no longer exists"))?
            .token_generation;
        let id = random_hex();
        let now = Utc::now();
        let session = NewSession {
            id_hash: id_hash(&id),
            user,
            token_generation: generation,
            csrf: random_hex(),
            expires_at: now + crate::time::delta(SESSION_TTL),
        };
        self.store.create_session(&session, now).await?;
        let signature = hex::encode(sign(self.key.as_ref(), id.as_bytes()));
        Ok(OpenedSession {
            cookie: format!("{id}.{signature}"),
            user,
        })
    }

    /// The id in a cookie whose signature is this key's (checked in constant time).
    fn verified_id(&self, cookie: &str) -> Option<String> {
        let (id, signature) = cookie.split_once('.')?;
        let signature = hex::decode(signature).ok()?;
        let mut mac = HmacSha256::new_from_slice(self.key.as_ref()).ok()?;
        mac.update(id.as_bytes());
        mac.verify_slice(&signature).ok()?;
        Some(id.to_owned())
    }

    /// A signed random token for forms shown before login (login, register): the browser
    /// gets it both in a cookie and in the form, and a post must bring both.
    pub fn pre_session_token(&self) -> String {
        let id = random_hex();
        let signature = hex::encode(sign(self.key.as_ref(), format!("pre:{id}").as_bytes()));
        format!("{id}.{signature}")
    }

    /// Whether `token` is one [`Self::pre_session_token`] made.
    pub fn pre_session_token_valid(&self, token: &str) -> bool {
        let Some((id, signature)) = token.split_once('.') else {
            return false;
        };
        let Ok(signature) = hex::decode(signature) else {
            return false;
        };
        let Ok(mut mac) = HmacSha256::new_from_slice(self.key.as_ref()) else {
            return false;
        };
        mac.update(format!("pre:{id}").as_bytes());
        mac.verify_slice(&signature).is_ok()
    }
}

fn sign(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length, so this cannot fail; an empty MAC would only make
    // every signature check fail, never pass.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the store keeps of a session id: its SHA-256, so a copy of the database opens no
/// session.
fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked_and_hashes_are_not_ids() {
        let key = sign(b"secret", b"purpose");
        let other = sign(b"other secret", b"purpose");
        assert_ne!(key, other);
        assert_ne!(id_hash("abc"), "abc");
        assert_eq!(id_hash("abc").len(), 64);
    }
}
