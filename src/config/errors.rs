//! Configuration errors that name the setting as the user wrote it (`TOCSIN_JWT_TTL`,
//! `jwt_ttl` in a file, `--listen`), suggest the closest name for a typo, and never quote
//! a secret: not from the environment, a flag, or a file's line that failed to parse.

use std::path::Path;

use figment::Figment;
use figment::error::Kind;

use super::{ENV_PREFIX, KEYS, SECRET_KEYS};

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value was malformed or out of bounds; `key` says where it came from.
    #[error("invalid configuration: {key}: {message}")]
    Invalid {
        /// The setting as the user wrote it: `TOCSIN_JWT_TTL`, `jwt_ttl in tocsin.toml`, `--listen`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

/// A [`ConfigError::Invalid`] about `key`, named as the user wrote it.
pub(super) fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.into(),
    }
}

/// How a setting is named in messages: after where its value came from.
pub(super) fn setting_name(figment: &Figment, key: &str) -> String {
    let source = figment
        .find_metadata(key)
        .and_then(|metadata| metadata.source.as_ref());
    name_for(source, key)
}

fn name_for(source: Option<&figment::Source>, key: &str) -> String {
    match source {
        Some(figment::Source::File(path)) => format!("`{key}` in {}", path.display()),
        Some(figment::Source::Code(_)) => format!("--{}", key.replace('_', "-")),
        _ => format!("{ENV_PREFIX}{}", key.to_uppercase()),
    }
}

impl From<figment::Error> for ConfigError {
    /// Names the failing key the way the user wrote it, whichever layer it came from.
    fn from(error: figment::Error) -> Self {
        let key = error.path.join(".");
        let source = error.metadata.as_ref().and_then(|m| m.source.as_ref());
        let named = match (source, key.is_empty()) {
            (Some(figment::Source::File(path)), true) => path.display().to_string(),
            (_, true) => "settings".to_owned(),
            (source, false) => name_for(source, &key),
        };
        let message = match &error.kind {
            Kind::UnknownField(field, _) => unknown_key_message(field, source),
            // Our own parsers' messages (`Message`) never quote a secret; serde's own
            // (`found string "…"`) may.
            Kind::Message(message) => message.clone(),
            kind if SECRET_KEYS.contains(&key.as_str()) => match kind {
                Kind::InvalidType(_, expected) | Kind::InvalidValue(_, expected) => {
                    format!("must be {expected}")
                }
                _ => "is invalid (the value is not shown: it is secret)".to_owned(),
            },
            kind => kind.to_string(),
        };
        invalid(&named, message)
    }
}

fn unknown_key_message(field: &str, source: Option<&figment::Source>) -> String {
    let as_written = match source {
        Some(figment::Source::File(_)) | None => field.to_owned(),
        _ => format!("{ENV_PREFIX}{}", field.to_uppercase()),
    };
    match closest(field) {
        Some(known) => format!("unknown setting `{as_written}`: did you mean `{known}`?"),
        None => format!("unknown setting `{as_written}`"),
    }
}

/// The known key nearest to `typo` (edit distance at most a third of its length), if any.
pub(super) fn closest(typo: &str) -> Option<&'static str> {
    let typo = typo.to_ascii_lowercase();
    KEYS.iter()
        .map(|known| (distance(&typo, known), *known))
        .filter(|(d, known)| *d <= known.len().div_ceil(3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, known)| known)
}

/// Levenshtein distance with adjacent transpositions (optimal string alignment).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// Parses the file as TOML first, to report a syntax error by line and column with the
/// parser's reason, never the line itself, which may hold a secret.
pub(super) fn check_toml_syntax(path: &Path) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid("--config", format!("cannot read {}: {e}", path.display())))?;
    let Err(error) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let at = error.span().map_or(0, |span| span.start).min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or_default();
    let secret_line = SECRET_KEYS
        .iter()
        .any(|key| line_text.trim_start().starts_with(key));
    let reason = if secret_line {
        "this line sets a secret and is not valid TOML (check its quotes)".to_owned()
    } else {
        error.message().to_owned()
    };
    Err(invalid(
        &path.display().to_string(),
        format!("line {line}, column {column}: {reason}"),
    ))
}

/// The `TOCSIN_*` variables that are not settings: the test suite's, the benchmarks', and
/// those of the client commands (`apply`, `export`), which a shell may hold beside `serve`.
const NOT_SETTINGS: [&str; 6] = [
    "REQUIRE_SERVICES",
    "BIN",
    "BENCH_BIN",
    "DB_PASSWORD",
    "SERVER",
    "API_KEY",
];

/// Refuses a `TOCSIN_*` variable that is no setting (a typo such as `TOCSIN_JWT_TLL` would
/// otherwise be ignored silently), naming the closest setting.
pub(super) fn check_env_names(
    vars: impl Iterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    for (name, _) in vars {
        let Some(key) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let lower = key.to_ascii_lowercase();
        if KEYS.contains(&lower.as_str()) || NOT_SETTINGS.contains(&key) || key.starts_with("TEST_")
        {
            continue;
        }
        let hint = match closest(&lower) {
            Some(known) => format!(
                "is not a setting: did you mean {ENV_PREFIX}{}?",
                known.to_uppercase()
            ),
            None => "is not a setting (the README lists them all)".to_owned(),
        };
        return Err(invalid(&name, hint));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_setting() {
        assert_eq!(closest("jwt_tll"), Some("jwt_ttl"));
        assert_eq!(closest("retension"), Some("retention"));
        assert_eq!(closest("databse_url"), Some("database_url"));
        assert_eq!(closest("completely_else"), None);
    }

    #[test]
    fn unknown_variables_are_refused_but_the_tests_own_are_not() {
        let vars = |names: &[&str]| {
            names
                .iter()
                .map(|n| (n.to_string(), "x".to_owned()))
                .collect::<Vec<_>>()
                .into_iter()
        };
        let error = check_env_names(vars(&["PATH", "TOCSIN_JWT_TLL"]))
            .expect_err("typo")
            .to_string();
        assert!(
            error.contains("TOCSIN_JWT_TLL") && error.contains("TOCSIN_JWT_TTL"),
            "{error}"
        );
        assert!(
            check_env_names(vars(&[
                "TOCSIN_LISTEN",
                "TOCSIN_REQUIRE_SERVICES",
                "TOCSIN_TEST_POSTGRES_URL",
                "TOCSIN_BIN",
            ]))
            .is_ok()
        );
    }
}
