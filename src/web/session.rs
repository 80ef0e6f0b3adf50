//! Who is looking: the session cookie, the [`Viewer`] extractor, and CSRF checks on every
//! post ([`Posted`] for pages behind login, [`PrePosted`] for login and register).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::WebError;
use crate::api::AppState;
use crate::auth::UserId;
use crate::service::sessions::SESSION_TTL;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tocsin_session";
/// The cookie that pairs with the token in the login and register forms.
pub const PRE_COOKIE: &str = "tocsin_csrf";
/// The form field every post carries its CSRF token in.
pub const CSRF_FIELD: &str = "csrf";
/// The largest form body read (a monitor's body and CA certificates fit).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The logged-in account looking at a page. Without a live session, a page answers with
/// a redirect to the login page.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The account.
    pub user: UserId,
    /// The token the session's forms carry.
    pub csrf: String,
    /// The session cookie's value (for logout).
    pub cookie: String,
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, `Secure` when tocsin is served
/// over https; `max_age` 0 removes it.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: u64) -> HeaderValue {
    let secure = state
        .public_url
        .as_ref()
        .is_some_and(|url| url.scheme() == "https");
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    // Ids and signatures are hex: always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The cookie that holds a new session.
pub fn session_cookie(state: &AppState, value: &str) -> HeaderValue {
    set_cookie(state, SESSION_COOKIE, value, SESSION_TTL.as_secs())
}

/// The live session the request's cookie names, if any.
pub async fn current(
    parts_headers: &HeaderMap,
    state: &AppState,
) -> Result<Option<Viewer>, WebError> {
    let Some(value) = cookie(parts_headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(state.sessions.find(value).await?.map(|live| Viewer {
        user: live.user,
        csrf: live.csrf,
        cookie: value.to_owned(),
    }))
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        current(&parts.headers, state)
            .await?
            .ok_or(WebError::LoginNeeded)
    }
}

/// A form posted by a logged-in viewer whose CSRF token matched the session's; otherwise
/// the post is refused (403) before anything is done.
pub struct Posted<T>(pub Viewer, pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, WebError> {
        let (mut parts, body) = request.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let bytes = read_body(Request::from_parts(parts, body)).await?;
        check_token(&bytes, &viewer.csrf)?;
        Ok(Self(viewer, parse(&bytes)?))
    }
}

/// A form posted before login (login, register): its CSRF token must equal the one in the
/// pre-session cookie, and be one this server signed.
pub struct PrePosted<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for PrePosted<T> {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, WebError> {
        let expected = cookie(request.headers(), PRE_COOKIE)
            .filter(|token| state.sessions.pre_session_token_valid(token))
            .map(str::to_owned)
            .ok_or(WebError::Csrf)?;
        let bytes = read_body(request).await?;
        check_token(&bytes, &expected)?;
        Ok(Self(parse(&bytes)?))
    }
}

async fn read_body(request: Request) -> Result<Bytes, WebError> {
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(WebError::BadForm(
            "expected a form (application/x-www-form-urlencoded)".into(),
        ));
    }
    axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
        .await
        .map_err(|_| WebError::BadForm(format!("the form is over {MAX_FORM_BYTES} bytes")))
}

/// Refuses the post unless its `csrf` field equals `expected` (compared in constant time).
fn check_token(bytes: &[u8], expected: &str) -> Result<(), WebError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| WebError::BadForm(format!("the form cannot be read: {e}")))?;
    let sent = pairs
        .iter()
        .find(|(key, _)| key == CSRF_FIELD)
        .map(|(_, value)| value.as_str())
        .ok_or(WebError::Csrf)?;
    if sent.is_empty() || !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(WebError::Csrf);
    }
    Ok(())
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WebError> {
    serde_urlencoded::from_bytes(bytes)
        .map_err(|e| WebError::BadForm(format!("the form cannot be read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tocsin_session=x.y"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("x.y"));
        assert_eq!(cookie(&headers, "b"), None);
    }

    #[test]
    fn a_missing_empty_or_wrong_token_is_refused() {
        assert!(check_token(b"csrf=abc&x=1", "abc").is_ok());
        assert!(matches!(check_token(b"x=1", "abc"), Err(WebError::Csrf)));
        assert!(matches!(check_token(b"csrf=&x=1", ""), Err(WebError::Csrf)));
        assert!(matches!(
            check_token(b"csrf=abd", "abc"),
            Err(WebError::Csrf)
        ));
    }
}
