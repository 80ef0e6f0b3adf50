//! `TOCSIN_REDIS_URL`: the Redis that buffers results, parsed at start. Either one server
//! (`redis://`, `rediss://` for TLS, `redis+unix://`), or a set of Redis Sentinels and the
//! name of the master they watch (`redis+sentinel://`, `rediss+sentinel://`), which tocsin
//! asks for the current master, and asks again after a failover.

use std::fmt;

use redis::IntoConnectionInfo;
use serde::Deserialize;

use super::database_url::redact;

/// The port a Sentinel listens on unless the URL says otherwise.
pub const SENTINEL_PORT: u16 = 26379;

/// A Redis URL the driver accepts. It may hold passwords, so it displays redacted.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct RedisUrl {
    raw: String,
    target: RedisTarget,
}

/// What the URL names.
#[derive(Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One server: the URL goes to the driver as it is.
    Server,
    /// A master found through Redis Sentinel.
    Sentinel(SentinelUrl),
}

/// `redis+sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]…]/MASTER[/DB][?sentinel_password=…]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SentinelUrl {
    /// The Sentinels, `(host, port)`, asked in turn.
    pub sentinels: Vec<(String, u16)>,
    /// The master's name in the Sentinels' configuration (`sentinel monitor NAME …`).
    pub master: String,
    /// The database number on the master.
    pub db: i64,
    /// The user on the master and its replicas (ACL), if any.
    pub username: Option<String>,
    /// The password of the master and its replicas.
    pub password: Option<String>,
    /// The Sentinels' own password (`requirepass` in sentinel.conf), if they have one.
    pub sentinel_password: Option<String>,
    /// `rediss+sentinel://`: TLS to the Sentinels and to the master.
    pub tls: bool,
}

impl RedisUrl {
    /// The URL as given, for the driver (a single server only needs this).
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// What the URL names.
    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    /// Whether connections are encrypted.
    pub fn tls(&self) -> bool {
        match &self.target {
            RedisTarget::Server => self.raw.starts_with("rediss://"),
            RedisTarget::Sentinel(sentinel) => sentinel.tls,
        }
    }
}

impl TryFrom<String> for RedisUrl {
    type Error = String;

    fn try_from(url: String) -> Result<Self, Self::Error> {
        let sentinel_tls = if url.starts_with("redis+sentinel://") {
            Some(false)
        } else if url.starts_with("rediss+sentinel://") {
            Some(true)
        } else {
            None
        };
        let target = match sentinel_tls {
            Some(tls) => RedisTarget::Sentinel(
                SentinelUrl::parse(&url, tls)
                    .map_err(|why| format!("`{}`: {why}", redact(&url)))?,
            ),
            None => match url.as_str().into_connection_info() {
                Ok(_) => RedisTarget::Server,
                Err(_) => {
                    return Err(format!(
                        "`{}` is not a Redis URL: expected redis://HOST:PORT/DB, rediss://… \
                         or redis+sentinel://HOST:PORT,…/MASTER",
                        redact(&url)
                    ));
                }
            },
        };
        Ok(Self { raw: url, target })
    }
}

fn decode(text: &str, what: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("the {what} is not valid UTF-8 once percent-decoded"))
}

impl SentinelUrl {
    fn parse(url: &str, tls: bool) -> Result<Self, String> {
        let rest = url
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => (Some(userinfo), hosts),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(info) => match info.split_once(':') {
                Some((user, password)) => (
                    Some(decode(user, "user name")?).filter(|u| !u.is_empty()),
                    Some(decode(password, "password")?),
                ),
                None => (Some(decode(info, "user name")?), None),
            },
        };
        let sentinels = hosts
            .split(',')
            .map(host_port)
            .collect::<Result<Vec<_>, _>>()?;
        let mut parts = path.split('/').filter(|p| !p.is_empty());
        let master = parts
            .next()
            .map(|m| decode(m, "master name"))
            .transpose()?
            .ok_or("name the master after the Sentinels: redis+sentinel://HOST:PORT,…/MASTER")?;
        let db = match parts.next() {
            Some(db) => db
                .parse()
                .map_err(|_| format!("`{db}` is not a database number"))?,
            None => 0,
        };
        if let Some(extra) = parts.next() {
            return Err(format!("unexpected `/{extra}` after the database number"));
        }
        let mut sentinel_password = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("sentinel_password", value)) => {
                    sentinel_password = Some(decode(value, "sentinel_password")?);
                }
                _ => {
                    let key = pair.split('=').next().unwrap_or(pair);
                    return Err(format!(
                        "unknown parameter `{key}` (only sentinel_password is read)"
                    ));
                }
            }
        }
        Ok(Self {
            sentinels,
            master,
            db,
            username,
            password,
            sentinel_password,
            tls,
        })
    }
}

/// `host[:port]` or `[v6]:port`, the port defaulting to Sentinel's.
fn host_port(text: &str) -> Result<(String, u16), String> {
    if text.is_empty() {
        return Err("a Sentinel address is empty".into());
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{text}`: unclosed [ in an IPv6 address"))?;
        (host, after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        Some(port) => port
            .parse()
            .map_err(|_| format!("`{port}` is not a port (in `{text}`)"))?,
        None => SENTINEL_PORT,
    };
    if host.is_empty() {
        return Err(format!("`{text}` has no host"));
    }
    Ok((host.to_owned(), port))
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.raw))
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

    fn parse(url: &str) -> Result<RedisUrl, String> {
        RedisUrl::try_from(url.to_owned())
    }

    #[test]
    fn accepts_redis_urls_and_hides_their_password() {
        let url = parse("redis://:pw@127.0.0.1:6379/3").expect("valid");
        assert_eq!(url.to_string(), "redis://:***@127.0.0.1:6379/3");
        assert_eq!(url.expose(), "redis://:pw@127.0.0.1:6379/3");
        assert!(!format!("{url:?}").contains("pw"));
        assert!(!url.tls());
        assert!(parse("rediss://cache.example:6380").expect("valid").tls());
    }

    #[test]
    fn rejects_what_is_not_redis() {
        let error = parse("http://:pw@host/").unwrap_err();
        assert!(error.contains("not a Redis URL"), "{error}");
        assert!(!error.contains("pw"), "{error}");
    }

    #[test]
    fn sentinel_urls_name_sentinels_a_master_and_a_database() {
        let url = parse(
            "rediss+sentinel://app:s%40cret@10.0.0.1,10.0.0.2:26380,[::1]:26381/mymaster/2\
             ?sentinel_password=watch",
        )
        .expect("valid");
        let RedisTarget::Sentinel(sentinel) = url.target() else {
            panic!("a sentinel URL");
        };
        assert_eq!(
            sentinel.sentinels,
            [
                ("10.0.0.1".to_owned(), 26379),
                ("10.0.0.2".to_owned(), 26380),
                ("::1".to_owned(), 26381)
            ]
        );
        assert_eq!(sentinel.master, "mymaster");
        assert_eq!(sentinel.db, 2);
        assert_eq!(sentinel.username.as_deref(), Some("app"));
        assert_eq!(sentinel.password.as_deref(), Some("s@cret"));
        assert_eq!(sentinel.sentinel_password.as_deref(), Some("watch"));
        assert!(sentinel.tls && url.tls());
        let shown = url.to_string();
        assert!(
            !shown.contains("cret") && !shown.contains("watch"),
            "{shown}"
        );
    }

    #[test]
    fn sentinel_urls_say_what_is_missing() {
        let no_master = parse("redis+sentinel://h1,h2").unwrap_err();
        assert!(no_master.contains("name the master"), "{no_master}");
        let bad_port = parse("redis+sentinel://h1:x/m").unwrap_err();
        assert!(bad_port.contains("`x` is not a port"), "{bad_port}");
        let bad_db = parse("redis+sentinel://h1/m/zero").unwrap_err();
        assert!(bad_db.contains("database number"), "{bad_db}");
        let unknown = parse("redis+sentinel://h1/m?timeout=1").unwrap_err();
        assert!(unknown.contains("`timeout`"), "{unknown}");
    }
}
