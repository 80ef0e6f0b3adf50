//! `TOCSIN_REDIS_URL`: the Redis server that buffers results, validated at start.

use std::fmt;

use redis::IntoConnectionInfo;
use serde::Deserialize;

use super::database_url::redact;

/// A `redis://` (or `rediss://`, `redis+unix://`) URL the driver accepts. It may hold a
/// password, so it displays redacted and the whole URL is only handed to the driver.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct RedisUrl(String);

impl RedisUrl {
    /// The URL for the driver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RedisUrl {
    type Error = String;

    fn try_from(url: String) -> Result<Self, Self::Error> {
        match url.as_str().into_connection_info() {
            Ok(_) => Ok(Self(url)),
            Err(_) => Err(format!(
                "`{}` is not a Redis URL: expected redis://HOST:PORT/DB",
                redact(&url)
            )),
        }
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_redis_urls_and_hides_their_password() {
        let url = RedisUrl::try_from("redis://:pw@127.0.0.1:6379/3".to_owned()).expect("valid");
        assert_eq!(url.to_string(), "redis://:***@127.0.0.1:6379/3");
        assert_eq!(url.expose(), "redis://:pw@127.0.0.1:6379/3");
        assert!(!format!("{url:?}").contains("pw"));
    }

    #[test]
    fn rejects_what_is_not_redis() {
        let error = RedisUrl::try_from("http://:pw@host/".to_owned()).unwrap_err();
        assert!(error.contains("not a Redis URL"), "{error}");
        assert!(!error.contains("pw"), "{error}");
    }
}
