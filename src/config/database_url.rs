//! `TOCSIN_DATABASE_URL`: which store to open, parsed once so the rest never sees a raw string.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where tocsin keeps its data.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum DatabaseUrl {
    /// An embedded SQLite database file, created if missing.
    Sqlite {
        /// The database file, relative to the working directory unless absolute.
        path: PathBuf,
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
        }
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = String;

    fn try_from(url: String) -> Result<Self, Self::Error> {
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(format!("`{url}` is not a URL: expected sqlite://PATH"));
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
                Err("PostgreSQL is not supported by this build yet: use sqlite://PATH".into())
            }
            other => Err(format!(
                "unsupported scheme `{other}`: expected sqlite://PATH"
            )),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
        }
    }
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
            parse("postgres://localhost/db")
                .unwrap_err()
                .contains("PostgreSQL")
        );
    }

    #[test]
    fn displays_as_a_url() {
        assert_eq!(DatabaseUrl::sqlite("a/b.db").to_string(), "sqlite://a/b.db");
    }
}
