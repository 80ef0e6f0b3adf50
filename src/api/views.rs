//! The JSON shapes the API answers with.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::IssuedToken;
use crate::monitor::Monitor;
use crate::store::User;

/// An account, never with its password or hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// The user's id.
    pub id: i64,
    /// The normalised (trimmed, lower-case) email.
    pub email: String,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id.0,
            email: user.email.as_str().to_owned(),
            created_at: user.created_at,
        }
    }
}

/// A token for the `Authorization` header.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// The JWT; send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

impl From<IssuedToken> for TokenView {
    fn from(issued: IssuedToken) -> Self {
        Self {
            token: issued.token,
            expires_at: issued.expires_at,
        }
    }
}

/// A monitor with every setting in force, defaults included.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitorView {
    /// The monitor's id.
    pub id: i64,
    /// Its label.
    pub name: String,
    /// The URL checked (normalised).
    pub url: String,
    /// The HTTP method.
    pub method: &'static str,
    /// Seconds between checks.
    pub interval_seconds: u32,
    /// Milliseconds before a check gives up.
    pub timeout_ms: u32,
    /// Status codes that count as up.
    pub expected_status: String,
    /// Text the body must contain.
    pub keyword: Option<String>,
    /// Whether redirects are followed.
    pub follow_redirects: bool,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Request body.
    pub body: Option<String>,
    /// Whether checks are suspended.
    pub paused: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Monitor> for MonitorView {
    fn from(m: Monitor) -> Self {
        let spec = &m.spec;
        Self {
            id: m.id.0,
            name: spec.name().to_owned(),
            url: spec.target().as_str().to_owned(),
            method: spec.method().as_str(),
            interval_seconds: spec.interval_secs(),
            timeout_ms: spec.timeout_ms(),
            expected_status: spec.expected_status().to_string(),
            keyword: spec.keyword().map(str::to_owned),
            follow_redirects: spec.follow_redirects(),
            headers: spec.headers().as_map().clone(),
            body: spec.body().map(str::to_owned),
            paused: m.paused,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
