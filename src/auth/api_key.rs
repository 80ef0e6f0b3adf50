//! API keys: long-lived bearer credentials (`tcn_` and 43 base62 characters, 256 random
//! bits), kept only as their SHA-256, with a scope that says whether they may write.

use rand::Rng;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// What every API key starts with, so a credential is told from a token by its look.
pub const PREFIX: &str = "tcn_";

/// Characters after the prefix: 43 base62 characters carry 256 bits (62^43 > 2^256).
const KEY_CHARS: usize = 43;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// What a key may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Reading only: every write is refused with 403.
    Read,
    /// Everything the account may do.
    Write,
}

impl Scope {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    /// The inverse of [`Scope::as_str`].
    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }
}

/// A new key, to be shown once, and the hash to keep.
pub struct NewKey {
    /// The key itself.
    pub key: SecretString,
    /// Its SHA-256, in hex.
    pub hash: String,
}

/// Makes a key from a cryptographically secure random source.
pub fn generate() -> NewKey {
    // ThreadRng is a CSPRNG (ChaCha) seeded from the operating system.
    let mut rng = rand::rng();
    let mut key = String::with_capacity(PREFIX.len() + KEY_CHARS);
    key.push_str(PREFIX);
    for _ in 0..KEY_CHARS {
        // Uniform over the 62 characters (`random_range` rejects the biased tail).
        key.push(char::from(ALPHABET[rng.random_range(0..62)]));
    }
    let hash = hash(&key);
    NewKey {
        key: SecretString::from(key),
        hash,
    }
}

/// Whether `credential` looks like an API key rather than a token.
pub fn is_key(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

/// The SHA-256 of a key, in hex, as stored. A key carries 256 random bits, so a fast hash
/// cannot be brute-forced and lets every request look its key up by index.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn keys_are_prefixed_base62_and_differ() {
        let a = generate();
        let b = generate();
        let key = a.key.expose_secret();
        assert!(key.starts_with("tcn_"));
        assert_eq!(key.len(), 4 + 43);
        assert!(key[4..].bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(key, b.key.expose_secret());
        assert_eq!(a.hash, hash(key));
        assert_eq!(a.hash.len(), 64);
    }

    #[test]
    fn scopes_read_back() {
        for scope in [Scope::Read, Scope::Write] {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("admin"), None);
    }
}
