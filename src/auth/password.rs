//! argon2id hashing on the blocking thread pool, bounded to the number of cores, in
//! working memory kept between hashes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
    /// Block arrays of finished hashes, one per permit at most. A fresh 19 MiB array per
    /// hash cost 8-11 % of register and login in `memset`, and login more in page faults.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
    /// A hash of a random password, verified when the email is unknown so that a login
    /// for a missing account takes as long as one with a wrong password.
    dummy: Arc<OnceCell<String>>,
    /// argon2 computations run, so the equal work of unknown and known accounts is checked
    /// by counting rather than by timing.
    computations: Arc<AtomicU64>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            permits: Arc::new(Semaphore::new(cores)),
            memory: Arc::new(Mutex::new(Vec::with_capacity(cores))),
            dummy: Arc::new(OnceCell::new()),
            computations: Arc::new(AtomicU64::new(0)),
        }
    }
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

fn params() -> Params {
    // 19 MiB, t=2, p=1: OWASP Password Storage Cheat Sheet, argon2id option 1.
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
}

impl PasswordHasher {
    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of a new password.
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        let secret = password.secret().clone();
        self.blocking(move |memory| hash_blocking(&secret, memory))
            .await?
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
            .blocking(move |memory| verify_blocking(&secret, &stored, memory))
            .await??;
        Ok(known && matches)
    }

    /// How many argon2 computations (hashes and verifications) this hasher has run.
    pub fn computations(&self) -> u64 {
        self.computations.load(Ordering::Relaxed)
    }

    async fn dummy_hash(&self) -> Result<String, AuthError> {
        self.dummy
            .get_or_try_init(|| async {
                let random =
                    SecretString::from(SaltString::generate(&mut OsRng).as_str().to_owned());
                self.blocking(move |memory| hash_blocking(&random, memory))
                    .await?
            })
            .await
            .cloned()
    }

    /// Runs `work` on the blocking pool with a block array, holding a permit until it ends
    /// (not until the caller stops waiting), so at most one hash per core ever runs.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| AuthError::Internal("hasher closed".into()))?;
        let memory = Arc::clone(&self.memory);
        let computations = Arc::clone(&self.computations);
        tokio::task::spawn_blocking(move || {
            computations.fetch_add(1, Ordering::Relaxed);
            // A poisoned lock only means a panic while pushing or popping; the Vec is sound.
            let taken = memory.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let mut blocks = taken.unwrap_or_default();
            let answer = work(&mut blocks);
            memory
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(blocks);
            drop(permit);
            answer
        })
        .await
        .map_err(|e| AuthError::Internal(format!("hashing task failed: {e}")))
    }
}

fn hash_blocking(secret: &SecretString, memory: &mut Vec<Block>) -> Result<String, AuthError> {
    let failed = |e: &dyn std::fmt::Display| AuthError::Internal(format!("hashing failed: {e}"));
    let salt = SaltString::generate(&mut OsRng);
    let params = params();
    let output = run(
        &argon2(),
        secret,
        salt.as_salt(),
        params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN),
        memory,
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

fn verify_blocking(
    secret: &SecretString,
    stored: &str,
    memory: &mut Vec<Block>,
) -> Result<bool, AuthError> {
    let unreadable =
        |e: &dyn std::fmt::Display| AuthError::Internal(format!("stored hash unreadable: {e}"));
    let parsed = PasswordHash::new(stored).map_err(|e| unreadable(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(unreadable(&"no salt or no hash"));
    };
    // The stored string's own algorithm and parameters, so hashes made with other settings
    // still verify.
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| unreadable(&e))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| unreadable(&e))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
    let argon = Argon2::new(algorithm, version, params);
    let computed = run(&argon, secret, salt, expected.len(), memory)?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
}

/// argon2 of `secret` into an output of `len` bytes, in `memory` (grown if too small).
fn run(
    argon: &Argon2<'_>,
    secret: &SecretString,
    salt: argon2::password_hash::Salt<'_>,
    len: usize,
    memory: &mut Vec<Block>,
) -> Result<Output, AuthError> {
    let failed = |e: &dyn std::fmt::Display| AuthError::Internal(format!("hashing failed: {e}"));
    let blocks = argon.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut salt_buf = [0_u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(|e| failed(&e))?;
    let mut out = [0_u8; Output::MAX_LENGTH];
    let out = out
        .get_mut(..len)
        .ok_or_else(|| failed(&"output too long"))?;
    // Stale blocks from the last hash do not matter: argon2 writes every block of the first
    // pass before it reads it.
    argon
        .hash_password_into_with_memory(
            secret.expose_secret().as_bytes(),
            salt,
            out,
            &mut memory[..],
        )
        .map_err(|e| failed(&e))?;
    Output::new(out).map_err(|e| failed(&e))
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

    /// No account enumeration by timing: an unknown account costs one argon2 computation,
    /// like a known one (the dummy hash is made once, on first use).
    #[tokio::test]
    async fn an_unknown_account_costs_one_computation_like_a_known_one() {
        let hasher = PasswordHasher::default();
        let any = SecretString::from("whatever123".to_owned());
        let stored = hasher.hash(&password("whatever123")).await.expect("hash");
        let _ = hasher.verify(&any, None).await.expect("dummy made");
        let before = hasher.computations();
        let _ = hasher.verify(&any, None).await.expect("verify");
        assert_eq!(hasher.computations(), before + 1, "unknown account");
        let _ = hasher.verify(&any, Some(stored)).await.expect("verify");
        assert_eq!(hasher.computations(), before + 2, "known account");
    }

    #[tokio::test]
    async fn hashes_match_the_argon2_crates_own_in_both_directions() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = PasswordHasher::default();
        let secret = SecretString::from("interchangeable".to_owned());
        // Ours, read by the crate's verifier.
        let ours = hasher
            .hash(&password("interchangeable"))
            .await
            .expect("hash");
        let parsed = PasswordHash::new(&ours).expect("PHC");
        assert!(
            argon2()
                .verify_password(b"interchangeable", &parsed)
                .is_ok()
        );
        assert!(
            argon2()
                .verify_password(b"interchangeablE", &parsed)
                .is_err()
        );
        // The crate's (as stored before the memory was reused), and one with other
        // parameters and output length, read by ours.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon2()
            .hash_password(b"interchangeable", &salt)
            .expect("hash")
            .to_string();
        let small = Params::new(8 * 1024, 3, 1, Some(48)).expect("params");
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, small)
            .hash_password(b"interchangeable", &salt)
            .expect("hash")
            .to_string();
        for stored in [theirs, other] {
            assert!(
                hasher
                    .verify(&secret, Some(stored.clone()))
                    .await
                    .expect("verify")
            );
            let wrong = SecretString::from("interchangeablE".to_owned());
            assert!(!hasher.verify(&wrong, Some(stored)).await.expect("verify"));
        }
    }

    #[tokio::test]
    async fn reused_memory_gives_the_same_hash_as_fresh_memory() {
        let secret = SecretString::from("same input".to_owned());
        let salt = SaltString::generate(&mut OsRng);
        let fresh = run(&argon2(), &secret, salt.as_salt(), 32, &mut Vec::new()).expect("fresh");
        // Memory full of another hash's blocks.
        let mut used = Vec::new();
        let other = SecretString::from("other input".to_owned());
        run(&argon2(), &other, salt.as_salt(), 32, &mut used).expect("other");
        let reused = run(&argon2(), &secret, salt.as_salt(), 32, &mut used).expect("reused");
        assert_eq!(fresh, reused);
    }

    #[tokio::test]
    async fn salts_differ_between_hashes() {
        let hasher = PasswordHasher::default();
        let a = hasher.hash(&password("same password")).await.expect("hash");
        let b = hasher.hash(&password("same password")).await.expect("hash");
        assert_ne!(a, b);
    }
}
