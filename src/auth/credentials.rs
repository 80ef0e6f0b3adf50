//! `Email` and `Password`: what an account is made of, checked once at the edge.

use secrecy::{ExposeSecret, SecretString};

use super::AuthError;

/// A trimmed, lower-cased email address, so one mailbox is one account however it is typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    const MAX_LEN: usize = 254;

    /// Normalises and checks the address's form (a mailbox is not verified).
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        let email = raw.trim().to_lowercase();
        let invalid = |why: &str| AuthError::InvalidEmail(why.to_owned());
        if email.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if email.len() > Self::MAX_LEN {
            return Err(invalid("must be at most 254 characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces or control characters"));
        }
        match email.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && local.len() <= 64
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.') =>
            {
                Ok(Self(email))
            }
            _ => Err(invalid("must be an address like name@example.com")),
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the rules; kept secret so it never reaches a log.
#[derive(Debug, Clone)]
pub struct Password(SecretString);

impl Password {
    /// The fewest characters a password may have (OWASP's floor when there is no MFA).
    pub const MIN_CHARS: usize = 8;
    /// The most, so that hashing time stays bounded.
    pub const MAX_CHARS: usize = 1024;

    /// Checks the length, counted in characters, of a password as typed (it is not trimmed).
    pub fn parse(raw: SecretString) -> Result<Self, AuthError> {
        let chars = raw.expose_secret().chars().count();
        if chars < Self::MIN_CHARS {
            return Err(AuthError::InvalidPassword(format!(
                "must be at least {} characters",
                Self::MIN_CHARS
            )));
        }
        if chars > Self::MAX_CHARS {
            return Err(AuthError::InvalidPassword(format!(
                "must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        Ok(Self(raw))
    }

    /// The password itself, for hashing.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let email = Email::parse("  Elahe.DSTN@Gmail.com ").expect("valid");
        assert_eq!(email.as_str(), "elahe.dstn@gmail.com");
    }

    #[test]
    fn malformed_emails_are_refused_with_a_reason() {
        for raw in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b@c",
            "a b@c.d",
            "a@.com",
            "a@com.",
        ] {
            let err = Email::parse(raw).expect_err(raw).to_string();
            assert!(err.starts_with("email:"), "{raw}: {err}");
        }
        assert!(Email::parse(&format!("{}@e.com", "a".repeat(65))).is_err());
        assert!(Email::parse(&format!("a@{}.com", "e".repeat(260))).is_err());
    }

    #[test]
    fn passwords_need_eight_characters() {
        let parse = |s: &str| Password::parse(SecretString::from(s.to_owned()));
        assert!(parse("1234567").is_err());
        assert!(parse("12345678").is_ok());
        assert!(
            parse("ééééééé").is_err(),
            "characters, not bytes, are counted"
        );
        let err = parse("XXXX").expect_err("short").to_string();
        assert_eq!(err, "password: must be at least 8 characters");
        assert!(parse(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn passwords_do_not_leak_through_debug() {
        let password =
            Password::parse(SecretString::from("hunter2hunter2".to_owned())).expect("valid");
        assert!(!format!("{password:?}").contains("hunter2"));
    }
}
