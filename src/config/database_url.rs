//! `TOCSIN_DATABASE_URL`: which store to open, parsed once so the rest never sees a raw string.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use super::postgres_tls::PostgresUrl;

/// Where tocsin keeps its data.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum DatabaseUrl {
    /// An embedded SQLite database file, created if missing.
    Sqlite {
        /// The database file, relative to the working directory unless absolute.
        path: PathBuf,
    },
    /// A PostgreSQL database, as a libpq-style URL (several hosts and
    /// `target_session_attrs=read-write` allowed, for failover to a standby; libpq's
    /// `sslmode`, `sslrootcert`, `sslcert` and `sslkey` for TLS).
    Postgres {
        /// The URL as given; it may hold a password, so it is never displayed whole.
        url: String,
    },
}

impl DatabaseUrl {
    /// A SQLite database at `path`.
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        Self::Sqlite { path: path.into() }
    }

    /// The SQLite file, when this is a SQLite URL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite { path } => Some(path),
            Self::Postgres { .. } => None,
        }
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = String;

    fn try_from(url: String) -> Result<Self, Self::Error> {
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(format!(
                "`{}` is not a URL: expected sqlite://PATH or postgres://HOST/DB",
                redact(&url)
            ));
        };
        match scheme {
            "sqlite" => {
                // `sqlite://tocsin.db` is relative, `sqlite:///var/lib/tocsin.db` absolute.
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err("a sqlite:// URL needs a file path, e.g. sqlite://tocsin.db".into());
                }
                if path.contains('?') {
                    return Err("sqlite:// URLs take no query parameters".into());
                }
                Ok(Self::sqlite(path))
            }
            "postgres" | "postgresql" => {
                // The TLS parameters are tocsin's to read; the rest goes through the driver's
                // own parser, so a URL accepted here is one the store can open. Neither
                // message quotes the password.
                let split = PostgresUrl::parse(&url)
                    .map_err(|error| format!("not a valid PostgreSQL URL: {error}"))?;
                tokio_postgres::Config::from_str(&split.driver)
                    .map_err(|error| format!("not a valid PostgreSQL URL: {error}"))?;
                Ok(Self::Postgres { url })
            }
            other => Err(format!(
                "unsupported scheme `{other}`: expected sqlite://PATH or postgres://HOST/DB"
            )),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            Self::Postgres { url } => f.write_str(&redact(url)),
        }
    }
}

/// Debug output is the redacted URL too: settings are logged with `{:?}` at times.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// `url` with any password replaced by `***`, so logs and errors never carry it.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The userinfo ends at the last `@` before the path; a password may itself hold `@`s.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let mut redacted = match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => format!("{scheme}://{rest}"),
        },
        None => format!("{scheme}://{rest}"),
    };
    // libpq also takes `password=` as a query parameter.
    if let Some(query_at) = redacted.find('?') {
        let (head, query) = redacted.split_at(query_at + 1);
        let query = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                // `password`, and Redis Sentinel's `sentinel_password`.
                Some((key, _)) if key.to_ascii_lowercase().ends_with("password") => {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&");
        redacted = format!("{head}{query}");
    }
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<DatabaseUrl, String> {
        DatabaseUrl::try_from(url.to_owned())
    }

    #[test]
    fn sqlite_paths_relative_and_absolute() {
        assert_eq!(
            parse("sqlite://tocsin.db"),
            Ok(DatabaseUrl::sqlite("tocsin.db"))
        );
        assert_eq!(
            parse("sqlite:///var/lib/t.db"),
            Ok(DatabaseUrl::sqlite("/var/lib/t.db"))
        );
        assert_eq!(
            parse("sqlite:data/t.db"),
            Ok(DatabaseUrl::sqlite("data/t.db"))
        );
    }

    #[test]
    fn rejects_what_it_cannot_open() {
        assert!(parse("sqlite://").unwrap_err().contains("file path"));
        assert!(parse("mysql://x").unwrap_err().contains("`mysql`"));
        assert!(parse("tocsin.db").unwrap_err().contains("not a URL"));
        assert!(
            parse("postgres://localhost:notaport/db")
                .unwrap_err()
                .contains("PostgreSQL")
        );
    }

    #[test]
    fn postgres_urls_with_several_hosts_are_accepted() {
        let url = "postgres://postgres@h1:5432,h2:5433/tocsin?target_session_attrs=read-write";
        assert_eq!(parse(url), Ok(DatabaseUrl::Postgres { url: url.into() }));
        assert!(parse("postgresql://localhost/db").is_ok());
    }

    #[test]
    fn passwords_never_display() {
        let url = parse("postgres://tocsin:s3cr@t@db:5432/tocsin?password=other&sslmode=disable")
            .expect("valid");
        let shown = url.to_string();
        assert!(
            !shown.contains("s3cr") && !shown.contains("other"),
            "{shown}"
        );
        assert_eq!(
            shown,
            "postgres://tocsin:***@db:5432/tocsin?password=***&sslmode=disable"
        );
        assert_eq!(
            redact("redis://:pw@host:6379/0"),
            "redis://:***@host:6379/0"
        );
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
    }

    #[test]
    fn postgres_urls_take_libpq_tls_parameters_the_driver_rejects() {
        let url = "postgres://h/db?sslmode=verify-full&sslrootcert=/ca.pem&sslcert=/c&sslkey=/k";
        assert!(parse(url).is_ok());
        let error = parse("postgres://h/db?sslmode=verify-full").unwrap_err();
        assert!(error.contains("sslrootcert"), "{error}");
    }

    #[test]
    fn displays_as_a_url() {
        assert_eq!(DatabaseUrl::sqlite("a/b.db").to_string(), "sqlite://a/b.db");
    }
}
