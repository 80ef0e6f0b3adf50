//! argon2id hashing on the blocking thread pool, bounded to the number of cores.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OnceCell, Semaphore};

use super::{AuthError, Password};

/// Hashes and verifies passwords with argon2id.
///
/// Parameters are OWASP's first recommendation (19 MiB, 2 passes, 1 lane). Each hash is
/// ~20 ms of CPU and 19 MiB, so at most one per core runs at a time: more would only add
/// memory and latency, and would starve the async runtime's threads.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified when the email is unknown so that a login
    /// for a missing account takes as long as one with a wrong password.
    dummy: Arc<OnceCell<String>>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            permits: Arc::new(Semaphore::new(cores)),
            dummy: Arc::new(OnceCell::new()),
        }
    }
}

fn argon2() -> Argon2<'static> {
    // 19 MiB, t=2, p=1: OWASP Password Storage Cheat Sheet, argon2id option 1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordHasher {
    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of a new password.
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        let secret = password.secret().clone();
        self.blocking(move || hash_blocking(&secret)).await?
    }

    /// Whether `password` matches `stored`; with no stored hash, spends the same time and
    /// answers false.
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<String>,
    ) -> Result<bool, AuthError> {
        let (stored, known) = match stored {
            Some(hash) => (hash, true),
            None => (self.dummy_hash().await?, false),
        };
        let secret = password.clone();
        let matches = self
            .blocking(move || {
                let parsed = PasswordHash::new(&stored)
                    .map_err(|e| AuthError::Internal(format!("stored hash unreadable: {e}")))?;
                Ok::<_, AuthError>(
                    argon2()
                        .verify_password(secret.expose_secret().as_bytes(), &parsed)
                        .is_ok(),
                )
            })
            .await??;
        Ok(known && matches)
    }

    async fn dummy_hash(&self) -> Result<String, AuthError> {
        self.dummy
            .get_or_try_init(|| async {
                let random =
                    SecretString::from(SaltString::generate(&mut OsRng).as_str().to_owned());
                self.blocking(move || hash_blocking(&random)).await?
            })
            .await
            .cloned()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AuthError::Internal("hasher closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AuthError::Internal(format!("hashing task failed: {e}")))
    }
}

fn hash_blocking(secret: &SecretString) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(secret.expose_secret().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Internal(format!("hashing failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(s: &str) -> Password {
        Password::parse(SecretString::from(s.to_owned())).expect("valid password")
    }

    #[tokio::test]
    async fn hashes_with_argon2id_owasp_parameters_and_verifies() {
        let hasher = PasswordHasher::default();
        let hash = hasher.hash(&password("correct horse")).await.expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let right = SecretString::from("correct horse".to_owned());
        let wrong = SecretString::from("wrong horse!".to_owned());
        assert!(
            hasher
                .verify(&right, Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(!hasher.verify(&wrong, Some(hash)).await.expect("verify"));
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        let hasher = PasswordHasher::default();
        let any = SecretString::from("whatever123".to_owned());
        assert!(!hasher.verify(&any, None).await.expect("verify"));
    }

    #[tokio::test]
    async fn salts_differ_between_hashes() {
        let hasher = PasswordHasher::default();
        let a = hasher.hash(&password("same password")).await.expect("hash");
        let b = hasher.hash(&password("same password")).await.expect("hash");
        assert_ne!(a, b);
    }
}
