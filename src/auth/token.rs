//! JWT HS256 tokens with an expiry; any other algorithm, `none` included, is refused.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{AuthError, UserId};

/// A token and the moment it stops being accepted.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
    /// The account's token generation when it was issued: a password change moves the
    /// account to the next one, which revokes every token of the earlier ones. Tokens
    /// from before generations existed read as the first.
    #[serde(default)]
    r#gen: i64,
}

/// What a genuine, unexpired token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The account it was issued to.
    pub user: UserId,
    /// The account's token generation then.
    pub generation: i64,
}

/// Signs and checks tokens with one shared secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

/// Clock skew tolerated between instances that issue and check tokens.
const LEEWAY_SECS: u64 = 5;

impl TokenKeys {
    /// Keys for `secret`; tokens live `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// A token for `user` at token generation `generation`, valid from now for the
    /// configured time to live.
    pub fn issue(&self, user: UserId, generation: i64) -> Result<IssuedToken, AuthError> {
        let now = Utc::now();
        let ttl =
            chrono::Duration::from_std(self.ttl).map_err(|e| AuthError::Internal(e.to_string()))?;
        // `exp` is in whole seconds: the time announced is exactly the one enforced.
        let exp = (now + ttl).timestamp();
        let expires_at = DateTime::from_timestamp(exp, 0)
            .ok_or_else(|| AuthError::Internal(format!("expiry {exp} out of range")))?;
        let claims = Claims {
            sub: user.0.to_string(),
            iat: now.timestamp(),
            exp,
            r#gen: generation,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Internal(format!("signing failed: {e}")))?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Who a token was issued to, if it is genuine, HS256 and unexpired (whether the
    /// account still exists and the generation is current is the caller's to check).
    pub fn verify(&self, token: &str) -> Result<Verified, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::TokenExpired,
                ErrorKind::InvalidSignature => AuthError::InvalidToken("bad signature".into()),
                ErrorKind::InvalidAlgorithm => {
                    AuthError::InvalidToken("algorithm must be HS256".into())
                }
                ErrorKind::MissingRequiredClaim(claim) => {
                    AuthError::InvalidToken(format!("missing claim `{claim}`"))
                }
                _ => AuthError::InvalidToken("malformed token".into()),
            })?;
        let user = data
            .claims
            .sub
            .parse()
            .map(UserId)
            .map_err(|_| AuthError::InvalidToken("malformed subject".into()))?;
        Ok(Verified {
            user,
            generation: data.claims.r#gen,
        })
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> TokenKeys {
        TokenKeys::new(SECRET, Duration::from_secs(900))
    }

    fn signed(claims: serde_json::Value, alg: Algorithm) -> String {
        jsonwebtoken::encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("encode")
    }

    #[test]
    fn issued_tokens_verify_to_their_user() {
        let issued = keys().issue(UserId(42), 3).expect("issue");
        assert_eq!(
            keys().verify(&issued.token).expect("verify"),
            Verified {
                user: UserId(42),
                generation: 3
            }
        );
        let ttl = issued.expires_at - Utc::now();
        assert!(ttl > chrono::Duration::seconds(890) && ttl <= chrono::Duration::seconds(900));
    }

    #[test]
    fn expired_tokens_are_refused_as_expired() {
        let past = Utc::now().timestamp() - 60;
        let token = signed(
            serde_json::json!({"sub": "1", "iat": past - 900, "exp": past}),
            Algorithm::HS256,
        );
        assert!(matches!(
            keys().verify(&token),
            Err(AuthError::TokenExpired)
        ));
    }

    #[test]
    fn forged_tokens_are_refused() {
        let other = TokenKeys::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        let token = other.issue(UserId(1), 0).expect("issue").token;
        assert!(matches!(
            keys().verify(&token),
            Err(AuthError::InvalidToken(_))
        ));
    }

    #[test]
    fn other_algorithms_and_none_are_refused() {
        let exp = Utc::now().timestamp() + 600;
        let hs512 = signed(
            serde_json::json!({"sub": "1", "exp": exp}),
            Algorithm::HS512,
        );
        assert!(matches!(
            keys().verify(&hs512),
            Err(AuthError::InvalidToken(_))
        ));
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"1","exp":{exp}}}"#));
        let none = format!("{header}.{claims}.");
        assert!(matches!(
            keys().verify(&none),
            Err(AuthError::InvalidToken(_))
        ));
    }

    #[test]
    fn tokens_without_expiry_or_garbage_are_refused() {
        let no_exp = signed(serde_json::json!({"sub": "1"}), Algorithm::HS256);
        assert!(matches!(
            keys().verify(&no_exp),
            Err(AuthError::InvalidToken(_))
        ));
        for garbage in ["", "token", "a.b.c", "XXXX.YYYY.ZZZZ"] {
            assert!(
                matches!(keys().verify(garbage), Err(AuthError::InvalidToken(_))),
                "{garbage}"
            );
        }
    }
}
