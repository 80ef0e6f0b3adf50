//! A status page as its owner describes it, validated once: the slug is its public address,
//! the monitors are the owner's, in the order shown.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::UserId;
use crate::monitor::MonitorId;

/// The longest slug, title and description accepted, and the most monitors on one page.
pub const MAX_SLUG: usize = 64;
/// The longest title.
pub const MAX_TITLE: usize = 200;
/// The longest description.
pub const MAX_DESCRIPTION: usize = 2000;
/// The most monitors one page lists.
pub const MAX_MONITORS: usize = 100;

/// A status page's id, unique across all users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusPageId(pub i64);

/// Why a status page description was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct StatusPageError {
    /// The field, as named in the API.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> StatusPageError {
    StatusPageError {
        field,
        message: message.into(),
    }
}

/// A page's address under `/status/`: 1 to 64 lowercase ASCII letters, digits and dashes,
/// neither starting nor ending with a dash (so it never needs escaping in a URL).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// Checks `raw` against the slug rules.
    pub fn parse(raw: &str) -> Result<Self, StatusPageError> {
        let bad = |why: &str| invalid("slug", format!("`{raw}` {why}"));
        if raw.is_empty() || raw.len() > MAX_SLUG {
            return Err(bad(&format!("must be 1 to {MAX_SLUG} characters")));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad("may hold only lowercase letters, digits and dashes"));
        }
        if raw.starts_with('-') || raw.ends_with('-') {
            return Err(bad("may not start or end with a dash"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A status page as a client sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPageDraft {
    /// Its address, `/status/{slug}`: lowercase letters, digits and dashes, unique on the server.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"
    )]
    pub slug: String,
    /// The heading shown to visitors.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// A paragraph under the title; default empty.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// The caller's monitors to show, in this order (at most 100); default none.
    #[serde(default)]
    pub monitor_ids: Option<Vec<i64>>,
}

/// Changes to a status page: absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPagePatch {
    /// A new address.
    pub slug: Option<String>,
    /// A new heading.
    pub title: Option<String>,
    /// A new paragraph.
    pub description: Option<String>,
    /// The monitors to show instead, in order.
    pub monitor_ids: Option<Vec<i64>>,
}

impl StatusPagePatch {
    /// The draft this patch makes of `current`.
    pub fn apply(self, current: &StatusPageSpec) -> StatusPageDraft {
        StatusPageDraft {
            slug: self
                .slug
                .unwrap_or_else(|| current.slug.as_str().to_owned()),
            title: self.title.unwrap_or_else(|| current.title.clone()),
            description: Some(
                self.description
                    .unwrap_or_else(|| current.description.clone()),
            ),
            monitor_ids: Some(
                self.monitor_ids
                    .unwrap_or_else(|| current.monitor_ids.iter().map(|m| m.0).collect()),
            ),
        }
    }
}

/// A valid status page description. The monitors' ownership is checked by the service,
/// which knows the owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPageSpec {
    /// Its address.
    pub slug: Slug,
    /// Its heading (trimmed, not empty).
    pub title: String,
    /// Its paragraph (trimmed, may be empty).
    pub description: String,
    /// The monitors shown, in order, without repeats.
    pub monitor_ids: Vec<MonitorId>,
}

impl StatusPageSpec {
    /// Checks every field of `draft`.
    pub fn parse(draft: StatusPageDraft) -> Result<Self, StatusPageError> {
        let slug = Slug::parse(&draft.slug)?;
        let title = draft.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > MAX_TITLE {
            return Err(invalid(
                "title",
                format!("must be 1 to {MAX_TITLE} characters"),
            ));
        }
        let description = draft.description.unwrap_or_default().trim().to_owned();
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(invalid(
                "description",
                format!("must be at most {MAX_DESCRIPTION} characters"),
            ));
        }
        let raw_ids = draft.monitor_ids.unwrap_or_default();
        if raw_ids.len() > MAX_MONITORS {
            return Err(invalid(
                "monitor_ids",
                format!("at most {MAX_MONITORS} monitors (got {})", raw_ids.len()),
            ));
        }
        let mut monitor_ids = Vec::with_capacity(raw_ids.len());
        for id in raw_ids {
            if id <= 0 {
                return Err(invalid(
                    "monitor_ids",
                    format!("{id} is not a positive integer"),
                ));
            }
            if monitor_ids.contains(&MonitorId(id)) {
                return Err(invalid("monitor_ids", format!("{id} is listed twice")));
            }
            monitor_ids.push(MonitorId(id));
        }
        Ok(Self {
            slug,
            title,
            description,
            monitor_ids,
        })
    }
}

/// A stored status page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPage {
    /// Its id.
    pub id: StatusPageId,
    /// The account that owns it (and whose monitors it shows).
    pub owner: UserId,
    /// What it shows.
    pub spec: StatusPageSpec,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(slug: &str) -> StatusPageDraft {
        StatusPageDraft {
            slug: slug.into(),
            title: "Status".into(),
            description: None,
            monitor_ids: Some(vec![1, 2]),
        }
    }

    #[test]
    fn slugs_are_lowercase_letters_digits_and_inner_dashes() {
        for good in ["a", "acme", "acme-prod-2", "0"] {
            assert!(Slug::parse(good).is_ok(), "{good}");
        }
        let long = "a".repeat(MAX_SLUG + 1);
        for bad in [
            "",
            "Acme",
            "a_b",
            "a b",
            "-a",
            "a-",
            "é",
            "a.json",
            long.as_str(),
        ] {
            let error = Slug::parse(bad).expect_err(bad);
            assert_eq!(error.field, "slug");
        }
    }

    #[test]
    fn monitors_are_positive_and_listed_once() {
        assert!(StatusPageSpec::parse(draft("ok")).is_ok());
        let mut twice = draft("x");
        twice.monitor_ids = Some(vec![3, 3]);
        assert!(
            StatusPageSpec::parse(twice)
                .expect_err("twice")
                .message
                .contains("twice")
        );
        let mut zero = draft("x");
        zero.monitor_ids = Some(vec![0]);
        assert_eq!(
            StatusPageSpec::parse(zero).expect_err("zero").field,
            "monitor_ids"
        );
    }

    #[test]
    fn a_blank_title_is_refused() {
        let mut blank = draft("x");
        blank.title = "  ".into();
        assert_eq!(
            StatusPageSpec::parse(blank).expect_err("blank").field,
            "title"
        );
    }
}
